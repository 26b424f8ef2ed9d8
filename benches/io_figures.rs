//! I/O figures that are not throughput, so not criterion groups: magpie vs
//! tokio vs smol (async-executor + async-io).
//!
//! * `idle_cpu`: the CPU an idle runtime uses while it has sockets
//!   registered. The runtime (`MAGPIE_BENCH_WORKERS` workers, default 2) is
//!   built, then given a TCP listener on loopback whose accept loop is
//!   pending in a task, one client connection whose task is pending in a
//!   `read`, and the accepted side of that connection whose task is pending
//!   in a `read` too: three sockets registered with the reactor, every task
//!   waiting, nothing sent. After a settling pause (0.5 s), the process's CPU
//!   time (`getrusage(RUSAGE_SELF)`: user + system, all threads) is read
//!   before and after 2 s of wall time during which nothing happens (the
//!   benchmark thread sleeps outside the runtime). Reported: µs of CPU per
//!   idle second (total, user, system) and context switches per idle second
//!   (voluntary + involuntary, all threads: about how often a thread woke;
//!   the benchmark thread's own sleep is one switch, and its wake-up's CPU is
//!   counted too). Expected: about zero for every runtime; there is no target.
//!
//! Each runtime runs in a child process of its own (this binary re-executed
//! with [`CHILD_FLAG`]), so that no runtime inherits another's threads.
//!
//! Prints a table and writes `target/magpie-io-figures.json`
//! (`MAGPIE_BENCH_IO_FIGURES_JSON` overrides the path), which
//! `scripts/bench_report.py` turns into the "Idle CPU" section of
//! `docs/benchmarks.md`.
//!
//! ```text
//! cargo bench -p magpie-benches --bench io_figures              # every figure
//! cargo bench -p magpie-benches --bench io_figures -- idle       # names containing "idle"
//! cargo bench -p magpie-benches --bench io_figures -- --list
//! ```
//!
//! Filters follow `benches/timer_figures.rs`: criterion-style flags are
//! ignored, other arguments are `|`-separated substrings (`^`/`$` anchor
//! them), and a filter that matches no figure runs nothing. Without `--bench`
//! on its command line (`cargo test --benches`) or with `--test`, it runs a
//! quick smoke version (0.1 s settle, 0.2 s idle) and writes no JSON. Knob:
//! `MAGPIE_BENCH_IDLE_SECS` (default 2).

use std::fmt::Write as _;
use std::future::Future;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use magpie_benches::{magpie_rt, smol_rt, tokio_rt, workers, WORKERS_ENV};

/// First argument of a child process: `CHILD_FLAG <figure> <runtime> <settle s> <idle s>`.
const CHILD_FLAG: &str = "--magpie-io-figure-child";
/// Prefix of the result line a child prints on stdout: `RESULT key=value ...`.
const RESULT_PREFIX: &str = "RESULT";

/// The runtimes compared, in table order.
const RUNTIMES: [&str; 3] = ["magpie", "tokio", "smol"];

const IDLE_CPU: &str = "idle_cpu";
/// Every figure, in run order.
const FIGURES: [&str; 1] = [IDLE_CPU];

/// Wall time between setting up the sockets and the first CPU reading.
const SETTLE: Duration = Duration::from_millis(500);
const SETTLE_QUICK: Duration = Duration::from_millis(100);
/// Wall time measured.
const IDLE_ENV: &str = "MAGPIE_BENCH_IDLE_SECS";
const IDLE_DEFAULT: Duration = Duration::from_secs(2);
const IDLE_QUICK: Duration = Duration::from_millis(200);

const JSON_ENV: &str = "MAGPIE_BENCH_IO_FIGURES_JSON";
/// Set by `scripts/bench.sh`: the command as typed, recorded in the JSON.
const COMMAND_ENV: &str = "BENCH_IO_FIGURES_COMMAND";
const JSON_FILE: &str = "magpie-io-figures.json";

