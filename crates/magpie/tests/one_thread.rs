//! The current-thread runtime, local tasks and `block_in_place` (issue 18): tasks, timers
//! and sockets on one thread; `Rc` shared between local tasks; where a local task's future
//! is dropped for each way it can end; local tasks never move under stealing pressure; a
//! one-worker runtime ticking while a task blocks in place; clear panics where a call cannot
//! work.

use magpie::sync::oneshot;
use magpie::task::{self, JoinError};
use magpie::{Builder, Runtime};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

fn current_thread() -> Runtime {
    Builder::new_current_thread().build().unwrap()
}

/// Records the thread a value was dropped on (a future holding one records where the future
/// was dropped).
#[derive(Clone, Default)]
struct DropSpy(Arc<Mutex<Vec<ThreadId>>>);

struct DropGuard(DropSpy);

impl Drop for DropGuard {
    fn drop(&mut self) {
        (self.0).0.lock().unwrap().push(thread::current().id());
    }
}

impl DropSpy {
    fn guard(&self) -> DropGuard {
        DropGuard(self.clone())
    }

    fn drops(&self) -> Vec<ThreadId> {
        self.0.lock().unwrap().clone()
    }
}

/// A `!Send` marker for futures: holding it across an await makes the future `!Send`.
fn not_send() -> Rc<()> {
    Rc::new(())
}

#[test]
fn every_task_runs_on_the_thread_inside_block_on() {
    let rt = current_thread();
    let me = thread::current().id();
    let ids = rt.block_on(async {
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                magpie::spawn(async move {
                    magpie::time::sleep(Duration::from_millis(i % 3)).await;
                    task::yield_now().await;
                    thread::current().id()
                })
            })
            .collect();
        let mut ids = Vec::new();
        for t in tasks {
            ids.push(t.await.unwrap());
        }
        ids
    });
    assert!(ids.iter().all(|id| *id == me));
    assert_eq!(rt.handle().metrics().num_workers(), 1);
}

#[test]
fn sockets_work_on_a_current_thread_runtime() {
    use magpie::io::{AsyncReadExt, AsyncWriteExt};
    let rt = current_thread();
    let echoed = rt.block_on(async {
        let listener = magpie::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = task::spawn_local(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = vec![0; 1024];
            loop {
                let n = stream.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                stream.write_all(&buf[..n]).await.unwrap();
            }
        });
        let mut client = magpie::net::TcpStream::connect(addr).await.unwrap();
        let mut echoed = Vec::new();
        for round in 0..50u32 {
            let msg = format!("round {round}\n");
            client.write_all(msg.as_bytes()).await.unwrap();
            let mut buf = vec![0; msg.len()];
            client.read_exact(&mut buf).await.unwrap();
            echoed.push(String::from_utf8(buf).unwrap());
        }
        drop(client);
        server.await.unwrap();
        echoed
    });
    assert_eq!(echoed.len(), 50);
    assert_eq!(echoed[49], "round 49\n");
}

