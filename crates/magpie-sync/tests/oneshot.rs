//! `magpie_sync::oneshot`: fast paths, waits across threads, a dropped peer is an error (never a
//! hang), the waker protocol (only the latest waker is woken, once), values dropped exactly
//! once, and the cooperative budget.

mod common;

use common::{counting_waker, poll, wakes, watchdog, Tracked};

use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

use futures_lite::future::block_on;
use magpie_sync::oneshot::{self, error::RecvError, error::TryRecvError};

#[test]
fn a_value_sent_before_the_receiver_polls_is_ready_at_once() {
    let (tx, mut rx) = oneshot::channel();
    assert!(!tx.is_closed());
    tx.send(7).unwrap();
    assert!(!rx.is_empty());
    let (count, waker) = counting_waker();
    assert_eq!(poll(Pin::new(&mut rx), &waker), Poll::Ready(Ok(7)));
    assert!(rx.is_terminated());
    assert_eq!(wakes(&count), 0);
}

#[test]
fn try_recv_says_empty_then_takes_the_value_then_closed() {
    let (tx, mut rx) = oneshot::channel();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert!(rx.is_empty());
    tx.send("v").unwrap();
    assert_eq!(rx.try_recv(), Ok("v"));
    assert!(rx.is_terminated());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn the_receiver_waits_for_a_value_sent_from_another_thread() {
    watchdog(|| {
        for _ in 0..50 {
            let (tx, rx) = oneshot::channel();
            let sender = thread::spawn(move || {
                thread::yield_now();
                tx.send(String::from("across")).unwrap();
            });
            assert_eq!(block_on(rx).as_deref(), Ok("across"));
            sender.join().unwrap();
        }
    });
}

#[test]
fn a_dropped_sender_is_an_error_for_a_waiting_receiver_not_a_hang() {
    watchdog(|| {
        let (tx, rx) = oneshot::channel::<u8>();
        let dropper = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            drop(tx);
        });
        assert_eq!(block_on(rx), Err(RecvError::default_for_test()));
        dropper.join().unwrap();
    });
}

/// `RecvError` has no public constructor; take one from a real channel.
trait DefaultForTest {
    fn default_for_test() -> Self;
}

impl DefaultForTest for RecvError {
    fn default_for_test() -> Self {
        let (tx, rx) = oneshot::channel::<()>();
        drop(tx);
        block_on(rx).unwrap_err()
    }
}

#[test]
fn a_dropped_sender_wakes_the_registered_waker_once() {
    let (tx, rx) = oneshot::channel::<u8>();
    let mut rx = pin!(rx);
    let (count, waker) = counting_waker();
    assert!(poll(rx.as_mut(), &waker).is_pending());
    drop(tx);
    assert_eq!(wakes(&count), 1);
    assert!(matches!(poll(rx.as_mut(), &waker), Poll::Ready(Err(_))));
}

#[test]
fn only_the_waker_of_the_latest_poll_is_woken() {
    let (tx, mut rx) = oneshot::channel();
    let (first, first_waker) = counting_waker();
    let (second, second_waker) = counting_waker();
    assert!(poll(Pin::new(&mut rx), &first_waker).is_pending());
    // The same waker again: nothing to replace.
    assert!(poll(Pin::new(&mut rx), &first_waker).is_pending());
    assert!(poll(Pin::new(&mut rx), &second_waker).is_pending());
    tx.send(1).unwrap();
    assert_eq!((wakes(&first), wakes(&second)), (0, 1));
    assert_eq!(poll(Pin::new(&mut rx), &second_waker), Poll::Ready(Ok(1)));
}

#[test]
fn send_to_a_dropped_receiver_gives_the_value_back() {
    let (tx, rx) = oneshot::channel();
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send(3), Err(3));
}

#[test]
fn close_makes_send_fail_but_a_value_sent_before_still_arrives() {
    let (tx, mut rx) = oneshot::channel::<u8>();
    rx.close();
    assert!(tx.is_closed());
    assert_eq!(tx.send(1), Err(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));

    let (tx, mut rx) = oneshot::channel::<u8>();
    tx.send(2).unwrap();
    rx.close();
    assert_eq!(block_on(rx), Ok(2));

    // Closed with the sender still alive: awaiting ends with an error, not a hang.
    let (tx, mut rx) = oneshot::channel::<u8>();
    rx.close();
    assert!(block_on(&mut rx).is_err());
    drop(tx);
}

#[test]
fn closed_resolves_when_the_receiver_is_dropped_on_another_thread() {
    watchdog(|| {
        let (mut tx, rx) = oneshot::channel::<u8>();
        let dropper = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            drop(rx);
        });
        block_on(tx.closed());
        assert!(tx.is_closed());
        dropper.join().unwrap();
    });
}

#[test]
fn poll_closed_wakes_the_latest_waker_once_on_close() {
    let (mut tx, mut rx) = oneshot::channel::<u8>();
    let (first, first_waker) = counting_waker();
    let (second, second_waker) = counting_waker();
    assert!(tx
        .poll_closed(&mut Context::from_waker(&first_waker))
        .is_pending());
    assert!(tx
        .poll_closed(&mut Context::from_waker(&second_waker))
        .is_pending());
    rx.close();
    drop(rx); // already closed: no second wake
    assert_eq!((wakes(&first), wakes(&second)), (0, 1));
    assert!(tx
        .poll_closed(&mut Context::from_waker(&second_waker))
        .is_ready());
}

