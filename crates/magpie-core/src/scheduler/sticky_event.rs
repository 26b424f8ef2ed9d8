//! A sticky event: one thread waits for it, any thread sets it, and a set that comes before
//! the wait is not lost.
//!
//! The monitor sleeps on one (`monitor.rs`); the loom models of parking use one in place of
//! the driver, whose wait in the reactor loom cannot see.

use magpie_shim::{Condvar, Mutex};
use std::time::Duration;

#[derive(Debug, Default)]
pub(crate) struct StickyEvent {
    set: Mutex<bool>,
    condvar: Condvar,
}

impl StickyEvent {
    pub(crate) fn new() -> StickyEvent {
        StickyEvent {
            set: Mutex::new(false),
            condvar: Condvar::new(),
        }
    }

    /// Waits until the event is set (or `timeout` passes, or spuriously), then clears it.
    pub(crate) fn wait(&self, timeout: Option<Duration>) {
        let mut set = self.set.lock();
        if !*set {
            match timeout {
                Some(d) if d.is_zero() => {}
                Some(d) => set = self.condvar.wait_timeout(set, d).0,
                None => set = self.condvar.wait(set),
            }
        }
        *set = false;
    }

    /// Sets the event: the current or next `wait` returns.
    pub(crate) fn set(&self) {
        *self.set.lock() = true;
        self.condvar.notify_one();
    }
}
