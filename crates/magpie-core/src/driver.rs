//! The `Driver` trait: how an idle worker sleeps, and what wakes it besides new tasks.
//!
//! magpie-core knows nothing of timers and sockets. A worker with nothing to run parks; the
//! one worker that manages to take the *driver* parks inside [`Driver::park`] (where the
//! facade waits for timer deadlines and I/O readiness), the others sleep on their own
//! condition variable. Busy workers call [`Driver::turn`] every `event_interval` ticks, so
//! due timers and ready sockets are processed even when the run queues never empty.
//!
//! The contract a driver must keep:
//! - `park(None)` blocks until `unpark()` is called or the driver has events to dispatch;
//!   `park(Some(d))` additionally returns after `d`.
//! - `unpark()` is *sticky*: an `unpark()` that arrives before (or while) `park` blocks makes
//!   that `park` return; it is never lost. Spurious returns are allowed.
//! - Events are dispatched by waking wakers, from inside `park`/`turn`, on the worker thread.

use crate::sync::{Condvar, Mutex};
use std::any::Any;
use std::time::Duration;

/// What an idle worker parks on. See the module documentation for the contract.
pub trait Driver: Send + Sync + 'static {
    /// Blocks until unparked, an event is dispatched, or `timeout` passes.
    fn park(&self, timeout: Option<Duration>);

    /// A non-blocking turn: dispatch whatever is ready now.
    fn turn(&self) {
        self.park(Some(Duration::ZERO));
    }

    /// Wakes a thread blocked in `park`, or makes the next `park` return at once.
    fn unpark(&self);

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
    fn park(&self, timeout: Option<Duration>) {
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
