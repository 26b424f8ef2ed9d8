//! Spawning and joining tasks: fan-out, chains, foreign-thread spawns, `JoinHandle`,
//! `task::Builder`, `JoinSet`, and the errors outside a runtime.

mod common;

use common::{
    counter, expect_panic, guard, pending_forever, quiet_expected_panics, runtime, wait_until,
    Tally, EXPECTED,
};
use magpie::task::{self, JoinSet};
use magpie::{Handle, Runtime};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// Spawns `n` tasks from outside the runtime; each decrements a shared counter and the one
/// that brings it to zero signals. Returns once the signal arrived.
fn fan_out_signal_last(rt: &Runtime, n: usize) {
    let remaining = Arc::new(AtomicUsize::new(n));
    let (tx, rx) = mpsc::channel();
    for _ in 0..n {
        let remaining = remaining.clone();
        let tx = tx.clone();
        drop(rt.spawn(async move {
            if remaining.fetch_sub(1, SeqCst) == 1 {
                tx.send(()).unwrap();
            }
        }));
    }
    drop(tx);
    rx.recv_timeout(Duration::from_secs(20))
        .expect("the last of the fanned-out tasks never signalled");
    assert_eq!(remaining.load(SeqCst), 0);
}

/// Spawns a task that spawns the next one, `hops` times; the last sends the hop count.
fn forward(hops_left: usize, hops_done: usize, tx: mpsc::Sender<usize>) {
    drop(magpie::spawn(async move {
        if hops_left == 0 {
            tx.send(hops_done).unwrap();
        } else {
            forward(hops_left - 1, hops_done + 1, tx);
        }
    }));
}

fn chain(rt: &Runtime, hops: usize) {
    let (tx, rx) = mpsc::channel();
    rt.spawn(async move { forward(hops, 0, tx) });
    let done = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the chain of forwarding tasks stalled");
    assert_eq!(done, hops);
}

#[test]
fn ten_thousand_tasks_each_decrement_and_the_last_one_signals() {
    guard("fan-out of 10,000 tasks", || {
        let rt = runtime(2);
        fan_out_signal_last(&rt, 10_000);
    });
}

#[test]
fn a_chain_of_1000_tasks_each_spawning_the_next_completes() {
    guard("chain of 1,000 forwarding tasks", || {
        let rt = runtime(2);
        chain(&rt, 1_000);
    });
}

#[test]
fn fan_out_and_chains_work_on_50_fresh_runtimes_in_a_row() {
    guard("50 fresh runtimes", || {
        for round in 0..50 {
            let rt = runtime(1 + round % 3);
            fan_out_signal_last(&rt, 1_000);
            chain(&rt, 100);
            let sum = rt.block_on(async {
                let handles: Vec<_> = (0..100u64)
                    .map(|i| magpie::spawn(async move { i }))
                    .collect();
                let mut sum = 0;
                for h in handles {
                    sum += h.await.unwrap();
                }
                sum
            });
            assert_eq!(sum, 4_950, "round {round}");
        }
    });
}

#[test]
fn spawn_from_inside_a_task_completes() {
    guard("spawn from a task", || {
        let rt = runtime(2);
        let out = rt.block_on(async {
            magpie::spawn(async {
                let inner = magpie::spawn(async { 20 });
                let nested = magpie::spawn(async { magpie::spawn(async { 1 }).await.unwrap() + 1 });
                inner.await.unwrap() + nested.await.unwrap()
            })
            .await
            .unwrap()
        });
        assert_eq!(out, 22);
    });
}

#[test]
fn magpie_run_runs_a_future_with_spawned_tasks() {
    guard("magpie::run", || {
        let out = magpie::run(async {
            let h = magpie::spawn(async { 6 * 7 });
            h.await.unwrap()
        });
        assert_eq!(out, 42);
    });
}

#[test]
fn spawn_from_a_foreign_thread_wakes_an_idle_runtime() {
    guard("foreign-thread spawn", || {
        let rt = runtime(2);
        // Make the workers go through a round of work so that they are started, then idle.
        rt.block_on(async { magpie::spawn(async {}).await.unwrap() });
        let handle = rt.handle().clone();
        for round in 0..5 {
            // Long enough for every worker to park.
            std::thread::sleep(Duration::from_millis(50));
            let handle = handle.clone();
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                drop(handle.spawn(async move { tx.send(round).unwrap() }));
            })
            .join()
            .unwrap();
            let got = rx
                .recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|_| {
                    panic!("round {round}: a spawn from a foreign thread never ran")
                });
            assert_eq!(got, round);
        }
    });
}