#[test]
fn local_tasks_share_rc_state() {
    let rt = current_thread();
    let log = rt.block_on(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let tasks: Vec<_> = (0..5)
            .map(|i| {
                let log = log.clone();
                task::spawn_local(async move {
                    for step in 0..3 {
                        log.borrow_mut().push((i, step));
                        task::yield_now().await;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        Rc::try_unwrap(log).unwrap().into_inner()
    });
    assert_eq!(log.len(), 15);
    for i in 0..5 {
        let steps: Vec<_> = log
            .iter()
            .filter(|(t, _)| *t == i)
            .map(|(_, s)| *s)
            .collect();
        assert_eq!(steps, [0, 1, 2]);
    }
}

#[test]
fn spawns_from_another_thread_wake_the_runtime() {
    let rt = current_thread();
    let handle = rt.handle().clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let spawner = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        let join = handle.spawn(async { thread::current().id() });
        tx.send(join).unwrap();
    });
    let me = thread::current().id();
    let ran_on = rt.block_on(async move {
        let join = magpie::task::spawn_blocking(move || rx.recv().unwrap())
            .await
            .unwrap();
        join.await.unwrap()
    });
    spawner.join().unwrap();
    assert_eq!(ran_on, me);
}

#[test]
fn tasks_left_pending_run_in_the_next_block_on() {
    let rt = current_thread();
    let (tx, rx) = oneshot::channel();
    // Spawned from inside a block_on (onto its worker's queue), which then returns.
    let join = rt.block_on(async move {
        let join = magpie::spawn(async move {
            let v: u32 = rx.await.unwrap();
            v * 2
        });
        Some(join)
    });
    let join = join.unwrap();
    // No block_on runs: the task waits. The next block_on runs it.
    tx.send(21).unwrap();
    assert_eq!(rt.block_on(join).unwrap(), 42);
}

#[test]
fn paused_time_and_spawn_blocking_work_on_one_thread() {
    let rt = Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    let (elapsed, blocking) = rt.block_on(async {
        let start = magpie::time::Instant::now();
        let sleeper = task::spawn_local(magpie::time::sleep(Duration::from_secs(3600)));
        let blocking = magpie::task::spawn_blocking(|| 7).await.unwrap();
        sleeper.await.unwrap();
        (start.elapsed(), blocking)
    });
    assert!(elapsed >= Duration::from_secs(3600));
    assert_eq!(blocking, 7);
}

#[test]
fn two_threads_in_block_on_share_the_one_worker() {
    let rt = current_thread();
    let handle = rt.handle().clone();
    let total = rt.block_on(async move {
        // A blocking thread enters block_on while this thread runs the worker: it polls its
        // own future, whose timer the worker's driver fires.
        let other = magpie::task::spawn_blocking(move || {
            handle.block_on(async {
                magpie::time::sleep(Duration::from_millis(10)).await;
                let t = magpie::spawn(async { 2 });
                t.await.unwrap()
            })
        });
        magpie::time::sleep(Duration::from_millis(1)).await;
        other.await.unwrap() + 1
    });
    assert_eq!(total, 3);
}

#[test]
fn a_block_on_waiting_for_the_worker_takes_it_when_the_holder_returns() {
    let rt = Arc::new(current_thread());
    let (entered_tx, entered_rx) = std::sync::mpsc::channel();
    let rt2 = rt.clone();
    let second = thread::spawn(move || {
        entered_rx.recv().unwrap();
        // The first block_on holds the worker for a while, then returns; this one must then
        // take the worker to fire its timer.
        rt2.block_on(async {
            magpie::time::sleep(Duration::from_millis(50)).await;
            "done"
        })
    });
    rt.block_on(async {
        entered_tx.send(()).unwrap();
        magpie::time::sleep(Duration::from_millis(5)).await;
    });
    assert_eq!(second.join().unwrap(), "done");
}

#[test]
fn dropping_a_current_thread_runtime_drops_every_future_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    struct Count(Arc<AtomicUsize>);
    impl Drop for Count {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let rt = current_thread();
    rt.block_on(async {
        for _ in 0..10 {
            let c = Count(drops.clone());
            magpie::spawn(async move {
                let _c = c;
                std::future::pending::<()>().await;
            });
        }
        task::yield_now().await;
    });
    // Five more never polled at all.
    for _ in 0..5 {
        let c = Count(drops.clone());
        rt.spawn(async move {
            let _c = c;
        });
    }
    drop(rt);
    assert_eq!(drops.load(Ordering::SeqCst), 15);
}

// ---- Where a local task's future is dropped, for each way it can end ----

#[test]
fn a_completed_local_task_drops_its_future_on_its_thread() {
    let spy = DropSpy::default();
    let rt = current_thread();
    let guard = spy.guard();
    rt.block_on(async move {
        task::spawn_local(async move {
            let _guard = guard;
            let _rc = not_send();
            task::yield_now().await;
        })
        .await
        .unwrap();
    });
    assert_eq!(spy.drops(), [thread::current().id()]);
}

#[test]
fn an_aborted_local_task_is_dropped_on_its_thread_even_when_aborted_from_another() {
    let spy = DropSpy::default();
    let rt = Runtime::builder().worker_threads(2).build().unwrap();
    let guard = spy.guard();
    let me = thread::current().id();
    let err = rt.block_on(async move {
        let join = task::spawn_local(async move {
            let _guard = guard;
            let _rc = not_send();
            std::future::pending::<()>().await;
        });
        let abort = join.abort_handle();
        // The abort comes from a plain thread: the task is queued back to this one.
        thread::spawn(move || abort.abort()).join().unwrap();
        join.await.unwrap_err()
    });
    assert!(err.is_cancelled());
    assert_eq!(spy.drops(), [me]);
}

#[test]
fn a_panicking_local_task_is_dropped_on_its_thread_and_reports_the_panic() {
    let spy = DropSpy::default();
    let rt = current_thread();
    let guard = spy.guard();
    let err: JoinError = rt.block_on(async move {
        task::spawn_local(async move {
            let _guard = guard;
            let _rc = not_send();
            task::yield_now().await;
            panic!("local boom");
        })
        .await
        .unwrap_err()
    });
    assert!(err.is_panic());
    assert_eq!(spy.drops(), [thread::current().id()]);
}

#[test]
fn local_tasks_pending_when_block_on_returns_are_dropped_there() {
    for rt in [
        current_thread(),
        Runtime::builder().worker_threads(2).build().unwrap(),
    ] {
        let spy = DropSpy::default();
        let guards: Vec<_> = (0..3).map(|_| spy.guard()).collect();
        let (join_tx, join_rx) = std::sync::mpsc::channel();
        rt.block_on(async move {
            for guard in guards {
                let join = task::spawn_local(async move {
                    let _guard = guard;
                    let _rc = not_send();
                    std::future::pending::<()>().await;
                });
                join_tx.send(join).unwrap();
            }
            task::yield_now().await;
        });
        // Dropped before block_on returned, on this thread; their handles say cancelled.
        assert_eq!(spy.drops(), vec![thread::current().id(); 3]);
        for join in join_rx.try_iter() {
            let err = rt.block_on(join).unwrap_err();
            assert!(err.is_cancelled());
        }
    }
}

#[test]
fn worker_local_tasks_are_dropped_on_their_worker_when_the_runtime_is_dropped_elsewhere() {
    let spy = DropSpy::default();
    let rt = Runtime::builder().worker_threads(2).build().unwrap();
    let guards: Vec<_> = (0..4).map(|_| spy.guard()).collect();
    let owners = rt.block_on(async move {
        let mut owners = Vec::new();
        for guard in guards {
            // A task on a worker spawns the local task there and reports its thread.
            let owner = magpie::spawn(async move {
                let (started_tx, started_rx) = oneshot::channel();
                task::spawn_local(async move {
                    let _guard = guard;
                    let _rc = not_send();
                    started_tx.send(thread::current().id()).unwrap();
                    std::future::pending::<()>().await;
                });
                started_rx.await.unwrap()
            });
            owners.push(owner.await.unwrap());
        }
        owners
    });
    // Dropped from the main thread: each worker drops its own local tasks.
    drop(rt);
    let mut drops = spy.drops();
    let mut owners = owners;
    drops.sort_by_key(|id| format!("{id:?}"));
    owners.sort_by_key(|id| format!("{id:?}"));
    assert_eq!(drops, owners);
    assert!(!drops.contains(&thread::current().id()));
}

#[test]
fn a_local_task_woken_from_another_thread_runs_on_its_own() {
    let rt = Runtime::builder().worker_threads(2).build().unwrap();
    let me = thread::current().id();
    let polled_on = rt.block_on(async {
        let (tx, rx) = oneshot::channel::<u32>();
        let join = task::spawn_local(async move {
            let _rc = not_send();
            let v = rx.await.unwrap();
            (v, thread::current().id())
        });
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(10));
            tx.send(5).unwrap();
        });
        join.await.unwrap()
    });
    assert_eq!(polled_on, (5, me));
}

