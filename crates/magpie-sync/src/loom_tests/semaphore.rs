//! loom models of the semaphore's wait/notify path, and of `Mutex` and `RwLock`, which are thin
//! wrappers over it (their only synchronisation is the semaphore's; one small model each
//! checks the wrapper's use of it).
//!
//! Each model races one other thread against the main one, which waits with
//! `block_on` (`loom_tests/mod.rs`): a lost wake-up is a deadlock that loom reports.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use loom::thread;
use magpie_shim::{loom_model, Arc};

use super::block_on;
use crate::{Mutex, RwLock, Semaphore};

/// Polls `future` once with a waker that does nothing (to register it in the queue).
fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn semaphore_release_races_a_waiting_acquire() {
    loom_model("semaphore: release races a waiting acquire", || {
        let semaphore = Arc::new(Semaphore::new(1));
        semaphore.try_acquire().unwrap().forget();
        let releaser = {
            let semaphore = semaphore.clone();
            thread::spawn(move || semaphore.add_permits(1))
        };
        let permit = block_on(semaphore.acquire()).unwrap();
        assert_eq!(semaphore.available_permits(), 0);
        drop(permit);
        releaser.join().unwrap();
        assert_eq!(semaphore.available_permits(), 1);
    });
}

#[test]
fn semaphore_permit_handed_between_two_waiting_threads() {
    loom_model(
        "semaphore: a permit goes back and forth between two threads",
        || {
            let semaphore = Arc::new(Semaphore::new(1));
            let other = {
                let semaphore = semaphore.clone();
                thread::spawn(move || drop(block_on(semaphore.acquire()).unwrap()))
            };
            drop(block_on(semaphore.acquire()).unwrap());
            other.join().unwrap();
            assert_eq!(semaphore.available_permits(), 1);
        },
    );
}

#[test]
fn semaphore_cancelled_notified_waiter_passes_its_permit_on() {
    loom_model(
        "semaphore: a cancelled (perhaps notified) waiter passes its permit on",
        || {
            let semaphore = Arc::new(Semaphore::new(0));
            let releaser = {
                let semaphore = semaphore.clone();
                thread::spawn(move || semaphore.add_permits(1))
            };
            let mut first = Box::pin(semaphore.acquire());
            let first_result = poll_once(&mut first);
            let mut second = Box::pin(semaphore.acquire());
            let _ = poll_once(&mut second);
            // Dropped queued, notified, or after it got the permit (then the permit goes back).
            drop(first_result);
            drop(first);
            let permit = block_on(second).unwrap();
            releaser.join().unwrap();
            drop(permit);
            assert_eq!(semaphore.available_permits(), 1);
        },
    );
}

#[test]
fn semaphore_cancelled_partial_waiter_passes_its_permits_on() {
    loom_model(
        "semaphore: a cancelled waiter passes a partial assignment on",
        || {
            let semaphore = Arc::new(Semaphore::new(1));
            let mut big = Box::pin(semaphore.acquire_many(2));
            assert!(poll_once(&mut big).is_pending()); // took the one permit
            let mut small = Box::pin(semaphore.acquire());
            assert!(poll_once(&mut small).is_pending());
            let releaser = {
                let semaphore = semaphore.clone();
                thread::spawn(move || semaphore.add_permits(1))
            };
            drop(big);
            let permit = block_on(small).unwrap();
            releaser.join().unwrap();
            drop(permit);
            assert_eq!(semaphore.available_permits(), 2);
        },
    );
}

#[test]
fn semaphore_close_races_a_waiting_acquire() {
    loom_model("semaphore: close races a waiting acquire", || {
        let semaphore = Arc::new(Semaphore::new(0));
        let closer = {
            let semaphore = semaphore.clone();
            thread::spawn(move || semaphore.close())
        };
        assert!(block_on(semaphore.acquire()).is_err());
        closer.join().unwrap();
    });
}

#[test]
fn mutex_two_threads_increment_under_the_lock() {
    loom_model("mutex: two threads increment under the lock", || {
        let mutex = Arc::new(Mutex::new(0usize));
        let other = {
            let mutex = mutex.clone();
            thread::spawn(move || block_on(async { *mutex.lock().await += 1 }))
        };
        block_on(async { *mutex.lock().await += 1 });
        other.join().unwrap();
        assert_eq!(*mutex.try_lock().unwrap(), 2);
    });
}

#[test]
fn rwlock_writer_waits_for_a_reader() {
    loom_model(
        "rwlock: a writer waits for a reader on another thread",
        || {
            let lock = Arc::new(RwLock::with_max_readers(0usize, 2));
            let reader = {
                let lock = lock.clone();
                thread::spawn(move || block_on(async { *lock.read().await }))
            };
            block_on(async { *lock.write().await += 1 });
            let seen = reader.join().unwrap();
            assert!(seen <= 1);
            assert_eq!(*lock.try_read().unwrap(), 1);
        },
    );
}