/// Named numbers, in the order measured.
type Stats = Vec<(String, f64)>;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(CHILD_FLAG) {
        child(&args[1..]);
        return;
    }

    // cargo passes `--bench`; criterion-style flags are accepted and ignored,
    // other arguments are filters (substrings of figure names).
    let quick = !args.iter().any(|a| a == "--bench") || args.iter().any(|a| a == "--test");
    let filters: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let selected: Vec<&str> = FIGURES
        .into_iter()
        .filter(|f| filters.is_empty() || filters.iter().any(|filter| matches(f, filter)))
        .collect();
    if args.iter().any(|a| a == "--list") {
        for figure in selected {
            println!("{figure}: figure");
        }
        return;
    }
    if selected.is_empty() {
        println!("io_figures: no figure matches {filters:?} (figures: {FIGURES:?})");
        return;
    }

    let settle = if quick { SETTLE_QUICK } else { SETTLE };
    let idle = idle_duration(quick);
    let mut sections = Vec::new();

    if selected.contains(&IDLE_CPU) {
        println!(
            "\n{IDLE_CPU}: CPU over {idle:?} of idle wall time (after {settle:?} settling), \
             a listener + one idle connection registered, {} workers",
            workers()
        );
        println!(
            "{:<8} {:>14} {:>14} {:>14} {:>16} {:>8}",
            "runtime", "CPU µs/idle s", "user µs/s", "sys µs/s", "ctx switches/s", "threads"
        );
        let mut per_runtime = Vec::new();
        for rt in RUNTIMES {
            let stats = run_child(IDLE_CPU, rt, settle, idle);
            let get = |k| lookup(&stats, k);
            println!(
                "{:<8} {:>14.1} {:>14.1} {:>14.1} {:>16.1} {:>8}",
                rt,
                get("cpu_us_per_s"),
                get("user_us_per_s"),
                get("sys_us_per_s"),
                get("ctx_switches_per_s"),
                get("threads"),
            );
            per_runtime.push((rt, stats));
        }
        sections.push(json_section(
            IDLE_CPU,
            &[
                ("idle_secs", idle.as_secs_f64()),
                ("settle_secs", settle.as_secs_f64()),
            ],
            &per_runtime,
        ));
    }

    if quick {
        println!("\nio_figures: quick run (no --bench, or --test): no JSON written");
        return;
    }
    let path = json_path();
    let json = json_document(&sections, &filters);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    }
    std::fs::write(&path, json).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    println!("\nio_figures: wrote {}", path.display());
}

/// Whether `figure` is selected by `filter`: a criterion-style regex reduced
/// to what figure names need, `|`-separated alternatives each matched as a
/// substring (a leading `^` / trailing `$` anchors it). As in
/// `benches/timer_figures.rs`.
fn matches(figure: &str, filter: &str) -> bool {
    filter.split('|').any(|alt| {
        let (start, alt) = match alt.strip_prefix('^') {
            Some(rest) => (true, rest),
            None => (false, alt),
        };
        let (end, alt) = match alt.strip_suffix('$') {
            Some(rest) => (true, rest),
            None => (false, alt),
        };
        match (start, end) {
            (true, true) => figure == alt,
            (true, false) => figure.starts_with(alt),
            (false, true) => figure.ends_with(alt),
            (false, false) => figure.contains(alt),
        }
    })
}

/// The idle time measured: `MAGPIE_BENCH_IDLE_SECS`, or the default (the
/// quick one in a smoke run).
fn idle_duration(quick: bool) -> Duration {
    match std::env::var(IDLE_ENV) {
        Ok(s) => match s.trim().parse::<f64>() {
            Ok(secs) if secs > 0.0 && secs.is_finite() => Duration::from_secs_f64(secs),
            _ => panic!("{IDLE_ENV} must be a positive number of seconds, got {s:?}"),
        },
        Err(_) if quick => IDLE_QUICK,
        Err(_) => IDLE_DEFAULT,
    }
}

fn lookup(stats: &Stats, key: &str) -> f64 {
    stats
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| *v)
        .unwrap_or_else(|| panic!("the child's result has no {key}: {stats:?}"))
}

// ---------------------------------------------------------------------------
// Parent: child processes and the JSON file
// ---------------------------------------------------------------------------

/// Runs one figure for one runtime in a fresh process and parses its
/// `RESULT key=value ...` line.
fn run_child(figure: &str, runtime: &str, settle: Duration, idle: Duration) -> Stats {
    let exe = std::env::current_exe().expect("cannot find this benchmark's executable");
    let output = Command::new(exe)
        .args([
            CHILD_FLAG,
            figure,
            runtime,
            &settle.as_secs_f64().to_string(),
            &idle.as_secs_f64().to_string(),
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("cannot start the child process");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{figure} on {runtime} failed ({}); stdout:\n{stdout}",
        output.status
    );
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix(RESULT_PREFIX))
        .unwrap_or_else(|| panic!("{figure} on {runtime}: no {RESULT_PREFIX} line in\n{stdout}"));
    line.split_whitespace()
        .map(|kv| {
            let (k, v) = kv.split_once('=').expect("RESULT fields are key=value");
            let v: f64 = v.parse().expect("RESULT values are numbers");
            (k.to_string(), v)
        })
        .collect()
}

