//! Semaphore: fast paths, FIFO fairness (a large request holds back later small ones),
//! cancelled waiters passing permits on, close, owned permits across threads, a stress test
//! and the cooperative budget.

mod common;

use common::{counting_waker, poll, wakes, watchdog};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::Poll;
use std::thread;
use std::time::Duration;

use futures_lite::future::block_on;
use magpie_sync::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};

#[test]
fn try_acquire_takes_permits_and_dropping_gives_them_back() {
    let semaphore = Semaphore::new(3);
    let a = semaphore.try_acquire().unwrap();
    assert_eq!(a.num_permits(), 1);
    let mut b = semaphore.try_acquire_many(2).unwrap();
    assert_eq!(semaphore.available_permits(), 0);
    assert_eq!(
        semaphore.try_acquire().unwrap_err(),
        TryAcquireError::NoPermits
    );
    let c = b.split(1).unwrap();
    assert!(b.split(2).is_none());
    drop(c);
    assert_eq!(semaphore.available_permits(), 1);
    b.merge(a);
    assert_eq!(b.num_permits(), 2);
    b.forget();
    assert_eq!(
        semaphore.available_permits(),
        1,
        "forgotten permits never come back"
    );
    semaphore.add_permits(4);
    assert_eq!(semaphore.available_permits(), 5);
    assert_eq!(semaphore.forget_permits(2), 2);
    assert_eq!(semaphore.forget_permits(10), 3);
    assert_eq!(semaphore.available_permits(), 0);
    assert_eq!(Semaphore::MAX_PERMITS, usize::MAX >> 3);
}

#[test]
fn uncontended_acquire_is_ready_on_the_first_poll() {
    let semaphore = Semaphore::new(1);
    let (count, waker) = counting_waker();
    for _ in 0..3 {
        let mut acquire = Box::pin(semaphore.acquire());
        let Poll::Ready(Ok(permit)) = poll(acquire.as_mut(), &waker) else {
            panic!("an available permit must be taken at once");
        };
        assert_eq!(semaphore.available_permits(), 0);
        drop(permit);
        assert_eq!(semaphore.available_permits(), 1);
    }
    assert_eq!(wakes(&count), 0);
}

#[test]
fn waiters_are_served_in_the_order_they_first_polled() {
    let semaphore = Semaphore::new(0);
    let wakers: Vec<_> = (0..4).map(|_| counting_waker()).collect();
    let mut waiters: Vec<_> = (0..4)
        .map(|_| Some(Box::pin(semaphore.acquire())))
        .collect();
    for (waiter, (_, waker)) in waiters.iter_mut().zip(&wakers) {
        assert!(poll(waiter.as_mut().unwrap().as_mut(), waker).is_pending());
    }
    let mut order = Vec::new();
    let mut permits = Vec::new();
    for round in 0..4 {
        semaphore.add_permits(1);
        for (i, (waiter, (count, waker))) in waiters.iter_mut().zip(&wakers).enumerate() {
            let Some(future) = waiter else { continue };
            if let Poll::Ready(permit) = poll(future.as_mut(), waker) {
                assert_eq!(wakes(count), 1, "waiter {i} was woken once");
                permits.push(permit.unwrap());
                order.push(i);
                *waiter = None;
            }
        }
        assert_eq!(
            order.len(),
            round + 1,
            "one permit serves exactly one waiter"
        );
    }
    assert_eq!(order, [0, 1, 2, 3]);
    drop(permits);
    assert_eq!(semaphore.available_permits(), 4);
}

#[test]
fn a_large_request_holds_back_later_small_ones() {
    let semaphore = Semaphore::new(1);
    let (big_count, big_waker) = counting_waker();
    let (small_count, small_waker) = counting_waker();
    let mut big = Box::pin(semaphore.acquire_many(3));
    assert!(poll(big.as_mut(), &big_waker).is_pending());
    assert_eq!(
        semaphore.available_permits(),
        0,
        "the waiting request took the free permit"
    );
    let mut small = Box::pin(semaphore.acquire());
    assert!(poll(small.as_mut(), &small_waker).is_pending());
    assert_eq!(
        semaphore.try_acquire().unwrap_err(),
        TryAcquireError::NoPermits
    );

    semaphore.add_permits(1);
    assert_eq!((wakes(&big_count), wakes(&small_count)), (0, 0));
    assert!(
        poll(small.as_mut(), &small_waker).is_pending(),
        "no overtaking the big request"
    );
    semaphore.add_permits(1);
    assert_eq!((wakes(&big_count), wakes(&small_count)), (1, 0));
    let Poll::Ready(Ok(big_permit)) = poll(big.as_mut(), &big_waker) else {
        panic!("the big request was complete")
    };
    assert_eq!(big_permit.num_permits(), 3);
    assert!(poll(small.as_mut(), &small_waker).is_pending());
    drop(big_permit);
    assert_eq!(wakes(&small_count), 1);
    assert!(matches!(
        poll(small.as_mut(), &small_waker),
        Poll::Ready(Ok(_))
    ));
    assert_eq!(semaphore.available_permits(), 3);
}

