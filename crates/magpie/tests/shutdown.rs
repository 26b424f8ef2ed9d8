//! Shutting a runtime down: every unfinished future dropped exactly once, hooks balanced,
//! re-entrant `Drop`s, stale wakers, `shutdown_timeout`, `shutdown_background`, spawns after
//! shutdown, and a runtime dropped from inside itself.

mod common;

use common::{
    block_on_plain, counted_runtime, counter, guard, pending_forever, quiet_expected_panics,
    runtime, wait_until, watchdog, HookCounts, Tally,
};
use magpie::{Handle, Runtime};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// A future that stores its waker in `slot` on every poll and stays pending.
struct StashWaker {
    slot: Arc<Mutex<Option<Waker>>>,
    polls: Arc<AtomicUsize>,
}

impl Future for StashWaker {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        *self.slot.lock().unwrap() = Some(cx.waker().clone());
        self.polls.fetch_add(1, SeqCst);
        Poll::Pending
    }
}

#[test]
fn drop_runtime_drops_every_pending_future_exactly_once() {
    guard("drop with 10,000 pending tasks", || {
        let rt = runtime(2);
        let tally = Tally::new();
        let polls = counter();
        let mut handles = Vec::new();
        for _ in 0..10_000 {
            let (g, p) = (tally.guard(), polls.clone());
            handles.push(rt.spawn(async move {
                let _g = g;
                pending_forever(p).await
            }));
        }
        wait_until(
            "all 10,000 tasks were polled",
            Duration::from_secs(20),
            || polls.load(SeqCst) == 10_000,
        );
        // Some tasks that are runnable (yielding) and some queued, maybe never polled.
        for i in 0..2_000 {
            let g = tally.guard();
            handles.push(rt.spawn(async move {
                let _g = g;
                if i % 2 == 0 {
                    loop {
                        magpie::task::yield_now().await;
                    }
                } else {
                    pending_forever(counter()).await
                }
            }));
        }
        // Idle tasks that never held a queue entry since their first poll, from inside.
        rt.block_on(async {
            for _ in 0..1_000 {
                let g = tally.guard();
                drop(magpie::spawn(async move {
                    let _g = g;
                    pending_forever(counter()).await
                }));
            }
        });
        assert_eq!(
            tally.dropped(),
            0,
            "a pending future was dropped before shutdown"
        );
        drop(rt);
        assert_eq!(tally.created(), 13_000);
        tally.assert_all_dropped("runtime drop");
        for h in handles {
            assert!(h.is_finished());
            assert!(block_on_plain(h).unwrap_err().is_cancelled());
        }
    });
}

#[test]
fn thread_start_hooks_equal_stop_hooks_after_drop_including_blocking_threads() {
    guard("hook balance", || {
        for round in 0..5 {
            let (rt, HookCounts { starts, stops }) = counted_runtime(2);
            // Four closures that wait for each other: four blocking threads at once.
            let barrier = Arc::new(std::sync::Barrier::new(4));
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let barrier = barrier.clone();
                    rt.spawn_blocking(move || {
                        barrier.wait();
                    })
                })
                .collect();
            for h in handles {
                rt.block_on(h).unwrap();
            }
            if round % 2 == 0 {
                // Leave one blocking thread busy at drop time: the drop waits for it.
                drop(rt.spawn_blocking(|| std::thread::sleep(Duration::from_millis(50))));
            }
            drop(rt);
            let started = starts.load(SeqCst);
            assert!(
                started >= 3,
                "round {round}: 2 workers + blocking threads, got {started}"
            );
            assert_eq!(
                stops.load(SeqCst),
                started,
                "round {round}: start != stop hooks"
            );
        }
    });
}

