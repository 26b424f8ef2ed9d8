//! `broadcast`: every value to every receiver, subscription points, lagging, closing from either
//! side, each value dropped exactly once, cancellation, threads, and the cooperative budget.

mod common;

use common::{counting_waker, poll, wakes, watchdog};

use futures_lite::future::block_on;
use magpie_sync::broadcast::{self, error::RecvError, error::TryRecvError};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

#[test]
fn every_receiver_sees_every_value_in_order() {
    let (tx, mut rx1) = broadcast::channel(8);
    let mut rx2 = tx.subscribe();
    for i in 0..5 {
        assert_eq!(tx.send(i), Ok(2));
    }
    assert_eq!(rx1.len(), 5);
    for i in 0..5 {
        assert_eq!(block_on(rx1.recv()), Ok(i));
    }
    assert_eq!(rx1.try_recv(), Err(TryRecvError::Empty));
    for i in 0..5 {
        assert_eq!(rx2.try_recv(), Ok(i));
    }
    assert!(rx2.is_empty());
}

#[test]
fn a_new_receiver_sees_only_later_values() {
    let (tx, mut rx) = broadcast::channel(4);
    tx.send(1).unwrap();
    let mut late = tx.subscribe();
    let mut resubscribed = rx.resubscribe();
    assert!(late.same_channel(&resubscribed));
    tx.send(2).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(late.try_recv(), Ok(2));
    assert_eq!(resubscribed.try_recv(), Ok(2));
    assert_eq!(tx.receiver_count(), 3);
}

#[test]
fn send_without_receivers_hands_the_value_back() {
    let (tx, rx) = broadcast::channel(2);
    drop(rx);
    assert_eq!(tx.receiver_count(), 0);
    let err = tx.send("lost?").unwrap_err();
    assert_eq!(err.0, "lost?");
    assert_eq!(err.to_string(), "channel closed");
    // A later subscriber does not see it.
    let mut rx = tx.subscribe();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn a_sender_made_alone_fails_until_someone_subscribes() {
    let tx = broadcast::Sender::new(2);
    assert_eq!(tx.send(1).unwrap_err().0, 1);
    let mut rx = tx.subscribe();
    assert_eq!(tx.send(2), Ok(1));
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
#[should_panic(expected = "broadcast channel capacity cannot be zero")]
fn a_capacity_of_zero_is_refused() {
    let _ = broadcast::channel::<u8>(0);
}

#[test]
fn a_slow_receiver_lags_once_then_resumes_at_the_oldest_retained_value() {
    let (tx, mut rx) = broadcast::channel(2);
    let mut fast = tx.subscribe();
    for i in 0..5 {
        tx.send(i).unwrap();
        assert_eq!(fast.try_recv(), Ok(i));
    }
    assert_eq!(rx.len(), 5);
    assert_eq!(tx.len(), 2, "only the capacity is retained");
    assert_eq!(block_on(rx.recv()), Err(RecvError::Lagged(3)));
    assert_eq!(block_on(rx.recv()), Ok(3));
    assert_eq!(block_on(rx.recv()), Ok(4));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert!(tx.is_empty());

    for i in 5..10 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(3)));
    assert_eq!(rx.try_recv(), Ok(8));
    assert_eq!(RecvError::Lagged(3).to_string(), "channel lagged by 3");
}

