//! RwLock: readers share, a writer excludes, a waiting writer holds back later readers (no
//! writer starvation), a cancelled writer passes its permits on, downgrade, a stress test, the
//! cooperative budget and the auto traits.

mod common;

use common::{assert_not_impl, counting_waker, poll, wakes, watchdog};

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::task::Poll;
use std::thread;

use futures_lite::future::block_on;
use magpie_sync::{
    OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock, RwLockReadGuard, RwLockWriteGuard,
};

#[test]
fn readers_share_and_a_writer_excludes() {
    let lock = RwLock::new(1);
    let a = lock.try_read().unwrap();
    let b = block_on(lock.read());
    assert_eq!(*a + *b, 2);
    assert!(lock.try_write().is_err());
    assert_eq!(format!("{lock:?}"), "RwLock { data: 1 }");
    drop((a, b));
    let mut w = lock.try_write().unwrap();
    *w = 5;
    assert!(lock.try_read().is_err());
    assert!(lock.try_write().is_err());
    assert_eq!(
        format!("{lock:?} {w:?} {w}"),
        "RwLock { data: <locked> } 5 5"
    );
    drop(w);
    let mut lock = lock;
    *lock.get_mut() += 1;
    assert_eq!(lock.into_inner(), 6);
    static CONST: RwLock<u8> = RwLock::const_new(0);
    *CONST.try_write().unwrap() = 1;
}

#[test]
fn max_readers_bounds_the_readers() {
    let lock = RwLock::with_max_readers((), 2);
    let _a = lock.try_read().unwrap();
    let _b = lock.try_read().unwrap();
    assert!(lock.try_read().is_err());
}

#[test]
fn readers_hold_the_lock_together_on_several_threads() {
    watchdog(|| {
        let lock = Arc::new(RwLock::new(7));
        let all_in = Arc::new(Barrier::new(3));
        let readers: Vec<_> = (0..3)
            .map(|_| {
                let lock = lock.clone();
                let all_in = all_in.clone();
                thread::spawn(move || {
                    let guard = block_on(lock.read());
                    // Every reader waits here holding its guard: only possible if they share.
                    all_in.wait();
                    assert_eq!(*guard, 7);
                })
            })
            .collect();
        for reader in readers {
            reader.join().unwrap();
        }
    });
}

#[test]
fn a_waiting_writer_holds_back_later_readers() {
    let lock = RwLock::new(0);
    let reader = lock.try_read().unwrap();
    let (writer_count, writer_waker) = counting_waker();
    let (late_count, late_waker) = counting_waker();
    let mut writer = Box::pin(lock.write());
    assert!(poll(writer.as_mut(), &writer_waker).is_pending());
    assert!(
        lock.try_read().is_err(),
        "no reader overtakes the waiting writer"
    );
    let mut late = Box::pin(lock.read());
    assert!(poll(late.as_mut(), &late_waker).is_pending());

    drop(reader);
    assert_eq!((wakes(&writer_count), wakes(&late_count)), (1, 0));
    let Poll::Ready(mut guard) = poll(writer.as_mut(), &writer_waker) else {
        panic!("the writer is served when the last earlier reader leaves");
    };
    *guard = 1;
    assert!(poll(late.as_mut(), &late_waker).is_pending());
    drop(guard);
    assert_eq!(wakes(&late_count), 1);
    let Poll::Ready(guard) = poll(late.as_mut(), &late_waker) else {
        panic!("the late reader follows the writer");
    };
    assert_eq!(*guard, 1);
}

#[test]
fn a_cancelled_writer_passes_its_permits_to_the_readers_behind_it() {
    let lock = RwLock::with_max_readers(0, 3);
    let reader = lock.try_read().unwrap();
    let (_, waker) = counting_waker();
    let (late_count, late_waker) = counting_waker();
    let mut writer = Box::pin(lock.write());
    assert!(poll(writer.as_mut(), &waker).is_pending()); // holds 2 of 3 permits aside
    let mut late = Box::pin(lock.read());
    assert!(poll(late.as_mut(), &late_waker).is_pending());
    drop(writer);
    assert_eq!(wakes(&late_count), 1);
    assert!(poll(late.as_mut(), &late_waker).is_ready());
    drop(reader);
}

#[test]
fn downgrade_keeps_writers_out_and_lets_readers_in() {
    let lock = RwLock::new(1);
    let mut w = lock.try_write().unwrap();
    *w = 2;
    let (late_count, late_waker) = counting_waker();
    let mut late = Box::pin(lock.read());
    assert!(poll(late.as_mut(), &late_waker).is_pending());
    let r: RwLockReadGuard<'_, i32> = w.downgrade();
    assert_eq!(wakes(&late_count), 1);
    assert!(matches!(poll(late.as_mut(), &late_waker), Poll::Ready(g) if *g == 2));
    assert!(lock.try_write().is_err());
    drop(r);
    assert!(lock.try_write().is_ok());

    let lock = Arc::new(RwLock::new(3));
    let w: OwnedRwLockWriteGuard<i32> = lock.clone().try_write_owned().unwrap();
    let r: OwnedRwLockReadGuard<i32> = w.downgrade();
    assert_eq!(*r, 3);
    assert!(lock.try_read().is_ok());
    assert!(lock.try_write().is_err());
    drop(r);
    assert!(lock.try_write().is_ok());
    assert_eq!(Arc::strong_count(&lock), 1, "downgrade leaks no Arc");
}

