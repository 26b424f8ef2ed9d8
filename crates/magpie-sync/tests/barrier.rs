//! `Barrier`: tripping, one leader per generation, reuse, cancelled waits withdrawn, threads,
//! and the cooperative budget.

mod common;

use common::{counting_waker, poll, wakes, watchdog};

use futures_lite::future::block_on;
use magpie_sync::Barrier;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Poll, Waker};

/// Whether a ready wait led its generation; panics if it is pending.
fn leader<F: Future<Output = magpie_sync::BarrierWaitResult>>(
    future: Pin<&mut F>,
    waker: &Waker,
) -> bool {
    match poll(future, waker) {
        Poll::Ready(result) => result.is_leader(),
        Poll::Pending => panic!("the wait should have completed"),
    }
}

#[test]
fn a_barrier_of_zero_or_one_releases_every_wait_at_once_as_leader() {
    for n in [0, 1] {
        let barrier = Barrier::new(n);
        for _ in 0..3 {
            assert!(block_on(barrier.wait()).is_leader());
        }
    }
}

#[test]
fn the_nth_arrival_trips_the_barrier_and_leads() {
    let barrier = Barrier::new(3);
    let (count_a, waker_a) = counting_waker();
    let (count_b, waker_b) = counting_waker();
    let mut a = pin!(barrier.wait());
    let mut b = pin!(barrier.wait());
    let mut c = pin!(barrier.wait());
    assert!(poll(a.as_mut(), &waker_a).is_pending());
    assert!(poll(b.as_mut(), &waker_b).is_pending());
    assert!(
        poll(a.as_mut(), &waker_a).is_pending(),
        "a second poll does not count twice"
    );
    assert_eq!(format!("{barrier:?}"), "Barrier { n: 3, arrived: 2 }");
    assert!(leader(c.as_mut(), &waker_a));
    assert_eq!((wakes(&count_a), wakes(&count_b)), (1, 1));
    assert!(!leader(a.as_mut(), &waker_a));
    assert!(!leader(b.as_mut(), &waker_b));
}

#[test]
fn the_barrier_is_reusable_before_the_last_generation_has_been_polled() {
    let barrier = Barrier::new(2);
    let (_count, waker) = counting_waker();
    let mut a1 = pin!(barrier.wait());
    let mut b1 = pin!(barrier.wait());
    assert!(poll(a1.as_mut(), &waker).is_pending());
    assert!(leader(b1.as_mut(), &waker));
    // Generation 2 starts while a1 has not yet seen its release.
    let mut a2 = pin!(barrier.wait());
    let mut b2 = pin!(barrier.wait());
    assert!(poll(a2.as_mut(), &waker).is_pending());
    assert!(!leader(a1.as_mut(), &waker));
    assert!(leader(b2.as_mut(), &waker));
    assert!(!leader(a2.as_mut(), &waker));
}

#[test]
fn a_cancelled_wait_is_withdrawn_and_no_longer_counts() {
    let barrier = Barrier::new(2);
    let (_count, waker) = counting_waker();
    let mut a = Box::pin(barrier.wait());
    assert!(poll(a.as_mut(), &waker).is_pending());
    drop(a);
    assert_eq!(format!("{barrier:?}"), "Barrier { n: 2, arrived: 0 }");
    let mut b = pin!(barrier.wait());
    assert!(
        poll(b.as_mut(), &waker).is_pending(),
        "the withdrawn wait does not complete the pair"
    );
    let mut c = pin!(barrier.wait());
    assert!(leader(c.as_mut(), &waker));
    assert!(!leader(b.as_mut(), &waker));
}

#[test]
fn a_wait_dropped_after_the_trip_does_not_disturb_the_next_generation() {
    let barrier = Barrier::new(2);
    let (_count, waker) = counting_waker();
    let mut a = Box::pin(barrier.wait());
    assert!(poll(a.as_mut(), &waker).is_pending());
    assert!(block_on(barrier.wait()).is_leader());
    drop(a); // released but never polled again
    let mut b = pin!(barrier.wait());
    assert!(poll(b.as_mut(), &waker).is_pending());
    assert!(block_on(barrier.wait()).is_leader());
    assert!(!leader(b.as_mut(), &waker));
}

#[test]
fn exactly_one_leader_per_generation_across_threads() {
    watchdog(|| {
        const THREADS: usize = 4;
        const GENERATIONS: usize = 200;
        let barrier = Arc::new(Barrier::new(THREADS));
        let leaders: Arc<Vec<AtomicUsize>> =
            Arc::new((0..GENERATIONS).map(|_| AtomicUsize::new(0)).collect());
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let barrier = barrier.clone();
                let leaders = leaders.clone();
                std::thread::spawn(move || {
                    block_on(async {
                        for generation in 0..GENERATIONS {
                            if barrier.wait().await.is_leader() {
                                leaders[generation].fetch_add(1, Ordering::SeqCst);
                            }
                        }
                    })
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        for (generation, count) in leaders.iter().enumerate() {
            assert_eq!(count.load(Ordering::SeqCst), 1, "generation {generation}");
        }
    });
}

#[test]
fn cancelled_waits_racing_arrivals_never_strand_a_waiter() {
    watchdog(|| {
        // Two threads pass a barrier of 2 300 times each; a third keeps arriving and
        // withdrawing. A generation may include the third (it then leaves the other worker
        // waiting for the next arrival), but no worker is left waiting for good: the test ends.
        let barrier = Arc::new(Barrier::new(2));
        let stop = Arc::new(AtomicUsize::new(0));
        let canceller = {
            let (barrier, stop) = (barrier.clone(), stop.clone());
            std::thread::spawn(move || {
                let (_count, waker) = counting_waker();
                while stop.load(Ordering::SeqCst) == 0 {
                    let mut wait = Box::pin(barrier.wait());
                    let _ = poll(wait.as_mut(), &waker);
                    std::thread::yield_now();
                    drop(wait);
                }
            })
        };
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    block_on(async {
                        for _ in 0..300 {
                            barrier.wait().await;
                        }
                    })
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        stop.store(1, Ordering::SeqCst);
        canceller.join().unwrap();
    });
}

#[test]
fn a_ready_wait_spends_the_cooperative_budget() {
    let barrier = Barrier::new(1);
    let (_count, waker) = counting_waker();
    magpie_shim::coop::with_budget(|| {
        for _ in 0..128 {
            let mut wait = pin!(barrier.wait());
            assert!(poll(wait.as_mut(), &waker).is_ready());
        }
        let mut wait = pin!(barrier.wait());
        assert!(
            poll(wait.as_mut(), &waker).is_pending(),
            "the 129th ready poll yields"
        );
    });
}

#[test]
fn the_wait_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let barrier = Barrier::new(2);
    assert_send(&barrier.wait());
    assert_eq!(
        format!("{:?}", block_on(Barrier::new(1).wait())),
        "BarrierWaitResult(true)"
    );
}
