//! loom model of the readiness protocol (`source.rs`).
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p magpie-io --release --lib`.

use crate::source::{Direction, Source};
use magpie_shim::{loom_model, Arc, AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn an_event_racing_a_would_block_is_never_lost() {
    loom_model("io: event racing a WouldBlock", || {
        let source = Arc::new(Source::new(0, -1));
        let count = std::sync::Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        // Data was there at turn 1.
        source.set_readiness(true, false, false, 1, &mut Vec::new());
        let dispatcher = {
            let source = source.clone();
            loom::thread::spawn(move || {
                // New data arrives: the reactor dispatches turn 2.
                let mut wake = Vec::new();
                source.set_readiness(true, false, false, 2, &mut wake);
                wake.into_iter().for_each(Waker::wake);
            })
        };
        // The reader: ready at some turn, its read would block (it raced the new data), so it
        // clears that turn's readiness and waits.
        let mut cx = Context::from_waker(&waker);
        let Poll::Ready(Ok(seen)) = source.poll_ready(Direction::Read, &mut cx) else {
            panic!("readable at turn 1");
        };
        source.clear_readiness(seen);
        let waiting = source.poll_ready(Direction::Read, &mut cx).is_pending();
        dispatcher.join().unwrap();
        if waiting && seen.turn == 1 {
            // The reader's failed read predates the turn-2 event: waiting is fine only if
            // that event's dispatch woke it. (Had it seen turn 2, its read found the data
            // gone for good, and waiting for a later event is right.)
            assert_eq!(
                count.0.load(Ordering::SeqCst),
                1,
                "the turn-2 event was lost"
            );
        }
    });
}
