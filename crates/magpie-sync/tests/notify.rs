//! `Notify`: permits, FIFO wake-ups, `notify_waiters` generations, `enable`, cancellation
//! passing a notification on, threads, and the cooperative budget.

mod common;

use common::{counting_waker, poll, wakes, watchdog};

use futures_lite::future::block_on;
use magpie_sync::Notify;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[test]
fn notify_one_with_nobody_waiting_stores_one_permit() {
    let notify = Notify::new();
    let (_count, waker) = counting_waker();
    notify.notify_one();
    notify.notify_one(); // permits do not accumulate
    let mut first = pin!(notify.notified());
    assert!(poll(first.as_mut(), &waker).is_ready());
    let mut second = pin!(notify.notified());
    assert!(poll(second.as_mut(), &waker).is_pending());
}

#[test]
fn notify_one_wakes_the_waiters_one_at_a_time_in_fifo_order() {
    let notify = Notify::new();
    let (counts, wakers): (Vec<_>, Vec<_>) = (0..3).map(|_| counting_waker()).unzip();
    let mut a = pin!(notify.notified());
    let mut b = pin!(notify.notified());
    let mut c = pin!(notify.notified());
    assert!(poll(a.as_mut(), &wakers[0]).is_pending());
    assert!(poll(b.as_mut(), &wakers[1]).is_pending());
    assert!(poll(c.as_mut(), &wakers[2]).is_pending());

    notify.notify_one();
    assert_eq!(
        counts.iter().map(|c| wakes(c)).collect::<Vec<_>>(),
        [1, 0, 0]
    );
    assert!(poll(b.as_mut(), &wakers[1]).is_pending());
    assert!(poll(a.as_mut(), &wakers[0]).is_ready());
    assert!(poll(a.as_mut(), &wakers[0]).is_ready(), "Notified is fused");

    notify.notify_one();
    assert_eq!(
        counts.iter().map(|c| wakes(c)).collect::<Vec<_>>(),
        [1, 1, 0]
    );
    notify.notify_one();
    assert_eq!(
        counts.iter().map(|c| wakes(c)).collect::<Vec<_>>(),
        [1, 1, 1]
    );
    assert!(poll(c.as_mut(), &wakers[2]).is_ready());
    assert!(poll(b.as_mut(), &wakers[1]).is_ready());

    // Every notification went to a waiter: no permit is left.
    let mut d = pin!(notify.notified());
    assert!(poll(d.as_mut(), &wakers[0]).is_pending());
}

#[test]
fn notify_waiters_completes_every_future_created_before_it_even_unpolled() {
    let notify = Notify::new();
    let (count, waker) = counting_waker();
    let mut polled = pin!(notify.notified());
    assert!(poll(polled.as_mut(), &waker).is_pending());
    let mut unpolled = pin!(notify.notified());

    notify.notify_waiters();
    assert_eq!(wakes(&count), 1, "the polled waiter is woken");
    let mut later = pin!(notify.notified());

    assert!(poll(polled.as_mut(), &waker).is_ready());
    assert!(poll(unpolled.as_mut(), &waker).is_ready());
    // A future created after the call, and no permit stored.
    assert!(poll(later.as_mut(), &waker).is_pending());
}

#[test]
fn notify_waiters_leaves_a_stored_permit_alone() {
    let notify = Notify::new();
    let (_count, waker) = counting_waker();
    notify.notify_one();
    notify.notify_waiters();
    let mut after = pin!(notify.notified());
    assert!(
        poll(after.as_mut(), &waker).is_ready(),
        "the permit survives"
    );
}

#[test]
fn enable_queues_the_future_so_a_notification_in_between_is_not_lost() {
    let notify = Notify::new();
    let mut notified = pin!(notify.notified());
    assert!(!notified.as_mut().enable());
    assert!(
        !notified.as_mut().enable(),
        "enabling twice changes nothing"
    );
    // Delivered to the enabled future rather than stored as a permit.
    notify.notify_one();
    let (_count, waker) = counting_waker();
    let mut other = pin!(notify.notified());
    assert!(poll(other.as_mut(), &waker).is_pending());
    assert!(notified.as_mut().enable());
    assert!(poll(notified.as_mut(), &waker).is_ready());
}

#[test]
fn enable_consumes_a_stored_permit() {
    let notify = Notify::new();
    notify.notify_one();
    let mut notified = pin!(notify.notified());
    assert!(notified.as_mut().enable());
    let (_count, waker) = counting_waker();
    assert!(poll(notified.as_mut(), &waker).is_ready());
    let mut next = pin!(notify.notified());
    assert!(poll(next.as_mut(), &waker).is_pending());
}

#[test]
fn enable_keeps_the_waker_of_an_earlier_poll() {
    let notify = Notify::new();
    let (count, waker) = counting_waker();
    let mut notified = pin!(notify.notified());
    assert!(poll(notified.as_mut(), &waker).is_pending());
    assert!(!notified.as_mut().enable());
    notify.notify_one();
    assert_eq!(wakes(&count), 1);
}