#[test]
fn a_writer_is_not_starved_by_a_stream_of_readers() {
    watchdog(|| {
        let lock = Arc::new(RwLock::new(0u64));
        let stop = Arc::new(AtomicBool::new(false));
        let first_read = Arc::new(Barrier::new(3));
        // Readers that re-lock as soon as they unlock: their read locks overlap, so without
        // fairness there would nearly always be a reader inside and the writer would wait on.
        // (A reader may not take its next read lock before dropping the last: with a writer
        // queued in between, that would deadlock, in tokio as here.)
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let (lock, stop, first_read) = (lock.clone(), stop.clone(), first_read.clone());
                thread::spawn(move || {
                    block_on(async {
                        let mut reads = 0u64;
                        drop(lock.read().await);
                        first_read.wait();
                        while !stop.load(Ordering::SeqCst) {
                            let guard = lock.read().await;
                            for _ in 0..100 {
                                std::hint::black_box(*guard);
                            }
                            drop(guard);
                            reads += 1;
                        }
                        reads
                    })
                })
            })
            .collect();
        first_read.wait();
        let writes = block_on(async {
            for _ in 0..50 {
                *lock.write().await += 1;
            }
            *lock.read().await
        });
        stop.store(true, Ordering::SeqCst);
        assert_eq!(writes, 50);
        for reader in readers {
            reader.join().unwrap();
        }
    });
}

#[test]
fn readers_never_see_a_write_half_done() {
    watchdog(|| {
        let lock = Arc::new(RwLock::new((0u64, 0u64)));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let lock = lock.clone();
                thread::spawn(move || {
                    block_on(async {
                        for i in 0..1_000u64 {
                            if (t + i) % 4 == 0 {
                                let mut guard = lock.write().await;
                                guard.0 += 1;
                                if i % 32 == 0 {
                                    thread::yield_now();
                                }
                                guard.1 += 1;
                            } else {
                                let guard = lock.read().await;
                                assert_eq!(guard.0, guard.1, "a reader saw a half-done write");
                            }
                        }
                    })
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let (a, b) = *block_on(lock.read());
        assert_eq!((a, b), (1_000, 1_000));
    });
}

#[test]
fn read_and_write_spend_the_coop_budget() {
    let lock = RwLock::new(0);
    let (_, waker) = counting_waker();
    magpie_shim::coop::with_budget(|| {
        for i in 0..magpie_shim::coop::BUDGET {
            if i % 2 == 0 {
                assert!(poll(Box::pin(lock.read()).as_mut(), &waker).is_ready());
            } else {
                assert!(poll(Box::pin(lock.write()).as_mut(), &waker).is_ready());
            }
        }
        assert!(poll(Box::pin(lock.read()).as_mut(), &waker).is_pending());
        assert!(poll(Box::pin(lock.write()).as_mut(), &waker).is_pending());
    });
    assert!(lock.try_write().is_ok());
}

#[test]
fn auto_traits_follow_tokio() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    fn send_value<T: Send>(_: &T) {}
    send_sync::<RwLock<u8>>();
    send::<RwLock<Cell<u8>>>();
    assert_not_impl!(RwLock<Cell<u8>>: Sync); // readers would share a Cell
    assert_not_impl!(RwLock<std::sync::MutexGuard<'static, u8>>: Sync); // Sync, not Send
    send_sync::<RwLockReadGuard<'static, u8>>();
    send_sync::<RwLockReadGuard<'static, std::sync::MutexGuard<'static, u8>>>(); // T: Sync only
    assert_not_impl!(RwLockReadGuard<'static, Cell<u8>>: Send);
    send_sync::<RwLockWriteGuard<'static, u8>>();
    assert_not_impl!(RwLockWriteGuard<'static, Cell<u8>>: Send);
    assert_not_impl!(RwLockWriteGuard<'static, std::sync::MutexGuard<'static, u8>>: Send);
    send_sync::<OwnedRwLockReadGuard<u8>>();
    send_sync::<OwnedRwLockWriteGuard<u8>>();
    assert_not_impl!(OwnedRwLockWriteGuard<Cell<u8>>: Send);
    let lock = Arc::new(RwLock::new(0u8));
    send_value(&lock.read());
    send_value(&lock.write());
    send_value(&lock.clone().read_owned());
    send_value(&lock.clone().write_owned());
}
