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
pub use scheduler::{Config, Handle, Hook, Scheduler, SlowPollHook};
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

/// Whether this thread is already inside a runtime (a worker, or inside `block_on`).
pub fn is_inside_runtime() -> bool {
    context::is_entered()
}