/// `"figure": { settings..., "runtimes": { "magpie": { stats... }, ... } }`
fn json_section(figure: &str, settings: &[(&str, f64)], per_runtime: &[(&str, Stats)]) -> String {
    let mut s = format!("  \"{figure}\": {{\n");
    for (k, v) in settings {
        let _ = writeln!(s, "    \"{k}\": {},", json_number(*v));
    }
    s.push_str("    \"runtimes\": {\n");
    for (i, (rt, stats)) in per_runtime.iter().enumerate() {
        let fields: Vec<String> = stats
            .iter()
            .map(|(k, v)| format!("\"{k}\": {}", json_number(*v)))
            .collect();
        let comma = if i + 1 < per_runtime.len() { "," } else { "" };
        let _ = writeln!(s, "      \"{rt}\": {{{}}}{comma}", fields.join(", "));
    }
    s.push_str("    }\n  }");
    s
}

fn json_document(sections: &[String], filters: &[&str]) -> String {
    let command = std::env::var(COMMAND_ENV).unwrap_or_else(|_| typed_command(filters));
    let unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let mut s = String::from("{\n");
    let _ = writeln!(s, "  \"command\": {},", json_string(&command));
    let _ = writeln!(s, "  \"written_unix\": {},", json_number(unix));
    let _ = writeln!(s, "  \"workers\": {},", workers());
    s.push_str(&sections.join(",\n"));
    s.push_str("\n}\n");
    s
}

/// The command that reproduces this run, with the knobs that were set.
fn typed_command(filters: &[&str]) -> String {
    let mut s = String::new();
    for var in [WORKERS_ENV, IDLE_ENV] {
        if let Ok(v) = std::env::var(var) {
            let _ = write!(s, "{var}={v} ");
        }
    }
    s.push_str("cargo bench -p magpie-benches --bench io_figures");
    if !filters.is_empty() {
        s.push_str(" -- ");
        s.push_str(&filters.join(" "));
    }
    s
}

fn json_number(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        "null".to_string()
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `$MAGPIE_BENCH_IO_FIGURES_JSON`, else `magpie-io-figures.json` in the
/// target directory (criterion's results are in its `criterion/`).
fn json_path() -> PathBuf {
    if let Ok(p) = std::env::var(JSON_ENV) {
        return PathBuf::from(p);
    }
    if let Ok(dir) = std::env::var("CARGO_TARGET_DIR") {
        let dir = PathBuf::from(dir);
        if dir.is_absolute() {
            return dir.join(JSON_FILE);
        }
    }
    // <target>/<profile>/deps/<this binary>
    let exe = std::env::current_exe().expect("cannot find this benchmark's executable");
    exe.ancestors()
        .nth(3)
        .expect("the benchmark binary is not inside a cargo target directory")
        .join(JSON_FILE)
}

// ---------------------------------------------------------------------------
// Child: one figure on one runtime
// ---------------------------------------------------------------------------

fn child(args: &[String]) {
    let [figure, runtime, settle, idle] = args else {
        panic!("usage: {CHILD_FLAG} <figure> <runtime> <settle s> <idle s>, got {args:?}");
    };
    let secs = |s: &str| Duration::from_secs_f64(s.parse().expect("durations are seconds"));
    let (settle, idle) = (secs(settle), secs(idle));
    let stats = match figure.as_str() {
        IDLE_CPU => idle_cpu(runtime, settle, idle),
        other => panic!("unknown figure {other:?}"),
    };
    let fields: Vec<String> = stats.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!("{RESULT_PREFIX} {}", fields.join(" "));
}

/// What the idle runtime's tasks report once they wait.
#[derive(Debug)]
enum Ready {
    /// The accept loop took the connection and its task is about to read.
    Accepted,
    /// The client connected and is about to read.
    Connected,
}

/// Builds `runtime`, registers the sockets (see the module documentation),
/// waits for both sides of the connection to be reading, then measures.
fn idle_cpu(runtime: &str, settle: Duration, idle: Duration) -> Stats {
    let (tx, rx) = mpsc::channel::<Ready>();
    match runtime {
        "magpie" => {
            use magpie::io::AsyncReadExt;
            use magpie::net::{TcpListener, TcpStream};
            let rt = magpie_rt();
            let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).expect("bind");
            let addr = listener.local_addr().expect("local_addr");
            let accepted = tx.clone();
            rt.spawn(async move {
                loop {
                    let (mut conn, _) = listener.accept().await.expect("accept");
                    let accepted = accepted.clone();
                    magpie::spawn(async move {
                        accepted.send(Ready::Accepted).unwrap();
                        read_until_eof(conn.read(&mut [0; 64])).await;
                    });
                }
            });
            rt.spawn(async move {
                let mut conn = TcpStream::connect(addr).await.expect("connect");
                tx.send(Ready::Connected).unwrap();
                read_until_eof(conn.read(&mut [0; 64])).await;
            });
            measure_idle(&rx, settle, idle)
        }
        "tokio" => {
            use tokio::io::AsyncReadExt;
            use tokio::net::{TcpListener, TcpStream};
            let rt = tokio_rt();
            let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).expect("bind");
            let addr = listener.local_addr().expect("local_addr");
            let accepted = tx.clone();
            rt.spawn(async move {
                loop {
                    let (mut conn, _) = listener.accept().await.expect("accept");
                    let accepted = accepted.clone();
                    tokio::spawn(async move {
                        accepted.send(Ready::Accepted).unwrap();
                        read_until_eof(conn.read(&mut [0; 64])).await;
                    });
                }
            });
            rt.spawn(async move {
                let mut conn = TcpStream::connect(addr).await.expect("connect");
                tx.send(Ready::Connected).unwrap();
                read_until_eof(conn.read(&mut [0; 64])).await;
            });
            measure_idle(&rx, settle, idle)
        }
        "smol" => {
            use async_io::Async;
            use futures_lite::AsyncReadExt;
            use std::net::{TcpListener, TcpStream};
            let rt = smol_rt();
            let ex = rt.executor().clone();
            let listener = Async::<TcpListener>::bind(([127, 0, 0, 1], 0)).expect("bind");
            let addr = listener.get_ref().local_addr().expect("local_addr");
            let accepted = tx.clone();
            rt.spawn(async move {
                loop {
                    let (mut conn, _) = listener.accept().await.expect("accept");
                    let accepted = accepted.clone();
                    ex.spawn(async move {
                        accepted.send(Ready::Accepted).unwrap();
                        read_until_eof(conn.read(&mut [0; 64])).await;
                    })
                    .detach();
                }
            })
            .detach();
            rt.spawn(async move {
                let mut conn = Async::<TcpStream>::connect(addr).await.expect("connect");
                tx.send(Ready::Connected).unwrap();
                read_until_eof(conn.read(&mut [0; 64])).await;
            })
            .detach();
            measure_idle(&rx, settle, idle)
        }
        other => panic!("unknown runtime {other:?}"),
    }
    // The runtime drops here, with its tasks still waiting.
}