#[test]
fn a_drop_that_wakes_another_task_during_shutdown_does_not_deadlock() {
    guard("Drop wakes a task at shutdown", || {
        for round in 0..10 {
            let rt = runtime(2);
            let tally = Tally::new();
            let polls = counter();
            for _ in 0..100 {
                // Task B: stashes its waker and stays pending.
                let slot = Arc::new(Mutex::new(None));
                let g = tally.guard();
                let b = StashWaker {
                    slot: slot.clone(),
                    polls: polls.clone(),
                };
                drop(rt.spawn(async move {
                    let _g = g;
                    b.await
                }));
                // Task A: wakes B from its Drop.
                struct WakeOnDrop(Arc<Mutex<Option<Waker>>>);
                impl Drop for WakeOnDrop {
                    fn drop(&mut self) {
                        if let Some(w) = self.0.lock().unwrap().take() {
                            w.wake();
                        }
                    }
                }
                let (g, waker) = (tally.guard(), WakeOnDrop(slot));
                let p = polls.clone();
                drop(rt.spawn(async move {
                    let _g = g;
                    let _waker = waker;
                    pending_forever(p).await
                }));
            }
            wait_until("all tasks polled", Duration::from_secs(10), || {
                polls.load(SeqCst) >= 200
            });
            drop(rt);
            tally.assert_all_dropped(&format!("round {round}"));
        }
    });
}

#[test]
fn a_drop_that_spawns_during_shutdown_does_not_deadlock_and_the_spawn_is_dropped() {
    guard("Drop spawns at shutdown", || {
        let rt = runtime(2);
        let tally = Tally::new();
        let polls = counter();
        let spawned_results = Arc::new(Mutex::new(Vec::new()));
        struct SpawnOnDrop {
            handle: Handle,
            tally: Tally,
            /// (is it a blocking closure, its handle)
            results: Arc<Mutex<Vec<Spawned>>>,
        }
        type Spawned = (bool, magpie::JoinHandle<()>);
        impl Drop for SpawnOnDrop {
            fn drop(&mut self) {
                let g = self.tally.guard();
                let h = self.handle.spawn(async move {
                    let _g = g;
                    pending_forever(counter()).await
                });
                let b = self.tally.guard();
                let hb = self.handle.spawn_blocking(move || drop(b));
                let mut results = self.results.lock().unwrap();
                results.push((false, h));
                results.push((true, hb));
            }
        }
        for _ in 0..100 {
            let bomb = SpawnOnDrop {
                handle: rt.handle().clone(),
                tally: tally.clone(),
                results: spawned_results.clone(),
            };
            let (g, p) = (tally.guard(), polls.clone());
            drop(rt.spawn(async move {
                let _g = g;
                let _bomb = bomb;
                pending_forever(p).await
            }));
        }
        wait_until("all tasks polled", Duration::from_secs(10), || {
            polls.load(SeqCst) == 100
        });
        drop(rt);
        assert_eq!(tally.created(), 300);
        tally.assert_all_dropped("spawned during shutdown");
        let results = std::mem::take(&mut *spawned_results.lock().unwrap());
        assert_eq!(results.len(), 200);
        for (is_blocking, h) in results {
            match block_on_plain(h) {
                // The blocking pool shuts down after the futures are dropped, so a closure
                // spawned from a future's Drop may still run (and the drop waits for it).
                Ok(()) => assert!(is_blocking, "a task spawned during shutdown completed"),
                Err(e) => assert!(e.is_cancelled(), "{e:?}"),
            }
        }
    });
}

#[test]
fn a_waker_woken_after_its_runtime_is_gone_is_a_no_op() {
    guard("stale waker", || {
        let rt = runtime(2);
        let slot = Arc::new(Mutex::new(None));
        let polls = counter();
        let tally = Tally::new();
        let (g, s, p) = (tally.guard(), slot.clone(), polls.clone());
        drop(rt.spawn(async move {
            let _g = g;
            StashWaker { slot: s, polls: p }.await
        }));
        // And the waker of a task that completed.
        let done_slot = Arc::new(Mutex::new(None));
        let ds = done_slot.clone();
        rt.block_on(rt.spawn(async move {
            std::future::poll_fn(|cx| {
                *ds.lock().unwrap() = Some(cx.waker().clone());
                Poll::Ready(())
            })
            .await
        }))
        .unwrap();
        wait_until("the task was polled", Duration::from_secs(10), || {
            polls.load(SeqCst) == 1
        });
        drop(rt);
        tally.assert_all_dropped("stale waker's task");
        for slot in [slot, done_slot] {
            let waker = slot.lock().unwrap().take().expect("no waker stashed");
            waker.wake_by_ref();
            let clone = waker.clone();
            assert!(clone.will_wake(&waker));
            clone.wake();
            std::thread::spawn(move || waker.wake()).join().unwrap();
        }
        assert_eq!(polls.load(SeqCst), 1, "a task was polled after shutdown");
    });
}