#[test]
fn local_tasks_on_a_worker_never_move_under_stealing_pressure() {
    let rt = Runtime::builder().worker_threads(4).build().unwrap();
    let moved = rt.block_on(async {
        // Busy tasks keep every worker stealing from the others.
        let busy: Vec<_> = (0..64)
            .map(|_| {
                magpie::spawn(async {
                    for _ in 0..200 {
                        task::yield_now().await;
                    }
                })
            })
            .collect();
        let owners: Vec<_> = (0..8)
            .map(|_| {
                magpie::spawn(async {
                    let home = thread::current().id();
                    let locals: Vec<_> = (0..8)
                        .map(|_| {
                            task::spawn_local(async move {
                                let _rc = not_send();
                                let mut moved = 0;
                                for _ in 0..100 {
                                    if thread::current().id() != home {
                                        moved += 1;
                                    }
                                    task::yield_now().await;
                                }
                                moved
                            })
                        })
                        .collect();
                    let mut moved = 0;
                    for local in locals {
                        moved += local.await.unwrap();
                    }
                    moved
                })
            })
            .collect();
        for b in busy {
            b.await.unwrap();
        }
        let mut moved = 0;
        for o in owners {
            moved += o.await.unwrap();
        }
        moved
    });
    assert_eq!(moved, 0, "local task polls off their worker");
}

