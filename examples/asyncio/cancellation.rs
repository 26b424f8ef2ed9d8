//! Section 10, cancellation: `task.cancel()`, `CancelledError`, `finally`,
//! `asyncio.shield`.
//!
//! `task.cancel()` is `JoinHandle::abort()`: the task's future is dropped at its next
//! `.await` (its next scheduling point), and awaiting the handle gives a `JoinError` whose
//! `is_cancelled()` is true: the `CancelledError`. There is no exception to catch inside the
//! task: what a `try/finally` would do goes in a `Drop` (a guard), which runs however the
//! future ends.

use crate::{header, ms, say, secs};
use magpie::sync::oneshot;
use magpie::task::{self, JoinSet};
use magpie::time;

/// A `finally:` block: its `Drop` runs when the future holding it ends, however it ends.
struct Finally(String);

impl Drop for Finally {
    fn drop(&mut self) {
        say!("finally: {} cleaned up", self.0);
    }
}

/// The section.
pub async fn main() {
    header("10. Cancellation: abort, CancelledError, finally (Drop), shield");

    // task = create_task(download()); ...; task.cancel(); await task -> CancelledError
    let download = magpie::spawn(async {
        let _finally = Finally("the download".to_owned());
        say!("downloading (10 s)...");
        time::sleep(secs(10)).await;
        say!("never printed: the download was cancelled");
    });
    time::sleep(secs(0.2)).await;
    download.abort(); // task.cancel()
    match download.await {
        Ok(()) => say!("unexpected: the download finished"),
        Err(e) if e.is_cancelled() => say!("await task -> CancelledError: {e}"),
        Err(e) => say!("the download panicked: {e}"),
    }

    // asyncio.shield(task): a timeout on the *wait* does not cancel the task. Dropping or
    // timing out a JoinHandle never cancels its task, so `timeout(d, &mut handle)` is
    // `wait_for(shield(task), d)`, and the handle can be awaited again later.
    let start = time::now();
    let mut report = magpie::spawn(async {
        time::sleep(secs(1)).await;
        "the report"
    });
    if time::timeout(secs(0.2), &mut report).await.is_err() {
        say!("wait_for(shield(task), 0.2) timed out; the task runs on");
    }
    match report.await {
        Ok(v) => say!(
            "awaited again: {v}, after {} (1 of the notes' seconds)",
            ms(time::now() - start)
        ),
        Err(e) => say!("the report failed: {e}"),
    }

    // Cancelling many: JoinSet::shutdown (or dropping the set) aborts every task in it.
    let mut set = JoinSet::new();
    for n in 1..=3 {
        set.spawn(async move {
            let _finally = Finally(format!("worker {n}"));
            time::sleep(secs(10)).await;
        });
    }
    time::sleep(secs(0.1)).await;
    set.shutdown().await; // aborts them all and waits for them
    say!("JoinSet::shutdown(): {} tasks left", set.len());

    // Cancellation needs an await: a loop that never awaits cannot be cancelled (as in
    // asyncio). `task::yield_now()` in the loop is an await where it can stop.
    let (started, has_started) = oneshot::channel();
    let spinner = magpie::spawn(async {
        let _finally = Finally("the CPU loop that yields".to_owned());
        let _ = started.send(());
        loop {
            std::hint::black_box(0u64.wrapping_add(1));
            task::yield_now().await; // a cancellation point (asyncio.sleep(0))
        }
    });
    let _ = has_started.await; // (not a sleep: the clock of a paused runtime never moves
                               // while a task is always ready to run)
    spinner.abort();
    let err = spinner.await.expect_err("the spinner was not cancelled");
    say!("the yielding loop: {err}");
}
