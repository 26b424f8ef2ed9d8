//! Mutex: fast paths, FIFO fairness, a cancelled waiter passing the lock on, owned guards across
//! threads, mutual exclusion under contention, the cooperative budget and the auto traits.

mod common;

use common::{assert_not_impl, counting_waker, poll, wakes, watchdog};

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;
use std::thread;
use std::time::Duration;

use futures_lite::future::block_on;
use magpie_sync::{Mutex, MutexGuard, OwnedMutexGuard};

#[test]
fn try_lock_fails_while_locked_and_the_value_is_shared() {
    let mutex = Mutex::new(1);
    let mut guard = mutex.try_lock().unwrap();
    *guard += 1;
    assert!(mutex.try_lock().is_err());
    assert_eq!(format!("{mutex:?}"), "Mutex { data: <locked> }");
    assert_eq!(format!("{guard:?} {guard}"), "2 2");
    assert!(std::ptr::eq(MutexGuard::mutex(&guard), &mutex));
    drop(guard);
    assert_eq!(format!("{mutex:?}"), "Mutex { data: 2 }");
    assert_eq!(*block_on(mutex.lock()), 2);
    let held = mutex.try_lock().unwrap();
    assert_eq!(
        mutex.try_lock().unwrap_err().to_string(),
        "operation would block"
    );
    drop(held);
    let mut mutex = mutex;
    *mutex.get_mut() += 1;
    assert_eq!(mutex.into_inner(), 3);
    static CONST: Mutex<Vec<u8>> = Mutex::const_new(Vec::new());
    CONST.try_lock().unwrap().push(1);
    let unsized_mutex: &Mutex<[u8]> = &Mutex::new([1, 2, 3]);
    assert_eq!(block_on(unsized_mutex.lock()).len(), 3);
}

#[test]
fn lock_waiters_are_served_in_fifo_order() {
    let mutex = Mutex::new(Vec::new());
    let held = mutex.try_lock().unwrap();
    let wakers: Vec<_> = (0..4).map(|_| counting_waker()).collect();
    let mut waiters: Vec<_> = (0..4)
        .map(|i| {
            let mutex = &mutex;
            Some(Box::pin(async move { mutex.lock().await.push(i) }))
        })
        .collect();
    for (waiter, (_, waker)) in waiters.iter_mut().zip(&wakers) {
        assert!(poll(waiter.as_mut().unwrap().as_mut(), waker).is_pending());
    }
    assert!(mutex.try_lock().is_err(), "no barging past queued waiters");
    drop(held);
    // Each waiter, once it runs, pushes and unlocks, which hands the lock to the next one.
    for i in 0..4 {
        let (count, waker) = &wakers[i];
        assert_eq!(wakes(count), 1, "waiter {i} is woken in its turn");
        for (later, _) in &wakers[i + 1..] {
            assert_eq!(
                wakes(later),
                0,
                "a later waiter is not woken before waiter {i}"
            );
        }
        assert!(poll(waiters[i].take().unwrap().as_mut(), waker).is_ready());
    }
    assert_eq!(*mutex.try_lock().unwrap(), [0, 1, 2, 3]);
}

#[test]
fn a_cancelled_lock_waiter_passes_the_lock_on() {
    let mutex = Mutex::new(0);
    let held = mutex.try_lock().unwrap();
    let (first_count, first_waker) = counting_waker();
    let (second_count, second_waker) = counting_waker();
    let mut first = Box::pin(mutex.lock());
    let mut second = Box::pin(mutex.lock());
    assert!(poll(first.as_mut(), &first_waker).is_pending());
    assert!(poll(second.as_mut(), &second_waker).is_pending());
    drop(held);
    assert_eq!((wakes(&first_count), wakes(&second_count)), (1, 0));
    drop(first); // handed the lock, never polled: it moves on
    assert_eq!(wakes(&second_count), 1);
    let Poll::Ready(mut guard) = poll(second.as_mut(), &second_waker) else {
        panic!("the second waiter got the lock");
    };
    *guard += 1;
    drop(guard);
    assert_eq!(*mutex.try_lock().unwrap(), 1);
}

#[test]
fn a_cancelled_queued_waiter_leaves_no_trace() {
    let mutex = Mutex::new(());
    let held = mutex.try_lock().unwrap();
    let (_, waker) = counting_waker();
    let mut waiter = Box::pin(mutex.lock());
    assert!(poll(waiter.as_mut(), &waker).is_pending());
    drop(waiter);
    drop(held);
    assert!(
        mutex.try_lock().is_ok(),
        "the lock is free, not handed to a ghost"
    );
}

#[test]
fn an_owned_guard_moves_to_another_thread_and_unlocks_there() {
    watchdog(|| {
        let mutex = Arc::new(Mutex::new(0));
        let mut guard: OwnedMutexGuard<i32> = mutex.clone().try_lock_owned().unwrap();
        *guard = 1;
        assert!(Arc::ptr_eq(OwnedMutexGuard::mutex(&guard), &mutex));
        let unlocker = thread::spawn(move || {
            thread::sleep(Duration::from_millis(10));
            *guard += 1;
            drop(guard);
        });
        let guard = block_on(mutex.clone().lock_owned());
        assert_eq!(*guard, 2);
        unlocker.join().unwrap();
    });
}

#[test]
fn lock_is_mutually_exclusive_across_threads() {
    watchdog(|| {
        const THREADS: usize = 4;
        const INCREMENTS: usize = 2_000;
        let counter = Arc::new(Mutex::new(0usize));
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let counter = counter.clone();
                thread::spawn(move || {
                    block_on(async {
                        for i in 0..INCREMENTS {
                            let mut guard = counter.lock().await;
                            // A torn read-modify-write would lose increments.
                            let seen = *guard;
                            if (t + i) % 64 == 0 {
                                thread::yield_now();
                            }
                            *guard = std::hint::black_box(seen) + 1;
                        }
                    })
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(*block_on(counter.lock()), THREADS * INCREMENTS);
    });
}

#[test]
fn lock_spends_the_coop_budget() {
    let mutex = Mutex::new(0);
    let (_, waker) = counting_waker();
    magpie_shim::coop::with_budget(|| {
        for i in 0..magpie_shim::coop::BUDGET {
            let mut lock = Box::pin(mutex.lock());
            assert!(poll(lock.as_mut(), &waker).is_ready(), "lock {i} is ready");
        }
        let mut lock = Box::pin(mutex.lock());
        assert!(
            poll(lock.as_mut(), &waker).is_pending(),
            "the budget is spent"
        );
    });
    assert!(mutex.try_lock().is_ok());
}

#[test]
fn auto_traits_follow_tokio() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    fn send_value<T: Send>(_: &T) {}
    send_sync::<Mutex<Cell<u8>>>(); // Sync needs only T: Send
    send::<MutexGuard<'static, Cell<u8>>>();
    send::<OwnedMutexGuard<Cell<u8>>>();
    send_sync::<MutexGuard<'static, u8>>();
    send_sync::<OwnedMutexGuard<u8>>();
    assert_not_impl!(Mutex<Rc<u8>>: Send);
    assert_not_impl!(Mutex<Rc<u8>>: Sync);
    assert_not_impl!(MutexGuard<'static, Cell<u8>>: Sync);
    assert_not_impl!(OwnedMutexGuard<Cell<u8>>: Sync);
    assert_not_impl!(MutexGuard<'static, Rc<u8>>: Send);
    let mutex = Arc::new(Mutex::new(0u8));
    send_value(&mutex.lock());
    send_value(&mutex.clone().lock_owned());
}