#[test]
fn a_cancelled_waiter_passes_its_notify_one_to_the_next_waiter() {
    let notify = Notify::new();
    let (count_a, waker_a) = counting_waker();
    let (count_b, waker_b) = counting_waker();
    let mut a = Box::pin(notify.notified());
    let mut b = pin!(notify.notified());
    assert!(poll(a.as_mut(), &waker_a).is_pending());
    assert!(poll(b.as_mut(), &waker_b).is_pending());
    notify.notify_one();
    assert_eq!((wakes(&count_a), wakes(&count_b)), (1, 0));
    drop(a); // chosen, never completed
    assert_eq!(wakes(&count_b), 1, "the notification is passed on");
    assert!(poll(b.as_mut(), &waker_b).is_ready());
}

#[test]
fn a_cancelled_last_waiter_puts_its_notification_back_as_the_permit() {
    let notify = Notify::new();
    let (_count, waker) = counting_waker();
    let mut a = Box::pin(notify.notified());
    assert!(poll(a.as_mut(), &waker).is_pending());
    notify.notify_one();
    drop(a);
    let mut b = pin!(notify.notified());
    assert!(poll(b.as_mut(), &waker).is_ready());
}

#[test]
fn a_cancelled_waiter_passes_nothing_from_notify_waiters_and_leaves_no_trace() {
    let notify = Notify::new();
    let (_count, waker) = counting_waker();
    let mut a = Box::pin(notify.notified());
    let mut b = Box::pin(notify.notified());
    assert!(poll(a.as_mut(), &waker).is_pending());
    assert!(poll(b.as_mut(), &waker).is_pending());
    notify.notify_waiters();
    drop(a);
    let mut c = pin!(notify.notified());
    assert!(poll(c.as_mut(), &waker).is_pending(), "no permit was made");
    assert!(poll(b.as_mut(), &waker).is_ready());

    // A waiter dropped while still queued is simply gone: the next notify_one reaches `c`.
    let mut d = Box::pin(notify.notified());
    assert!(poll(d.as_mut(), &waker).is_pending());
    drop(d);
    notify.notify_one();
    assert!(poll(c.as_mut(), &waker).is_ready());
    assert_eq!(
        format!("{notify:?}"),
        "Notify { permit: false, waiters: 0 }"
    );
}

#[test]
fn a_notify_is_usable_in_a_static() {
    static NOTIFY: Notify = Notify::new();
    NOTIFY.notify_one();
    block_on(NOTIFY.notified());
}

#[test]
fn a_waiter_on_another_thread_is_woken() {
    watchdog(|| {
        let notify = Arc::new(Notify::new());
        let ready = Arc::new(Notify::new());
        let waiter = {
            let notify = notify.clone();
            let ready = ready.clone();
            std::thread::spawn(move || {
                block_on(async {
                    let mut notified = pin!(notify.notified());
                    notified.as_mut().enable();
                    ready.notify_one();
                    notified.await;
                })
            })
        };
        block_on(ready.notified());
        // The waiter is enabled: notify_waiters (which stores no permit) must reach it.
        notify.notify_waiters();
        waiter.join().unwrap();
    });
}

#[test]
fn ping_pong_between_two_threads() {
    watchdog(|| {
        let ping = Arc::new(Notify::new());
        let pong = Arc::new(Notify::new());
        let other = {
            let (ping, pong) = (ping.clone(), pong.clone());
            std::thread::spawn(move || {
                block_on(async {
                    for _ in 0..2000 {
                        ping.notified().await;
                        pong.notify_one();
                    }
                })
            })
        };
        block_on(async {
            for _ in 0..2000 {
                ping.notify_one();
                pong.notified().await;
            }
        });
        other.join().unwrap();
    });
}

#[test]
fn stress_many_waiters_each_notification_consumed_once() {
    watchdog(|| {
        const THREADS: usize = 4;
        const EACH: usize = 300;
        let notify = Arc::new(Notify::new());
        let consumed = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let notify = notify.clone();
                let consumed = consumed.clone();
                std::thread::spawn(move || {
                    block_on(async {
                        for _ in 0..EACH {
                            notify.notified().await;
                            consumed.fetch_add(1, Ordering::SeqCst);
                        }
                    })
                })
            })
            .collect();
        // Each notify_one releases at most one waiter (one permit at most when none waits).
        let mut sent = 0;
        while consumed.load(Ordering::SeqCst) < THREADS * EACH {
            notify.notify_one();
            sent += 1;
            assert!(consumed.load(Ordering::SeqCst) <= sent);
            std::thread::yield_now();
        }
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(consumed.load(Ordering::SeqCst), THREADS * EACH);
    });
}

#[test]
fn a_ready_notified_spends_the_cooperative_budget() {
    let notify = Notify::new();
    let (_count, waker) = counting_waker();
    magpie_shim::coop::with_budget(|| {
        for _ in 0..128 {
            notify.notify_one();
            let mut notified = pin!(notify.notified());
            assert!(poll(notified.as_mut(), &waker).is_ready());
        }
        notify.notify_one();
        let mut notified = pin!(notify.notified());
        assert!(
            poll(notified.as_mut(), &waker).is_pending(),
            "the 129th ready poll yields"
        );
    });
    // The permit was not consumed by the yielding poll.
    let mut notified = pin!(notify.notified());
    assert!(poll(notified.as_mut(), &waker).is_ready());
}
