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
//! binary re-executed with its child flag; the harness is `benches/figures.rs`), so that no runtime inherits
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

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use magpie_benches::figures::{json_section, lookup, print_result, FigureBench, Stats, RUNTIMES};
use magpie_benches::{magpie_rt, rss_bytes, smol_rt, tokio_rt, workers};

const BENCH: FigureBench = FigureBench {
    name: "timer_figures",
    child_flag: "--magpie-figure-child",
    figures: &[LATENESS, MEMORY],
    knobs: &[LATENESS_ENV, MEMORY_ENV],
    json_env: "MAGPIE_BENCH_FIGURES_JSON",
    json_file: "magpie-timer-figures.json",
    command_env: "BENCH_FIGURES_COMMAND",
};

const LATENESS: &str = "sleep_lateness";
const MEMORY: &str = "sleep_memory";

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

fn main() {
    let Some(selection) = BENCH.start(child) else {
        return;
    };
    let quick = selection.quick;

    let lateness_n = count(LATENESS_ENV, LATENESS_DEFAULT, LATENESS_QUICK, quick);
    let memory_n = count(MEMORY_ENV, MEMORY_DEFAULT, MEMORY_QUICK, quick);
    let mut sections = Vec::new();

    if selection.runs(LATENESS) {
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
            let stats = BENCH.run_child(LATENESS, rt, &[lateness_n.to_string()]);
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

    if selection.runs(MEMORY) {
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
            let stats = BENCH.run_child(MEMORY, rt, &[memory_n.to_string()]);
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

    BENCH.finish(&selection, &sections);
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

// ---------------------------------------------------------------------------
// Child: one figure on one runtime
// ---------------------------------------------------------------------------

fn child(args: &[String]) {
    let [figure, runtime, n] = args else {
        panic!("usage: <child flag> <figure> <runtime> <count>, got {args:?}");
    };
    let n: usize = n.parse().expect("count must be a number");
    let stats = match figure.as_str() {
        LATENESS => lateness(runtime, n),
        MEMORY => memory(runtime, n),
        other => panic!("unknown figure {other:?}"),
    };
    print_result(&stats);
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