#[test]
fn a_cancelled_waiter_passes_its_partial_assignment_on() {
    let semaphore = Semaphore::new(1);
    let (_, waker) = counting_waker();
    let (small_count, small_waker) = counting_waker();
    let mut big = Box::pin(semaphore.acquire_many(3));
    assert!(poll(big.as_mut(), &waker).is_pending());
    let mut small = Box::pin(semaphore.acquire());
    assert!(poll(small.as_mut(), &small_waker).is_pending());
    semaphore.add_permits(1);
    assert_eq!(
        semaphore.available_permits(),
        0,
        "both permits are set aside for the big one"
    );

    drop(big);
    assert_eq!(
        wakes(&small_count),
        1,
        "the next waiter got one of the two permits"
    );
    assert_eq!(
        semaphore.available_permits(),
        1,
        "and the other went back to the pool"
    );
    let Poll::Ready(Ok(permit)) = poll(small.as_mut(), &small_waker) else {
        panic!("the small waiter was served")
    };
    drop(permit);
    assert_eq!(semaphore.available_permits(), 2);
}

#[test]
fn a_cancelled_notified_waiter_passes_its_permit_on() {
    let semaphore = Semaphore::new(1);
    let held = semaphore.try_acquire().unwrap();
    let (first_count, first_waker) = counting_waker();
    let (second_count, second_waker) = counting_waker();
    let mut first = Box::pin(semaphore.acquire());
    let mut second = Box::pin(semaphore.acquire());
    assert!(poll(first.as_mut(), &first_waker).is_pending());
    assert!(poll(second.as_mut(), &second_waker).is_pending());
    drop(held);
    assert_eq!((wakes(&first_count), wakes(&second_count)), (1, 0));
    drop(first); // notified, never polled: the permit it was handed moves on
    assert_eq!(wakes(&second_count), 1);
    assert!(matches!(
        poll(second.as_mut(), &second_waker),
        Poll::Ready(Ok(_))
    ));
    assert_eq!(semaphore.available_permits(), 1);
}

#[test]
fn a_cancelled_waiter_in_the_middle_leaves_no_trace() {
    let semaphore = Semaphore::new(0);
    let (_, waker) = counting_waker();
    let mut a = Box::pin(semaphore.acquire());
    let mut b = Box::pin(semaphore.acquire());
    let mut c = Box::pin(semaphore.acquire());
    for future in [a.as_mut(), b.as_mut(), c.as_mut()] {
        assert!(poll(future, &waker).is_pending());
    }
    drop(b);
    semaphore.add_permits(2);
    assert!(matches!(poll(a.as_mut(), &waker), Poll::Ready(Ok(_))));
    assert!(matches!(poll(c.as_mut(), &waker), Poll::Ready(Ok(_))));
    assert_eq!(semaphore.available_permits(), 2);
    drop(a);
    drop(c);
    // The queue is empty again: fast paths work and a new waiter is not blocked by a ghost.
    assert!(semaphore.try_acquire_many(2).is_ok());
}

#[test]
fn close_fails_every_waiter_and_every_later_acquire() {
    let semaphore = Semaphore::new(1);
    let held = semaphore.try_acquire().unwrap();
    semaphore.add_permits(1);
    let (big_count, big_waker) = counting_waker();
    let (small_count, small_waker) = counting_waker();
    let mut big = Box::pin(semaphore.acquire_many(3));
    let mut small = Box::pin(semaphore.acquire());
    assert!(poll(big.as_mut(), &big_waker).is_pending());
    assert!(poll(small.as_mut(), &small_waker).is_pending());
    assert_eq!(semaphore.available_permits(), 0);

    semaphore.close();
    assert!(semaphore.is_closed());
    assert_eq!((wakes(&big_count), wakes(&small_count)), (1, 1));
    assert_eq!(
        poll(big.as_mut(), &big_waker).map(|r| r.err()),
        Poll::Ready(Some(closed_error()))
    );
    assert!(matches!(
        poll(small.as_mut(), &small_waker),
        Poll::Ready(Err(_))
    ));
    assert_eq!(
        semaphore.available_permits(),
        1,
        "the partial assignment went back"
    );
    assert_eq!(
        semaphore.try_acquire().unwrap_err(),
        TryAcquireError::Closed
    );
    assert!(block_on(semaphore.acquire()).is_err());
    assert!(block_on(semaphore.acquire_many(0)).is_err());
    assert_eq!(held.num_permits(), 1, "held permits stay valid");
    drop(held);
    assert_eq!(semaphore.available_permits(), 2, "and still come back");
    assert_eq!(closed_error().to_string(), "semaphore closed");
}

