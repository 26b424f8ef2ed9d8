//! magpie-core: tasks and the work-stealing scheduler.
//!
//! The scheduler owns the runtime's [`Driver`]: the timers (crate magpie-timer) and the I/O
//! reactor (crate magpie-io) that the idle worker holding it waits on. The facade crate
//! `magpie` builds the public time, net and signal APIs on the driver's parts, reached through
//! [`Handle::driver`]. Users reach everything here through `magpie`; this crate's API is for
//! the crates that compose the runtime.
//!
//! - [`task`]: one allocation per task, the state word, wakers, `JoinHandle`, `JoinError`,
//!   the owned-task registry.
//! - [`scheduler`]: per-worker crossbeam deques, LIFO slots, the injector, stealing, the
//!   idle/park protocol, shutdown.
//! - `blocking`: the pool behind `spawn_blocking`.
//! - `context`: the thread-local that says which runtime (and worker, and task) a thread is in.
//! - `driver`: timers and I/O, what the one idle worker holding the driver waits on.
//!
//! Atomics, locks and the cooperative budget come from crate `magpie-shim` (loom's models
//! under `--cfg loom`).

mod block_on;
mod blocking;
mod context;
pub mod driver;
pub mod metrics;
pub mod scheduler;
pub mod task;
pub mod timeline;
#[cfg(feature = "tracing")]
mod trace;
mod unwind;
mod yield_now;

pub use block_on::block_on;
pub use context::{current_task_id, current_task_name};
pub use driver::Driver;
pub use scheduler::{
    block_in_place, Config, ContextGuard, ContextHook, Handle, Hook, Scheduler, SlowPollHook,
};
pub use task::{AbortHandle, Id, JoinError, JoinHandle};
pub use yield_now::yield_now;

/// The handle of the runtime the current thread belongs to: a worker or blocking thread of
/// it, or a thread inside its `block_on`.
pub fn try_current() -> Option<Handle> {
    context::current_handle()
}

/// Runs `f` with the current runtime's handle (see [`try_current`]) without cloning it.
pub fn with_current<R>(f: impl FnOnce(Option<&Handle>) -> R) -> R {
    context::with_current_handle(f)
}

/// The index (`0..worker_threads`) of the current thread if it is a worker of `handle`'s
/// runtime: per-worker structures (timer shards) use it to stay local.
pub fn worker_index(handle: &Handle) -> Option<usize> {
    context::with_worker(|w| w.filter(|w| w.belongs_to(handle)).map(|w| w.index()))
}

/// Spawns a `!Send` future as a local task of the current thread's session: it is polled
/// and dropped on this thread only (scheduler/local.rs says where that is and when pending
/// ones are dropped).
///
/// # Panics
///
/// On a thread with no session: outside a runtime, or on a blocking thread.
pub fn spawn_local<F>(
    future: F,
    name: Option<&str>,
    location: &'static std::panic::Location<'static>,
) -> JoinHandle<F::Output>
where
    F: std::future::Future + 'static,
    F::Output: 'static,
{
    context::with_local_session(|session| match session {
        Some(session) => session.spawn(future, name, location),
        None => panic!(
            "spawn_local must be called on a thread that runs a magpie runtime's tasks: \
             inside block_on (either runtime flavour) or from a task on a worker thread. \
             This thread runs none (outside a runtime, a blocking thread, or inside \
             block_in_place); a `!Send` future cannot be sent to one that does."
        ),
    })
}

/// Whether [`spawn_local`] would find a session on this thread.
pub fn can_spawn_local() -> bool {
    context::with_local_session(|session| session.is_some())
}

/// Whether this thread is already inside a runtime (a worker, or inside `block_on`).
pub fn is_inside_runtime() -> bool {
    context::is_entered()
}
