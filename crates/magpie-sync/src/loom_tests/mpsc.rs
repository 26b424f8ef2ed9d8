//! loom models of the mpsc channel: a send racing a waiting receive, the last sender's drop
//! racing a receive, a bounded send waiting for a slot racing the receive that frees it, a
//! cancelled waiting sender (perhaps already granted a slot) racing another sender or the
//! receive that grants it, and the receiver's drop racing waiting senders and `closed()`.
//!
//! A lost wake-up is a deadlock of `block_on` that loom reports; a slot lost by a cancelled
//! sender strands the other sender, which is one too.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use loom::thread;
use magpie_shim::{loom_model, Arc};

use super::block_on;
use crate::mpsc;

/// Polls `future` once with a waker that does nothing (to queue it as a waiter).
fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn mpsc_send_races_a_waiting_recv() {
    loom_model("mpsc: unbounded send races a waiting recv", || {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let sender = thread::spawn(move || {
            tx.send(1).unwrap();
            tx.send(2).unwrap();
        });
        assert_eq!(block_on(rx.recv()), Some(1));
        assert_eq!(block_on(rx.recv()), Some(2));
        assert_eq!(block_on(rx.recv()), None);
        sender.join().unwrap();
    });
}

#[test]
fn mpsc_last_sender_drop_races_recv() {
    loom_model("mpsc: the last sender's drop races recv", || {
        let (tx, mut rx) = mpsc::channel(1);
        let other = tx.clone();
        let sender = thread::spawn(move || {
            other.try_send(1).unwrap();
            drop(other);
        });
        drop(tx);
        assert_eq!(block_on(rx.recv()), Some(1));
        assert_eq!(block_on(rx.recv()), None);
        sender.join().unwrap();
    });
}

#[test]
fn mpsc_bounded_send_waits_for_the_slot_a_recv_frees() {
    loom_model(
        "mpsc: a bounded send waits for the slot a racing recv frees",
        || {
            let (tx, mut rx) = mpsc::channel(1);
            tx.try_send(1).unwrap();
            let sender = thread::spawn(move || block_on(tx.send(2)).unwrap());
            assert_eq!(block_on(rx.recv()), Some(1));
            assert_eq!(block_on(rx.recv()), Some(2));
            assert_eq!(block_on(rx.recv()), None);
            sender.join().unwrap();
        },
    );
}

#[test]
fn mpsc_cancelled_waiting_sender_passes_its_slot_on() {
    loom_model(
        "mpsc: a cancelled waiting sender (perhaps granted) passes its slot on",
        || {
            let (tx, mut rx) = mpsc::channel(1);
            tx.try_send(0).unwrap();
            let mut first = Box::pin(tx.send(1));
            assert!(poll_once(first.as_mut()).is_pending());
            let other = tx.clone();
            let sender = thread::spawn(move || block_on(other.send(2)).unwrap());
            // Frees the slot: granted to `first` (queued first), which is then cancelled and
            // must pass it to the other thread's send, wherever that one is.
            assert_eq!(block_on(rx.recv()), Some(0));
            drop(first);
            assert_eq!(block_on(rx.recv()), Some(2));
            sender.join().unwrap();
            assert_eq!(tx.capacity(), 1, "a slot was lost");
        },
    );
}

#[test]
fn mpsc_cancel_of_a_waiting_sender_races_the_recv_that_grants_it() {
    loom_model(
        "mpsc: a waiting sender's cancel races the recv that grants it a slot",
        || {
            let (tx, mut rx) = mpsc::channel(1);
            tx.try_send(0).unwrap();
            let sender = thread::spawn(move || {
                let mut first = Box::pin(tx.send(1));
                // Pending (queued, then perhaps granted before the drop) or already sent.
                let sent_first = poll_once(first.as_mut()).is_ready();
                drop(first);
                block_on(tx.send(2)).unwrap();
                sent_first
            });
            assert_eq!(block_on(rx.recv()), Some(0));
            let next = block_on(rx.recv());
            let sent_first = next == Some(1);
            if sent_first {
                assert_eq!(block_on(rx.recv()), Some(2));
            } else {
                assert_eq!(next, Some(2));
            }
            assert_eq!(block_on(rx.recv()), None);
            assert_eq!(sender.join().unwrap(), sent_first);
        },
    );
}

#[test]
fn mpsc_receiver_drop_races_a_waiting_send() {
    loom_model("mpsc: the receiver's drop races a waiting send", || {
        let queued = Arc::new(());
        let (tx, rx) = mpsc::channel(1);
        tx.try_send(queued.clone()).unwrap();
        let sender = thread::spawn(move || {
            // The channel stays full, so only the receiver's drop can end this wait.
            let refused = block_on(tx.send(Arc::new(()))).unwrap_err();
            drop(refused);
            assert!(tx.is_closed());
        });
        drop(rx);
        sender.join().unwrap();
        assert_eq!(Arc::strong_count(&queued), 1, "the queued message leaked");
    });
}

#[test]
fn mpsc_receiver_drop_races_a_waiting_closed() {
    loom_model("mpsc: the receiver's drop races a waiting closed()", || {
        let (tx, rx) = mpsc::unbounded_channel::<u8>();
        let dropper = thread::spawn(move || drop(rx));
        block_on(tx.closed());
        assert_eq!(tx.send(1).unwrap_err().0, 1);
        dropper.join().unwrap();
    });
}
