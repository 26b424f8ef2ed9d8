//! `Handle`: a runtime reference that can spawn from any thread.

use crate::task::JoinHandle;
use std::fmt;
use std::future::Future;

/// A cheap, cloneable reference to a runtime. Spawn onto it from any thread, including
/// threads the runtime did not start.
#[derive(Clone)]
pub struct Handle {
    pub(crate) inner: magpie_core::Handle,
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// `Handle::try_current` was called on a thread that belongs to no magpie runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryCurrentError(());

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "there is no magpie runtime on this thread: call this from a task, from \
             spawn_blocking, or inside Runtime::block_on",
        )
    }
}

impl std::error::Error for TryCurrentError {}

impl Handle {
    /// The handle of the runtime the current thread is in.
    ///
    /// # Panics
    ///
    /// Outside a runtime (see [`Handle::try_current`]).
    pub fn current() -> Handle {
        Handle::try_current().unwrap_or_else(|e| panic!("Handle::current: {e}"))
    }

    /// The handle of the runtime the current thread is in: a worker or blocking thread of
    /// it, or a thread inside its `block_on`.
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        magpie_core::try_current()
            .map(|inner| Handle { inner })
            .ok_or(TryCurrentError(()))
    }

    /// Spawns a task onto this runtime. After shutdown the task is cancelled at once.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.spawn(future)
    }

    /// Runs `f` on this runtime's blocking pool.
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.inner.spawn_blocking(f)
    }

    /// A live view of this runtime's counters (see [`crate::metrics`]).
    pub fn metrics(&self) -> crate::metrics::RuntimeMetrics {
        self.inner.metrics()
    }

    /// Every live task, as `asyncio.all_tasks()`: id, name, spawn location, state, polls and
    /// age, copied while the runtime runs (one walk of its task registry, without stopping
    /// it), sorted by id. Print it with [`task::table`](crate::task::table).
    pub fn tasks(&self) -> Vec<crate::task::TaskInfo> {
        self.inner.tasks()
    }

    /// A copy of the scheduler timeline recorded so far, or `None` when the runtime was
    /// built without [`Builder::timeline`](crate::Builder::timeline).
    pub fn timeline(&self) -> Option<crate::timeline::Trace> {
        self.inner.timeline()
    }

    /// Runs `future` to completion on the calling thread, with this runtime as its context.
    ///
    /// # Panics
    ///
    /// When called on a thread that is already inside a runtime (a worker thread, or inside
    /// another `block_on`).
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        if let Some(seed) = self.inner.rng_seed() {
            // A seeded runtime's order includes where an unbiased `select!` starts: this
            // thread polls every task of the run.
            crate::combinators::reseed_select(seed);
        }
        magpie_core::block_on(&self.inner, future)
    }
}
