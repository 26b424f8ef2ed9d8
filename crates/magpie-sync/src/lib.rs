//! magpie-sync: channels and locks for async code, usable on any executor.
//!
//! Everything here works with nothing but [`std::task::Waker`]s: it never asks which runtime is
//! polling it, so magpie's tasks, tokio's, smol's or a hand-written `block_on` may all share one
//! channel. Semantics follow tokio's `sync` module.
//!
//! - [`oneshot`]: one value from one task to another (an asyncio `Future` resolved by another task).
//! - [`mpsc`]: many senders, one receiver; bounded (backpressure) or unbounded (asyncio's `Queue`).
//! - [`Mutex`] (fair, first come first served), [`RwLock`], [`Semaphore`] (with owned permits).
//! - [`Notify`], [`Barrier`], [`watch`] (latest value) and [`broadcast`] (every value to every
//!   receiver): asyncio's `Event`, `Condition` and `Barrier` and their neighbours.
//! - [`CancellationToken`] (tokio-util's): a shutdown signal for a tree of tasks, asyncio's
//!   `task.cancel()` without the exception.
//!
//! # Two rules every primitive keeps
//!
//! - **Nothing hangs on a vanished peer.** A dropped sender or receiver is an error on the
//!   other side, never a wait that cannot end.
//! - **A cancelled waiter leaves no trace.** Dropping a waiting future removes it from its queue;
//!   if it had already been handed something (a permit, a notification), it passes it on to the
//!   next waiter. The shared machinery is `waiters.rs`.
//!
//! # Cooperative budget
//!
//! Every wait spends one unit of magpie's cooperative budget
//! ([`magpie_shim::coop`]); under magpie a task looping on an always-ready channel yields after
//! 128 operations. Polled by another executor, nothing is budgeted.
//!
//! Every wait/notify path has a loom model (`src/loom_tests/`).

/// The `Debug` (the message is not shown: `T` need not be `Debug`), `Display` and `Error`
/// impls of a channel's `SendError<T>(pub T)`. Each channel keeps its own `SendError` type, as
/// tokio's do; only these impls are the same.
macro_rules! send_error_impls {
    ($SendError:ident) => {
        impl<T> std::fmt::Debug for $SendError<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($SendError))
                    .finish_non_exhaustive()
            }
        }

        impl<T> std::fmt::Display for $SendError<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("channel closed")
            }
        }

        impl<T> std::error::Error for $SendError<T> {}
    };
}

// The machinery every primitive shares.
mod blocking;
mod waiters;

// Channels.
pub mod broadcast;
pub mod mpsc;
pub mod oneshot;
pub mod watch;

// Locks and signals.
mod barrier;
mod cancellation_token;
mod mutex;
mod notify;
mod rwlock;
mod semaphore;

pub use barrier::{Barrier, BarrierWaitResult};
pub use cancellation_token::{
    CancellationToken, DropGuard, WaitForCancellationFuture, WaitForCancellationFutureOwned,
};
pub use mutex::{Mutex, MutexGuard, OwnedMutexGuard, TryLockError};
pub use notify::{Notified, Notify};
pub use rwlock::{
    OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock, RwLockReadGuard, RwLockWriteGuard,
};
pub use semaphore::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};

#[cfg(all(test, loom))]
mod loom_tests;