#[test]
fn join_handle_gives_the_output_is_finished_and_the_id_seen_inside() {
    guard("JoinHandle basics", || {
        let rt = runtime(2);
        let handle = rt.spawn(async { task::id() });
        let expected = handle.id();
        let inside = rt.block_on(handle).unwrap();
        assert_eq!(
            inside, expected,
            "task::id() inside differs from JoinHandle::id()"
        );

        let (tx, rx) = futures_channel::oneshot::channel::<u32>();
        let waiting = rt.spawn(async move { rx.await.unwrap() * 2 });
        std::thread::sleep(Duration::from_millis(20));
        assert!(
            !waiting.is_finished(),
            "a task waiting on a channel reported finished"
        );
        tx.send(21).unwrap();
        wait_until("the task finishes", Duration::from_secs(10), || {
            waiting.is_finished()
        });
        assert_eq!(rt.block_on(waiting).unwrap(), 42);

        // try_id is None outside a task, and block_on's own future is not a task.
        assert!(task::try_id().is_none());
        assert!(rt.block_on(async { task::try_id() }).is_none());
    });
}

#[test]
fn task_ids_are_unique() {
    guard("unique ids", || {
        let rt = runtime(2);
        let ids = rt.block_on(async {
            let handles: Vec<_> = (0..1_000)
                .map(|_| magpie::spawn(async { task::id() }))
                .collect();
            let mut ids = HashSet::new();
            for h in handles {
                let id = h.id();
                assert_eq!(h.await.unwrap(), id);
                ids.insert(id);
            }
            ids
        });
        assert_eq!(ids.len(), 1_000);
    });
}

#[test]
fn task_builder_name_is_seen_by_task_name_and_in_join_error_display() {
    quiet_expected_panics();
    guard("named tasks", || {
        let rt = runtime(1);
        let named = task::Builder::new()
            .name("fetch-user")
            .spawn_on(async { task::name() }, rt.handle())
            .unwrap();
        assert_eq!(rt.block_on(named).unwrap().as_deref(), Some("fetch-user"));

        let unnamed = rt.spawn(async { task::name() });
        assert_eq!(rt.block_on(unnamed).unwrap(), None);

        let err = rt.block_on(async {
            let h = task::Builder::new()
                .name("fetch-user")
                .spawn(async { panic!("{EXPECTED}: no such user") })
                .unwrap();
            let id = h.id();
            let err = h.await.unwrap_err();
            assert_eq!(err.id(), id);
            err
        });
        assert!(err.is_panic());
        assert_eq!(err.name(), Some("fetch-user"));
        let shown = err.to_string();
        assert!(
            shown.contains("fetch-user") && shown.contains(&err.id().to_string()),
            "JoinError Display should name the task and its id: {shown}"
        );
        assert!(
            shown.contains("no such user"),
            "the panic message is missing: {shown}"
        );

        let cancelled = rt.block_on(async {
            let h = task::Builder::new()
                .name("sleepy")
                .spawn(pending_forever(counter()))
                .unwrap();
            h.abort();
            h.await.unwrap_err()
        });
        assert!(cancelled.is_cancelled());
        assert!(cancelled.to_string().contains("sleepy"), "{cancelled}");

        // Outside a runtime, task::Builder::spawn fails instead of panicking.
        assert!(task::Builder::new().name("x").spawn(async {}).is_err());
    });
}

#[test]
fn join_set_join_next_yields_results_in_completion_order() {
    guard("JoinSet order", || {
        let rt = runtime(2);
        rt.block_on(async {
            let mut set = JoinSet::new();
            let mut senders = Vec::new();
            for i in 0..3u32 {
                let (tx, rx) = futures_channel::oneshot::channel::<()>();
                senders.push(Some(tx));
                set.spawn(async move {
                    rx.await.unwrap();
                    i
                });
            }
            assert_eq!(set.len(), 3);
            assert!(!set.is_empty());
            for (expected_len, i) in [(2, 2usize), (1, 0), (0, 1)] {
                senders[i].take().unwrap().send(()).unwrap();
                let got = set
                    .join_next()
                    .await
                    .expect("the set emptied early")
                    .unwrap();
                assert_eq!(
                    got as usize, i,
                    "join_next did not return the task that finished"
                );
                assert_eq!(set.len(), expected_len);
            }
            assert!(set.is_empty());
            assert!(set.join_next().await.is_none());

            // spawn_blocking and spawn_on go into the set too.
            set.spawn_blocking(|| 10);
            set.spawn_on(async { 20 }, &Handle::current());
            let mut sum = 0;
            while let Some(r) = set.join_next().await {
                sum += r.unwrap();
            }
            assert_eq!(sum, 30);
        });
    });
}