fn closed_error() -> AcquireError {
    let semaphore = Semaphore::new(1);
    semaphore.close();
    block_on(semaphore.acquire()).unwrap_err()
}

#[test]
fn close_wakes_waiters_blocked_on_other_threads() {
    watchdog(|| {
        let semaphore = Arc::new(Semaphore::new(0));
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let semaphore = semaphore.clone();
                thread::spawn(move || block_on(semaphore.acquire_owned()).map(drop))
            })
            .collect();
        // Most (usually all) of them are queued by now; any that is not finds it closed.
        thread::sleep(Duration::from_millis(20));
        semaphore.close();
        for waiter in waiters {
            assert!(waiter.join().unwrap().is_err());
        }
    });
}

#[test]
fn owned_permits_move_across_threads_and_wake_the_waiter() {
    watchdog(|| {
        let semaphore = Arc::new(Semaphore::new(2));
        let permit: OwnedSemaphorePermit =
            block_on(semaphore.clone().acquire_many_owned(2)).unwrap();
        assert!(semaphore.clone().try_acquire_owned().is_err());
        let (tx, rx) = mpsc::channel::<OwnedSemaphorePermit>();
        let dropper = thread::spawn(move || {
            let permit = rx.recv().unwrap();
            thread::sleep(Duration::from_millis(10));
            drop(permit);
        });
        tx.send(permit).unwrap();
        // Waits on this thread until the other thread drops the permit.
        let again = block_on(semaphore.clone().acquire_many_owned(2)).unwrap();
        assert!(Arc::ptr_eq(again.semaphore(), &semaphore));
        dropper.join().unwrap();
        drop(again);
        assert_eq!(semaphore.available_permits(), 2);
    });
}

#[test]
fn permits_in_use_never_exceed_the_count_under_contention() {
    watchdog(|| {
        const PERMITS: usize = 3;
        let semaphore = Arc::new(Semaphore::new(PERMITS));
        let in_use = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let semaphore = semaphore.clone();
                let in_use = in_use.clone();
                thread::spawn(move || {
                    block_on(async {
                        for i in 0..1_000 {
                            let n = 1 + (t + i) % 2;
                            let permit = semaphore.acquire_many(n as u32).await.unwrap();
                            let now = in_use.fetch_add(n, Ordering::SeqCst) + n;
                            assert!(now <= PERMITS, "{now} permits in use");
                            if i % 16 == 0 {
                                thread::yield_now();
                            }
                            in_use.fetch_sub(n, Ordering::SeqCst);
                            drop(permit);
                        }
                    })
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(semaphore.available_permits(), PERMITS);
    });
}

#[test]
fn acquire_spends_the_coop_budget() {
    let semaphore = Semaphore::new(1);
    let (_, waker) = counting_waker();
    magpie_shim::coop::with_budget(|| {
        for i in 0..magpie_shim::coop::BUDGET {
            let mut acquire = Box::pin(semaphore.acquire());
            assert!(
                poll(acquire.as_mut(), &waker).is_ready(),
                "acquisition {i} is ready"
            );
        }
        let mut acquire = Box::pin(semaphore.acquire());
        assert!(
            poll(acquire.as_mut(), &waker).is_pending(),
            "the budget is spent"
        );
    });
    assert_eq!(semaphore.available_permits(), 1);
}

#[test]
fn types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let semaphore = Arc::new(Semaphore::new(1));
    send(&semaphore.acquire());
    send(&semaphore.acquire_many(1));
    send(&semaphore.clone().acquire_owned());
    let permit: SemaphorePermit<'_> = semaphore.try_acquire().unwrap();
    send_sync(&permit);
    drop(permit);
    send_sync(&semaphore.clone().try_acquire_owned().unwrap());
    send_sync(&*semaphore);
    send_sync(&TryAcquireError::NoPermits);
}

#[test]
fn debug_and_errors_are_readable() {
    let semaphore = Semaphore::new(2);
    assert_eq!(
        format!("{semaphore:?}"),
        "Semaphore { permits: 2, waiters: false, closed: false }"
    );
    assert_eq!(
        TryAcquireError::NoPermits.to_string(),
        "no permits available"
    );
    assert!(TryAcquireError::Closed.is_closed());
    assert!(TryAcquireError::NoPermits.is_no_permits());
    static CONST: Semaphore = Semaphore::const_new(1);
    assert!(CONST.try_acquire().is_ok());
}
