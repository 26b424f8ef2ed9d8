//! `magpie_sync::mpsc`: order and fast paths, backpressure with FIFO senders, a dropped peer is
//! an error (never a hang), cancelled senders pass their slot on, messages dropped exactly once,
//! `close`, permits, the `Stream` impl, the cooperative budget, and stress across threads.

mod common;

use common::{counting_waker, poll, wakes, watchdog, Tracked};

use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::thread;
use std::time::Duration;

use futures_lite::future::block_on;
use futures_lite::StreamExt;
use magpie_sync::mpsc::{
    self,
    error::{SendError, TryRecvError, TrySendError},
};

#[test]
fn messages_arrive_in_order_and_capacity_tracks_them() {
    let (tx, mut rx) = mpsc::channel(3);
    assert_eq!((tx.capacity(), tx.max_capacity()), (3, 3));
    block_on(async {
        tx.send(1).await.unwrap();
        tx.send(2).await.unwrap();
    });
    tx.try_send(3).unwrap();
    assert_eq!((tx.capacity(), rx.len(), rx.is_empty()), (0, 3, false));
    assert!(matches!(tx.try_send(4), Err(TrySendError::Full(4))));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.capacity(), 1);
    assert_eq!(block_on(rx.recv()), Some(2));
    assert_eq!(block_on(rx.recv()), Some(3));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!((tx.capacity(), rx.max_capacity()), (3, 3));
}

#[test]
#[should_panic(expected = "mpsc bounded channel requires capacity > 0")]
fn a_bounded_channel_of_capacity_zero_is_refused() {
    let _ = mpsc::channel::<u8>(0);
}

#[test]
fn recv_returns_none_once_every_sender_is_gone_and_the_queue_drained() {
    let (tx, mut rx) = mpsc::channel(4);
    let tx2 = tx.clone();
    assert!(tx.same_channel(&tx2));
    tx.try_send('a').unwrap();
    drop(tx);
    tx2.try_send('b').unwrap();
    drop(tx2);
    assert!(rx.is_closed());
    assert_eq!(block_on(rx.recv()), Some('a'));
    assert_eq!(block_on(rx.recv()), Some('b'));
    assert_eq!(block_on(rx.recv()), None);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn the_last_sender_dropped_wakes_a_waiting_receiver_with_none() {
    watchdog(|| {
        let (tx, mut rx) = mpsc::channel::<u8>(1);
        let tx2 = tx.clone();
        let dropper = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            drop(tx);
            thread::sleep(Duration::from_millis(5));
            drop(tx2);
        });
        assert_eq!(block_on(rx.recv()), None);
        dropper.join().unwrap();
    });
}

#[test]
fn a_waiting_receiver_is_woken_once_and_an_idle_one_not_at_all() {
    let (tx, mut rx) = mpsc::channel(8);
    let (count, waker) = counting_waker();
    // Not waiting: sends wake nobody.
    tx.try_send(0).unwrap();
    assert_eq!(poll(pin!(rx.recv()), &waker), Poll::Ready(Some(0)));
    {
        let mut recv = pin!(rx.recv());
        assert!(poll(recv.as_mut(), &waker).is_pending());
        tx.try_send(1).unwrap();
        tx.try_send(2).unwrap();
        block_on(tx.send(3)).unwrap();
        assert_eq!(wakes(&count), 1, "one wake for three messages");
        assert_eq!(poll(recv, &waker), Poll::Ready(Some(1)));
    }
    // A cancelled recv loses nothing.
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Ok(3));
}

#[test]
fn a_full_channel_makes_send_wait_until_the_receiver_takes_one() {
    watchdog(|| {
        let (tx, mut rx) = mpsc::channel(2);
        let producer = thread::spawn(move || {
            block_on(async {
                for i in 0..1_000 {
                    tx.send(i).await.unwrap();
                }
            })
        });
        let mut expected = 0;
        while let Some(i) = block_on(rx.recv()) {
            assert!(rx.len() <= 2);
            assert_eq!(i, expected);
            expected += 1;
        }
        assert_eq!(expected, 1_000);
        producer.join().unwrap();
    });
}

