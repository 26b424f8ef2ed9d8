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

/// Spawns a `!Send` future (one holding an `Rc`, a `RefCell` borrow across an await) as a
/// **local task**: it is polled and dropped on the calling thread only. No `LocalSet` is
/// needed; where it runs depends on where it is spawned:
///
/// - on a **current-thread runtime** (inside its `block_on`): on that thread, beside the
///   other tasks;
/// - inside **any `block_on`** of a multi-thread runtime: on the `block_on` thread, while
///   that `block_on` runs;
/// - from a task on a **worker thread**: on that worker, never stolen by another; at
///   shutdown the worker drops its pending local tasks on its own thread.
///
/// Local tasks still pending when their `block_on` returns are dropped there, on that
/// thread, as `asyncio.run` cancels what is left (their `JoinHandle`s then yield a
/// cancelled [`JoinError`]). Abort, `JoinHandle`, names and ids work as for
/// [`spawn`](crate::spawn); the handle is `Send` when the output is. Local tasks count in
/// the runtime's spawn metric but are kept by their thread, not the runtime's registry:
/// [`Handle::tasks`](crate::Handle::tasks) does not list them.
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// let rt = magpie::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let log = Rc::new(RefCell::new(Vec::new()));
///     let writer = log.clone();
///     magpie::task::spawn_local(async move { writer.borrow_mut().push("hello") })
///         .await
///         .unwrap();
///     assert_eq!(*log.borrow(), ["hello"]);
/// });
/// ```
///
/// # Panics
///
/// On a thread that runs no tasks of a magpie runtime: outside any runtime, on a blocking
/// thread, or inside [`block_in_place`].
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: std::future::Future + 'static,
    F::Output: 'static,
{
    magpie_core::spawn_local(future, None, std::panic::Location::caller())
}

/// Runs blocking code on this worker thread without stalling the runtime: the worker's
/// queued tasks and its turn at the timers and sockets are handed to a stand-in thread
/// first, so that even a one-worker runtime keeps running its other tasks while `f` blocks
/// (tokio's behaviour). Prefer [`spawn_blocking`]; this is for code that must block where it
/// is (inside a poll, holding a borrow). Local tasks of this thread wait until `f` returns.
///
/// On a thread that is not a worker (inside a multi-thread runtime's `block_on`, a blocking
/// thread, outside any runtime) `f` simply runs.
///
/// # Panics
///
/// On a current-thread runtime: its one thread runs every task, so nobody can stand in
/// (use [`spawn_blocking`]). A panic in `f` propagates to the caller.
pub fn block_in_place<F, R>(f: F) -> R
where
    F: FnOnce() -> R,
{
    magpie_core::block_in_place(f)
}

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
