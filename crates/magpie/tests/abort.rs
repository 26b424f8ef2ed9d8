//! Aborting tasks: running, idle, completed, panicking on drop, racing completion, through an
//! `AbortHandle`, by itself; and dropping a `JoinHandle`, which detaches instead.

mod common;

use common::{
    counter, guard, panic_message, pending_forever, quiet_expected_panics, runtime, wait_until,
    PanicOnDrop, Tally,
};
use magpie::task;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::time::Duration;

#[test]
fn abort_of_a_running_task_cancels_it_and_drops_its_future_once() {
    guard("abort a yielding task", || {
        let rt = runtime(2);
        let tally = Tally::new();
        let polls = counter();
        let (g, p) = (tally.guard(), polls.clone());
        let h = rt.spawn(async move {
            let _g = g;
            loop {
                p.fetch_add(1, SeqCst);
                task::yield_now().await;
            }
        });
        wait_until("the task has run a while", Duration::from_secs(10), || {
            polls.load(SeqCst) > 100
        });
        assert!(!h.is_finished());
        h.abort();
        let err = rt.block_on(h).unwrap_err();
        assert!(err.is_cancelled(), "{err:?}");
        assert!(!err.is_panic());
        assert!(err.to_string().contains("cancelled"), "{err}");
        assert_eq!(tally.dropped(), 1);
        // No poll after the future is gone.
        let after = polls.load(SeqCst);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(
            polls.load(SeqCst),
            after,
            "an aborted task was polled again"
        );
        drop(rt);
        tally.assert_all_dropped("aborted running task");
        assert_eq!(tally.dropped(), 1);
    });
}

#[test]
fn abort_of_an_idle_task_cancels_it_and_drops_its_future_once() {
    guard("abort an idle task", || {
        let rt = runtime(2);
        let tally = Tally::new();
        let polls = counter();
        let (g, p) = (tally.guard(), polls.clone());
        let h = rt.spawn(async move {
            let _g = g;
            pending_forever(p).await
        });
        wait_until("the task was polled once", Duration::from_secs(10), || {
            polls.load(SeqCst) == 1
        });
        h.abort();
        // Aborting twice is harmless.
        h.abort();
        let err = rt.block_on(h).unwrap_err();
        assert!(err.is_cancelled(), "{err:?}");
        assert_eq!(tally.dropped(), 1);
        assert_eq!(polls.load(SeqCst), 1);
        drop(rt);
        assert_eq!(tally.dropped(), 1);
    });
}

#[test]
fn abort_before_the_first_poll_drops_the_future_without_polling_it() {
    guard("abort before first poll", || {
        let rt = runtime(1);
        let tally = Tally::new();
        let polls = counter();
        // Keep the only worker busy so that the task cannot be polled before the abort.
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (busy_tx, busy_rx) = mpsc::channel::<()>();
        let blocker = rt.spawn(async move {
            busy_tx.send(()).unwrap();
            release_rx.recv().unwrap();
        });
        busy_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        let (g, p) = (tally.guard(), polls.clone());
        let h = rt.spawn(async move {
            let _g = g;
            pending_forever(p).await
        });
        h.abort();
        release_tx.send(()).unwrap();
        assert!(rt.block_on(h).unwrap_err().is_cancelled());
        rt.block_on(blocker).unwrap();
        assert_eq!(polls.load(SeqCst), 0, "an aborted task was polled");
        assert_eq!(tally.dropped(), 1);
    });
}

#[test]
fn abort_after_completion_keeps_the_output() {
    guard("abort a completed task", || {
        let rt = runtime(2);
        let h = rt.spawn(async { 42 });
        wait_until("the task finished", Duration::from_secs(10), || {
            h.is_finished()
        });
        h.abort();
        assert!(h.is_finished());
        assert_eq!(rt.block_on(h).unwrap(), 42);

        let h = rt.spawn(async { String::from("kept") });
        let abort = h.abort_handle();
        wait_until("the task finished", Duration::from_secs(10), || {
            abort.is_finished()
        });
        abort.abort();
        assert_eq!(rt.block_on(h).unwrap(), "kept");
    });
}

#[test]
fn abort_of_a_task_whose_drop_panics_reports_the_panic_and_keeps_the_worker() {
    quiet_expected_panics();
    guard("abort with panicking Drop", || {
        let rt = runtime(1);
        for round in 0..20 {
            let tally = Tally::new();
            let polls = counter();
            let (g, p) = (tally.guard(), polls.clone());
            let h = rt.spawn(async move {
                let _g = g;
                let _bomb = PanicOnDrop("abort");
                loop {
                    p.fetch_add(1, SeqCst);
                    task::yield_now().await;
                }
            });
            if round % 2 == 0 {
                wait_until("the task ran", Duration::from_secs(10), || {
                    polls.load(SeqCst) > 0
                });
            }
            h.abort();
            let err = rt.block_on(h).unwrap_err();
            if polls.load(SeqCst) == 0 {
                // Cancelled before its first poll: the future (and the bomb in it) was never
                // started, so dropping it ran no Drop of the locals.
                assert!(err.is_cancelled() || err.is_panic(), "{err:?}");
            } else {
                assert!(err.is_panic(), "round {round}: {err:?}");
                assert_eq!(panic_message(&*err.into_panic()), "expected-panic: abort");
            }
            assert_eq!(tally.dropped(), 1, "round {round}");
        }
        assert_eq!(rt.block_on(rt.spawn(async { 1 })).unwrap(), 1);
    });
}

