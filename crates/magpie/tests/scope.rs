//! `magpie::scope` (asyncio's `TaskGroup`): it returns only after every task finished, the
//! first error cancels the rest and is returned, a task's panic is resumed in the caller,
//! dropping the scope aborts its tasks, and a group that outlived its scope spawns nothing.

mod common;

use common::{
    counter, panic_message, pending_forever, quiet_expected_panics, run_on, wait_until, DropGuard,
    Tally, EXPECTED,
};
use magpie::time::sleep;
use magpie::Group;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A task that holds `guard` (counted by a [`Tally`]) and sleeps for an hour: it ends only by
/// being cancelled.
async fn hold_for_an_hour<E>(guard: DropGuard) -> Result<(), E> {
    let _guard = guard;
    sleep(Duration::from_secs(3600)).await;
    Ok(())
}

#[test]
fn group_is_clone_send_and_sync() {
    fn clone_send_sync<T: Clone + Send + Sync>() {}
    clone_send_sync::<Group<String>>();
    fn send<T: Send>(_: &T) {}
    send(&magpie::scope(|_group: Group<String>| async { Ok(1) }));
}

#[test]
fn scope_returns_the_body_value_after_every_task_finished() {
    run_on("scope waits for its tasks", 2, async {
        let finished = counter();
        let in_scope = finished.clone();
        let value: Result<u32, String> = magpie::scope(|group| async move {
            for i in 0..20u64 {
                let finished = in_scope.clone();
                group.spawn(async move {
                    sleep(Duration::from_millis(i * 3)).await;
                    finished.fetch_add(1, SeqCst);
                    Ok(())
                });
            }
            // The body finishes long before the tasks do.
            Ok(42)
        })
        .await;
        assert_eq!(value, Ok(42));
        assert_eq!(
            finished.load(SeqCst),
            20,
            "the scope returned before its tasks finished"
        );
    });
}

#[test]
fn tasks_spawned_by_tasks_belong_to_the_same_scope() {
    run_on("scope: tasks spawning tasks", 2, async {
        let finished = counter();
        let in_scope = finished.clone();
        let result: Result<(), String> = magpie::scope(|group| async move {
            let spawner = group.clone();
            group.spawn(async move {
                for _ in 0..5 {
                    let finished = in_scope.clone();
                    let inner = spawner.clone();
                    spawner.spawn(async move {
                        sleep(Duration::from_millis(5)).await;
                        let finished2 = finished.clone();
                        inner.spawn(async move {
                            sleep(Duration::from_millis(5)).await;
                            finished2.fetch_add(1, SeqCst);
                            Ok(())
                        });
                        finished.fetch_add(1, SeqCst);
                        Ok(())
                    });
                }
                Ok(())
            });
            Ok(())
        })
        .await;
        assert_eq!(result, Ok(()));
        assert_eq!(finished.load(SeqCst), 10);
    });
}

#[test]
fn the_first_task_error_cancels_the_other_tasks_and_the_body_and_is_returned() {
    const N: usize = 50;
    run_on("scope: first error cancels", 2, async {
        let tally = Tally::new();
        let polls = counter();
        let body_tally = Tally::new();
        let body_guard = body_tally.guard();
        let (t, p) = (tally.clone(), polls.clone());
        let started = Instant::now();
        let result: Result<(), String> = magpie::scope(|group| async move {
            let _body_guard = body_guard;
            for _ in 0..N {
                let (g, p) = (t.guard(), p.clone());
                group.spawn(async move {
                    let _g = g;
                    pending_forever(p).await;
                    Ok(())
                });
            }
            group.spawn(async {
                sleep(Duration::from_millis(20)).await;
                Err("task failed".to_string())
            });
            // The body would wait for an hour: the task's error cancels it.
            sleep(Duration::from_secs(3600)).await;
            Ok(())
        })
        .await;
        assert_eq!(result, Err("task failed".to_string()));
        // Cancelled tasks are waited for: every future is gone when the scope returns.
        assert_eq!(tally.created(), N);
        tally.assert_all_dropped("tasks cancelled by the scope's first error");
        body_tally.assert_all_dropped("the body cancelled by a task's error");
        assert!(started.elapsed() < Duration::from_secs(20));
    });
}

#[test]
fn an_error_of_the_body_cancels_every_task() {
    run_on("scope: body error", 2, async {
        let tally = Tally::new();
        let t = tally.clone();
        let result: Result<(), &str> = magpie::scope(|group| async move {
            for _ in 0..10 {
                group.spawn(hold_for_an_hour(t.guard()));
            }
            magpie::task::yield_now().await;
            Err("body failed")
        })
        .await;
        assert_eq!(result, Err("body failed"));
        assert_eq!(tally.created(), 10);
        tally.assert_all_dropped("tasks cancelled by the body's error");
    });
}

