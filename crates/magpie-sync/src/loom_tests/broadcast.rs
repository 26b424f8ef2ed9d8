//! loom models of `broadcast`: a send racing a waiting `recv()`, and the last sender's drop
//! racing a waiting `recv()` (after a value it must still read).

use loom::thread;
use magpie_shim::loom_model;

use super::block_on;
use crate::broadcast::{self, error::RecvError};

#[test]
fn send_races_a_waiting_recv() {
    loom_model("broadcast: send races a waiting recv()", || {
        let (tx, mut rx) = broadcast::channel(1);
        let sender = thread::spawn(move || {
            tx.send(7).unwrap();
            tx
        });
        assert_eq!(block_on(rx.recv()), Ok(7));
        let _tx = sender.join().unwrap();
    });
}

#[test]
fn sender_drop_races_a_waiting_recv() {
    loom_model(
        "broadcast: the sender's drop races a waiting recv()",
        || {
            let (tx, mut rx) = broadcast::channel(1);
            let sender = thread::spawn(move || {
                tx.send(7).unwrap();
                drop(tx);
            });
            assert_eq!(block_on(rx.recv()), Ok(7));
            assert_eq!(block_on(rx.recv()), Err(RecvError::Closed));
            sender.join().unwrap();
        },
    );
}
