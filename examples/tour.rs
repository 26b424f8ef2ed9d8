//! A tour of magpie for asyncio users: `cargo run --release --example tour`.
//!
//! Each section prints what it shows. Later sections (sleeps, timeouts, networking, channels)
//! arrive with the features they need.

use magpie::task::{self, JoinSet};
use std::collections::HashSet;
use std::time::{Duration, Instant};

fn main() {
    // A panicking task prints through the panic hook, like an uncaught exception's traceback;
    // keep it to one line so the tour reads cleanly.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .copied()
            .unwrap_or("(non-string payload)");
        println!("(panic hook) a task panicked: {msg}");
    }));
    // asyncio.run(main()): build a runtime, run one future to completion, shut it down.
    magpie::run(async {
        coroutines_and_tasks().await;
        gather_with_join_set().await;
        exceptions_as_join_errors().await;
        cancellation().await;
        blocking_work().await;
        work_spread_over_workers().await;
    });
    println!("\nThe runtime has shut down: every task that was still pending was dropped.");
}

/// `async fn` is a coroutine; `magpie::spawn` is `asyncio.create_task`.
async fn coroutines_and_tasks() {
    println!("== Coroutines and tasks ==");
    async fn greet(name: &'static str) -> String {
        format!("Hello, {name}!")
    }
    // Awaiting a coroutine runs it inline, like `await greet("world")`.
    println!("{}", greet("world").await);

    // Spawning makes it a task that runs on the workers while we continue.
    let task1 = magpie::spawn(greet("Hello-task"));
    let task2 = magpie::spawn(greet("World-task"));
    println!("spawned tasks {} and {}", task1.id(), task2.id());
    // `await task1; await task2` — a JoinHandle yields Result<T, JoinError>.
    println!("{}", task1.await.expect("task1 panicked"));
    println!("{}", task2.await.expect("task2 panicked"));
}

/// `asyncio.gather` over many tasks: a JoinSet yields results as tasks finish.
async fn gather_with_join_set() {
    println!("\n== Many tasks at once (JoinSet) ==");
    let mut set = JoinSet::new();
    for n in 1..=10u64 {
        set.spawn(async move { (n, (1..=n).product::<u64>()) });
    }
    let mut results = Vec::new();
    while let Some(done) = set.join_next().await {
        results.push(done.expect("a factorial task panicked"));
    }
    results.sort();
    for (n, fact) in results {
        print!("{n}!={fact} ");
    }
    println!();
}

/// An exception in a task does not crash the loop: it becomes a `JoinError` at the await.
async fn exceptions_as_join_errors() {
    println!("\n== Exceptions: a panicking task is an error, not a crash ==");
    let ok = magpie::spawn(async { "fine" });
    let failing = task::Builder::new()
        .name("might_fail")
        .spawn(async {
            if true {
                panic!("Something went wrong!");
            }
            "unreachable"
        })
        .expect("spawn");
    println!("ok task -> {:?}", ok.await);
    match failing.await {
        Ok(v) => println!("unexpected success: {v}"),
        Err(e) if e.is_panic() => println!("Error: {e}"),
        Err(e) => println!("cancelled: {e}"),
    }
    // The runtime is unharmed: the worker that ran the panicking task still runs tasks.
    println!(
        "after the panic: {}",
        magpie::spawn(async { 6 * 7 }).await.unwrap()
    );
}

/// `task.cancel()` is `JoinHandle::abort`; the future is dropped (its cleanup runs).
async fn cancellation() {
    println!("\n== Cancellation ==");
    struct Cleanup;
    impl Drop for Cleanup {
        fn drop(&mut self) {
            println!("cleanup ran when the task was cancelled");
        }
    }
    let forever = magpie::spawn(async {
        let _cleanup = Cleanup;
        loop {
            task::yield_now().await;
        }
    });
    task::yield_now().await;
    forever.abort();
    let err = forever.await.unwrap_err();
    println!(
        "awaiting it gives: {err} (is_cancelled = {})",
        err.is_cancelled()
    );
}

/// `loop.run_in_executor` / `asyncio.to_thread`: blocking code goes to the blocking pool.
async fn blocking_work() {
    println!("\n== Blocking work on the blocking pool ==");
    let started = Instant::now();
    let handles: Vec<_> = (0..4)
        .map(|i| {
            task::spawn_blocking(move || {
                std::thread::sleep(Duration::from_millis(100));
                i
            })
        })
        .collect();
    let mut done = Vec::new();
    for h in handles {
        done.push(h.await.unwrap());
    }
    println!(
        "4 blocking sleeps of 100 ms finished in {:?} (side by side, not 400 ms): {done:?}",
        started.elapsed()
    );
}

/// Concurrency vs parallelism: CPU work in tasks runs on several worker threads at once.
async fn work_spread_over_workers() {
    println!("\n== Work spread over the workers ==");
    fn busy(ms: u64) -> u64 {
        let until = Instant::now() + Duration::from_millis(ms);
        let mut x = 0u64;
        while Instant::now() < until {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        x
    }
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let started = Instant::now();
    let mut set = JoinSet::new();
    for _ in 0..(2 * workers) {
        set.spawn(async {
            busy(50);
            std::thread::current().id()
        });
    }
    let mut threads = HashSet::new();
    while let Some(t) = set.join_next().await {
        threads.insert(t.unwrap());
    }
    println!(
        "{} tasks of 50 ms CPU each took {:?} on {} worker thread(s) ({} available cores)",
        2 * workers,
        started.elapsed(),
        threads.len(),
        workers
    );
}