#[test]
fn wakes_racing_shutdown_are_harmless() {
    guard("wakes racing shutdown", || {
        for round in 0..20 {
            let rt = runtime(2);
            let tally = Tally::new();
            let polls = counter();
            let slots: Vec<_> = (0..50).map(|_| Arc::new(Mutex::new(None))).collect();
            for slot in &slots {
                let (g, s, p) = (tally.guard(), slot.clone(), polls.clone());
                drop(rt.spawn(async move {
                    let _g = g;
                    StashWaker { slot: s, polls: p }.await
                }));
            }
            wait_until("all tasks polled", Duration::from_secs(10), || {
                polls.load(SeqCst) >= 50
            });
            let stop = Arc::new(AtomicBool::new(false));
            let waker_thread = {
                let (slots, stop) = (slots.clone(), stop.clone());
                std::thread::spawn(move || {
                    while !stop.load(SeqCst) {
                        for slot in &slots {
                            let w = slot.lock().unwrap().clone();
                            if let Some(w) = w {
                                w.wake();
                            }
                        }
                    }
                })
            };
            std::thread::sleep(Duration::from_millis(2));
            drop(rt);
            stop.store(true, SeqCst);
            waker_thread.join().unwrap();
            tally.assert_all_dropped(&format!("round {round}"));
        }
    });
}

#[test]
fn shutdown_timeout_returns_on_time_with_a_stuck_blocking_task_and_cancels_queued_ones() {
    guard("shutdown_timeout", || {
        let rt = Runtime::builder()
            .worker_threads(1)
            .max_blocking_threads(1)
            .build()
            .unwrap();
        let (started_tx, started_rx) = mpsc::channel();
        let stuck = rt.spawn_blocking(move || {
            started_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_secs(5));
        });
        started_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        let queued_ran = Arc::new(AtomicBool::new(false));
        let q = queued_ran.clone();
        let queued = rt.spawn_blocking(move || q.store(true, SeqCst));
        let start = Instant::now();
        rt.shutdown_timeout(Duration::from_millis(300));
        let took = start.elapsed();
        assert!(
            took < Duration::from_millis(1_300),
            "shutdown_timeout(300ms) took {took:?}"
        );
        let err = block_on_plain(queued).unwrap_err();
        assert!(err.is_cancelled(), "{err:?}");
        assert!(!queued_ran.load(SeqCst));
        assert!(!stuck.is_finished());
        drop(stuck);
    });
}

#[test]
fn shutdown_timeout_returns_on_time_with_a_worker_stuck_in_a_poll() {
    guard("shutdown_timeout, stuck worker", || {
        let (rt, hooks) = counted_runtime(2);
        let tally = Tally::new();
        let (in_poll_tx, in_poll_rx) = mpsc::channel();
        let g = tally.guard();
        let h = rt.spawn(async move {
            let _g = g;
            in_poll_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_secs(2));
            pending_forever(counter()).await
        });
        in_poll_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        let start = Instant::now();
        rt.shutdown_timeout(Duration::from_millis(200));
        let took = start.elapsed();
        assert!(took < Duration::from_millis(1_200), "took {took:?}");
        // The worker finishes its poll, then drops the future and stops.
        tally.wait_all_dropped("the stuck task", Duration::from_secs(10));
        assert!(block_on_plain(h).unwrap_err().is_cancelled());
        hooks.wait_balanced(Duration::from_secs(10));
    });
}