#[test]
fn waiting_senders_get_slots_first_come_first_served() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let (counts, wakers): (Vec<_>, Vec<_>) = (0..3).map(|_| counting_waker()).unzip();
    let mut sends: Vec<_> = (1..=3).map(|i| Box::pin(tx.send(i))).collect();
    for (send, waker) in sends.iter_mut().zip(&wakers) {
        assert!(poll(send.as_mut(), waker).is_pending());
    }
    // No barging: a waiter is ahead, so try_send cannot take the slot either.
    assert!(matches!(tx.try_send(9), Err(TrySendError::Full(9))));
    for expected in 0..3 {
        assert_eq!(rx.try_recv(), Ok(expected));
        let next = expected as usize;
        assert_eq!(wakes(&counts[next]), 1, "sender {next} is next");
        assert!(counts[next + 1..].iter().all(|c| wakes(c) == 0));
        // A slot granted to the first waiter is not free for anyone else.
        assert!(matches!(tx.try_send(9), Err(TrySendError::Full(9))));
        assert!(poll(sends[next].as_mut(), &wakers[next]).is_ready());
    }
    assert_eq!(rx.try_recv(), Ok(3));
}

#[test]
fn a_cancelled_sender_that_was_granted_a_slot_passes_it_on() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let (first, first_waker) = counting_waker();
    let (second, second_waker) = counting_waker();
    let mut a = Box::pin(tx.send(1));
    let mut b = Box::pin(tx.send(2));
    assert!(poll(a.as_mut(), &first_waker).is_pending());
    assert!(poll(b.as_mut(), &second_waker).is_pending());
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!((wakes(&first), wakes(&second)), (1, 0));
    drop(a); // granted, never sent
    assert_eq!(wakes(&second), 1, "the slot went on to the next sender");
    assert_eq!(poll(b.as_mut(), &second_waker), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(tx.capacity(), 1, "no slot lost");
}

#[test]
fn a_cancelled_waiting_sender_leaves_no_trace() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let (count, waker) = counting_waker();
    {
        let send = pin!(tx.send(1));
        assert!(poll(send, &waker).is_pending());
    }
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(wakes(&count), 0);
    assert_eq!(tx.capacity(), 1);
    tx.try_send(2).unwrap();
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn a_dropped_receiver_fails_waiting_senders_with_their_message() {
    watchdog(|| {
        let (tx, rx) = mpsc::channel(1);
        tx.try_send(0).unwrap();
        let dropper = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            drop(rx);
        });
        assert_eq!(block_on(tx.send(1)), Err(SendError(1)));
        assert!(tx.is_closed());
        assert!(matches!(tx.try_send(2), Err(TrySendError::Closed(2))));
        assert!(block_on(tx.reserve()).is_err());
        dropper.join().unwrap();
    });
}

#[test]
fn a_sender_granted_a_slot_before_the_receiver_dropped_gets_its_message_back() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let (_count, waker) = counting_waker();
    let mut send = Box::pin(tx.send(1));
    assert!(poll(send.as_mut(), &waker).is_pending());
    assert_eq!(rx.try_recv(), Ok(0)); // grants the slot
    drop(rx);
    assert_eq!(poll(send.as_mut(), &waker), Poll::Ready(Err(SendError(1))));
}

#[test]
fn a_dropped_receiver_drops_queued_messages_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel(8);
    for _ in 0..5 {
        tx.try_send(Tracked(drops.clone())).unwrap();
    }
    let (utx, urx) = mpsc::unbounded_channel();
    for _ in 0..4 {
        utx.send(Tracked(drops.clone())).unwrap();
    }
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(rx);
    drop(urx);
    assert_eq!(drops.load(Ordering::SeqCst), 9);
    // Refused messages come back and are dropped by their owner, once.
    drop(tx.try_send(Tracked(drops.clone())).unwrap_err());
    drop(utx.send(Tracked(drops.clone())).unwrap_err());
    drop((tx, utx));
    assert_eq!(drops.load(Ordering::SeqCst), 11);
}

