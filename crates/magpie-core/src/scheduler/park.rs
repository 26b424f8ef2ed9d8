//! A worker's parker: sleep in the driver if it is free, else on a private condvar.
//!
//! # Protocol
//!
//! `state` is one of EMPTY, PARKED_CONDVAR, PARKED_DRIVER, NOTIFIED.
//!
//! - `unpark` swaps in NOTIFIED and, depending on what it replaced, notifies the condvar
//!   (taking the mutex first, so the notification cannot fall between the parker's state
//!   change and its wait) or unparks the driver (which is sticky by contract, driver.rs).
//! - `park` first consumes a pending NOTIFIED. Otherwise it tries to take the driver lock
//!   (`Synced::driver`), held only for the duration of one driver park, so at most one worker
//!   waits for timers and I/O while the others sleep on their condvars. It publishes
//!   PARKED_DRIVER / PARKED_CONDVAR with a compare-exchange from EMPTY; if an unpark won the
//!   race (NOTIFIED), it returns at once.
//! - Returns may be spurious: the worker loop re-checks the idle state after every return.

#[cfg(all(test, loom))]
use super::sticky_event::StickyEvent;
use crate::driver::Driver;
use magpie_shim::diagnostics;
use magpie_shim::{AtomicUsize, Condvar, Mutex, Ordering};

const EMPTY: usize = 0;
const PARKED_CONDVAR: usize = 1;
const PARKED_DRIVER: usize = 2;
const NOTIFIED: usize = 3;

pub(crate) struct Parker {
    state: AtomicUsize,
    mutex: Mutex<()>,
    condvar: Condvar,
}

/// The two calls a parker makes on the driver: the runtime's [`Driver`], and in the loom
/// models a `StickyEvent` (loom cannot see inside the reactor's wait).
pub(crate) trait ParkInDriver {
    /// Blocks until unparked or an event was dispatched (see driver.rs).
    fn park(&self, runtime_is_idle: &dyn Fn() -> bool);
    /// Sticky: makes the current or next `park` return.
    fn unpark(&self);
}

impl ParkInDriver for Driver {
    fn park(&self, runtime_is_idle: &dyn Fn() -> bool) {
        Driver::park(self, None, runtime_is_idle);
    }
    fn unpark(&self) {
        Driver::unpark(self);
    }
}

/// Only the loom models park "in" a sticky event.
#[cfg(all(test, loom))]
impl ParkInDriver for StickyEvent {
    fn park(&self, _runtime_is_idle: &dyn Fn() -> bool) {
        self.wait(None);
    }
    fn unpark(&self) {
        self.set();
    }
}

impl Parker {
    pub(crate) fn new() -> Parker {
        Parker {
            state: AtomicUsize::new(EMPTY),
            mutex: Mutex::new(()),
            condvar: Condvar::new(),
        }
    }

    /// Blocks until unparked (or a driver event / spurious wake-up). Returns `true` when this
    /// worker parked in the driver (it took `driver_lock`).
    pub(crate) fn park<D: ParkInDriver>(
        &self,
        driver_lock: &Mutex<()>,
        driver: &D,
        runtime_is_idle: &dyn Fn() -> bool,
    ) -> bool {
        if self
            .state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return false;
        }
        if let Some(_holding) = driver_lock.try_lock() {
            self.park_in_driver(driver, runtime_is_idle);
            true
        } else {
            self.park_on_condvar();
            false
        }
    }

    fn park_in_driver<D: ParkInDriver>(&self, driver: &D, runtime_is_idle: &dyn Fn() -> bool) {
        match self
            .state
            .compare_exchange(EMPTY, PARKED_DRIVER, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => {}
            Err(NOTIFIED) => {
                self.state.swap(EMPTY, Ordering::SeqCst);
                return;
            }
            Err(other) => unreachable!("parker in state {other} when parking"),
        }
        // The driver dispatches events by waking wakers, which may be foreign code: a panic
        // there is reported and must not take the worker down.
        if crate::unwind::contain(|| driver.park(runtime_is_idle)) {
            diagnostics::report(format_args!(
                "a panic while the driver dispatched events was contained"
            ));
        }
        // NOTIFIED (an unpark arrived) or PARKED_DRIVER (the driver returned for an event):
        // either way the worker goes back to look for work.
        self.state.swap(EMPTY, Ordering::SeqCst);
    }

    fn park_on_condvar(&self) {
        let mut guard = self.mutex.lock();
        match self
            .state
            .compare_exchange(EMPTY, PARKED_CONDVAR, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => {}
            Err(NOTIFIED) => {
                self.state.swap(EMPTY, Ordering::SeqCst);
                return;
            }
            Err(other) => unreachable!("parker in state {other} when parking"),
        }
        loop {
            guard = self.condvar.wait(guard);
            if self
                .state
                .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                return;
            }
            // Spurious wake-up: still PARKED_CONDVAR.
        }
    }

    /// Whether the worker is parked in the driver right now (a hint: it may change at once).
    pub(crate) fn is_in_driver(&self) -> bool {
        self.state.load(Ordering::Relaxed) == PARKED_DRIVER
    }

    pub(crate) fn unpark<D: ParkInDriver>(&self, driver: &D) {
        match self.state.swap(NOTIFIED, Ordering::SeqCst) {
            EMPTY | NOTIFIED => {}
            PARKED_CONDVAR => {
                // Taking the lock orders this notify after the parker's wait began.
                drop(self.mutex.lock());
                self.condvar.notify_one();
            }
            PARKED_DRIVER => driver.unpark(),
            other => unreachable!("parker in state {other}"),
        }
    }
}