#[test]
fn the_first_error_wins_over_later_ones() {
    run_on("scope: first error wins", 2, async {
        let result: Result<(), String> = magpie::scope(|group| async move {
            group.spawn(async {
                sleep(Duration::from_millis(300)).await;
                Err("second".to_string())
            });
            group.spawn(async {
                sleep(Duration::from_millis(5)).await;
                Err("first".to_string())
            });
            Ok(())
        })
        .await;
        assert_eq!(result, Err("first".to_string()));
    });
}

#[test]
fn a_panic_in_a_task_cancels_the_rest_and_is_resumed_in_the_caller() {
    quiet_expected_panics();
    run_on("scope: task panic", 2, async {
        let tally = Tally::new();
        let t = tally.clone();
        // The scope runs in a task, so its panic comes back as a JoinError.
        let outcome = magpie::spawn(async move {
            let _: Result<(), String> = magpie::scope(|group| async move {
                for _ in 0..10 {
                    group.spawn(hold_for_an_hour(t.guard()));
                }
                group.spawn(async {
                    sleep(Duration::from_millis(10)).await;
                    panic!("{EXPECTED}: a group task");
                });
                Ok(())
            })
            .await;
            unreachable!("the scope must resume the task's panic");
        })
        .await;
        let error = outcome.expect_err("the scope should have panicked");
        assert!(error.is_panic());
        let message = panic_message(&*error.into_panic());
        assert!(message.contains("a group task"), "{message}");
        assert_eq!(tally.created(), 10);
        tally.assert_all_dropped("tasks cancelled by a sibling's panic");
    });
}

#[test]
fn a_panic_outranks_an_earlier_error() {
    quiet_expected_panics();
    run_on("scope: panic after error", 2, async {
        let outcome = magpie::spawn(async {
            let _: Result<(), String> = magpie::scope(|group| async move {
                let (started_tx, started_rx) = futures_channel::oneshot::channel::<()>();
                group.spawn(async move {
                    // Its Drop panics when the scope aborts it after the other task's error.
                    let _p = common::PanicOnDrop("dropping a cancelled task");
                    started_tx.send(()).unwrap();
                    sleep(Duration::from_secs(3600)).await;
                    Ok(())
                });
                group.spawn(async move {
                    started_rx.await.unwrap();
                    Err("an error".to_string())
                });
                Ok(())
            })
            .await;
        })
        .await;
        // The error came first, but an error must not hide a panic.
        let error = outcome.expect_err("the scope should have resumed the panic");
        let message = panic_message(&*error.into_panic());
        assert!(message.contains("dropping a cancelled task"), "{message}");
    });
}

#[test]
fn dropping_the_scope_future_aborts_every_task_in_it() {
    const N: usize = 100;
    run_on("scope dropped", 2, async {
        let tally = Tally::new();
        let started = counter();
        let (t, s) = (tally.clone(), started.clone());
        let outer = magpie::spawn(async move {
            let _: Result<(), ()> = magpie::scope(|group| async move {
                for _ in 0..N {
                    let (g, s) = (t.guard(), s.clone());
                    group.spawn(async move {
                        let _g = g;
                        s.fetch_add(1, SeqCst);
                        std::future::pending::<()>().await;
                        Ok(())
                    });
                }
                std::future::pending::<()>().await;
                Ok(())
            })
            .await;
        });
        let s = started.clone();
        magpie::task::spawn_blocking(move || {
            wait_until("every group task started", Duration::from_secs(20), || {
                s.load(SeqCst) == N
            })
        })
        .await
        .unwrap();
        outer.abort();
        assert!(outer.await.unwrap_err().is_cancelled());
        let t = tally.clone();
        magpie::task::spawn_blocking(move || {
            t.wait_all_dropped("tasks of a dropped scope", Duration::from_secs(20))
        })
        .await
        .unwrap();
        assert_eq!(tally.created(), N);
    });
}