#[test]
fn a_closed_future_dropped_before_close_leaves_no_trace() {
    let (mut tx, rx) = oneshot::channel::<u8>();
    let (count, waker) = counting_waker();
    {
        let closed = pin!(tx.closed());
        assert!(poll(closed, &waker).is_pending());
    }
    tx.send(5).unwrap();
    assert_eq!(block_on(rx), Ok(5));
    assert_eq!(wakes(&count), 0, "the sender was done: nobody to wake");
}

#[test]
fn a_value_is_dropped_exactly_once_whoever_drops_it() {
    let drops = Arc::new(AtomicUsize::new(0));

    // Sent, never received: dropped with the receiver, not later.
    let (tx, rx) = oneshot::channel();
    tx.send(Tracked(drops.clone())).unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 1);

    // Refused: comes back to the sender, dropped by it.
    let (tx, rx) = oneshot::channel();
    drop(rx);
    let back = tx.send(Tracked(drops.clone())).unwrap_err();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(back);
    assert_eq!(drops.load(Ordering::SeqCst), 2);

    // Received: dropped by whoever holds it.
    let (tx, rx) = oneshot::channel();
    tx.send(Tracked(drops.clone())).unwrap();
    let value = block_on(rx).unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    drop(value);
    assert_eq!(drops.load(Ordering::SeqCst), 3);

    // Sent to a closed receiver: refused.
    let (tx, mut rx) = oneshot::channel();
    rx.close();
    drop(tx.send(Tracked(drops.clone())).unwrap_err());
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 4);
}

#[test]
#[should_panic(expected = "polled after it completed")]
fn polling_after_completion_panics() {
    let (tx, mut rx) = oneshot::channel();
    tx.send(1).unwrap();
    let _ = block_on(&mut rx);
    let _ = block_on(&mut rx);
}

#[test]
fn blocking_recv_waits_for_another_thread() {
    watchdog(|| {
        let (tx, rx) = oneshot::channel();
        let sender = thread::spawn(move || {
            thread::sleep(Duration::from_millis(10));
            tx.send(11).unwrap();
        });
        assert_eq!(rx.blocking_recv(), Ok(11));
        sender.join().unwrap();
        let (tx, rx) = oneshot::channel::<u8>();
        drop(tx);
        assert!(rx.blocking_recv().is_err());
    });
}

#[test]
fn a_ready_receive_spends_budget_and_the_129th_in_a_poll_is_pending() {
    let receivers: Vec<_> = (0..129)
        .map(|i| {
            let (tx, rx) = oneshot::channel();
            tx.send(i).unwrap();
            rx
        })
        .collect();
    let (_count, waker) = counting_waker();
    magpie_shim::coop::with_budget(|| {
        let mut receivers = receivers;
        for (i, rx) in receivers.iter_mut().enumerate() {
            let polled = poll(Pin::new(rx), &waker);
            if i < 128 {
                assert_eq!(polled, Poll::Ready(Ok(i)), "operation {}", i + 1);
            } else {
                assert!(polled.is_pending(), "operation 129 must yield");
            }
        }
    });
}

#[test]
fn stress_send_drop_and_close_race_the_receiver_across_threads() {
    watchdog(|| {
        const ROUNDS: usize = 20_000;
        let drops = Arc::new(AtomicUsize::new(0));
        let (requests, incoming) = std::sync::mpsc::channel::<(usize, oneshot::Sender<Tracked>)>();
        let drops_echo = drops.clone();
        let echo = thread::spawn(move || {
            let mut refused = 0;
            for (i, reply) in incoming {
                match i % 3 {
                    // Every third reply is never sent: the receiver must see an error.
                    0 => drop(reply),
                    _ => {
                        if let Err(back) = reply.send(Tracked(drops_echo.clone())) {
                            refused += 1;
                            drop(back);
                        }
                    }
                }
            }
            refused
        });
        let mut received = 0;
        let mut gave_up = 0;
        for i in 0..ROUNDS {
            let (tx, mut rx) = oneshot::channel();
            requests.send((i, tx)).unwrap();
            if i % 3 == 2 {
                // Drop the receiver, racing the send: it must either refuse the value or drop it
                // with the receiver, never both, never neither.
                if i % 2 == 0 {
                    rx.close();
                }
                gave_up += 1;
                drop(rx);
                continue;
            }
            match block_on(rx) {
                Ok(value) => {
                    assert_ne!(i % 3, 0);
                    received += 1;
                    drop(value);
                }
                Err(_) => assert_eq!(i % 3, 0, "round {i}: a sent value was lost"),
            }
        }
        drop(requests);
        let refused = echo.join().unwrap();
        assert_eq!(received, ROUNDS / 3 + usize::from(ROUNDS % 3 > 1));
        assert!(refused <= gave_up);
        // Every value created was dropped once: received, refused, or dropped with a receiver.
        assert_eq!(drops.load(Ordering::SeqCst), received + gave_up);
    });
}

#[test]
fn debug_and_display_say_what_they_are() {
    let (tx, rx) = oneshot::channel::<u8>();
    assert_eq!(format!("{tx:?}"), "oneshot::Sender { is_closed: false }");
    assert_eq!(
        format!("{rx:?}"),
        "oneshot::Receiver { is_terminated: false, is_empty: true }"
    );
    assert_eq!(RecvError::default_for_test().to_string(), "channel closed");
    assert_eq!(TryRecvError::Empty.to_string(), "channel empty");
    assert_eq!(TryRecvError::Closed.to_string(), "channel closed");
}