#[test]
fn join_set_abort_all_cancels_every_task_and_drops_its_future() {
    guard("JoinSet::abort_all", || {
        let rt = runtime(2);
        let tally = Tally::new();
        let t = tally.clone();
        rt.block_on(async move {
            let mut set = JoinSet::new();
            for _ in 0..100 {
                let g = t.guard();
                set.spawn(async move {
                    let _g = g;
                    pending_forever(counter()).await
                });
            }
            set.abort_all();
            assert_eq!(set.len(), 100, "aborted tasks stay in the set until joined");
            let mut cancelled = 0;
            while let Some(r) = set.join_next().await {
                assert!(r.unwrap_err().is_cancelled());
                cancelled += 1;
            }
            assert_eq!(cancelled, 100);
        });
        tally.assert_all_dropped("JoinSet::abort_all");
        assert_eq!(tally.created(), 100);
    });
}

#[test]
fn join_set_shutdown_aborts_and_waits_for_every_task() {
    guard("JoinSet::shutdown", || {
        let rt = runtime(2);
        let tally = Tally::new();
        let t = tally.clone();
        let polls = counter();
        let p = polls.clone();
        rt.block_on(async move {
            let mut set = JoinSet::new();
            for i in 0..50 {
                let g = t.guard();
                let p = p.clone();
                set.spawn(async move {
                    let _g = g;
                    if i % 2 == 0 {
                        loop {
                            p.fetch_add(1, SeqCst);
                            task::yield_now().await;
                        }
                    } else {
                        pending_forever(p).await
                    }
                });
            }
            set.shutdown().await;
            assert!(set.is_empty());
            assert_eq!(set.len(), 0);
        });
        // shutdown() waited for every task to finish, so every future is already gone.
        tally.assert_all_dropped("JoinSet::shutdown");
    });
}

#[test]
fn dropping_a_join_set_aborts_its_tasks_and_drops_their_futures() {
    guard("JoinSet drop", || {
        let rt = runtime(2);
        let tally = Tally::new();
        let polls = counter();
        let (t, p) = (tally.clone(), polls.clone());
        rt.block_on(async move {
            let mut set = JoinSet::new();
            for _ in 0..100 {
                let g = t.guard();
                let p = p.clone();
                set.spawn(async move {
                    let _g = g;
                    pending_forever(p).await
                });
            }
            drop(set);
        });
        tally.wait_all_dropped("JoinSet drop", Duration::from_secs(10));
        // Dropped by the abort, not by runtime shutdown: the runtime is still alive here.
        drop(rt);
        tally.assert_all_dropped("JoinSet drop, after runtime drop");
    });
}

#[test]
fn spawn_outside_a_runtime_panics_with_a_clear_message() {
    let msg = expect_panic(|| magpie::spawn(async {}));
    assert!(
        msg.contains("magpie::spawn must be called from inside a magpie runtime"),
        "unexpected message: {msg}"
    );
    let msg = expect_panic(|| task::spawn_blocking(|| ()));
    assert!(
        msg.contains("inside a magpie runtime"),
        "unexpected message: {msg}"
    );
    let msg = expect_panic(|| JoinSet::<()>::new().spawn(async {}));
    assert!(
        msg.contains("inside a magpie runtime"),
        "unexpected message: {msg}"
    );
}

#[test]
fn handle_current_outside_a_runtime_panics_clearly_and_try_current_errs() {
    let msg = expect_panic(Handle::current);
    assert!(
        msg.contains("Handle::current") && msg.contains("no magpie runtime"),
        "unexpected message: {msg}"
    );
    let err = Handle::try_current().unwrap_err();
    assert!(err.to_string().contains("no magpie runtime"), "{err}");

    guard("try_current inside", || {
        let rt = runtime(1);
        rt.block_on(async {
            assert!(Handle::try_current().is_ok(), "inside block_on");
            let in_task = magpie::spawn(async { Handle::try_current().is_ok() });
            assert!(in_task.await.unwrap(), "inside a task");
            let in_blocking = task::spawn_blocking(|| Handle::try_current().is_ok());
            assert!(in_blocking.await.unwrap(), "inside spawn_blocking");
        });
        // A handle from inside spawns onto the same runtime: its tasks run on its workers.
        let name = rt
            .block_on(async {
                Handle::current()
                    .spawn(async { std::thread::current().name().map(str::to_owned) })
                    .await
            })
            .unwrap();
        assert_eq!(name.as_deref(), Some("magpie-worker"));
    });
    // Leaving the runtime leaves no context behind on this thread.
    assert!(Handle::try_current().is_err());
}

#[test]
fn task_id_panics_outside_a_task() {
    let msg = expect_panic(task::id);
    assert!(msg.contains("inside a task"), "unexpected message: {msg}");
    assert!(task::try_id().is_none());
    assert!(task::name().is_none());
    guard("task::id in block_on", || {
        let rt = runtime(1);
        let msg = rt.block_on(async { expect_panic(task::id) });
        assert!(msg.contains("inside a task"), "unexpected message: {msg}");
    });
}

