//! Timer figures that are not throughput, so not criterion groups: magpie vs
//! tokio vs smol (async-executor + async-io).
//!
//! * `sleep_lateness`: how late `sleep(1 ms)` wakes. One task on an otherwise
//!   idle runtime awaits 1,000 sleeps of 1 ms in a row (after 20 unrecorded
//!   warm-up sleeps); each lateness is `Instant` elapsed around the `.await`
//!   minus 1 ms. Reports p50, p99, mean and max.
//! * `sleep_memory`: what 1,000,000 pending sleeps cost. One task creates
//!   1,000,000 one-hour sleeps, each boxed (`Box::pin`, as a task or a
//!   `Vec` of futures would hold it), and polls each once, so every timer is
//!   registered with its runtime; the growth of the process's resident set
//!   (`VmRSS`) over that, divided by the count, is the cost of a pending sleep:
//!   the future itself (rounded up by the allocator) plus whatever the runtime
//!   keeps per timer. The `Vec` holding the boxes is allocated and touched
//!   before the first reading, so it is not counted. Also reported: the size
//!   of the sleep future, and how long registering and cancelling (dropping)
//!   them all took.
//!
//! Every (figure, runtime) pair runs in a child process of its own (this
//! binary re-executed with [`CHILD_FLAG`]), so that no runtime inherits
//! another's threads, freed memory or warm allocator. Every runtime has
//! `MAGPIE_BENCH_WORKERS` workers (default 2).
//!
//! Prints a table and writes `target/magpie-timer-figures.json`
//! (`MAGPIE_BENCH_FIGURES_JSON` overrides the path), which
//! `scripts/bench_report.py` turns into sections of `docs/benchmarks.md`.
//!
//! ```text
//! cargo bench -p magpie-benches --bench timer_figures              # both figures
//! cargo bench -p magpie-benches --bench timer_figures -- lateness  # names containing "lateness"
//! cargo bench -p magpie-benches --bench timer_figures -- 'timer_|sleep_memory'  # alternatives
//! cargo bench -p magpie-benches --bench timer_figures -- --list
//! ```
//!
//! Without `--bench` on its command line (`cargo test --benches`) or with
//! `--test`, it runs a quick smoke version (20 sleeps, 10,000 pending sleeps)
//! and writes no JSON. Knobs: `MAGPIE_BENCH_LATENESS_SLEEPS` (default 1,000)
//! and `MAGPIE_BENCH_MEMORY_SLEEPS` (default 1,000,000).

use std::fmt::Write as _;
use std::future::{poll_fn, Future};
use std::path::PathBuf;
use std::pin::Pin;
use std::process::{Command, Stdio};
use std::task::Poll;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use magpie_benches::{magpie_rt, rss_bytes, smol_rt, tokio_rt, workers, WORKERS_ENV};

/// First argument of a child process: `CHILD_FLAG <figure> <runtime> <count>`.
const CHILD_FLAG: &str = "--magpie-figure-child";
/// Prefix of the result lines a child prints on stdout: `RESULT key=value ...`.
const RESULT_PREFIX: &str = "RESULT";

/// The runtimes compared, in table order.
const RUNTIMES: [&str; 3] = ["magpie", "tokio", "smol"];

const LATENESS: &str = "sleep_lateness";
const MEMORY: &str = "sleep_memory";
/// Every figure, in run order.
const FIGURES: [&str; 2] = [LATENESS, MEMORY];

/// The sleep whose lateness is measured.
const LATENESS_SLEEP: Duration = Duration::from_millis(1);
/// Unrecorded sleeps before the measured ones.
const LATENESS_WARMUP: usize = 20;
const LATENESS_ENV: &str = "MAGPIE_BENCH_LATENESS_SLEEPS";
const LATENESS_DEFAULT: usize = 1_000;
const LATENESS_QUICK: usize = 20;

/// The pending sleeps' duration: far longer than the measurement.
const MEMORY_SLEEP: Duration = Duration::from_secs(3_600);
const MEMORY_ENV: &str = "MAGPIE_BENCH_MEMORY_SLEEPS";
const MEMORY_DEFAULT: usize = 1_000_000;
const MEMORY_QUICK: usize = 10_000;