#[test]
fn dropping_the_runtime_waits_for_running_blocking_closures() {
    guard("drop waits for blocking", || {
        let rt = runtime(1);
        let finished = Arc::new(AtomicBool::new(false));
        let (started_tx, started_rx) = mpsc::channel();
        let f = finished.clone();
        let h = rt.spawn_blocking(move || {
            started_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(300));
            f.store(true, SeqCst);
            5
        });
        started_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        drop(rt);
        assert!(
            finished.load(SeqCst),
            "the drop did not wait for the running closure"
        );
        assert_eq!(block_on_plain(h).unwrap(), 5);
    });
}

#[test]
fn spawn_blocking_after_shutdown_is_cancelled_and_never_hangs() {
    guard("spawn_blocking after shutdown", || {
        let rt = runtime(1);
        let handle = rt.handle().clone();
        // Let a blocking thread exist first, so the pool has something to shut down.
        assert_eq!(rt.block_on(rt.spawn_blocking(|| 1)).unwrap(), 1);
        drop(rt);
        let ran = Arc::new(AtomicBool::new(false));
        let r = ran.clone();
        let h = handle.spawn_blocking(move || r.store(true, SeqCst));
        let err = block_on_plain(h).unwrap_err();
        assert!(err.is_cancelled(), "{err:?}");
        assert!(!ran.load(SeqCst));
    });
}

#[test]
fn spawn_after_shutdown_is_cancelled_and_drops_the_future() {
    guard("spawn after shutdown", || {
        let rt = runtime(2);
        let handle = rt.handle().clone();
        drop(rt);
        let tally = Tally::new();
        let polls = counter();
        let (g, p) = (tally.guard(), polls.clone());
        let h = handle.spawn(async move {
            let _g = g;
            pending_forever(p).await
        });
        assert_eq!(
            tally.dropped(),
            1,
            "the future of a spawn after shutdown was kept"
        );
        assert!(h.is_finished());
        assert!(block_on_plain(h).unwrap_err().is_cancelled());
        assert_eq!(polls.load(SeqCst), 0);
        // block_on on a dead runtime's handle still runs a plain future.
        assert_eq!(handle.block_on(async { 3 }), 3);
    });
}

#[test]
fn shutdown_background_returns_immediately_and_drops_pending_futures() {
    guard("shutdown_background", || {
        let (rt, hooks) = counted_runtime(2);
        let tally = Tally::new();
        let polls = counter();
        for _ in 0..1_000 {
            let (g, p) = (tally.guard(), polls.clone());
            drop(rt.spawn(async move {
                let _g = g;
                pending_forever(p).await
            }));
        }
        let (started_tx, started_rx) = mpsc::channel();
        let blocking = rt.spawn_blocking(move || {
            started_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_secs(2));
        });
        started_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        wait_until("all tasks polled", Duration::from_secs(10), || {
            polls.load(SeqCst) == 1_000
        });
        let start = Instant::now();
        rt.shutdown_background();
        let took = start.elapsed();
        assert!(
            took < Duration::from_millis(500),
            "shutdown_background took {took:?}"
        );
        tally.wait_all_dropped("shutdown_background", Duration::from_secs(10));
        // The blocking closure finishes on its own; then every thread has stopped.
        assert!(block_on_plain(blocking).is_ok());
        hooks.wait_balanced(Duration::from_secs(10));
    });
}

#[test]
fn a_runtime_dropped_from_inside_one_of_its_own_tasks_does_not_hang() {
    guard("drop from own task", || {
        for round in 0..5 {
            let (rt, hooks) = counted_runtime(2);
            let tally = Tally::new();
            for _ in 0..100 {
                let g = tally.guard();
                drop(rt.spawn(async move {
                    let _g = g;
                    pending_forever(counter()).await
                }));
            }
            let handle = rt.handle().clone();
            let slot = Arc::new(Mutex::new(Some(rt)));
            let (dropped_tx, dropped_rx) = mpsc::channel();
            let s = slot.clone();
            let killer = handle.spawn(async move {
                let rt = s.lock().unwrap().take().expect("runtime not handed over");
                drop(rt);
                dropped_tx.send(()).unwrap();
                7
            });
            match dropped_rx.recv_timeout(Duration::from_secs(10)) {
                Ok(()) => {}
                Err(_) => panic!("round {round}: dropping the runtime from its own task hung"),
            }
            tally.wait_all_dropped(&format!("round {round}"), Duration::from_secs(10));
            match block_on_plain(killer) {
                Ok(v) => assert_eq!(v, 7),
                Err(e) => assert!(e.is_cancelled(), "{e:?}"),
            }
            hooks.wait_balanced(Duration::from_secs(10));
        }
    });
}

