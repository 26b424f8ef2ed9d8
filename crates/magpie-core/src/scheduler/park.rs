//! A worker's parker: sleep on the driver if it is free, else on a private condvar.
//!
//! # Protocol
//!
//! `state` is one of EMPTY, PARKED_CONDVAR, PARKED_DRIVER, NOTIFIED.
//!
//! - `unpark` swaps in NOTIFIED and, depending on what it replaced, notifies the condvar
//!   (taking the mutex first, so the notification cannot fall between the parker's state
//!   change and its wait) or calls `Driver::unpark` (which is sticky by contract).
//! - `park` first consumes a pending NOTIFIED. Otherwise it tries to take the driver: the
//!   driver lock is held only for the duration of one `Driver::park`, so at most one worker
//!   waits for timers and I/O while the others sleep on their condvars. It publishes
//!   PARKED_DRIVER / PARKED_CONDVAR with a compare-exchange from EMPTY; if an unpark won the
//!   race (NOTIFIED), it returns at once.
//! - Returns may be spurious: the worker loop re-checks the idle state after every return.

use crate::driver::{Driver, ParkContext};
use crate::sync::DynArc;
use crate::sync::{AtomicUsize, Condvar, Mutex, Ordering};

const EMPTY: usize = 0;
const PARKED_CONDVAR: usize = 1;
const PARKED_DRIVER: usize = 2;
const NOTIFIED: usize = 3;

pub(crate) struct Parker {
    state: AtomicUsize,
    mutex: Mutex<()>,
    condvar: Condvar,
}

/// The driver, shared by every worker of a runtime, and the lock that lets one of them park
/// on it at a time.
pub(crate) struct DriverSlot {
    pub(crate) driver: DynArc<dyn Driver>,
    pub(crate) lock: Mutex<()>,
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
    /// worker parked on the driver.
    pub(crate) fn park(&self, slot: &DriverSlot, cx: &ParkContext<'_>) -> bool {
        if self
            .state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return false;
        }
        if let Some(_driver) = slot.lock.try_lock() {
            self.park_on_driver(&*slot.driver, cx);
            true
        } else {
            self.park_on_condvar();
            false
        }
    }

    fn park_on_driver(&self, driver: &dyn Driver, cx: &ParkContext<'_>) {
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
        if crate::unwind::contain(|| driver.park(None, cx)) {
            eprintln!("magpie: a panic while the driver dispatched events was contained");
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

    /// Whether the worker is parked on the driver right now (a hint: it may change at once).
    pub(crate) fn is_on_driver(&self) -> bool {
        self.state.load(Ordering::Relaxed) == PARKED_DRIVER
    }

    pub(crate) fn unpark(&self, slot: &DriverSlot) {
        match self.state.swap(NOTIFIED, Ordering::SeqCst) {
            EMPTY | NOTIFIED => {}
            PARKED_CONDVAR => {
                // Taking the lock orders this notify after the parker's wait began.
                drop(self.mutex.lock());
                self.condvar.notify_one();
            }
            PARKED_DRIVER => slot.driver.unpark(),
            other => unreachable!("parker in state {other}"),
        }
    }
}
