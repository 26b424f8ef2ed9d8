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
//!
//! # Only real sleeps are watched
//!
//! A park that consumes a pending NOTIFIED, or loses the race to one, never sleeps, and a
//! worker fed by a remote spawner makes hundreds of those per millisecond. So the worker's
//! sleep bookkeeping (park count, busy time, timeline spans: [`SleepWatch`]) runs only
//! once the parker has published PARKED_*, that is around the wait itself. Run on every
//! park, its two clock reads and a lock changed the rhythm of a spawner and its worker
//! enough to cost `spawn_many_remote` 13–24% more CPU (docs/observability.md).

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

/// Told when a park really sleeps: after the parker published PARKED_* (so no pending
/// notification was there to consume), and when that sleep ends.
pub(crate) trait SleepWatch {
    fn falling_asleep(&self);
    fn woke(&self);
}

/// Nobody watching (the loom models).
impl SleepWatch for () {
    fn falling_asleep(&self) {}
    fn woke(&self) {}
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
        watch: &impl SleepWatch,
    ) -> bool {
        if self
            .state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return false;
        }
        if let Some(_holding) = driver_lock.try_lock() {
            self.park_in_driver(driver, runtime_is_idle, watch);
            true
        } else {
            self.park_on_condvar(watch);
            false
        }
    }

    fn park_in_driver<D: ParkInDriver>(
        &self,
        driver: &D,
        runtime_is_idle: &dyn Fn() -> bool,
        watch: &impl SleepWatch,
    ) {
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
        watch.falling_asleep();
        // The driver dispatches events by waking wakers, which may be foreign code: a panic
        // there is reported and must not take the worker down.
        let panicked = crate::unwind::contain(|| driver.park(runtime_is_idle));
        watch.woke();
        if panicked {
            diagnostics::report(format_args!(
                "a panic while the driver dispatched events was contained"
            ));
        }
        // NOTIFIED (an unpark arrived) or PARKED_DRIVER (the driver returned for an event):
        // either way the worker goes back to look for work.
        self.state.swap(EMPTY, Ordering::SeqCst);
    }

    fn park_on_condvar(&self, watch: &impl SleepWatch) {
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
        watch.falling_asleep();
        loop {
            guard = self.condvar.wait(guard);
            if self
                .state
                .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                watch.woke();
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

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{ParkInDriver, Parker, SleepWatch};
    use magpie_shim::Mutex;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    /// Counts what the parker tells.
    #[derive(Default)]
    struct Watch {
        asleep: AtomicUsize,
        woke: AtomicUsize,
    }

    impl SleepWatch for Watch {
        fn falling_asleep(&self) {
            self.asleep.fetch_add(1, Ordering::SeqCst);
        }
        fn woke(&self) {
            self.woke.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl Watch {
        fn counts(&self) -> (usize, usize) {
            (
                self.asleep.load(Ordering::SeqCst),
                self.woke.load(Ordering::SeqCst),
            )
        }
    }

    /// A driver whose park spins until unparked (sticky, as the real one).
    #[derive(Default)]
    struct SpinDriver {
        unparked: AtomicBool,
    }

    impl ParkInDriver for SpinDriver {
        fn park(&self, _runtime_is_idle: &dyn Fn() -> bool) {
            while !self.unparked.swap(false, Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        fn unpark(&self) {
            self.unparked.store(true, Ordering::SeqCst);
        }
    }

    fn wait_for_sleep(watch: &Watch) {
        while watch.counts().0 == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn a_park_that_finds_a_wake_up_waiting_is_not_a_sleep() {
        let (parker, lock, driver, watch) = (
            Parker::new(),
            Mutex::new(()),
            SpinDriver::default(),
            Watch::default(),
        );
        parker.unpark(&driver);
        assert!(!parker.park(&lock, &driver, &|| false, &watch));
        assert_eq!(watch.counts(), (0, 0));
    }

    #[test]
    fn a_sleep_in_the_driver_is_watched_once() {
        let parker = Arc::new(Parker::new());
        let driver = Arc::new(SpinDriver::default());
        let watch = Arc::new(Watch::default());
        let sleeper = {
            let (parker, driver, watch) = (parker.clone(), driver.clone(), watch.clone());
            std::thread::spawn(move || parker.park(&Mutex::new(()), &*driver, &|| false, &*watch))
        };
        wait_for_sleep(&watch);
        parker.unpark(&*driver);
        assert!(sleeper.join().unwrap(), "parked in the driver");
        assert_eq!(watch.counts(), (1, 1));
    }

    #[test]
    fn a_sleep_on_the_condvar_is_watched_once() {
        let parker = Arc::new(Parker::new());
        let driver = Arc::new(SpinDriver::default());
        let watch = Arc::new(Watch::default());
        // Another worker holds the driver: this one sleeps on its condvar.
        let lock = Arc::new(Mutex::new(()));
        let holding = lock.lock();
        let sleeper = {
            let (parker, driver, watch, lock) =
                (parker.clone(), driver.clone(), watch.clone(), lock.clone());
            std::thread::spawn(move || parker.park(&lock, &*driver, &|| false, &*watch))
        };
        wait_for_sleep(&watch);
        parker.unpark(&*driver);
        assert!(!sleeper.join().unwrap(), "parked on the condvar");
        drop(holding);
        assert_eq!(watch.counts(), (1, 1));
    }
}