#[test]
fn a_timeout_around_a_scope_cancels_its_tasks() {
    run_on("scope under timeout", 2, async {
        let tally = Tally::new();
        let t = tally.clone();
        let result = magpie::time::timeout(
            Duration::from_millis(30),
            magpie::scope(|group| async move {
                for _ in 0..10 {
                    group.spawn(hold_for_an_hour::<()>(t.guard()));
                }
                Ok(())
            }),
        )
        .await;
        assert!(result.is_err(), "the scope should have timed out");
        let t = tally.clone();
        magpie::task::spawn_blocking(move || {
            t.wait_all_dropped("tasks of a timed-out scope", Duration::from_secs(20))
        })
        .await
        .unwrap();
        assert_eq!(tally.created(), 10);
    });
}

#[test]
fn nested_scopes_wait_for_and_cancel_their_own_tasks() {
    run_on("nested scopes", 2, async {
        let finished = counter();
        let f = finished.clone();
        // An inner scope inside a task of the outer one: the outer waits for it.
        let ok: Result<usize, String> = magpie::scope(|outer| async move {
            let f2 = f.clone();
            outer.spawn(async move {
                let inner_value = magpie::scope(|inner: Group<String>| async move {
                    for _ in 0..5 {
                        let f = f2.clone();
                        inner.spawn(async move {
                            sleep(Duration::from_millis(5)).await;
                            f.fetch_add(1, SeqCst);
                            Ok(())
                        });
                    }
                    Ok(5)
                })
                .await?;
                assert_eq!(inner_value, 5);
                Ok(())
            });
            Ok(1)
        })
        .await;
        assert_eq!(ok, Ok(1));
        assert_eq!(finished.load(SeqCst), 5);

        // An error in the inner scope cancels the inner tasks, fails the inner scope, and so
        // fails the outer one, which cancels its own tasks.
        let tally = Tally::new();
        let t = tally.clone();
        let failed: Result<(), String> = magpie::scope(|outer| async move {
            outer.spawn(hold_for_an_hour(t.guard()));
            let t2 = t.clone();
            outer.spawn(async move {
                magpie::scope(|inner| async move {
                    inner.spawn(hold_for_an_hour(t2.guard()));
                    inner.spawn(async {
                        sleep(Duration::from_millis(10)).await;
                        Err("inner failure".to_string())
                    });
                    Ok(())
                })
                .await
            });
            Ok(())
        })
        .await;
        assert_eq!(failed, Err("inner failure".to_string()));
        assert_eq!(tally.created(), 2);
        tally.assert_all_dropped("tasks of both scopes after the inner error");
    });
}

#[test]
fn a_group_that_outlived_its_scope_refuses_to_spawn() {
    run_on("spawn after scope", 2, async {
        let smuggled: Arc<Mutex<Option<Group<()>>>> = Arc::default();
        let s = smuggled.clone();
        let result = magpie::scope(|group| async move {
            *s.lock().unwrap() = Some(group);
            Ok(())
        })
        .await;
        assert_eq!(result, Ok(()));
        let group = smuggled.lock().unwrap().take().unwrap();
        let tally = Tally::new();
        let polls = counter();
        let (g, p) = (tally.guard(), polls.clone());
        let handle = group.spawn(async move {
            let _g = g;
            p.fetch_add(1, SeqCst);
            Ok(())
        });
        assert!(handle.is_none(), "a finished scope accepted a task");
        // The future was dropped at once, never polled.
        tally.assert_all_dropped("a future spawned on a finished scope");
        assert_eq!(polls.load(SeqCst), 0);
    });
}

#[test]
fn a_task_aborted_through_its_handle_is_not_a_failure() {
    run_on("scope: aborted task", 2, async {
        let result: Result<&str, String> = magpie::scope(|group| async move {
            let handle = group
                .spawn(async {
                    sleep(Duration::from_secs(3600)).await;
                    Ok(())
                })
                .expect("the scope is open");
            sleep(Duration::from_millis(5)).await;
            handle.abort();
            Ok("done")
        })
        .await;
        assert_eq!(result, Ok("done"));
    });
}

#[test]
fn group_tasks_run_on_other_workers_while_the_body_blocks() {
    // The body spins without yielding until a task has run: with 2 workers, the task runs on
    // the other one. (If tasks ran inside the scope's own poll, this would hang.)
    run_on("scope parallelism", 2, async {
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        let result: Result<(), ()> = magpie::scope(|group| async move {
            let r2 = r.clone();
            group.spawn(async move {
                r2.fetch_add(1, SeqCst);
                Ok(())
            });
            let deadline = Instant::now() + Duration::from_secs(20);
            while r.load(SeqCst) == 0 && Instant::now() < deadline {
                std::hint::spin_loop();
            }
            Ok(())
        })
        .await;
        assert_eq!(result, Ok(()));
        assert_eq!(ran.load(SeqCst), 1);
    });
}
