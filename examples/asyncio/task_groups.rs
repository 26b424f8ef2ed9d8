//! Section 11, task groups: `asyncio.TaskGroup` is `magpie::scope`.
//!
//! ```python
//! async with asyncio.TaskGroup() as tg:
//!     task1 = tg.create_task(say_after(1, 'Hello'))
//!     task2 = tg.create_task(say_after(2, 'World'))
//! print("Both tasks have completed now.")
//! ```
//!
//! `magpie::scope(|group| async move { group.spawn(...); ...; Ok(value) })` returns when the
//! body and every task spawned into the group are done; no task outlives it. The first
//! error (of the body or of a task) cancels everything else in the group, and is returned
//! once the cancelled tasks are gone, as `TaskGroup` cancels its tasks and raises an
//! `ExceptionGroup` (here: the first error only). Group tasks return `Result<(), E>`;
//! values come out through a channel (here a oneshot per task) or shared state.

use crate::coroutines::say_after;
use crate::{header, ms, say, secs};
use magpie::sync::oneshot;
use magpie::time;

/// A task's `finally:`, to show that the group cancelled it.
struct Finally(&'static str);

impl Drop for Finally {
    fn drop(&mut self) {
        say!("  finally: {} ended", self.0);
    }
}

/// The section.
pub async fn main() {
    header("11. Task groups: magpie::scope (asyncio.TaskGroup)");

    // async with asyncio.TaskGroup() as tg: two tasks; the block waits for both.
    let start = time::now();
    let done: Result<(), String> = magpie::scope(|group| async move {
        group.spawn(async {
            say_after(secs(1), "Hello").await;
            Ok(())
        });
        group.spawn(async {
            say_after(secs(2), "World").await;
            Ok(())
        });
        Ok(())
    })
    .await;
    say!(
        "Both tasks have completed now ({done:?}, after {})",
        ms(time::now() - start)
    );

    // Results out of the group's tasks: a oneshot each (task.result() after the block).
    let (tx1, rx1) = oneshot::channel();
    let (tx2, rx2) = oneshot::channel();
    let sum = magpie::scope(|group| async move {
        group.spawn(async move {
            time::sleep(secs(0.5)).await;
            let _ = tx1.send(1);
            Ok(())
        });
        group.spawn(async move {
            time::sleep(secs(1)).await;
            let _ = tx2.send(2);
            Ok(())
        });
        Ok::<_, String>("the body's own value")
    })
    .await;
    say!(
        "scope -> {sum:?}; the tasks' results: {:?}, {:?}",
        rx1.await,
        rx2.await
    );

    // One task fails: the group cancels the others, waits for them to be gone, and returns
    // the error (TaskGroup raises ExceptionGroup; `except* ValueError` is a match on Err).
    let start = time::now();
    let failed: Result<(), String> = magpie::scope(|group| async move {
        group.spawn(async {
            let _finally = Finally("the slow download");
            time::sleep(secs(10)).await;
            say!("never printed: the group cancelled it");
            Ok(())
        });
        group.spawn(async {
            time::sleep(secs(0.5)).await;
            Err("the parser failed".to_owned())
        });
        Ok(())
    })
    .await;
    match failed {
        Ok(()) => say!("unexpected: the group succeeded"),
        Err(e) => say!(
            "An error occurred: {e} (after {}; the other task was cancelled first)",
            ms(time::now() - start)
        ),
    }
}
