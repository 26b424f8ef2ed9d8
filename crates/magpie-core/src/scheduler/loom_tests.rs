//! loom models of parking: a sleeping worker is never left asleep with work queued.

use super::idle::Idle;
use super::park::{DriverSlot, Parker};
use crate::driver::CondvarDriver;
use crate::sync::{Arc, AtomicUsize, DynArc, Mutex, Ordering};

fn slot() -> DriverSlot {
    DriverSlot {
        driver: DynArc::new(CondvarDriver::new()),
        lock: Mutex::new(()),
    }
}

#[test]
fn unpark_before_or_during_park_is_not_lost() {
    loom::model(|| {
        let parker = Arc::new(Parker::new());
        let slot = Arc::new(slot());
        let (p, s) = (parker.clone(), slot.clone());
        let unparker = loom::thread::spawn(move || p.unpark(&s));
        parker.park(&slot);
        unparker.join().unwrap();
    });
}

#[test]
fn condvar_parker_is_woken_while_another_holds_the_driver() {
    loom::model(|| {
        let slot = Arc::new(slot());
        let parker = Arc::new(Parker::new());
        let holding = slot.lock.lock();
        let (p, s) = (parker.clone(), slot.clone());
        let unparker = loom::thread::spawn(move || p.unpark(&s));
        assert!(
            !parker.park(&slot),
            "the driver is taken: parks on its condvar"
        );
        unparker.join().unwrap();
        drop(holding);
    });
}

/// One worker parks (idle.rs step 4) while a producer queues a task and notifies (step 1).
/// Whatever the interleaving the worker ends up running the task, never asleep beside it.
#[test]
fn producer_and_parking_worker_never_lose_the_task() {
    loom::model(|| {
        let idle = Arc::new(Idle::new(1));
        let queue = Arc::new(AtomicUsize::new(0));
        let parker = Arc::new(Parker::new());
        let slot = Arc::new(slot());

        let producer = {
            let (idle, queue, parker, slot) =
                (idle.clone(), queue.clone(), parker.clone(), slot.clone());
            loom::thread::spawn(move || {
                queue.store(1, Ordering::SeqCst);
                if let Some(worker) = idle.worker_to_notify() {
                    assert_eq!(worker, 0);
                    parker.unpark(&slot);
                }
            })
        };

        // The worker: searching, finds nothing, parks as the last searcher.
        assert!(idle.try_start_searching());
        if queue.load(Ordering::SeqCst) == 0 {
            let last = idle.transition_to_parked(0, true);
            assert!(last);
            if queue.load(Ordering::SeqCst) == 1 {
                // Final check found work (step 4): notify, possibly ourselves.
                if let Some(w) = idle.worker_to_notify() {
                    assert_eq!(w, 0);
                    parker.unpark(&slot);
                }
            }
            loop {
                parker.park(&slot);
                if !idle.is_sleeping(0) {
                    break; // notified
                }
            }
        }
        assert_eq!(queue.load(Ordering::SeqCst), 1, "woke up to the task");
        producer.join().unwrap();
    });
}
