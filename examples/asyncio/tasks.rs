//! Section 3, tasks: `asyncio.create_task(coro)` is `magpie::spawn(fut)`; `await task` is
//! `handle.await`.
//!
//! ```python
//! async def main():
//!     task1 = asyncio.create_task(say_after(1, 'Hello'))
//!     task2 = asyncio.create_task(say_after(2, 'World'))
//!     await task1
//!     await task2
//! ```

use crate::coroutines::say_after;
use crate::{header, ms, say, secs};
use magpie::task;
use magpie::time;

/// The section.
pub async fn main() {
    header("3. Tasks: magpie::spawn, await the handles in order");

    let start = time::now();
    let task1 = magpie::spawn(say_after(secs(1), "Hello"));
    let task2 = magpie::spawn(say_after(secs(2), "World"));
    // Awaiting a JoinHandle gives Result<T, JoinError>: Err if the task panicked or was
    // cancelled (sections 5 and 10).
    task1.await.expect("task1 panicked");
    task2.await.expect("task2 panicked");
    say!(
        "two tasks took {}: 2 of the notes' seconds, not 1 + 2: they slept side by side",
        ms(time::now() - start)
    );

    // A task starts at once, on the worker threads, whether or not anyone awaits it yet.
    let started = magpie::spawn(async { say!("a task runs without being awaited") });
    time::sleep(secs(0.1)).await;
    // task.done()
    say!(
        "task.done() is handle.is_finished(): {}",
        started.is_finished()
    );

    // asyncio.create_task(coro, name="fetch-user"); asyncio.current_task().get_name()
    let named = task::Builder::new()
        .name("fetch-user")
        .spawn(async { format!("inside {:?}", task::name()) })
        .expect("failed to spawn");
    say!(
        "a named task says: {}",
        named.await.expect("the task panicked")
    );

    // Dropping a JoinHandle detaches the task: it runs on to the end (asyncio would keep
    // running it too, but only while something holds a reference to it). The oneshot
    // (section 7) brings its word back.
    let (tx, rx) = magpie::sync::oneshot::channel();
    drop(magpie::spawn(async move {
        time::sleep(secs(0.1)).await;
        let _ = tx.send("the detached task finished");
    }));
    say!("{}", rx.await.unwrap_or("the detached task was lost"));
}