const JSON_ENV: &str = "MAGPIE_BENCH_FIGURES_JSON";
/// Set by `scripts/bench.sh`: the command as typed, recorded in the JSON.
const COMMAND_ENV: &str = "BENCH_FIGURES_COMMAND";
const JSON_FILE: &str = "magpie-timer-figures.json";

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
        println!("timer_figures: no figure matches {filters:?} (figures: {FIGURES:?})");
        return;
    }

    let lateness_n = count(LATENESS_ENV, LATENESS_DEFAULT, LATENESS_QUICK, quick);
    let memory_n = count(MEMORY_ENV, MEMORY_DEFAULT, MEMORY_QUICK, quick);
    let mut sections = Vec::new();

    if selected.contains(&LATENESS) {
        println!(
            "\n{LATENESS}: {lateness_n} × sleep({LATENESS_SLEEP:?}), lateness in ms, \
             {} workers",
            workers()
        );
        println!(
            "{:<8} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "runtime", "p50", "p99", "mean", "min", "max"
        );
        let mut per_runtime = Vec::new();
        for rt in RUNTIMES {
            let stats = run_child(LATENESS, rt, lateness_n);
            let get = |k| lookup(&stats, k);
            println!(
                "{:<8} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
                rt,
                get("p50_ms"),
                get("p99_ms"),
                get("mean_ms"),
                get("min_ms"),
                get("max_ms")
            );
            per_runtime.push((rt, stats));
        }
        sections.push(json_section(
            LATENESS,
            &[
                ("sleeps", lateness_n as f64),
                ("warmup", LATENESS_WARMUP as f64),
                ("sleep_ms", LATENESS_SLEEP.as_secs_f64() * 1e3),
            ],
            &per_runtime,
        ));
    }

    if selected.contains(&MEMORY) {
        println!(
            "\n{MEMORY}: {memory_n} pending sleep({MEMORY_SLEEP:?}), boxed and polled once, \
             {} workers",
            workers()
        );
        println!(
            "{:<8} {:>11} {:>11} {:>10} {:>11} {:>8} {:>12} {:>10}",
            "runtime",
            "RSS before",
            "RSS after",
            "growth",
            "bytes/sleep",
            "size_of",
            "register",
            "cancel"
        );
        let mut per_runtime = Vec::new();
        for rt in RUNTIMES {
            let stats = run_child(MEMORY, rt, memory_n);
            let get = |k| lookup(&stats, k);
            let mb = |b: f64| format!("{:.1} MB", b / 1e6);
            println!(
                "{:<8} {:>11} {:>11} {:>10} {:>11.1} {:>8} {:>9.1} ms {:>7.1} ms",
                rt,
                mb(get("rss_before_bytes")),
                mb(get("rss_after_bytes")),
                mb(get("rss_after_bytes") - get("rss_before_bytes")),
                get("bytes_per_sleep"),
                get("size_of_sleep"),
                get("register_ms"),
                get("cancel_ms"),
            );
            per_runtime.push((rt, stats));
        }
        sections.push(json_section(
            MEMORY,
            &[
                ("sleeps", memory_n as f64),
                ("sleep_secs", MEMORY_SLEEP.as_secs_f64()),
            ],
            &per_runtime,
        ));
    }

    if quick {
        println!("\ntimer_figures: quick run (no --bench, or --test): no JSON written");
        return;
    }
    let path = json_path();
    let json = json_document(&sections, &filters);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    }
    std::fs::write(&path, json).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    println!("\ntimer_figures: wrote {}", path.display());
}

/// Whether `figure` is selected by `filter`: a criterion-style regex reduced
/// to what figure names need, `|`-separated alternatives each matched as a
/// substring (a leading `^` / trailing `$` anchors it).
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

