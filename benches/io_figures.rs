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
//!   On Windows the CPU time is `GetProcessTimes`' and the context switches
//!   are not available (NaN).
//!
//! Each runtime runs in a child process of its own (this binary re-executed
//! with its child flag; the harness is `benches/figures.rs`), so that no runtime
//! inherits another's threads.
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
//! Filters follow `benches/figures.rs`: criterion-style flags are
//! ignored, other arguments are `|`-separated substrings (`^`/`$` anchor
//! them), and a filter that matches no figure runs nothing. Without `--bench`
//! on its command line (`cargo test --benches`) or with `--test`, it runs a
//! quick smoke version (0.1 s settle, 0.2 s idle) and writes no JSON. Knob:
//! `MAGPIE_BENCH_IDLE_SECS` (default 2).

use std::future::Future;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use magpie_benches::figures::{json_section, lookup, print_result, FigureBench, Stats, RUNTIMES};
use magpie_benches::{magpie_rt, smol_rt, thread_count, tokio_rt, workers, Usage};

const BENCH: FigureBench = FigureBench {
    name: "io_figures",
    child_flag: "--magpie-io-figure-child",
    figures: &[IDLE_CPU],
    knobs: &[IDLE_ENV],
    json_env: "MAGPIE_BENCH_IO_FIGURES_JSON",
    json_file: "magpie-io-figures.json",
    command_env: "BENCH_IO_FIGURES_COMMAND",
};

const IDLE_CPU: &str = "idle_cpu";

/// Wall time between setting up the sockets and the first CPU reading.
const SETTLE: Duration = Duration::from_millis(500);
const SETTLE_QUICK: Duration = Duration::from_millis(100);
/// Wall time measured.
const IDLE_ENV: &str = "MAGPIE_BENCH_IDLE_SECS";
const IDLE_DEFAULT: Duration = Duration::from_secs(2);
const IDLE_QUICK: Duration = Duration::from_millis(200);

fn main() {
    let Some(selection) = BENCH.start(child) else {
        return;
    };
    let quick = selection.quick;

    let settle = if quick { SETTLE_QUICK } else { SETTLE };
    let idle = idle_duration(quick);
    let mut sections = Vec::new();

    if selection.runs(IDLE_CPU) {
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
            let stats = BENCH.run_child(IDLE_CPU, rt, &[secs(settle), secs(idle)]);
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

    BENCH.finish(&selection, &sections);
}

/// A duration as a child argument.
fn secs(d: Duration) -> String {
    d.as_secs_f64().to_string()
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

// ---------------------------------------------------------------------------
// Child: one figure on one runtime
// ---------------------------------------------------------------------------

fn child(args: &[String]) {
    let [figure, runtime, settle, idle] = args else {
        panic!("usage: <child flag> <figure> <runtime> <settle s> <idle s>, got {args:?}");
    };
    let secs = |s: &str| Duration::from_secs_f64(s.parse().expect("durations are seconds"));
    let (settle, idle) = (secs(settle), secs(idle));
    let stats = match figure.as_str() {
        IDLE_CPU => idle_cpu(runtime, settle, idle),
        other => panic!("unknown figure {other:?}"),
    };
    print_result(&stats);
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
            per_s(after.switches(), before.switches()),
        ),
        ("wall_s".into(), wall),
        ("threads".into(), threads),
    ]
}