#[test]
fn detached_tasks_from_a_foreign_thread_all_run() {
    guard("foreign-thread fan-out", || {
        let rt = runtime(2);
        let done = counter();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let handle = rt.handle().clone();
                let done = done.clone();
                std::thread::spawn(move || {
                    for _ in 0..1_000 {
                        let done = done.clone();
                        drop(handle.spawn(async move {
                            done.fetch_add(1, SeqCst);
                        }));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        wait_until("4,000 foreign spawns ran", Duration::from_secs(20), || {
            done.load(SeqCst) == 4_000
        });
    });
}

#[test]
fn a_task_woken_from_a_foreign_thread_runs_again() {
    guard("foreign wake", || {
        let rt = runtime(2);
        let ran = Arc::new(AtomicBool::new(false));
        let r = ran.clone();
        let (tx, rx) = futures_channel::oneshot::channel::<u8>();
        let h = rt.spawn(async move {
            let v = rx.await.unwrap();
            r.store(true, SeqCst);
            v
        });
        std::thread::sleep(Duration::from_millis(50));
        assert!(!ran.load(SeqCst));
        std::thread::spawn(move || tx.send(9).unwrap())
            .join()
            .unwrap();
        assert_eq!(rt.block_on(h).unwrap(), 9);
        assert!(ran.load(SeqCst));
    });
}

#[test]
fn yield_now_inside_block_on_completes() {
    guard("yield in block_on", || {
        let rt = runtime(1);
        let n = rt.block_on(async {
            let mut n = 0;
            for _ in 0..1_000 {
                task::yield_now().await;
                n += 1;
            }
            n
        });
        assert_eq!(n, 1_000);
    });
}

#[test]
fn a_join_handle_can_be_awaited_from_another_runtime() {
    guard("cross-runtime join", || {
        let producer = runtime(1);
        let consumer = runtime(1);
        let (tx, rx) = futures_channel::oneshot::channel::<u32>();
        let h = producer.spawn(async move { rx.await.unwrap() + 1 });
        let joined = consumer.spawn(async move { h.await.unwrap() * 2 });
        std::thread::sleep(Duration::from_millis(10));
        tx.send(20).unwrap();
        assert_eq!(consumer.block_on(joined).unwrap(), 42);
    });
}

#[test]
fn a_join_handle_polled_with_one_waker_then_awaited_elsewhere_still_completes() {
    guard("join waker swap", || {
        let rt = runtime(2);
        let (tx, rx) = futures_channel::oneshot::channel::<u32>();
        let mut h = rt.spawn(async move { rx.await.unwrap() });
        // Registers block_on's waker as the join waker...
        let first = rt.block_on(futures_lite::future::poll_once(&mut h));
        assert!(first.is_none());
        // ...then the handle moves into a task, which registers its own waker.
        let joined = rt.spawn(async move { h.await.unwrap() });
        std::thread::sleep(Duration::from_millis(10));
        tx.send(5).unwrap();
        assert_eq!(rt.block_on(joined).unwrap(), 5);
    });
}

#[test]
fn a_task_output_is_dropped_exactly_once_whether_joined_or_not() {
    guard("output drops", || {
        let rt = runtime(2);
        let tally = Tally::new();
        // Joined: the output moves to the caller, who drops it.
        let g = tally.guard();
        let out = rt.block_on(rt.spawn(async move { g })).unwrap();
        assert_eq!(tally.dropped(), 0);
        drop(out);
        assert_eq!(tally.dropped(), 1);
        // Handle dropped after completion: the handle drops the output.
        let g = tally.guard();
        let h = rt.spawn(async move { g });
        wait_until("the task finished", Duration::from_secs(10), || {
            h.is_finished()
        });
        assert_eq!(
            tally.dropped(),
            1,
            "the output was dropped while a JoinHandle held it"
        );
        drop(h);
        assert_eq!(tally.dropped(), 2);
        // Handle dropped before completion: the runtime drops the output.
        let (tx, rx) = futures_channel::oneshot::channel::<()>();
        let g = tally.guard();
        drop(rt.spawn(async move {
            rx.await.unwrap();
            g
        }));
        tx.send(()).unwrap();
        tally.wait_all_dropped("outputs", Duration::from_secs(10));
        assert_eq!(tally.dropped(), 3);
    });
}

#[magpie::test(worker_threads = 2)]
async fn the_magpie_test_attribute_runs_an_async_test_on_a_runtime() {
    let h = magpie::spawn(async { task::id() });
    let id = h.id();
    assert_eq!(h.await.unwrap(), id);
    assert!(Handle::try_current().is_ok());
}
