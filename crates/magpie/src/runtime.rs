//! `Runtime`: owns the worker threads.

use crate::builder::Builder;
use crate::handle::Handle;
use crate::task::JoinHandle;
use magpie_core::Scheduler;
use std::fmt;
use std::future::Future;
use std::io;
use std::time::{Duration, Instant};

/// A multi-threaded, work-stealing runtime, or, built with
/// [`Builder::new_current_thread`], a current-thread one whose tasks all run on the thread
/// inside [`Runtime::block_on`].
///
/// Dropping it shuts it down: workers stop, the future of every unfinished task is dropped
/// exactly once, worker threads are joined, and the drop waits for blocking closures that
/// are already running (use [`Runtime::shutdown_timeout`] to bound that wait). A runtime
/// dropped from inside one of its own tasks cannot join the thread it runs on: it does the
/// rest of the shutdown and leaves that thread and the blocking pool to finish on their own.
pub struct Runtime {
    /// Dropped first (fields drop in order): magpie's tasks go before the tokio side.
    scheduler: Scheduler,
    handle: Handle,
    /// With `Builder::tokio_compat(true)`: the tokio runtime every thread enters.
    #[cfg(feature = "tokio-compat")]
    tokio: Option<crate::tokio_compat::TokioSide>,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("handle", &self.handle)
            .finish()
    }
}

impl Runtime {
    /// A runtime with the default settings: one worker per available CPU.
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    /// A [`Builder`] to configure a runtime.
    pub fn builder() -> Builder {
        Builder::new()
    }

    pub(crate) fn from_scheduler(scheduler: Scheduler) -> Runtime {
        let handle = Handle {
            inner: scheduler.handle().clone(),
        };
        Runtime {
            scheduler,
            handle,
            #[cfg(feature = "tokio-compat")]
            tokio: None,
        }
    }

    #[cfg(feature = "tokio-compat")]
    pub(crate) fn with_tokio(mut self, tokio: Option<crate::tokio_compat::TokioSide>) -> Runtime {
        self.tokio = tokio;
        self
    }

    /// Runs `future` to completion on the calling thread; tasks it spawns run on the workers
    /// (on a current-thread runtime: on this thread, between polls of `future`). Local tasks
    /// spawned meanwhile ([`task::spawn_local`](crate::task::spawn_local)) run on this thread
    /// too, and those still pending when `future` completes are dropped before this returns.
    ///
    /// # Panics
    ///
    /// When called on a thread that is already inside a runtime (a worker thread, or inside
    /// another `block_on`): that would stall or deadlock the runtime. A panic in `future`
    /// propagates to the caller.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// Spawns a task onto the runtime's workers.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs `f` on the blocking pool.
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(f)
    }

    /// A live view of the runtime's counters (see [`crate::metrics`]).
    pub fn metrics(&self) -> crate::metrics::RuntimeMetrics {
        self.handle.metrics()
    }

    /// The runtime's handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Shuts down, waiting at most `timeout` for worker and blocking threads; threads still
    /// busy then (a blocking closure that never returns, say) are left to finish on their own.
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        let deadline = Instant::now().checked_add(timeout);
        self.scheduler.shutdown(deadline);
        // (The tokio side of `tokio_compat` goes with `self`, after the scheduler.)
    }

    /// Shuts down without waiting for any thread.
    pub fn shutdown_background(self) {
        self.shutdown_timeout(Duration::ZERO);
    }
}