#[test]
fn spawn_local_outside_a_runtime_panics_clearly() {
    let err = std::panic::catch_unwind(|| {
        task::spawn_local(async {});
    })
    .unwrap_err();
    let msg = err.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(msg.contains("spawn_local"), "{msg}");
    assert!(msg.contains("block_on"), "{msg}");
}

#[test]
fn spawn_local_on_a_blocking_thread_panics_and_the_builder_form_errs() {
    let rt = Runtime::builder().worker_threads(1).build().unwrap();
    let (panicked, err) = rt.block_on(async {
        magpie::task::spawn_blocking(|| {
            let panicked = std::panic::catch_unwind(|| {
                task::spawn_local(async {});
            })
            .is_err();
            let err = task::Builder::new()
                .name("x")
                .spawn_local(async {})
                .unwrap_err();
            (panicked, err.to_string())
        })
        .await
        .unwrap()
    });
    assert!(panicked);
    assert!(err.contains("runs no tasks"), "{err}");
}

#[test]
fn named_local_tasks_report_their_name() {
    let rt = current_thread();
    let name = rt.block_on(async {
        task::Builder::new()
            .name("local-one")
            .spawn_local(async { task::name() })
            .unwrap()
            .await
            .unwrap()
    });
    assert_eq!(name.as_deref(), Some("local-one"));
}

// ---- block_in_place ----

#[test]
fn a_one_worker_runtime_keeps_ticking_while_a_task_blocks_in_place() {
    let rt = Runtime::builder().worker_threads(1).build().unwrap();
    let ticks = rt.block_on(async {
        let ticks = Arc::new(AtomicUsize::new(0));
        let ticker = {
            let ticks = ticks.clone();
            magpie::spawn(async move {
                loop {
                    magpie::time::sleep(Duration::from_millis(5)).await;
                    ticks.fetch_add(1, Ordering::SeqCst);
                }
            })
        };
        let seen = {
            let ticks = ticks.clone();
            magpie::spawn(async move {
                task::block_in_place(|| {
                    // Blocks this (the only) worker's thread until the ticker has ticked:
                    // only a stand-in can run it meanwhile.
                    let deadline = Instant::now() + Duration::from_secs(20);
                    while ticks.load(Ordering::SeqCst) < 5 && Instant::now() < deadline {
                        thread::sleep(Duration::from_millis(1));
                    }
                    ticks.load(Ordering::SeqCst)
                })
            })
            .await
            .unwrap()
        };
        ticker.abort();
        seen
    });
    assert!(
        ticks >= 5,
        "the ticker ticked {ticks} times while a task blocked in place"
    );
}

