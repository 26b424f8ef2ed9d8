//! loom models of the timer entry states and the driver wake-up protocol (`timers.rs`).
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p magpie-timer --release --lib`.

use crate::Timers;
use magpie_shim::{loom_model, Arc, AtomicBool, AtomicUsize, Ordering};
use std::task::{Wake, Waker};

struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counter() -> (std::sync::Arc<Count>, Waker) {
    let count = std::sync::Arc::new(Count(AtomicUsize::new(0)));
    (count.clone(), Waker::from(count))
}

#[test]
fn cancel_racing_fire() {
    loom_model("timer: cancel racing fire", || {
        let timers = Arc::new(Timers::new(1));
        let (count, waker) = counter();
        let (key, _) = timers.register(0, 5, 0, &waker);
        let driver = {
            let timers = timers.clone();
            loom::thread::spawn(move || timers.process(10))
        };
        let had_fired = timers.cancel(key);
        let fired = driver.join().unwrap();
        let wakes = count.0.load(Ordering::SeqCst);
        // Fired at most once; a cancel that came first means it never fired.
        assert!(wakes <= 1);
        assert_eq!(fired, wakes);
        if !had_fired {
            assert_eq!(wakes, 0);
        }
        assert_eq!(timers.pending(), 0);
        assert_eq!(timers.next_wake(), None);
    });
}

#[test]
fn reset_racing_fire() {
    loom_model("timer: reset racing fire", || {
        let timers = Arc::new(Timers::new(1));
        let (count, waker) = counter();
        let (key, _) = timers.register(0, 5, 0, &waker);
        let driver = {
            let timers = timers.clone();
            loom::thread::spawn(move || timers.process(10))
        };
        timers.reset(&key, 20);
        driver.join().unwrap();
        // Whatever the order, the reset timer is pending at 20 and fires exactly then.
        assert!(timers.poll_fired(&key, &waker).is_pending());
        let before = count.0.load(Ordering::SeqCst);
        assert_eq!(timers.process(19), 0);
        assert_eq!(timers.process(20), 1);
        assert_eq!(count.0.load(Ordering::SeqCst), before + 1);
        assert!(timers.cancel(key));
    });
}

#[test]
fn earlier_timer_wakes_a_parking_driver() {
    loom_model("timer: earlier registration vs parking driver", || {
        let timers = Arc::new(Timers::new(2));
        let unparked = Arc::new(AtomicBool::new(false));
        let (_count, waker) = counter();
        let (late, _) = timers.register(1, 100, 0, &waker);
        let registrar = {
            let timers = timers.clone();
            let unparked = unparked.clone();
            let waker = waker.clone();
            loom::thread::spawn(move || {
                let (key, unpark) = timers.register(0, 5, 0, &waker);
                if unpark {
                    unparked.store(true, Ordering::SeqCst);
                }
                key
            })
        };
        // The driver decides how long to sleep; it would sleep until `until` unless unparked.
        let until = timers.begin_park();
        let early = registrar.join().unwrap();
        let woken_in_time = until.is_some_and(|t| t <= 5) || unparked.load(Ordering::SeqCst);
        assert!(
            woken_in_time,
            "driver sleeps until {until:?} past a timer due at 5"
        );
        timers.end_park();
        timers.cancel(early);
        timers.cancel(late);
    });
}

#[test]
fn two_registrations_racing_a_parking_driver() {
    loom_model("timer: two registrations vs parking driver", || {
        let timers = Arc::new(Timers::new(2));
        let unparks = Arc::new(AtomicUsize::new(0));
        let (_count, waker) = counter();
        let registrars: Vec<_> = [(0usize, 7u64), (1, 5)]
            .into_iter()
            .map(|(shard, deadline)| {
                let timers = timers.clone();
                let unparks = unparks.clone();
                let waker = waker.clone();
                loom::thread::spawn(move || {
                    let (key, unpark) = timers.register(shard, deadline, 0, &waker);
                    if unpark {
                        unparks.fetch_add(1, Ordering::SeqCst);
                    }
                    key
                })
            })
            .collect();
        let until = timers.begin_park();
        let keys: Vec<_> = registrars.into_iter().map(|r| r.join().unwrap()).collect();
        // Either the driver saw the earliest (5) or it was unparked; and never more than
        // one unpark per registration.
        let woken = unparks.load(Ordering::SeqCst);
        assert!(
            until.is_some_and(|t| t <= 5) || woken > 0,
            "sleeps until {until:?}"
        );
        assert!(woken <= 2);
        timers.end_park();
        for key in keys {
            assert!(
                !timers.cancel(key),
                "nothing was processed, so nothing fired"
            );
        }
        assert_eq!(timers.pending(), 0);
    });
}
