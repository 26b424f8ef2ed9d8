//! Section 19, debug mode: which task is blocking a worker? (asyncio's
//! `loop.set_debug(True)`, which warns "Executing <Task …> took 0.150 seconds").
//!
//! A blocking call inside a task (here `std::thread::sleep`, in real code a synchronous
//! file read, a CPU-heavy loop, a blocking client library) holds its worker thread: every
//! task queued behind it waits. `Builder::slow_poll_threshold` makes the runtime's monitor
//! thread name such a task **while it is still blocking**, and again when it returns.
//! Without a hook (`Builder::on_slow_poll`) each report is one line on stderr; this
//! section prints them through its hook. `Handle::tasks` is asyncio's `all_tasks()`: the
//! live tasks with their state, polls, age and where they were spawned.

use crate::{header, say};
use std::time::Duration;

/// The section. A plain `fn`: it starts its own runtime, in debug mode.
pub fn main() {
    header("19. Debug mode: which task is blocking a worker?");
    let runtime = magpie::Runtime::builder()
        .worker_threads(2)
        .slow_poll_threshold(Duration::from_millis(100))
        .on_slow_poll(|report| say!("slow poll: {report}"))
        .build()
        .expect("failed to start the runtime");
    say!("slow_poll_threshold(100 ms): a task that blocks its worker for 300 ms:");
    runtime.block_on(async {
        let blocker = magpie::task::Builder::new()
            .name("blocking-sleep")
            .spawn(async {
                // The mistake debug mode is for: a blocking sleep inside a task.
                std::thread::sleep(Duration::from_millis(300));
            })
            .expect("inside the runtime");
        let waiter = magpie::task::Builder::new()
            .name("waiter")
            .spawn(magpie::time::sleep(Duration::from_secs(60)))
            .expect("inside the runtime");
        magpie::time::sleep(Duration::from_millis(150)).await;
        say!("the live tasks, 150 ms in (asyncio.all_tasks()):");
        let tasks = magpie::Handle::current().tasks();
        for line in magpie::task::table(&tasks).to_string().lines() {
            say!("  {line}");
        }
        blocker.await.expect("the blocking task panicked");
        waiter.abort();
    });
    // The last report comes at the monitor's first look after the poll returned.
    std::thread::sleep(Duration::from_millis(50));
    let metrics = runtime.metrics();
    say!(
        "{} tasks spawned; polls per worker: {:?}",
        metrics.spawned_tasks_count(),
        (0..metrics.num_workers())
            .map(|w| metrics.worker_poll_count(w))
            .collect::<Vec<_>>()
    );
    say!("the fix: move blocking code to magpie::task::spawn_blocking (section 9).");
}