#[test]
fn the_capacity_is_rounded_up_to_a_power_of_two() {
    let (tx, mut rx) = broadcast::channel(3);
    for i in 0..4 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.try_recv(), Ok(0), "four values fit");
    tx.send(4).unwrap();
    tx.send(5).unwrap();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(1)));
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn receivers_drain_then_see_closed_when_every_sender_is_gone() {
    let (tx, mut rx) = broadcast::channel(4);
    let tx2 = tx.clone();
    tx.send(1).unwrap();
    drop(tx);
    assert!(!rx.is_closed());
    tx2.send(2).unwrap();
    drop(tx2);
    assert!(rx.is_closed());
    assert_eq!(block_on(rx.recv()), Ok(1));
    assert_eq!(block_on(rx.recv()), Ok(2));
    assert_eq!(block_on(rx.recv()), Err(RecvError::Closed));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn a_dropped_sender_wakes_a_receiver_waiting_on_another_thread() {
    watchdog(|| {
        let (tx, mut rx) = broadcast::channel::<u8>(4);
        let waiter = std::thread::spawn(move || block_on(rx.recv()));
        std::thread::sleep(Duration::from_millis(20));
        drop(tx);
        assert_eq!(waiter.join().unwrap(), Err(RecvError::Closed));
    });
}

#[test]
fn one_send_wakes_every_waiting_receiver() {
    let (tx, rx) = broadcast::channel(4);
    let mut receivers: Vec<_> = (0..3).map(|_| rx.resubscribe()).collect();
    let (count, waker) = counting_waker();
    let mut futures: Vec<_> = receivers.iter_mut().map(|rx| Box::pin(rx.recv())).collect();
    for future in &mut futures {
        assert!(poll(future.as_mut(), &waker).is_pending());
    }
    assert_eq!(tx.send(7), Ok(4));
    assert_eq!(wakes(&count), 3);
    for future in &mut futures {
        assert_eq!(poll(future.as_mut(), &waker), Poll::Ready(Ok(7)));
    }
}

#[test]
fn a_cancelled_recv_leaves_no_trace_and_loses_no_value() {
    let (tx, mut rx) = broadcast::channel(4);
    let mut other = tx.subscribe();
    let (count, waker) = counting_waker();
    {
        let mut cancelled = pin!(rx.recv());
        assert!(poll(cancelled.as_mut(), &waker).is_pending());
    }
    let mut waiting = pin!(other.recv());
    assert!(poll(waiting.as_mut(), &waker).is_pending());
    tx.send(1).unwrap();
    assert_eq!(wakes(&count), 1, "only the live waiter is woken");
    assert_eq!(poll(waiting.as_mut(), &waker), Poll::Ready(Ok(1)));
    assert_eq!(
        rx.try_recv(),
        Ok(1),
        "the cancelled receiver still gets the value"
    );
}

#[test]
fn closed_completes_when_the_last_receiver_is_dropped() {
    watchdog(|| {
        let (tx, rx) = broadcast::channel::<u8>(2);
        let rx2 = rx.resubscribe();
        let (_count, waker) = counting_waker();
        {
            let mut closed = pin!(tx.closed());
            assert!(poll(closed.as_mut(), &waker).is_pending());
            drop(rx);
            assert!(poll(closed.as_mut(), &waker).is_pending());
            let dropper = std::thread::spawn(move || drop(rx2));
            block_on(closed);
            dropper.join().unwrap();
        }
        block_on(tx.closed());
    });
}

/// A value that counts its live copies.
struct Tracked(Arc<AtomicUsize>);

impl Tracked {
    fn new(live: &Arc<AtomicUsize>) -> Self {
        live.fetch_add(1, Ordering::SeqCst);
        Tracked(live.clone())
    }
}

impl Clone for Tracked {
    fn clone(&self) -> Self {
        Tracked::new(&self.0)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[test]
fn every_value_is_dropped_exactly_once_and_as_soon_as_nobody_needs_it() {
    let live = Arc::new(AtomicUsize::new(0));
    let count = || live.load(Ordering::SeqCst);
    let (tx, mut rx1) = broadcast::channel(2);
    let mut rx2 = tx.subscribe();

    tx.send(Tracked::new(&live)).unwrap();
    assert_eq!(count(), 1);
    let first = rx1.try_recv().ok().unwrap(); // a clone: the channel keeps one for rx2
    assert_eq!(count(), 2);
    let second = rx2.try_recv().ok().unwrap(); // the last reader takes the channel's copy
    assert_eq!(count(), 2);
    drop((first, second));
    assert_eq!(count(), 0, "read by every receiver: nothing retained");

    // Overwritten before rx1 read them: dropped by the sends that overwrote them.
    for _ in 0..4 {
        tx.send(Tracked::new(&live)).unwrap();
        drop(rx2.try_recv().ok().unwrap());
    }
    assert_eq!(count(), 2, "the capacity's worth is retained for rx1");
    assert!(matches!(rx1.try_recv(), Err(TryRecvError::Lagged(2))));
    drop(rx1.try_recv().ok().unwrap());
    assert_eq!(count(), 1);

    // A receiver dropped with unread values releases them.
    tx.send(Tracked::new(&live)).unwrap();
    assert_eq!(count(), 2);
    drop(rx2);
    assert_eq!(count(), 2, "rx1 still has both to read");
    drop(rx1);
    assert_eq!(count(), 0);

    // Values still retained when the whole channel goes are dropped with it.
    let mut rx = tx.subscribe();
    tx.send(Tracked::new(&live)).unwrap();
    tx.send(Tracked::new(&live)).unwrap();
    drop(rx.try_recv().ok().unwrap());
    assert_eq!(count(), 1);
    drop(tx);
    assert_eq!(count(), 1);
    drop(rx);
    assert_eq!(count(), 0);
}

#[test]
fn stress_two_senders_three_receivers_every_value_in_per_sender_order() {
    watchdog(|| {
        const EACH: usize = 1000;
        let (tx, rx) = broadcast::channel::<(usize, usize)>(4096);
        let receivers: Vec<_> = (0..3)
            .map(|_| {
                let mut rx = rx.resubscribe();
                std::thread::spawn(move || {
                    block_on(async move {
                        let mut next = [0usize; 2];
                        while let Ok((sender, i)) = rx.recv().await {
                            assert_eq!(i, next[sender], "sender {sender}");
                            next[sender] += 1;
                        }
                        next
                    })
                })
            })
            .collect();
        drop(rx);
        let senders: Vec<_> = (0..2)
            .map(|sender| {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    for i in 0..EACH {
                        tx.send((sender, i)).unwrap();
                        if i % 64 == 0 {
                            std::thread::yield_now();
                        }
                    }
                })
            })
            .collect();
        drop(tx);
        for sender in senders {
            sender.join().unwrap();
        }
        for receiver in receivers {
            assert_eq!(receiver.join().unwrap(), [EACH, EACH]);
        }
    });
}

#[test]
fn stress_a_small_ring_lags_but_never_hangs_or_repeats() {
    watchdog(|| {
        const LAST: u64 = 3000;
        let (tx, mut rx) = broadcast::channel::<u64>(4);
        let receiver = std::thread::spawn(move || {
            block_on(async move {
                let (mut received, mut missed, mut last) = (0u64, 0u64, None);
                loop {
                    match rx.recv().await {
                        Ok(v) => {
                            assert!(last.is_none_or(|last| v > last));
                            last = Some(v);
                            received += 1;
                        }
                        Err(RecvError::Lagged(n)) => missed += n,
                        Err(RecvError::Closed) => return (received, missed, last),
                    }
                }
            })
        });
        for i in 0..=LAST {
            tx.send(i).unwrap();
        }
        drop(tx);
        let (received, missed, last) = receiver.join().unwrap();
        assert_eq!(received + missed, LAST + 1);
        assert_eq!(last, Some(LAST));
    });
}

#[test]
fn a_ready_recv_spends_the_cooperative_budget() {
    let (tx, mut rx) = broadcast::channel(256);
    let (_count, waker) = counting_waker();
    for i in 0..129 {
        tx.send(i).unwrap();
    }
    magpie_shim::coop::with_budget(|| {
        for i in 0..128 {
            let mut recv = pin!(rx.recv());
            assert_eq!(poll(recv.as_mut(), &waker), Poll::Ready(Ok(i)));
        }
        let mut recv = pin!(rx.recv());
        assert!(
            poll(recv.as_mut(), &waker).is_pending(),
            "the 129th ready poll yields"
        );
    });
    assert_eq!(rx.try_recv(), Ok(128), "the yielding poll took nothing");
}

#[test]
fn handles_and_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let (tx, mut rx) = broadcast::channel::<u8>(1);
    assert_send(&tx.closed());
    assert_send(&rx.recv());
    assert!(format!("{tx:?}").starts_with("broadcast::Sender"));
    assert!(format!("{rx:?}").starts_with("broadcast::Receiver"));
}
