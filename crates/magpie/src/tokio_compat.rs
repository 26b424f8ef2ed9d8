//! `Builder::tokio_compat`: a tokio context on every thread of a magpie runtime (feature
//! `tokio-compat`).
//!
//! Crates such as reqwest, sqlx, tonic's transport and tower's timeouts call tokio directly
//! (`tokio::spawn`, `tokio::time::sleep`, `tokio::net`), which panics on a thread outside a
//! tokio runtime ("there is no reactor running"). With the setting on, magpie starts the
//! smallest tokio runtime that drives tokio's timers and I/O: a current-thread runtime on
//! one thread of its own, `<thread_name>-tokio` (`magpie-worker-tokio` by default), which
//! does nothing but run it. Every thread of
//! the magpie runtime enters that runtime's context ([`magpie_core::Config::thread_context`]):
//! each worker and blocking thread for its whole life, each thread inside `block_on` for the
//! call. So:
//!
//! - tokio's timers and sockets used from a magpie task are driven by that tokio thread (their wake-ups reach the magpie task through its waker);
//! - `tokio::spawn` from a magpie task runs that task **on the tokio thread**, not
//!   on magpie's workers: the crates that do it spawn connection drivers, which mostly wait
//!   on I/O. The user's own tasks (`magpie::spawn`) stay on magpie's workers.
//!
//! Shutdown: the runtime drops its own tasks first (their futures may hold tokio sockets,
//! deregistered while tokio's driver still runs), then tells the tokio thread to
//! stop, which shuts the tokio runtime down without waiting for its tasks (a tokio task that
//! never ends is dropped, not waited for), and joins the thread.

use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;

/// The tokio side of a runtime built with `tokio_compat(true)`.
pub(crate) struct TokioSide {
    handle: tokio::runtime::Handle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TokioSide {
    /// Starts the tokio runtime on its thread, named `<thread_name>-tokio`.
    pub(crate) fn start(thread_name: &str) -> io::Result<TokioSide> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("{thread_name}-tokio"))
            .spawn(move || {
                // Drives tokio's timers and I/O, and the tasks `tokio::spawn` puts here,
                // until the magpie runtime goes.
                let _ = runtime.block_on(stopped);
                // Its tasks are dropped, not waited for: one that never ends must not hang
                // the magpie runtime's drop.
                runtime.shutdown_background();
            })?;
        Ok(TokioSide {
            handle,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// What `Config::thread_context` runs on each magpie thread: enters the tokio runtime.
    pub(crate) fn context_hook(&self) -> magpie_core::ContextHook {
        let handle = self.handle.clone();
        Arc::new(move || -> magpie_core::ContextGuard { Box::new(Entered::new(handle.clone())) })
    }
}

impl Drop for TokioSide {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            if thread.thread().id() == std::thread::current().id() {
                // Dropped from a task running on the tokio thread itself: it cannot join
                // itself; it exits once its `block_on` sees the closed channel.
                return;
            }
            let _ = thread.join();
        }
    }
}

/// A thread inside the tokio runtime's context: tokio's guard, and the handle it borrows.
struct Entered {
    /// Dropped first (see `Drop`): it borrows `*handle`.
    guard: Option<tokio::runtime::EnterGuard<'static>>,
    _handle: Arc<tokio::runtime::Handle>,
}

impl Entered {
    fn new(handle: tokio::runtime::Handle) -> Entered {
        let handle = Arc::new(handle);
        let guard = handle.enter();
        // SAFETY: the guard borrows the `Handle` inside the `Arc`, whose heap address does
        // not change when the `Arc` moves into the struct (and moving an `Arc`, unlike a
        // `Box`, claims no uniqueness over it); `Drop` drops the guard before the `Arc`, so
        // the borrow never outlives it. Only the lifetime is changed.
        let guard = unsafe {
            std::mem::transmute::<tokio::runtime::EnterGuard<'_>, tokio::runtime::EnterGuard<'static>>(
                guard,
            )
        };
        Entered {
            guard: Some(guard),
            _handle: handle,
        }
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        drop(self.guard.take());
        // `self._handle` drops after this, with the borrow gone.
    }
}
