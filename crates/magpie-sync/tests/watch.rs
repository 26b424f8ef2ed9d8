//! `watch`: versions (what a receiver has seen), the send family, closing from either side,
//! `wait_for`, cancellation, threads, and the cooperative budget.

mod common;

use common::{counting_waker, poll, wakes, watchdog};

use futures_lite::future::block_on;
use magpie_sync::watch;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

#[test]
fn a_new_receiver_has_seen_the_current_value() {
    let (tx, mut rx) = watch::channel(1);
    let (_count, waker) = counting_waker();
    assert_eq!(rx.has_changed(), Ok(false));
    assert!(!rx.borrow().has_changed());
    assert_eq!(*rx.borrow(), 1);
    {
        let mut changed = pin!(rx.changed());
        assert!(poll(changed.as_mut(), &waker).is_pending());
    }

    tx.send(2).unwrap();
    let late = tx.subscribe();
    assert_eq!(late.has_changed(), Ok(false), "subscribed after the send");
    assert_eq!(rx.has_changed(), Ok(true));
}

#[test]
fn changed_completes_for_a_new_value_and_marks_it_seen() {
    let (tx, mut rx) = watch::channel("a");
    let (count, waker) = counting_waker();
    {
        let mut changed = pin!(rx.changed());
        assert!(poll(changed.as_mut(), &waker).is_pending());
        tx.send("b").unwrap();
        assert_eq!(wakes(&count), 1);
        assert_eq!(poll(changed.as_mut(), &waker), Poll::Ready(Ok(())));
    }
    assert_eq!(rx.has_changed(), Ok(false), "changed() marked it seen");
    assert_eq!(*rx.borrow(), "b");

    // Two sends before the receiver looks: one change, the newest value.
    tx.send("c").unwrap();
    tx.send("d").unwrap();
    let value = rx.borrow();
    assert!(value.has_changed());
    assert_eq!(*value, "d");
    drop(value);
    assert_eq!(rx.has_changed(), Ok(true), "borrow() does not mark it seen");
    let value = rx.borrow_and_update();
    assert!(value.has_changed());
    drop(value);
    assert_eq!(rx.has_changed(), Ok(false));
    assert!(!rx.borrow_and_update().has_changed());
}

#[test]
fn one_send_wakes_every_waiting_receiver() {
    let (tx, rx) = watch::channel(0);
    let mut receivers: Vec<_> = (0..3).map(|_| rx.clone()).collect();
    let (count, waker) = counting_waker();
    let mut futures: Vec<_> = receivers
        .iter_mut()
        .map(|rx| Box::pin(rx.changed()))
        .collect();
    for future in &mut futures {
        assert!(poll(future.as_mut(), &waker).is_pending());
    }
    tx.send(1).unwrap();
    assert_eq!(wakes(&count), 3);
    for future in &mut futures {
        assert_eq!(poll(future.as_mut(), &waker), Poll::Ready(Ok(())));
    }
}

#[test]
fn send_fails_without_receivers_and_leaves_the_value() {
    let (tx, rx) = watch::channel(1);
    assert_eq!(tx.receiver_count(), 1);
    drop(rx);
    assert!(tx.is_closed());
    let err = tx.send(2).unwrap_err();
    assert_eq!(err.0, 2);
    assert_eq!(err.to_string(), "channel closed");
    assert_eq!(*tx.borrow(), 1);

    // send_replace stores regardless; a new subscriber has seen it.
    assert_eq!(tx.send_replace(3), 1);
    let rx = tx.subscribe();
    assert!(!tx.is_closed());
    assert_eq!(rx.has_changed(), Ok(false));
    assert_eq!(*rx.borrow(), 3);
    tx.send(4).unwrap();
    assert_eq!(rx.has_changed(), Ok(true));
}

#[test]
fn send_modify_always_notifies_and_send_if_modified_only_when_asked() {
    let (tx, mut rx) = watch::channel(vec![1]);
    tx.send_modify(|v| v.push(2));
    assert_eq!(rx.has_changed(), Ok(true));
    assert_eq!(*rx.borrow_and_update(), [1, 2]);

    assert!(!tx.send_if_modified(|v| {
        v.push(3);
        false
    }));
    assert_eq!(rx.has_changed(), Ok(false), "not marked changed");
    assert_eq!(*rx.borrow(), [1, 2, 3], "but modified in place");
    assert!(tx.send_if_modified(|v| {
        v.clear();
        true
    }));
    assert_eq!(rx.has_changed(), Ok(true));
}

#[test]
fn mark_changed_and_mark_unchanged() {
    let (tx, mut rx) = watch::channel(0);
    rx.mark_changed();
    assert_eq!(rx.has_changed(), Ok(true));
    block_on(rx.changed()).unwrap();
    tx.send(1).unwrap();
    rx.mark_unchanged();
    assert_eq!(rx.has_changed(), Ok(false));
    assert_eq!(*rx.borrow(), 1);
}

#[test]
fn a_clone_has_seen_what_the_original_had_seen() {
    let (tx, rx) = watch::channel(0);
    tx.send(1).unwrap();
    let mut clone = rx.clone();
    assert_eq!(clone.has_changed(), Ok(true));
    assert!(clone.same_channel(&rx));
    block_on(clone.changed()).unwrap();
    assert_eq!(rx.has_changed(), Ok(true), "the original still has not");
    assert_eq!(tx.receiver_count(), 2);
}

