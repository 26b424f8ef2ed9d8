//! Section 9, concurrency vs parallelism.
//!
//! The notes: asyncio achieves concurrency (tasks taking turns on one thread while others
//! wait), not parallelism; for CPU-bound work, use processes. magpie runs its tasks on a
//! pool of worker threads, one per core, so CPU-bound tasks do run in parallel; and
//! `spawn_blocking` (`asyncio.to_thread`) moves work that would block a worker onto a pool
//! of its own.
//!
//! This section measures it: the same CPU jobs run one after another in one task,
//! "concurrently" in one task (`join_all`: concurrency without parallelism, asyncio's case),
//! spread over worker tasks, and over `spawn_blocking`. Then waiting (sleeps) overlaps even
//! in one task, and blocking calls belong on `spawn_blocking`.

use crate::{header, ms, say, secs};
use magpie::task::JoinSet;
use magpie::time;
use std::collections::HashSet;
use std::hint::black_box;
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

/// A CPU-bound job: `rounds` steps of a pseudo-random sequence, no awaits.
fn cpu_job(rounds: u64) -> u64 {
    let mut x = black_box(0x9E37_79B9_7F4A_7C15_u64);
    for i in 0..black_box(rounds) {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i);
        x ^= x >> 29;
    }
    black_box(x)
}

/// How many rounds take about `target` on this machine (and this build: debug is slower).
/// The fastest of three runs of at least 10 ms: other processes on the machine only ever
/// make a run slower.
fn calibrate(target: Duration) -> u64 {
    let mut rounds = 10_000u64;
    loop {
        let fastest = (0..3)
            .map(|_| {
                let start = Instant::now();
                cpu_job(rounds);
                start.elapsed()
            })
            .min()
            .unwrap_or_default();
        if fastest >= Duration::from_millis(10) || rounds >= 1 << 40 {
            let per_round = fastest.as_secs_f64() / rounds as f64;
            return ((target.as_secs_f64() / per_round) as u64).max(1);
        }
        rounds *= 4;
    }
}

/// One row of the table: what ran, how long it took, the speed-up over the first row.
fn row(what: &str, took: Duration, baseline: Duration, threads: usize) {
    say!(
        "  {what:<44} {:>7}  x{:.2}  on {threads} thread(s)",
        ms(took),
        baseline.as_secs_f64() / took.as_secs_f64()
    );
}

/// The section.
pub async fn main() {
    header("9. Concurrency vs parallelism: CPU work on workers and spawn_blocking, measured");

    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = 4 * cores;
    // 25 ms a job (less only when a test shortens the notes' second).
    let job = secs(0.25).clamp(Duration::from_millis(1), Duration::from_millis(25));
    let rounds = calibrate(job);
    say!(
        "{jobs} CPU-bound jobs of about {} each, on a machine with {cores} core(s):",
        ms(job)
    );

    // 1. One after another in this task: for job in jobs: cpu_job().
    let start = Instant::now();
    for _ in 0..jobs {
        cpu_job(rounds);
    }
    let sequential = start.elapsed();
    row("sequentially, in one task", sequential, sequential, 1);

    // 2. "Concurrently" in one task: gather(*jobs). The jobs never await, so each runs to
    //    its end when polled: concurrency, no parallelism. This is asyncio's case.
    let start = Instant::now();
    let outputs = magpie::join_all((0..jobs).map(|_| async move { cpu_job(rounds) })).await;
    let in_one_task = start.elapsed();
    black_box(outputs);
    row(
        "join_all in one task (asyncio.gather)",
        in_one_task,
        sequential,
        1,
    );

    // 3. As tasks: the workers (one per core) run them side by side.
    let start = Instant::now();
    let mut set = JoinSet::new();
    for _ in 0..jobs {
        set.spawn(async move {
            cpu_job(rounds);
            thread::current().id()
        });
    }
    let on_workers = join_threads(&mut set).await;
    row(
        "spawned as tasks (magpie::spawn)",
        start.elapsed(),
        sequential,
        on_workers,
    );

    // 4. On the blocking pool: asyncio.to_thread(cpu_job) / run_in_executor. In Python the
    //    GIL keeps this from being faster for pure-Python work; here it is parallel.
    let start = Instant::now();
    let mut set = JoinSet::new();
    for _ in 0..jobs {
        set.spawn_blocking(move || {
            cpu_job(rounds);
            thread::current().id()
        });
    }
    let on_blocking_pool = join_threads(&mut set).await;
    row(
        "spawn_blocking (asyncio.to_thread)",
        start.elapsed(),
        sequential,
        on_blocking_pool,
    );
    say!("(the speed-up is bounded by the cores: {cores} here)");

    // Waiting is different: sleeps (or network waits) overlap even in one task.
    let start = time::now();
    magpie::join_all((0..jobs).map(|_| time::sleep(secs(0.5)))).await;
    say!(
        "{jobs} sleeps of 0.5 s in one task (join_all) took {}: waiting overlaps on one thread",
        ms(time::now() - start)
    );

    // A blocking call (time.sleep, a file read, a C library) inside a task holds its worker:
    // with every worker held, nothing else runs. Blocking calls go to spawn_blocking.
    let nap = secs(1).min(Duration::from_millis(100));
    let start = Instant::now();
    let mut set = JoinSet::new();
    for _ in 0..2 * cores {
        set.spawn(async move { thread::sleep(nap) }); // blocks a worker: don't
    }
    while set.join_next().await.is_some() {}
    say!(
        "{} blocking sleeps of {} inside tasks took {} (the {cores} worker(s) were held)",
        2 * cores,
        ms(nap),
        ms(start.elapsed())
    );
    let start = Instant::now();
    let mut set = JoinSet::new();
    for _ in 0..2 * cores {
        set.spawn_blocking(move || thread::sleep(nap));
    }
    while set.join_next().await.is_some() {}
    say!(
        "the same {} on spawn_blocking took {} (side by side, the workers stayed free)",
        2 * cores,
        ms(start.elapsed())
    );
}

/// Waits for every job in `set` and counts the threads that ran them.
async fn join_threads(set: &mut JoinSet<ThreadId>) -> usize {
    let mut threads = HashSet::new();
    while let Some(done) = set.join_next().await {
        threads.insert(done.expect("a job panicked"));
    }
    threads.len()
}
