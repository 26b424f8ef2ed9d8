//! The `Driver` trait: how an idle worker sleeps, and what wakes it besides new tasks.
//!
//! magpie-core knows nothing of timers and sockets. A worker with nothing to run parks; the
//! one worker that manages to take the *driver* parks inside [`Driver::park`] (where the
//! facade waits for timer deadlines and I/O readiness), the others sleep on their own
//! condition variable. Busy workers call [`Driver::turn`] every `event_interval` ticks, so
//! due timers and ready sockets are processed even when the run queues never empty.
//!
//! The contract a driver must keep:
//! - `park(None, _)` blocks until `unpark()` is called or the driver has events to dispatch
//!   (a timer came due); `park(Some(d), _)` additionally returns after `d`.
//! - `unpark()` is *sticky*: an `unpark()` that arrives before (or while) `park` blocks makes
//!   that `park` return; it is never lost. Spurious returns are allowed.
//! - Events are dispatched by waking wakers, from inside `park`/`turn`, on the worker thread.
//! - `maybe_idle()` is a hint, called whenever the runtime may just have become idle (a
//!   worker is about to park, a `block_on` future returned `Pending`, a blocking closure
//!   finished). A driver that acts on idleness (paused time jumps to the next timer when
//!   nothing else can happen) re-checks [`ParkContext::is_runtime_idle`] after it.
//! - `shutdown()` is called once, after the workers stopped and every task was dropped.

use crate::sync::{Condvar, Mutex};
use std::any::Any;
use std::time::Duration;

/// What the runtime tells a parking driver about itself.
pub struct ParkContext<'a> {
    is_idle: &'a dyn Fn() -> bool,
}

impl<'a> ParkContext<'a> {
    /// A context whose idleness is decided by `is_idle`.
    pub fn new(is_idle: &'a dyn Fn() -> bool) -> ParkContext<'a> {
        ParkContext { is_idle }
    }

    /// Whether nothing in the runtime can make progress without an event: every worker is
    /// parked, no task is queued, no blocking closure is queued or running, and no
    /// `block_on` future is being polled or has been woken. Racy by nature (work may arrive right after), and
    /// costs a lock: for paused time, not for hot paths.
    pub fn is_runtime_idle(&self) -> bool {
        (self.is_idle)()
    }
}

impl std::fmt::Debug for ParkContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParkContext").finish_non_exhaustive()
    }
}

/// What an idle worker parks on. See the module documentation for the contract.
pub trait Driver: Send + Sync + 'static {
    /// Blocks until unparked, an event is dispatched, or `timeout` passes.
    fn park(&self, timeout: Option<Duration>, cx: &ParkContext<'_>);

    /// A non-blocking turn: dispatch whatever is ready now.
    fn turn(&self) {}

    /// Wakes a thread blocked in `park`, or makes the next `park` return at once.
    fn unpark(&self);

    /// The runtime may just have become idle (see the module documentation).
    fn maybe_idle(&self) {}

    /// The runtime has shut down: no worker will park or turn again.
    fn shutdown(&self) {}

    /// The concrete driver, so the layer that built it can reach its own parts.
    fn as_any(&self) -> &dyn Any;
}

/// A driver with no events of its own: a sticky flag behind a condition variable.
#[derive(Debug, Default)]
pub struct CondvarDriver {
    notified: Mutex<bool>,
    condvar: Condvar,
}

impl CondvarDriver {
    /// A new, un-notified driver.
    pub fn new() -> CondvarDriver {
        CondvarDriver {
            notified: Mutex::new(false),
            condvar: Condvar::new(),
        }
    }
}

impl Driver for CondvarDriver {
    fn park(&self, timeout: Option<Duration>, _cx: &ParkContext<'_>) {
        let mut notified = self.notified.lock();
        if !*notified {
            match timeout {
                Some(d) if d.is_zero() => {}
                Some(d) => notified = self.condvar.wait_timeout(notified, d).0,
                None => notified = self.condvar.wait(notified),
            }
        }
        *notified = false;
    }

    fn unpark(&self) {
        *self.notified.lock() = true;
        self.condvar.notify_one();
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