#[test]
fn a_queued_message_holding_a_sender_can_be_dropped_with_the_receiver() {
    // Dropping the queue runs the message's Drop, which drops the last sender of the same
    // channel: it must not be done under the channel's lock.
    struct Holds(#[allow(dead_code)] mpsc::UnboundedSender<Holds>);
    let (tx, rx) = mpsc::unbounded_channel();
    tx.send(Holds(tx.clone())).unwrap();
    drop(tx);
    watchdog(move || drop(rx));
}

#[test]
fn close_fails_new_sends_but_queued_messages_still_arrive() {
    let (tx, mut rx) = mpsc::channel(4);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    rx.close();
    assert!(tx.is_closed() && rx.is_closed());
    assert_eq!(block_on(tx.send(3)), Err(SendError(3)));
    assert_eq!(block_on(rx.recv()), Some(1));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(block_on(rx.recv()), None);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn close_wakes_waiting_senders_and_closed_futures() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let (send_count, send_waker) = counting_waker();
    let (closed_count, closed_waker) = counting_waker();
    let mut send = Box::pin(tx.send(1));
    let mut closed = Box::pin(tx.closed());
    assert!(poll(send.as_mut(), &send_waker).is_pending());
    assert!(poll(closed.as_mut(), &closed_waker).is_pending());
    rx.close();
    assert_eq!((wakes(&send_count), wakes(&closed_count)), (1, 1));
    assert_eq!(
        poll(send.as_mut(), &send_waker),
        Poll::Ready(Err(SendError(1)))
    );
    assert!(poll(closed.as_mut(), &closed_waker).is_ready());
    assert_eq!(rx.try_recv(), Ok(0));
}

#[test]
fn after_close_recv_waits_for_reserved_permits() {
    watchdog(|| {
        let (tx, mut rx) = mpsc::channel(2);
        let permit = tx.try_reserve().unwrap();
        let unused = block_on(tx.reserve()).unwrap();
        assert_eq!(tx.capacity(), 0);
        rx.close();
        let (count, waker) = counting_waker();
        let mut recv = Box::pin(rx.recv());
        assert!(poll(recv.as_mut(), &waker).is_pending());
        permit.send("late");
        assert_eq!(poll(recv.as_mut(), &waker), Poll::Ready(Some("late")));
        drop(recv);
        let mut recv = Box::pin(rx.recv());
        assert!(
            poll(recv.as_mut(), &waker).is_pending(),
            "a permit is still out"
        );
        let before = wakes(&count);
        drop(unused);
        assert_eq!(wakes(&count), before + 1);
        assert_eq!(poll(recv.as_mut(), &waker), Poll::Ready(None));
    });
}

#[test]
fn permits_send_without_waiting_and_give_their_slot_back_when_dropped() {
    let (tx, mut rx) = mpsc::channel(1);
    let permit = block_on(tx.reserve()).unwrap();
    assert!(matches!(tx.try_reserve(), Err(TrySendError::Full(()))));
    let (count, waker) = counting_waker();
    let mut waiting = Box::pin(tx.reserve());
    assert!(poll(waiting.as_mut(), &waker).is_pending());
    drop(permit);
    assert_eq!(
        wakes(&count),
        1,
        "the dropped permit's slot went to the waiter"
    );
    let Poll::Ready(Ok(permit)) = poll(waiting.as_mut(), &waker) else {
        panic!("the waiter did not get the slot");
    };
    permit.send(5);
    drop(waiting);
    assert_eq!(rx.try_recv(), Ok(5));
    assert_eq!(tx.capacity(), 1);
    // A permit used after the receiver went drops its message.
    let drops = Arc::new(AtomicUsize::new(0));
    let permit = tx.try_reserve();
    let (tx2, rx2) = mpsc::channel(1);
    let permit2 = tx2.try_reserve().unwrap();
    drop(rx2);
    permit2.send(Tracked(drops.clone()));
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(permit);
}

#[test]
fn closed_resolves_when_the_receiver_is_dropped_on_another_thread() {
    watchdog(|| {
        let (tx, rx) = mpsc::channel::<u8>(1);
        let (utx, urx) = mpsc::unbounded_channel::<u8>();
        let dropper = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            drop(rx);
            drop(urx);
        });
        block_on(tx.closed());
        block_on(utx.closed());
        assert!(tx.is_closed() && utx.is_closed());
        dropper.join().unwrap();
    });
}

#[test]
fn a_cancelled_closed_future_leaves_no_trace() {
    let (tx, rx) = mpsc::channel::<u8>(1);
    let (first, first_waker) = counting_waker();
    let (second, second_waker) = counting_waker();
    {
        let closed = pin!(tx.closed());
        assert!(poll(closed, &first_waker).is_pending());
    }
    let mut closed = Box::pin(tx.closed());
    assert!(poll(closed.as_mut(), &second_waker).is_pending());
    drop(rx);
    assert_eq!((wakes(&first), wakes(&second)), (0, 1));
    assert!(poll(closed.as_mut(), &second_waker).is_ready());
}

