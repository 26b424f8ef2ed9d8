//! Tasks: spawn, join, abort, yield, name, and run blocking code.
//!
//! A task is a future the runtime polls on its worker threads. [`crate::spawn`] returns a
//! [`JoinHandle`], itself a future of `Result<T, JoinError>`: `Ok` with the task's output,
//! or a [`JoinError`] when the task panicked (the panic never takes a worker thread down)
//! or was cancelled. Dropping a `JoinHandle` detaches the task; it runs on.
//!
//! Task-local values ([`LocalKey`], declared with [`task_local!`](crate::task_local)) follow
//! a future across workers, as Python's `contextvars` follow an asyncio task.

mod builder;
mod join_set;
mod local_key;

pub use builder::Builder;
pub use join_set::JoinSet;
pub use local_key::{AccessError, LocalKey, TaskLocalFuture};
pub use magpie_core::task::{table, SlowPoll, TaskInfo, TaskState, TaskTable};
pub use magpie_core::{AbortHandle, Id, JoinError, JoinHandle};

/// Lets the other tasks run: the current task goes to the back of its worker's queue.
pub async fn yield_now() {
    magpie_core::yield_now().await
}

/// Runs `f` on the current runtime's blocking pool, for synchronous code that would block a
/// worker (file I/O, CPU-heavy work, a blocking client library).
///
/// # Panics
///
/// Outside a magpie runtime.
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    magpie_core::with_current(|handle| match handle {
        Some(handle) => handle.spawn_blocking(f),
        None => panic!("magpie::task::spawn_blocking must be called from inside a magpie runtime"),
    })
}

/// The id of the task being polled.
///
/// # Panics
///
/// Outside a task (see [`try_id`]).
pub fn id() -> Id {
    try_id().expect("magpie::task::id must be called from inside a task")
}

/// The id of the task being polled, or `None` outside a task.
pub fn try_id() -> Option<Id> {
    magpie_core::current_task_id()
}

/// The name of the task being polled, if it was spawned with [`Builder::name`].
pub fn name() -> Option<String> {
    magpie_core::current_task_name()
}
