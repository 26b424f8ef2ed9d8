//! loom models of the oneshot state word: the sender's send or drop racing the receiver's
//! poll (including a poll that replaces its waker), its close and its drop, and the receiver's
//! drop racing the sender's `closed`.
//!
//! loom checks every access to the value and waker cells against the state word's protocol (a
//! write racing any other access is reported), and a lost wake-up is a deadlock of `block_on`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use loom::thread;
use magpie_shim::{loom_model, Arc};

use super::block_on;
use crate::oneshot;

/// Polls `future` once with a waker that does nothing.
fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn oneshot_send_races_the_waiting_receiver() {
    loom_model("oneshot: send races the waiting receiver", || {
        let (tx, rx) = oneshot::channel();
        let sender = thread::spawn(move || tx.send(7).unwrap());
        assert_eq!(block_on(rx), Ok(7));
        sender.join().unwrap();
    });
}

#[test]
fn oneshot_sender_drop_races_the_waiting_receiver() {
    loom_model(
        "oneshot: the sender's drop races the waiting receiver",
        || {
            let (tx, rx) = oneshot::channel::<u8>();
            let dropper = thread::spawn(move || drop(tx));
            assert!(block_on(rx).is_err());
            dropper.join().unwrap();
        },
    );
}

#[test]
fn oneshot_receiver_replaces_its_waker_while_send_races() {
    loom_model(
        "oneshot: the receiver replaces its waker while send races",
        || {
            let (tx, mut rx) = oneshot::channel();
            let sender = thread::spawn(move || tx.send(7).unwrap());
            // Registers a waker that does nothing; `block_on` then replaces it with one that
            // works, racing the sender's read of the slot and its wake.
            match poll_once(&mut rx) {
                Poll::Ready(value) => assert_eq!(value, Ok(7)),
                Poll::Pending => assert_eq!(block_on(rx), Ok(7)),
            }
            sender.join().unwrap();
        },
    );
}

#[test]
fn oneshot_receiver_drop_races_send_and_the_value_is_dropped_once() {
    loom_model(
        "oneshot: the receiver's drop races send; the value is dropped once",
        || {
            let value = Arc::new(());
            let (tx, rx) = oneshot::channel();
            let sent = value.clone();
            let sender = thread::spawn(move || {
                // Refused: the value comes back and is dropped here.
                drop(tx.send(sent));
            });
            drop(rx);
            sender.join().unwrap();
            assert_eq!(Arc::strong_count(&value), 1, "the value leaked");
        },
    );
}

#[test]
fn oneshot_close_races_send() {
    loom_model("oneshot: close races send", || {
        let (tx, mut rx) = oneshot::channel();
        let sender = thread::spawn(move || tx.send(7).is_ok());
        rx.close();
        let accepted = sender.join().unwrap();
        // Accepted before the close: still receivable. Refused: nothing to receive.
        match rx.try_recv() {
            Ok(value) => assert!(accepted && value == 7),
            Err(oneshot::error::TryRecvError::Closed) => assert!(!accepted),
            Err(oneshot::error::TryRecvError::Empty) => panic!("the sender is done"),
        }
    });
}

#[test]
fn oneshot_receiver_drop_races_a_waiting_closed() {
    loom_model(
        "oneshot: the receiver's drop races a waiting closed()",
        || {
            let (mut tx, rx) = oneshot::channel::<u8>();
            let dropper = thread::spawn(move || drop(rx));
            block_on(tx.closed());
            assert!(tx.is_closed());
            assert_eq!(tx.send(1), Err(1));
            dropper.join().unwrap();
        },
    );
}