#[test]
fn unbounded_sends_never_wait_and_fail_once_the_receiver_is_gone() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    for i in 0..10_000 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.len(), 10_000);
    let mut buffer = Vec::new();
    assert_eq!(block_on(rx.recv_many(&mut buffer, 9_990)), 9_990);
    assert_eq!(buffer, (0..9_990).collect::<Vec<_>>());
    rx.close();
    assert!(tx.is_closed());
    assert_eq!(tx.send(1), Err(SendError(1)));
    assert_eq!(block_on(rx.recv_many(&mut buffer, 100)), 10);
    assert_eq!(block_on(rx.recv_many(&mut buffer, 100)), 0);
    assert_eq!(block_on(rx.recv()), None);
}

#[test]
fn the_receivers_are_streams() {
    let (tx, rx) = mpsc::channel(4);
    let (utx, urx) = mpsc::unbounded_channel();
    let producer = thread::spawn(move || {
        for i in 0..20 {
            block_on(tx.send(i)).unwrap();
            utx.send(i * 2).unwrap();
        }
    });
    let (a, b): (Vec<i32>, Vec<i32>) =
        block_on(async { (rx.collect().await, urx.collect().await) });
    producer.join().unwrap();
    assert_eq!(a, (0..20).collect::<Vec<_>>());
    assert_eq!(b, (0..20).map(|i| i * 2).collect::<Vec<_>>());
}

#[test]
fn recv_many_takes_what_is_there_and_waits_for_at_least_one() {
    let (tx, mut rx) = mpsc::channel(8);
    for i in 0..5 {
        tx.try_send(i).unwrap();
    }
    let mut buffer = vec![-1];
    assert_eq!(block_on(rx.recv_many(&mut buffer, 3)), 3);
    assert_eq!(buffer, [-1, 0, 1, 2]);
    assert_eq!(block_on(rx.recv_many(&mut buffer, 0)), 0);
    assert_eq!(tx.capacity(), 6);
    assert_eq!(block_on(rx.recv_many(&mut buffer, 10)), 2);
    let (count, waker) = counting_waker();
    let mut more = Box::pin(rx.recv_many(&mut buffer, 10));
    assert!(poll(more.as_mut(), &waker).is_pending());
    drop(tx);
    assert_eq!(wakes(&count), 1);
    assert_eq!(poll(more.as_mut(), &waker), Poll::Ready(0));
}

#[test]
fn blocking_send_and_recv_work_from_plain_threads() {
    watchdog(|| {
        let (tx, mut rx) = mpsc::channel(1);
        let (utx, mut urx) = mpsc::unbounded_channel();
        let producer = thread::spawn(move || {
            for i in 0..100 {
                tx.blocking_send(i).unwrap();
                utx.send(i).unwrap();
            }
        });
        for i in 0..100 {
            assert_eq!(rx.blocking_recv(), Some(i));
            assert_eq!(urx.blocking_recv(), Some(i));
        }
        assert_eq!(rx.blocking_recv(), None);
        producer.join().unwrap();
    });
}

#[test]
fn a_ready_recv_spends_budget_and_the_129th_in_a_poll_is_pending() {
    let (tx, mut rx) = mpsc::channel(200);
    let (utx, mut urx) = mpsc::unbounded_channel();
    for i in 0..200 {
        tx.try_send(i).unwrap();
        utx.send(i).unwrap();
    }
    let (_count, waker) = counting_waker();
    magpie_shim::coop::with_budget(|| {
        for i in 0..129 {
            let polled = poll(pin!(rx.recv()), &waker);
            if i < 128 {
                assert_eq!(polled, Poll::Ready(Some(i)), "operation {}", i + 1);
            } else {
                assert!(polled.is_pending(), "operation 129 must yield");
            }
        }
    });
    magpie_shim::coop::with_budget(|| {
        for i in 0..129 {
            let polled = poll(pin!(urx.recv()), &waker);
            assert_eq!(polled.is_pending(), i == 128, "operation {}", i + 1);
        }
    });
    // A ready send spends budget too.
    let (tx, _rx) = mpsc::channel(200);
    magpie_shim::coop::with_budget(|| {
        for i in 0..129 {
            let polled = poll(pin!(tx.send(i)), &waker);
            assert_eq!(polled.is_pending(), i == 128, "operation {}", i + 1);
        }
    });
}