#[test]
fn a_runtime_dropped_inside_handle_block_on_does_not_hang() {
    guard("drop inside Handle::block_on", || {
        let rt = runtime(2);
        let handle = rt.handle().clone();
        let tally = Tally::new();
        let g = tally.guard();
        let pending = rt.spawn(async move {
            let _g = g;
            pending_forever(counter()).await
        });
        let mut slot = Some(rt);
        let result = handle.block_on(async move {
            drop(slot.take());
            pending.await
        });
        assert!(result.unwrap_err().is_cancelled());
        tally.assert_all_dropped("pending task");
    });
}

#[test]
fn a_runtime_dropped_on_another_std_thread_does_not_hang() {
    guard("drop on a std thread", || {
        let rt = runtime(2);
        let tally = Tally::new();
        for _ in 0..100 {
            let g = tally.guard();
            drop(rt.spawn(async move {
                let _g = g;
                pending_forever(counter()).await
            }));
        }
        std::thread::spawn(move || drop(rt)).join().unwrap();
        tally.assert_all_dropped("dropped on another thread");
    });
}

#[test]
fn a_runtime_dropped_from_inside_its_own_spawn_blocking_closure_does_not_hang() {
    watchdog(
        "drop from own blocking thread",
        Duration::from_secs(15),
        || {
            let rt = runtime(2);
            let handle = rt.handle().clone();
            let slot = Arc::new(Mutex::new(Some(rt)));
            let (dropped_tx, dropped_rx) = mpsc::channel();
            let h = handle.spawn_blocking(move || {
                let rt = slot.lock().unwrap().take();
                drop(rt);
                dropped_tx.send(()).unwrap();
            });
            dropped_rx
                .recv_timeout(Duration::from_secs(10))
                .expect("dropping the runtime from its own blocking thread hung");
            assert!(block_on_plain(h).is_ok());
        },
    );
}

#[test]
fn block_on_through_a_handle_returns_when_the_runtime_is_dropped_underneath() {
    guard("block_on across shutdown", || {
        let rt = runtime(2);
        let handle = rt.handle().clone();
        let tally = Tally::new();
        let g = tally.guard();
        let task = rt.spawn(async move {
            let _g = g;
            pending_forever(counter()).await
        });
        let (entered_tx, entered_rx) = mpsc::channel();
        let waiter = std::thread::spawn(move || {
            handle.block_on(async move {
                entered_tx.send(()).unwrap();
                task.await
            })
        });
        entered_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        drop(rt);
        let result = waiter.join().unwrap();
        assert!(result.unwrap_err().is_cancelled());
        tally.assert_all_dropped("the awaited task");
    });
}

#[test]
fn shutdown_with_panicking_and_joined_tasks_accounts_every_future() {
    quiet_expected_panics();
    guard("mixed shutdown", || {
        let rt = runtime(2);
        let tally = Tally::new();
        let t = tally.clone();
        // Tasks that await each other's JoinHandles: dropping one future drops a JoinHandle.
        rt.block_on(async move {
            let mut prev: Option<magpie::JoinHandle<()>> = None;
            for _ in 0..500 {
                let g = t.guard();
                let before = prev.take();
                prev = Some(magpie::spawn(async move {
                    let _g = g;
                    if let Some(before) = before {
                        let _ = before.await;
                    }
                    pending_forever(counter()).await
                }));
            }
            drop(prev);
        });
        drop(rt);
        tally.assert_all_dropped("chained JoinHandles");
    });
}
