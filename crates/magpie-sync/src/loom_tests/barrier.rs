//! loom models of `Barrier`: two threads through two generations (one leader each), and a
//! withdrawn wait racing the arrival that would have tripped the barrier.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use loom::thread;
use magpie_shim::{loom_model, Arc};

use super::block_on;
use crate::Barrier;

/// Polls `future` once with a waker that does nothing (to queue it).
fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn two_threads_two_generations_one_leader_each() {
    loom_model("barrier: two threads, two generations", || {
        let barrier = Arc::new(Barrier::new(2));
        let other = {
            let barrier = barrier.clone();
            thread::spawn(move || {
                let first = block_on(barrier.wait()).is_leader();
                let second = block_on(barrier.wait()).is_leader();
                (first, second)
            })
        };
        let first = block_on(barrier.wait()).is_leader();
        let second = block_on(barrier.wait()).is_leader();
        let (other_first, other_second) = other.join().unwrap();
        assert!(first != other_first, "one leader in generation 1");
        assert!(second != other_second, "one leader in generation 2");
        assert_eq!(barrier.arrived(), 0);
    });
}

#[test]
fn a_withdrawn_wait_races_the_tripping_arrival() {
    loom_model(
        "barrier: a withdrawn wait races the tripping arrival",
        || {
            let barrier = Arc::new(Barrier::new(2));
            let withdrawer = {
                let barrier = barrier.clone();
                thread::spawn(move || {
                    let mut wait = Box::pin(barrier.wait());
                    match poll_once(wait.as_mut()) {
                        Poll::Ready(result) => Some(result.is_leader()),
                        Poll::Pending => None, // then dropped: withdrawn, or released unseen
                    }
                })
            };
            let mut wait = Box::pin(barrier.wait());
            let mine = match poll_once(wait.as_mut()) {
                Poll::Ready(result) => Some(result.is_leader()),
                Poll::Pending => None,
            };
            let theirs = withdrawer.join().unwrap();
            match (mine, theirs) {
                // I tripped it with the other wait still queued.
                (Some(true), None) => assert_eq!(barrier.arrived(), 0),
                // The other wait tripped it: I am released.
                (None, Some(true)) => assert!(matches!(
                    poll_once(wait.as_mut()),
                    Poll::Ready(ref r) if !r.is_leader()
                )),
                // The other wait was withdrawn before I arrived: I wait alone.
                (None, None) => {
                    assert_eq!(barrier.arrived(), 1);
                    assert!(poll_once(wait.as_mut()).is_pending());
                }
                outcome => panic!("impossible outcome {outcome:?}"),
            }
        },
    );
}
