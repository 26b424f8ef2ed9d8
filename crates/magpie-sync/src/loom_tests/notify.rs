//! loom models of `Notify`'s wait/notify path: `notify_one` racing a wait, `notify_waiters`
//! racing a waiter that checks a condition after creating (or enabling) its future, and a
//! cancelled waiter passing its notification on.
//!
//! A lost wake-up makes `block_on` (`loom_tests/mod.rs`) wait for ever: loom reports a deadlock.

use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};

use loom::thread;
use magpie_shim::{loom_model, Arc, AtomicBool, Ordering};

use super::block_on;
use crate::Notify;

/// Polls `future` once with a waker that does nothing (to queue it).
fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn notify_one_races_a_waiting_notified() {
    loom_model("notify: notify_one races a waiting notified()", || {
        let notify = Arc::new(Notify::new());
        let notifier = {
            let notify = notify.clone();
            thread::spawn(move || notify.notify_one())
        };
        // Woken, or finds the permit: either way it completes.
        block_on(notify.notified());
        notifier.join().unwrap();
        // The one notification was consumed: no permit is left.
        let mut next = pin!(notify.notified());
        assert!(poll_once(next.as_mut()).is_pending());
    });
}

/// The condition-variable pattern against `notify_waiters`, which stores no permit: only the
/// count captured at creation and the queue can carry the notification. With `enable`, the
/// waiter is queued (under the lock) before it checks the condition.
fn notify_waiters_races_a_condition_check(enable: bool) {
    let notify = Arc::new(Notify::new());
    let flag = Arc::new(AtomicBool::new(false));
    let notifier = {
        let (notify, flag) = (notify.clone(), flag.clone());
        thread::spawn(move || {
            flag.store(true, Ordering::Relaxed);
            notify.notify_waiters();
        })
    };
    block_on(async {
        loop {
            let mut notified = pin!(notify.notified());
            if enable {
                notified.as_mut().enable();
            }
            if flag.load(Ordering::Relaxed) {
                break;
            }
            notified.await;
        }
    });
    notifier.join().unwrap();
}

#[test]
fn notify_waiters_races_create_then_check() {
    // Without enable, the check relies on the count's Release/Acquire: a waiter whose
    // creation saw the new count must see the condition set before it.
    loom_model("notify: notify_waiters races create-then-check", || {
        notify_waiters_races_a_condition_check(false)
    });
}

#[test]
fn notify_waiters_races_enable_then_check() {
    loom_model("notify: notify_waiters races enable-then-check", || {
        notify_waiters_races_a_condition_check(true)
    });
}

#[test]
fn a_cancelled_chosen_waiter_passes_notify_one_on() {
    loom_model(
        "notify: a cancelled chosen waiter passes notify_one on",
        || {
            let notify = Arc::new(Notify::new());
            // The first waiter is queued before the second thread starts, so notify_one picks it.
            let mut first = Box::pin(notify.notified());
            assert!(poll_once(first.as_mut()).is_pending());
            let second = {
                let notify = notify.clone();
                thread::spawn(move || block_on(notify.notified()))
            };
            notify.notify_one();
            drop(first); // never completed: its notification goes to the second waiter
            second.join().unwrap();
        },
    );
}