#[test]
fn block_in_place_keeps_local_tasks_on_their_thread_and_resumes_them_after() {
    let rt = Runtime::builder().worker_threads(1).build().unwrap();
    let (same, value) = rt.block_on(async {
        magpie::spawn(async {
            let home = thread::current().id();
            let local = task::spawn_local(async move {
                let _rc = not_send();
                task::yield_now().await;
                thread::current().id()
            });
            task::block_in_place(|| thread::sleep(Duration::from_millis(30)));
            let ran_on = local.await.unwrap();
            let back = thread::current().id();
            (ran_on == home && back == home, 1)
        })
        .await
        .unwrap()
    });
    assert!(same);
    assert_eq!(value, 1);
}

#[test]
fn a_panic_in_block_in_place_propagates_and_the_worker_goes_on() {
    let rt = Runtime::builder().worker_threads(1).build().unwrap();
    rt.block_on(async {
        let err = magpie::spawn(async {
            task::block_in_place(|| panic!("blocked and failed"));
        })
        .await
        .unwrap_err();
        assert!(err.is_panic());
        // The worker still runs tasks, timers included.
        magpie::spawn(async {
            magpie::time::sleep(Duration::from_millis(2)).await;
        })
        .await
        .unwrap();
    });
}

#[test]
fn block_in_place_nests_and_may_block_on() {
    let rt = Runtime::builder().worker_threads(1).build().unwrap();
    let handle = rt.handle().clone();
    let v = rt.block_on(async move {
        magpie::spawn(async move {
            task::block_in_place(|| {
                let inner = task::block_in_place(|| 20);
                // The thread stepped out of its worker: it may enter block_on.
                handle.block_on(async move {
                    magpie::time::sleep(Duration::from_millis(1)).await;
                    inner + 1
                })
            })
        })
        .await
        .unwrap()
    });
    assert_eq!(v, 21);
}

#[test]
fn block_in_place_from_a_task_run_by_a_stand_in() {
    let rt = Runtime::builder().worker_threads(1).build().unwrap();
    let sum = rt.block_on(async {
        let (tx, rx) = oneshot::channel::<()>();
        let first = magpie::spawn(async move {
            task::block_in_place(|| {
                // Blocks until the second task, run by the stand-in, blocked in place too.
                rx.blocking_recv().unwrap();
                1
            })
        });
        let second = magpie::spawn(async move {
            task::block_in_place(|| {
                tx.send(()).unwrap();
                thread::sleep(Duration::from_millis(5));
                2
            })
        });
        first.await.unwrap() + second.await.unwrap()
    });
    assert_eq!(sum, 3);
}

#[test]
fn block_in_place_outside_a_worker_just_runs() {
    assert_eq!(task::block_in_place(|| 3), 3);
    let rt = Runtime::builder().worker_threads(1).build().unwrap();
    assert_eq!(rt.block_on(async { task::block_in_place(|| 4) }), 4);
}

#[test]
fn block_in_place_on_a_current_thread_runtime_panics_clearly() {
    let rt = current_thread();
    let err = rt
        .block_on(async {
            magpie::spawn(async {
                task::block_in_place(|| ());
            })
            .await
        })
        .unwrap_err();
    assert!(err.is_panic());
    let msg = err.into_panic();
    let msg = msg
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| msg.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap();
    assert!(msg.contains("current-thread"), "{msg}");
    // In the block_on future itself, too.
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async { task::block_in_place(|| ()) })
    }));
    assert!(caught.is_err());
}

// ---- Builder checks and seeds ----

#[test]
fn builder_refuses_settings_that_do_not_apply() {
    let err = std::panic::catch_unwind(|| {
        Runtime::builder().rng_seed(1);
    })
    .unwrap_err();
    let msg = err.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(msg.contains("current-thread"), "{msg}");
    let err = std::panic::catch_unwind(|| {
        Builder::new_current_thread().worker_threads(2);
    })
    .unwrap_err();
    let msg = err.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(msg.contains("current-thread"), "{msg}");
}

