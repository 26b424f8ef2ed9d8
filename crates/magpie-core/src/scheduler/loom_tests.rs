//! loom models of parking: a sleeping worker is never left asleep with work queued.

use super::idle::{Idle, Sleepers};
use super::park::Parker;
use super::sticky_event::StickyEvent;
use magpie_shim::{Arc, AtomicUsize, Mutex, Ordering};

/// The driver lock, a sticky event in the driver's place, and the sleeper list.
struct Slot {
    lock: Mutex<()>,
    driver: StickyEvent,
    sleepers: Sleepers,
}

fn slot() -> Slot {
    Slot {
        lock: Mutex::new(()),
        driver: StickyEvent::new(),
        sleepers: Mutex::new(Vec::new()),
    }
}

#[test]
fn unpark_before_or_during_park_is_not_lost() {
    magpie_shim::loom_model("unpark_before_or_during_park_is_not_lost", || {
        let parker = Arc::new(Parker::new());
        let slot = Arc::new(slot());
        let (p, s) = (parker.clone(), slot.clone());
        let unparker = loom::thread::spawn(move || p.unpark(&s.driver));
        parker.park(&slot.lock, &slot.driver, &|| false, &());
        unparker.join().unwrap();
    });
}

#[test]
fn condvar_parker_is_woken_while_another_holds_the_driver() {
    magpie_shim::loom_model(
        "condvar_parker_is_woken_while_another_holds_the_driver",
        || {
            let slot = Arc::new(slot());
            let parker = Arc::new(Parker::new());
            let holding = slot.lock.lock();
            let (p, s) = (parker.clone(), slot.clone());
            let unparker = loom::thread::spawn(move || p.unpark(&s.driver));
            assert!(
                !parker.park(&slot.lock, &slot.driver, &|| false, &()),
                "the driver is taken: parks on its condvar"
            );
            unparker.join().unwrap();
            drop(holding);
        },
    );
}

/// One worker parks (idle.rs step 4) while a producer queues a task and notifies (step 1).
/// Whatever the interleaving the worker ends up running the task, never asleep beside it.
#[test]
fn producer_and_parking_worker_never_lose_the_task() {
    magpie_shim::loom_model("producer_and_parking_worker_never_lose_the_task", || {
        let idle = Arc::new(Idle::new(1));
        let queue = Arc::new(AtomicUsize::new(0));
        let parker = Arc::new(Parker::new());
        let slot = Arc::new(slot());

        let producer = {
            let (idle, queue, parker, slot) =
                (idle.clone(), queue.clone(), parker.clone(), slot.clone());
            loom::thread::spawn(move || {
                queue.store(1, Ordering::SeqCst);
                if let Some(worker) = idle.worker_to_notify(&slot.sleepers) {
                    assert_eq!(worker, 0);
                    parker.unpark(&slot.driver);
                }
            })
        };

        // The worker: searching, finds nothing, parks as the last searcher.
        assert!(idle.try_start_searching());
        if queue.load(Ordering::SeqCst) == 0 {
            let last = idle.transition_to_parked(&slot.sleepers, 0, true);
            assert!(last);
            if queue.load(Ordering::SeqCst) == 1 {
                // Final check found work (step 4): notify, possibly ourselves.
                if let Some(w) = idle.worker_to_notify(&slot.sleepers) {
                    assert_eq!(w, 0);
                    parker.unpark(&slot.driver);
                }
            }
            loop {
                parker.park(&slot.lock, &slot.driver, &|| false, &());
                if !Idle::is_sleeping(&slot.sleepers, 0) {
                    break; // notified
                }
            }
        }
        assert_eq!(queue.load(Ordering::SeqCst), 1, "woke up to the task");
        producer.join().unwrap();
    });
}

/// Two workers park (one searching, one not) while a producer queues a task: whichever
/// interleaving, some worker ends up awake with the task.
#[test]
fn two_parking_workers_and_a_producer_never_lose_the_task() {
    magpie_shim::loom_model(
        "two_parking_workers_and_a_producer_never_lose_the_task",
        || {
            let idle = Arc::new(Idle::new(2));
            let queue = Arc::new(AtomicUsize::new(0));
            let parkers = Arc::new([Parker::new(), Parker::new()]);
            let slot = Arc::new(slot());

            let producer = {
                let (idle, queue, parkers, slot) =
                    (idle.clone(), queue.clone(), parkers.clone(), slot.clone());
                loom::thread::spawn(move || {
                    queue.store(1, Ordering::SeqCst);
                    if let Some(w) = idle.worker_to_notify(&slot.sleepers) {
                        parkers[w].unpark(&slot.driver);
                    }
                })
            };

            // Worker 1 is not searching and parks straight away (not the last searcher).
            assert!(!idle.transition_to_parked(&slot.sleepers, 1, false));

            // Worker 0 searches, finds nothing, and parks as the last searcher.
            assert!(idle.try_start_searching());
            let mut woken = queue.load(Ordering::SeqCst) == 1;
            if !woken {
                if idle.transition_to_parked(&slot.sleepers, 0, true)
                    && queue.load(Ordering::SeqCst) == 1
                {
                    if let Some(w) = idle.worker_to_notify(&slot.sleepers) {
                        parkers[w].unpark(&slot.driver);
                    }
                }
                // Block until a producer (or the final check) takes worker 0 or 1 off the list;
                // if it was worker 1, worker 1's parker holds the wake-up.
                loop {
                    if !Idle::is_sleeping(&slot.sleepers, 0) {
                        woken = true;
                        break;
                    }
                    if !Idle::is_sleeping(&slot.sleepers, 1) {
                        parkers[1].park(&slot.lock, &slot.driver, &|| false, &());
                        break;
                    }
                    parkers[0].park(&slot.lock, &slot.driver, &|| false, &());
                }
            }
            producer.join().unwrap();
            assert!(
                woken || !Idle::is_sleeping(&slot.sleepers, 1),
                "a worker was woken for the task"
            );
            assert_eq!(queue.load(Ordering::SeqCst), 1);
        },
    );
}

/// The monitor goes to sleep with no timeout (every worker looked parked) while a worker
/// leaves the driver to run a task: the monitor must not stay asleep (loom reports a
/// deadlock if it does).
#[test]
fn monitor_deep_sleep_races_a_worker_leaving_the_driver() {
    use super::monitor::{Monitor, PERIOD, QUIET_PERIODS};
    magpie_shim::loom_model(
        "monitor_deep_sleep_races_a_worker_leaving_the_driver",
        || {
            let monitor = Arc::new(Monitor::new());
            let unparked = Arc::new(AtomicUsize::new(0));
            let worker = {
                let (monitor, unparked) = (monitor.clone(), unparked.clone());
                loom::thread::spawn(move || {
                    // Idle::unpark_self, then the worker's call after it.
                    unparked.fetch_add(1, Ordering::SeqCst);
                    monitor.driver_left();
                })
            };
            assert!(
                monitor.sleep(QUIET_PERIODS, PERIOD, || unparked.load(Ordering::SeqCst)
                    == 0)
            );
            worker.join().unwrap();
        },
    );
}