/// Awaits one read that should only ever end at end of stream: nothing is
/// sent in this figure, so data would mean something is wrong.
async fn read_until_eof(read: impl Future<Output = std::io::Result<usize>>) {
    match read.await {
        Ok(0) | Err(_) => {}
        Ok(n) => panic!("read {n} bytes on an idle connection"),
    }
}

/// Waits for both ends of the connection, lets the runtime settle, then
/// reads the process's CPU time and context switches around `idle` of wall
/// time spent asleep on this (non-runtime) thread.
fn measure_idle(rx: &mpsc::Receiver<Ready>, settle: Duration, idle: Duration) -> Stats {
    for _ in 0..2 {
        rx.recv_timeout(Duration::from_secs(10))
            .expect("the idle connection was not set up within 10 s");
    }
    std::thread::sleep(settle);
    let threads = thread_count();
    let before = Usage::now();
    let start = Instant::now();
    std::thread::sleep(idle);
    let wall = start.elapsed().as_secs_f64();
    let after = Usage::now();
    let per_s = |a: f64, b: f64| (a - b) / wall;
    vec![
        (
            "cpu_us_per_s".into(),
            per_s(after.user_us + after.sys_us, before.user_us + before.sys_us),
        ),
        ("user_us_per_s".into(), per_s(after.user_us, before.user_us)),
        ("sys_us_per_s".into(), per_s(after.sys_us, before.sys_us)),
        (
            "ctx_switches_per_s".into(),
            per_s(after.switches, before.switches),
        ),
        ("wall_s".into(), wall),
        ("threads".into(), threads),
    ]
}

/// The process's CPU time (µs) and context switches, all threads.
struct Usage {
    user_us: f64,
    sys_us: f64,
    switches: f64,
}

impl Usage {
    fn now() -> Usage {
        // SAFETY: `rusage` is plain old data; all zeroes is a valid value.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `ru` is a valid, writable `rusage` for the duration of the call.
        let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
        assert_eq!(
            rc,
            0,
            "getrusage failed: {}",
            std::io::Error::last_os_error()
        );
        let us = |tv: libc::timeval| tv.tv_sec as f64 * 1e6 + tv.tv_usec as f64;
        Usage {
            user_us: us(ru.ru_utime),
            sys_us: us(ru.ru_stime),
            switches: (ru.ru_nvcsw + ru.ru_nivcsw) as f64,
        }
    }
}

/// Threads of this process (`Threads:` of `/proc/self/status`), or NaN
/// where that is not available.
fn thread_count() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse::<f64>().ok())
        })
        .unwrap_or(f64::NAN)
}