#[test]
fn stress_many_senders_one_receiver_bounded_and_unbounded() {
    watchdog(|| {
        const SENDERS: u64 = 4;
        const MESSAGES: u64 = 5_000;
        for capacity in [1, 7, 1024] {
            let (tx, mut rx) = mpsc::channel(capacity);
            let producers: Vec<_> = (0..SENDERS)
                .map(|p| {
                    let tx = tx.clone();
                    thread::spawn(move || {
                        block_on(async {
                            for i in 0..MESSAGES {
                                tx.send((p, i)).await.unwrap();
                            }
                        })
                    })
                })
                .collect();
            drop(tx);
            let mut next = [0; SENDERS as usize];
            while let Some((p, i)) = block_on(rx.recv()) {
                assert_eq!(next[p as usize], i, "per-sender order");
                next[p as usize] += 1;
            }
            assert!(next.iter().all(|&n| n == MESSAGES));
            for p in producers {
                p.join().unwrap();
            }
        }
        let (tx, mut rx) = mpsc::unbounded_channel();
        let producers: Vec<_> = (0..SENDERS)
            .map(|_| {
                let tx = tx.clone();
                thread::spawn(move || (0..MESSAGES).for_each(|i| tx.send(i).unwrap()))
            })
            .collect();
        drop(tx);
        let mut sum = 0;
        while let Some(i) = block_on(rx.recv()) {
            sum += i;
        }
        assert_eq!(sum, SENDERS * MESSAGES * (MESSAGES - 1) / 2);
        for p in producers {
            p.join().unwrap();
        }
    });
}

#[test]
fn stress_cancelled_senders_lose_no_slot() {
    watchdog(|| {
        const SENDERS: usize = 3;
        const MESSAGES: usize = 3_000;
        let (tx, mut rx) = mpsc::channel(2);
        let producers: Vec<_> = (0..SENDERS)
            .map(|p| {
                let tx = tx.clone();
                thread::spawn(move || {
                    let (_count, waker) = counting_waker();
                    let mut cancelled = 0;
                    for i in 0..MESSAGES {
                        // Every other message: one poll, and if it must wait, give up once
                        // (possibly after being granted a slot) before sending for real.
                        if (i + p) % 2 == 0 {
                            let mut send = Box::pin(tx.send(usize::MAX));
                            if poll(send.as_mut(), &waker).is_pending() {
                                thread::yield_now();
                                cancelled += 1;
                                drop(send);
                            }
                            // If it was sent at once, the receiver skips it.
                        }
                        block_on(tx.send(i)).unwrap();
                    }
                    cancelled
                })
            })
            .collect();
        drop(tx);
        let mut real = 0;
        while let Some(i) = block_on(rx.recv()) {
            if i != usize::MAX {
                real += 1;
            }
        }
        assert_eq!(real, SENDERS * MESSAGES);
        let cancelled: usize = producers.into_iter().map(|p| p.join().unwrap()).sum();
        assert!(
            cancelled > 0,
            "no send was ever cancelled: the test proves nothing"
        );
    });
}

#[test]
fn debug_and_display_say_what_they_are() {
    let (tx, rx) = mpsc::channel::<u8>(2);
    assert_eq!(
        format!("{tx:?}"),
        "mpsc::Sender { capacity: 2, max_capacity: 2, is_closed: false }"
    );
    assert_eq!(
        format!("{rx:?}"),
        "mpsc::Receiver { len: 0, max_capacity: 2, is_closed: false }"
    );
    let permit = tx.try_reserve().unwrap();
    assert_eq!(format!("{permit:?}"), "mpsc::Permit { .. }");
    let (utx, urx) = mpsc::unbounded_channel::<u8>();
    assert_eq!(
        format!("{utx:?}"),
        "mpsc::UnboundedSender { is_closed: false }"
    );
    assert_eq!(
        format!("{urx:?}"),
        "mpsc::UnboundedReceiver { len: 0, is_closed: false }"
    );
    assert_eq!(format!("{:?}", SendError(1)), "SendError { .. }");
    assert_eq!(SendError(1).to_string(), "channel closed");
    assert_eq!(TrySendError::Full(1).to_string(), "no available capacity");
    assert_eq!(format!("{:?}", TrySendError::Closed(1)), "Closed(..)");
    assert_eq!(TrySendError::Closed(1).into_inner(), 1);
    assert_eq!(
        TryRecvError::Empty.to_string(),
        "receiving on an empty channel"
    );
    assert_eq!(
        TryRecvError::Disconnected.to_string(),
        "receiving on a closed channel"
    );
}