#[test]
fn abort_racing_completion_1000_times_gives_ok_or_cancelled_and_drops_once() {
    guard("abort racing completion", || {
        let rt = runtime(2);
        let tally = Tally::new();
        let (mut ok, mut cancelled) = (0, 0);
        for i in 0..1_000u32 {
            let g = tally.guard();
            let h = rt.spawn(async move {
                let _g = g;
                if i % 3 == 0 {
                    task::yield_now().await;
                }
                i
            });
            match i % 4 {
                // From this (foreign) thread, at once.
                0 => h.abort(),
                // Through an AbortHandle, from a task on the runtime.
                1 => {
                    let abort = h.abort_handle();
                    drop(rt.spawn(async move { abort.abort() }));
                }
                // From another std thread.
                2 => {
                    let abort = h.abort_handle();
                    std::thread::spawn(move || abort.abort());
                }
                // After a short spin.
                _ => {
                    for _ in 0..(i % 50) {
                        std::hint::spin_loop();
                    }
                    h.abort();
                }
            }
            match rt.block_on(h) {
                Ok(v) => {
                    assert_eq!(v, i);
                    ok += 1;
                }
                Err(e) => {
                    assert!(e.is_cancelled(), "iteration {i}: {e:?}");
                    cancelled += 1;
                }
            }
            assert_eq!(tally.dropped(), (i + 1) as usize, "iteration {i}");
        }
        assert_eq!(ok + cancelled, 1_000);
        drop(rt);
        tally.assert_all_dropped("abort racing completion");
    });
}

#[test]
fn abort_handle_from_a_join_handle_cancels_the_task() {
    guard("AbortHandle", || {
        let rt = runtime(2);
        let tally = Tally::new();
        let g = tally.guard();
        let h = rt.spawn(async move {
            let _g = g;
            pending_forever(counter()).await
        });
        let abort = h.abort_handle();
        let clone = abort.clone();
        assert_eq!(abort.id(), h.id());
        assert!(!abort.is_finished());
        drop(clone); // Dropping an AbortHandle does nothing to the task.
        std::thread::sleep(Duration::from_millis(10));
        assert!(!h.is_finished());
        abort.abort();
        let err = rt.block_on(h).unwrap_err();
        assert!(err.is_cancelled());
        assert!(abort.is_finished());
        assert_eq!(tally.dropped(), 1);
        // An AbortHandle outliving the task and its runtime stays harmless.
        drop(rt);
        abort.abort();
        assert!(abort.is_finished());
    });
}

#[test]
fn a_task_aborting_itself_is_cancelled_at_its_next_yield() {
    guard("self-abort", || {
        let rt = runtime(1);
        let tally = Tally::new();
        let after_abort = Arc::new(AtomicBool::new(false));
        let (tx, rx) = futures_channel::oneshot::channel::<task::AbortHandle>();
        let (g, flag) = (tally.guard(), after_abort.clone());
        let h = rt.spawn(async move {
            let _g = g;
            let me = rx.await.unwrap();
            me.abort();
            // Still running until the next scheduling point.
            flag.store(true, SeqCst);
            task::yield_now().await;
            unreachable!("the task was polled again after aborting itself");
        });
        tx.send(h.abort_handle()).unwrap();
        let err = rt.block_on(h).unwrap_err();
        assert!(err.is_cancelled(), "{err:?}");
        assert!(after_abort.load(SeqCst));
        assert_eq!(tally.dropped(), 1);
    });
}

#[test]
fn dropping_a_join_handle_detaches_the_task_which_runs_to_completion() {
    guard("detach", || {
        let rt = runtime(2);
        let finished = Arc::new(AtomicBool::new(false));
        let (go_tx, go_rx) = futures_channel::oneshot::channel::<()>();
        let (done_tx, done_rx) = mpsc::channel();
        let f = finished.clone();
        let tally = Tally::new();
        let g = tally.guard();
        let h = rt.spawn(async move {
            let _g = g;
            go_rx.await.unwrap();
            task::yield_now().await;
            f.store(true, SeqCst);
            done_tx.send(()).unwrap();
        });
        drop(h);
        std::thread::sleep(Duration::from_millis(20));
        assert!(!finished.load(SeqCst));
        go_tx.send(()).unwrap();
        done_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the detached task did not run to completion");
        assert!(finished.load(SeqCst));
        tally.wait_all_dropped("detached task", Duration::from_secs(10));
    });
}

#[test]
fn abort_does_not_interrupt_a_running_blocking_closure() {
    guard("abort spawn_blocking", || {
        let rt = runtime(1);
        let (started_tx, started_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let h = rt.spawn_blocking(move || {
            started_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            7
        });
        started_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        h.abort();
        release_tx.send(()).unwrap();
        // Like tokio: a blocking closure that already started cannot be cancelled.
        assert_eq!(rt.block_on(h).unwrap(), 7);
    });
}

#[test]
fn aborting_tasks_from_inside_other_tasks_cancels_them_all() {
    guard("abort from tasks", || {
        let rt = runtime(2);
        let tally = Tally::new();
        let t = tally.clone();
        let cancelled = rt.block_on(async move {
            let victims: Vec<_> = (0..500)
                .map(|i| {
                    let g = t.guard();
                    magpie::spawn(async move {
                        let _g = g;
                        if i % 2 == 0 {
                            pending_forever(counter()).await
                        } else {
                            loop {
                                task::yield_now().await;
                            }
                        }
                    })
                })
                .collect();
            let aborts: Vec<_> = victims.iter().map(|v| v.abort_handle()).collect();
            let killer = magpie::spawn(async move {
                for a in aborts {
                    a.abort();
                    task::yield_now().await;
                }
            });
            killer.await.unwrap();
            let mut cancelled = 0;
            for v in victims {
                if v.await.unwrap_err().is_cancelled() {
                    cancelled += 1;
                }
            }
            cancelled
        });
        assert_eq!(cancelled, 500);
        tally.assert_all_dropped("victims");
    });
}
