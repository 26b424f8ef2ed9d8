//! loom models of `watch`: a send racing `changed()`, the sender's drop racing `changed()`,
//! and the last receiver's drop racing `Sender::closed()`.

use loom::thread;
use magpie_shim::loom_model;

use super::block_on;
use crate::watch;

#[test]
fn send_races_changed() {
    loom_model("watch: send races changed()", || {
        let (tx, mut rx) = watch::channel(0);
        let sender = thread::spawn(move || {
            tx.send(1).unwrap();
            tx
        });
        assert_eq!(block_on(rx.changed()), Ok(()));
        assert_eq!(*rx.borrow_and_update(), 1);
        let _tx = sender.join().unwrap();
        assert_eq!(rx.has_changed(), Ok(false));
    });
}

#[test]
fn sender_drop_races_changed() {
    loom_model("watch: the sender's drop races changed()", || {
        let (tx, mut rx) = watch::channel(0);
        let dropper = thread::spawn(move || drop(tx));
        assert!(block_on(rx.changed()).is_err());
        dropper.join().unwrap();
    });
}

#[test]
fn receiver_drop_races_closed() {
    loom_model("watch: the last receiver's drop races closed()", || {
        let (tx, rx) = watch::channel(0);
        let dropper = thread::spawn(move || drop(rx));
        block_on(tx.closed());
        assert!(tx.is_closed());
        dropper.join().unwrap();
    });
}