/// The order of polls of yielding, sleeping, spawned and local tasks under `seed`.
fn schedule(seed: Option<u64>) -> Vec<u32> {
    let mut builder = Builder::new_current_thread();
    builder.start_paused(true);
    if let Some(seed) = seed {
        builder.rng_seed(seed);
    }
    let rt = builder.build().unwrap();
    rt.block_on(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let shared = Arc::new(Mutex::new(Vec::new()));
        let mut locals = Vec::new();
        for i in 0..6u32 {
            let log = log.clone();
            locals.push(task::spawn_local(async move {
                for step in 0..3 {
                    log.borrow_mut().push(i * 10 + step);
                    if step == 1 {
                        magpie::time::sleep(Duration::from_millis(10)).await;
                    } else {
                        task::yield_now().await;
                    }
                }
            }));
        }
        let mut spawned = Vec::new();
        for i in 0..3u32 {
            let shared = shared.clone();
            spawned.push(magpie::spawn(async move {
                shared.lock().unwrap().push(100 + i);
                task::yield_now().await;
                shared.lock().unwrap().push(200 + i);
            }));
        }
        for t in locals {
            t.await.unwrap();
        }
        for t in spawned {
            t.await.unwrap();
        }
        let mut order = log.borrow().clone();
        order.extend(shared.lock().unwrap().iter());
        order
    })
}

#[test]
fn the_same_seed_gives_the_same_schedule_and_seeds_differ() {
    for seed in [1, 2, 99] {
        assert_eq!(schedule(Some(seed)), schedule(Some(seed)), "seed {seed}");
    }
    assert_eq!(schedule(None), schedule(None), "FIFO");
    let distinct: std::collections::HashSet<_> = (1..=30).map(|s| schedule(Some(s))).collect();
    assert!(
        distinct.len() >= 10,
        "30 seeds gave only {} schedules",
        distinct.len()
    );
    // Every schedule still runs every step.
    for s in &distinct {
        assert_eq!(s.len(), 24);
    }
}

#[test]
fn spawn_local_counts_in_the_runtime_metrics() {
    let rt = current_thread();
    let before = rt.metrics().spawned_tasks_count();
    rt.block_on(async {
        for _ in 0..3 {
            task::spawn_local(async {}).await.unwrap();
        }
    });
    assert_eq!(rt.metrics().spawned_tasks_count() - before, 3);
    let _ = Cell::new(0);
}

#[test]
fn slow_polls_and_worker_metrics_are_reported_on_a_current_thread_runtime() {
    let reports = Arc::new(AtomicUsize::new(0));
    let seen = reports.clone();
    let rt = Builder::new_current_thread()
        .slow_poll_threshold(Duration::from_millis(20))
        .on_slow_poll(move |_| {
            seen.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    rt.block_on(async {
        magpie::spawn(async { thread::sleep(Duration::from_millis(150)) })
            .await
            .unwrap();
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while reports.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(5));
    }
    assert!(reports.load(Ordering::SeqCst) >= 1);
    assert!(rt.metrics().worker_poll_count(0) >= 1);
}

#[test]
fn a_seeded_runtime_also_seeds_where_select_starts() {
    let winners = || {
        let rt = Builder::new_current_thread()
            .rng_seed(7)
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(async {
            let mut winners = Vec::new();
            for _ in 0..20 {
                winners.push(magpie::select! {
                    a = async { 0u8 } => a,
                    b = async { 1u8 } => b,
                });
            }
            winners
        })
    };
    let first = winners();
    assert_eq!(first, winners());
    assert!(first.contains(&0) && first.contains(&1), "{first:?}");
}

#[test]
fn the_budget_keeps_a_ready_loop_from_starving_a_current_thread_runtime() {
    // Run on a thread of its own so that a starved runtime fails the test instead of hanging.
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let rt = current_thread();
        let ran = rt.block_on(async {
            // Each zero sleep is ready at once: only the budget makes this loop yield.
            let looper = magpie::spawn(async {
                loop {
                    magpie::time::sleep(Duration::ZERO).await;
                }
            });
            let beside = task::spawn_local(async {
                magpie::time::sleep(Duration::from_millis(5)).await;
                "ran beside the loop"
            });
            let ran = beside.await.unwrap();
            looper.abort();
            assert!(looper.await.unwrap_err().is_cancelled());
            ran
        });
        done_tx.send(ran).unwrap();
    });
    let ran = done_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("a task looping on ready sleeps starved the current-thread runtime");
    assert_eq!(ran, "ran beside the loop");
}