#[test]
fn a_dropped_sender_ends_changed_after_the_last_unseen_value() {
    let (tx, mut rx) = watch::channel(0);
    let tx2 = tx.clone();
    assert_eq!(tx.sender_count(), 2);
    tx.send(1).unwrap();
    drop(tx);
    assert_eq!(rx.has_changed(), Ok(true), "one sender remains");
    drop(tx2);
    // Closed: has_changed says so at once; changed() first returns the unseen value.
    assert!(rx.has_changed().is_err());
    assert_eq!(block_on(rx.changed()), Ok(()));
    assert_eq!(*rx.borrow(), 1);
    let err = block_on(rx.changed()).unwrap_err();
    assert_eq!(err.to_string(), "channel closed");
}

#[test]
fn a_dropped_sender_wakes_a_receiver_waiting_on_another_thread() {
    watchdog(|| {
        let (tx, mut rx) = watch::channel(0);
        let waiter = std::thread::spawn(move || block_on(rx.changed()));
        std::thread::sleep(Duration::from_millis(20));
        drop(tx);
        assert!(waiter.join().unwrap().is_err());
    });
}

#[test]
fn closed_completes_when_the_last_receiver_is_dropped() {
    watchdog(|| {
        let (tx, rx) = watch::channel(());
        let rx2 = rx.clone();
        let (count, waker) = counting_waker();
        {
            let mut closed = pin!(tx.closed());
            assert!(poll(closed.as_mut(), &waker).is_pending());
            drop(rx);
            assert_eq!(wakes(&count), 0);
            assert!(poll(closed.as_mut(), &waker).is_pending());
            let dropper = std::thread::spawn(move || drop(rx2));
            block_on(closed);
            dropper.join().unwrap();
        }
        assert!(tx.is_closed());
        block_on(tx.closed()); // at once when no receiver exists
    });
}

#[test]
fn wait_for_checks_the_current_value_then_waits() {
    watchdog(|| {
        let (tx, mut rx) = watch::channel(5);
        {
            let value = block_on(rx.wait_for(|v| *v == 5)).unwrap();
            assert_eq!(*value, 5);
            assert!(!value.has_changed());
        }
        let sender = std::thread::spawn(move || {
            for i in 6..=10 {
                tx.send(i).unwrap();
                std::thread::sleep(Duration::from_millis(1));
            }
            tx
        });
        let value = block_on(rx.wait_for(|v| *v >= 10)).unwrap();
        assert_eq!(*value, 10);
        drop(value);
        let tx = sender.join().unwrap();

        // Closed: the last value is still checked once, then Err.
        tx.send(11).unwrap();
        drop(tx);
        assert_eq!(*block_on(rx.wait_for(|v| *v == 11)).unwrap(), 11);
        assert!(block_on(rx.wait_for(|v| *v == 12)).is_err());
    });
}

#[test]
fn a_cancelled_changed_leaves_no_trace() {
    let (tx, mut rx) = watch::channel(0);
    let mut other = rx.clone();
    let (count, waker) = counting_waker();
    let mut cancelled = Box::pin(rx.changed());
    assert!(poll(cancelled.as_mut(), &waker).is_pending());
    drop(cancelled);
    let mut waiting = pin!(other.changed());
    assert!(poll(waiting.as_mut(), &waker).is_pending());
    tx.send(1).unwrap();
    assert_eq!(wakes(&count), 1, "only the live waiter is woken");
    assert_eq!(poll(waiting.as_mut(), &waker), Poll::Ready(Ok(())));
    // The cancelled receiver missed nothing.
    assert_eq!(block_on(rx.changed()), Ok(()));
}

#[test]
fn stress_receivers_see_values_in_order_and_the_last_one() {
    watchdog(|| {
        const LAST: usize = 2000;
        let (tx, rx) = watch::channel(0usize);
        let receivers: Vec<_> = (0..3)
            .map(|_| {
                let mut rx = rx.clone();
                std::thread::spawn(move || {
                    block_on(async move {
                        let mut last = 0;
                        while rx.changed().await.is_ok() {
                            let value = *rx.borrow_and_update();
                            assert!(value > last, "{value} after {last}");
                            last = value;
                        }
                        last
                    })
                })
            })
            .collect();
        drop(rx);
        for i in 1..=LAST {
            tx.send(i).unwrap();
        }
        drop(tx);
        for receiver in receivers {
            assert_eq!(receiver.join().unwrap(), LAST);
        }
    });
}

#[test]
fn a_ready_changed_spends_the_cooperative_budget() {
    let (tx, mut rx) = watch::channel(0);
    let (_count, waker) = counting_waker();
    magpie_shim::coop::with_budget(|| {
        for i in 1..=128 {
            tx.send(i).unwrap();
            let mut changed = pin!(rx.changed());
            assert_eq!(poll(changed.as_mut(), &waker), Poll::Ready(Ok(())));
        }
        tx.send(129).unwrap();
        let mut changed = pin!(rx.changed());
        assert!(
            poll(changed.as_mut(), &waker).is_pending(),
            "the 129th ready poll yields"
        );
    });
    assert_eq!(rx.has_changed(), Ok(true), "the yielding poll saw nothing");
}

#[test]
fn debug_output_names_the_halves() {
    let (tx, rx) = watch::channel(0);
    assert!(format!("{tx:?}").starts_with("watch::Sender"));
    assert!(format!("{rx:?}").starts_with("watch::Receiver"));
    assert_eq!(format!("{:?}", rx.borrow()), "0");
}

#[test]
fn futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let (tx, mut rx) = watch::channel(0u8);
    assert_send(&tx.closed());
    assert_send(&rx.changed());
    assert_send(&rx.wait_for(|v| *v > 0));
}