/// How many sleeps a figure uses: the environment's number, or the default
/// (the quick one in a smoke run).
fn count(env: &str, default: usize, quick_default: usize, quick: bool) -> usize {
    match std::env::var(env) {
        Ok(s) => match s.trim().parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => panic!("{env} must be a positive integer, got {s:?}"),
        },
        Err(_) if quick => quick_default,
        Err(_) => default,
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
fn run_child(figure: &str, runtime: &str, n: usize) -> Stats {
    let exe = std::env::current_exe().expect("cannot find this benchmark's executable");
    let output = Command::new(exe)
        .args([CHILD_FLAG, figure, runtime, &n.to_string()])
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
    for var in [WORKERS_ENV, LATENESS_ENV, MEMORY_ENV] {
        if let Ok(v) = std::env::var(var) {
            let _ = write!(s, "{var}={v} ");
        }
    }
    s.push_str("cargo bench -p magpie-benches --bench timer_figures");
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

/// `$MAGPIE_BENCH_FIGURES_JSON`, else `magpie-timer-figures.json` in the
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
    let [figure, runtime, n] = args else {
        panic!("usage: {CHILD_FLAG} <figure> <runtime> <count>, got {args:?}");
    };
    let n: usize = n.parse().expect("count must be a number");
    let stats = match figure.as_str() {
        LATENESS => lateness(runtime, n),
        MEMORY => memory(runtime, n),
        other => panic!("unknown figure {other:?}"),
    };
    let fields: Vec<String> = stats.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!("{RESULT_PREFIX} {}", fields.join(" "));
}

fn lateness(runtime: &str, n: usize) -> Stats {
    let mut late_ms = match runtime {
        "magpie" => {
            let rt = magpie_rt();
            rt.block_on(rt.spawn(sleep_lateness(n, || magpie::time::sleep(LATENESS_SLEEP))))
                .unwrap()
        }
        "tokio" => {
            let rt = tokio_rt();
            rt.block_on(rt.spawn(sleep_lateness(n, || tokio::time::sleep(LATENESS_SLEEP))))
                .unwrap()
        }
        "smol" => {
            let rt = smol_rt();
            rt.block_on(rt.spawn(sleep_lateness(n, || async_io::Timer::after(LATENESS_SLEEP))))
        }
        other => panic!("unknown runtime {other:?}"),
    };
    late_ms.sort_by(f64::total_cmp);
    let mean = late_ms.iter().sum::<f64>() / late_ms.len() as f64;
    vec![
        ("p50_ms".into(), percentile(&late_ms, 50.0)),
        ("p99_ms".into(), percentile(&late_ms, 99.0)),
        ("mean_ms".into(), mean),
        ("min_ms".into(), late_ms[0]),
        ("max_ms".into(), late_ms[late_ms.len() - 1]),
    ]
}

/// Awaits `warm-up + n` sleeps made by `sleep` one after the other; returns
/// how late (ms past [`LATENESS_SLEEP`]) each of the last `n` woke.
async fn sleep_lateness<F: Future>(n: usize, mut sleep: impl FnMut() -> F) -> Vec<f64> {
    let mut late_ms = Vec::with_capacity(n);
    for i in 0..LATENESS_WARMUP + n {
        let start = Instant::now();
        sleep().await;
        let late = start.elapsed().as_secs_f64() - LATENESS_SLEEP.as_secs_f64();
        if i >= LATENESS_WARMUP {
            late_ms.push(late * 1e3);
        }
    }
    late_ms
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn memory(runtime: &str, n: usize) -> Stats {
    match runtime {
        "magpie" => {
            let rt = magpie_rt();
            rt.block_on(rt.spawn(hold_sleeps(n, || {
                Box::pin(magpie::time::sleep(MEMORY_SLEEP))
            })))
            .unwrap()
        }
        "tokio" => {
            let rt = tokio_rt();
            // Unconstrained: tokio's cooperative budget would otherwise make
            // every sleep after the 128th in one poll return `Pending` without
            // registering its timer.
            rt.block_on(rt.spawn(tokio::task::unconstrained(hold_sleeps(n, || {
                Box::pin(tokio::time::sleep(MEMORY_SLEEP))
            }))))
            .unwrap()
        }
        "smol" => {
            let rt = smol_rt();
            rt.block_on(rt.spawn(hold_sleeps(n, || {
                Box::pin(async_io::Timer::after(MEMORY_SLEEP))
            })))
        }
        other => panic!("unknown runtime {other:?}"),
    }
}

/// Creates `n` boxed sleeps with `make`, polls each once (registering its
/// timer), measures the RSS growth, then drops them all (cancelling them).
async fn hold_sleeps<F: Future>(n: usize, mut make: impl FnMut() -> Pin<Box<F>>) -> Stats {
    // One sleep registered and cancelled first, so that whatever a runtime
    // sets up on its first timer exists before the baseline.
    {
        let mut first = make();
        poll_once(first.as_mut()).await;
    }
    // The holder, allocated and written before the baseline: not counted.
    let mut sleeps: Vec<Option<Pin<Box<F>>>> = Vec::with_capacity(n);
    sleeps.resize_with(n, || None);
    let rss_before = rss_bytes().expect("cannot read VmRSS from /proc/self/status");

    let start = Instant::now();
    for slot in sleeps.iter_mut() {
        *slot = Some(make());
    }
    poll_fn(|cx| {
        for sleep in sleeps.iter_mut().flatten() {
            assert!(
                sleep.as_mut().poll(cx).is_pending(),
                "a one-hour sleep completed"
            );
        }
        Poll::Ready(())
    })
    .await;
    let register = start.elapsed();
    let rss_after = rss_bytes().expect("cannot read VmRSS from /proc/self/status");

    let start = Instant::now();
    drop(sleeps);
    let cancel = start.elapsed();

    let growth = rss_after as f64 - rss_before as f64;
    vec![
        ("rss_before_bytes".into(), rss_before as f64),
        ("rss_after_bytes".into(), rss_after as f64),
        ("bytes_per_sleep".into(), growth / n as f64),
        ("size_of_sleep".into(), std::mem::size_of::<F>() as f64),
        ("register_ms".into(), register.as_secs_f64() * 1e3),
        ("cancel_ms".into(), cancel.as_secs_f64() * 1e3),
    ]
}

/// Polls `fut` once, whatever it returns.
async fn poll_once<F: Future>(mut fut: Pin<&mut F>) {
    poll_fn(|cx| {
        let _ = fut.as_mut().poll(cx);
        Poll::Ready(())
    })
    .await;
}
