//! `task_local!`: a value follows its future across awaits, workers and threads, is never seen
//! by other tasks or by tasks spawned inside its scope, shadows and restores in nested scopes,
//! survives a panicking poll, and is dropped exactly once, with the inner future dropped while
//! it is still installed.

mod common;

use common::{
    counter, expect_panic, guard, pending_forever, poll_noop, quiet_expected_panics, run_on,
    runtime, wait_until, DropGuard, Tally, EXPECTED,
};
use magpie::task;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

magpie::task_local! {
    /// The key most tests set.
    static REQUEST: usize;
    pub(crate) static USER: String;
}

magpie::task_local! {
    static GUARDED: DropGuard;
}

/// Whether `REQUEST` is set here.
fn request_is_set() -> bool {
    REQUEST.try_with(|_| ()).is_ok()
}

/// Records, when dropped, what `REQUEST` reads in the scope it is dropped in.
struct ReadsRequestOnDrop(Arc<Mutex<Vec<Option<usize>>>>);

impl Drop for ReadsRequestOnDrop {
    fn drop(&mut self) {
        let seen = REQUEST.try_with(|v| *v).ok();
        self.0.lock().unwrap().push(seen);
    }
}

#[test]
fn the_value_follows_its_future_across_awaits_and_workers_beside_other_scopes() {
    run_on("scoped tasks on two workers", 2, async {
        let mut scoped = Vec::new();
        for i in 0..4usize {
            scoped.push(magpie::spawn(REQUEST.scope(i, async move {
                for step in 0..300 {
                    assert_eq!(REQUEST.get(), i, "task {i}, step {step}");
                    assert!(USER.try_with(|_| ()).is_err(), "USER leaked in");
                    if step % 25 == 0 {
                        magpie::time::sleep(Duration::from_millis(1)).await;
                    } else {
                        task::yield_now().await;
                    }
                }
                REQUEST.get()
            })));
        }
        // Unscoped tasks polled on the same workers in between never see a value.
        let mut unscoped = Vec::new();
        for _ in 0..2 {
            unscoped.push(magpie::spawn(async {
                for step in 0..300 {
                    assert!(
                        !request_is_set(),
                        "an unscoped task saw a value at step {step}"
                    );
                    task::yield_now().await;
                }
            }));
        }
        for (i, h) in scoped.into_iter().enumerate() {
            assert_eq!(h.await.expect("a scoped task failed"), i);
        }
        for h in unscoped {
            h.await.expect("an unscoped task failed");
        }
        assert!(!request_is_set(), "the value leaked into block_on");
    });
}

#[test]
fn the_value_moves_with_its_future_to_another_thread() {
    let polls = counter();
    let p = polls.clone();
    let mut scoped = Box::pin(REQUEST.scope(11, async move {
        let first = std::thread::current().id();
        assert_eq!(REQUEST.get(), 11);
        p.fetch_add(1, SeqCst);
        task::yield_now().await;
        assert_ne!(std::thread::current().id(), first, "the test moves it");
        assert_eq!(REQUEST.get(), 11);
        p.fetch_add(1, SeqCst);
        REQUEST.get() * 2
    }));
    // `yield_now` wakes itself and returns Pending once, whatever the executor.
    assert!(poll_noop(&mut scoped).is_pending());
    assert_eq!(polls.load(SeqCst), 1);
    assert!(!request_is_set(), "the value stayed on the first thread");
    let out = std::thread::spawn(move || {
        assert!(!request_is_set());
        let out = poll_noop(&mut scoped);
        assert!(!request_is_set(), "the value stayed on the second thread");
        out
    })
    .join()
    .expect("the second thread panicked");
    assert_eq!(out, Poll::Ready(22));
    assert_eq!(polls.load(SeqCst), 2);
}

#[test]
fn a_task_spawned_inside_a_scope_does_not_inherit_the_value() {
    run_on("spawn inside a scope", 2, async {
        REQUEST
            .scope(3, async {
                let spawned = magpie::spawn(async {
                    let err = REQUEST.try_with(|v| *v).unwrap_err();
                    assert_eq!(err.key(), "REQUEST");
                    // A scope of its own is how a spawned task gets a value.
                    REQUEST.scope(4, async { REQUEST.get() }).await
                });
                assert_eq!(spawned.await.expect("the spawned task failed"), 4);
                assert_eq!(REQUEST.get(), 3, "the spawned task's scope leaked back");
            })
            .await;
    });
}

#[test]
fn nested_scopes_shadow_the_outer_value_and_restore_it() {
    run_on("nested scopes", 2, async {
        REQUEST
            .scope(1, async {
                assert_eq!(REQUEST.get(), 1);
                let inner = REQUEST
                    .scope(2, async {
                        assert_eq!(REQUEST.get(), 2);
                        task::yield_now().await;
                        magpie::time::sleep(Duration::from_millis(1)).await;
                        assert_eq!(REQUEST.get(), 2);
                        // A different key nests independently.
                        USER.scope("ada".to_string(), async {
                            assert_eq!(REQUEST.get(), 2);
                            assert_eq!(USER.get(), "ada");
                        })
                        .await;
                        assert!(USER.try_with(|_| ()).is_err());
                        REQUEST.get()
                    })
                    .await;
                assert_eq!(inner, 2);
                assert_eq!(REQUEST.get(), 1, "the outer value was not restored");
                task::yield_now().await;
                assert_eq!(REQUEST.get(), 1);
            })
            .await;
        assert!(!request_is_set());
    });
}

#[test]
fn with_outside_any_scope_panics_naming_the_key() {
    let message = expect_panic(|| REQUEST.with(|v| *v));
    assert!(message.contains("`REQUEST` is not set"), "{message}");
    assert!(
        message.contains("REQUEST.scope(value, future)"),
        "{message}"
    );
    let message = expect_panic(|| USER.get());
    assert!(message.contains("`USER` is not set"), "{message}");
}

#[test]
fn try_with_outside_any_scope_is_an_access_error_naming_the_key() {
    let err = REQUEST.try_with(|v| *v).unwrap_err();
    assert_eq!(err.key(), "REQUEST");
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err);
    let text = boxed.to_string();
    assert!(
        text.contains("cannot access a task-local storage value without setting it first"),
        "{text}"
    );
    assert!(text.contains("`REQUEST` is not set in this task"), "{text}");
    assert_eq!(REQUEST.name(), "REQUEST");
    assert_eq!(
        format!("{REQUEST:?}"),
        r#"LocalKey { name: "REQUEST", .. }"#
    );
}

#[test]
fn get_returns_a_clone_and_leaves_the_value_in_place() {
    USER.sync_scope("grace".to_string(), || {
        let mut copy = USER.get();
        assert_eq!(copy, "grace");
        copy.push_str(" hopper");
        assert_eq!(USER.get(), "grace", "get handed out the value itself");
        assert_eq!(USER.with(|user| user.len()), 5);
    });
}

#[test]
fn sync_scope_sets_the_value_for_the_closure_only_and_nests() {
    assert!(!request_is_set());
    let out = REQUEST.sync_scope(1, || {
        let inner = REQUEST.sync_scope(2, || REQUEST.get());
        assert_eq!(inner, 2);
        REQUEST.get() * 10
    });
    assert_eq!(out, 10);
    assert!(!request_is_set(), "sync_scope left its value behind");
}

#[test]
fn a_scope_cannot_be_entered_inside_with_of_the_same_key() {
    REQUEST.sync_scope(1, || {
        let message = expect_panic(|| REQUEST.with(|_| REQUEST.sync_scope(2, || ())));
        assert!(message.contains("inside `REQUEST.with`"), "{message}");
        assert_eq!(REQUEST.get(), 1);
    });
}

#[test]
fn the_value_is_dropped_once_when_the_scoped_future_completes() {
    let tally = Tally::new();
    let value = tally.guard();
    let t = tally.clone();
    run_on("a scoped future completes", 2, async move {
        GUARDED
            .scope(value, async {
                task::yield_now().await;
                GUARDED.with(|_| ());
                assert_eq!(t.dropped(), 0, "the value was dropped while in scope");
            })
            .await;
        assert_eq!(t.dropped(), 1, "the value outlived its future");
    });
    assert_eq!(tally.created(), 1);
    assert_eq!(tally.dropped(), 1);

    // The same for a spawned scoped task: the runtime drops the task's future.
    let tally = Tally::new();
    let value = tally.guard();
    run_on("a spawned scoped task completes", 2, async move {
        let h = magpie::spawn(GUARDED.scope(value, async {
            task::yield_now().await;
            GUARDED.with(|_| ());
        }));
        h.await.expect("the scoped task failed");
    });
    tally.wait_all_dropped("a completed scoped task", Duration::from_secs(10));
    assert_eq!(tally.dropped(), 1);
}

#[test]
fn the_value_is_dropped_once_when_an_unfinished_scoped_task_is_aborted() {
    guard("abort a scoped task", || {
        let rt = runtime(2);
        let tally = Tally::new();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let polls = counter();
        let (value, reader, p) = (
            tally.guard(),
            ReadsRequestOnDrop(seen.clone()),
            polls.clone(),
        );
        let h = rt.spawn(GUARDED.scope(
            value,
            REQUEST.scope(9, async move {
                let _reader = reader;
                pending_forever(p).await
            }),
        ));
        wait_until(
            "the scoped task was polled",
            Duration::from_secs(10),
            || polls.load(SeqCst) == 1,
        );
        assert_eq!(tally.dropped(), 0);
        h.abort();
        let err = rt.block_on(h).unwrap_err();
        assert!(err.is_cancelled(), "{err:?}");
        assert_eq!(tally.dropped(), 1);
        // The inner future was dropped with the value installed.
        assert_eq!(*seen.lock().unwrap(), [Some(9)]);
        drop(rt);
        assert_eq!(tally.dropped(), 1);
    });
}

#[test]
fn dropping_an_unfinished_scoped_future_drops_the_inner_future_with_the_value_installed() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let reader = ReadsRequestOnDrop(seen.clone());
    REQUEST.sync_scope(1, || {
        let mut scoped = Box::pin(REQUEST.scope(5, async move {
            let _reader = reader;
            std::future::pending::<()>().await
        }));
        assert!(poll_noop(&mut scoped).is_pending());
        assert!(seen.lock().unwrap().is_empty());
        drop(scoped);
        assert_eq!(
            *seen.lock().unwrap(),
            [Some(5)],
            "the inner future's drop saw"
        );
        assert_eq!(
            REQUEST.get(),
            1,
            "the outer value was not restored after the drop"
        );
    });
    assert!(!request_is_set());

    // When the inner future completes, it is dropped inside the scope too.
    // (A future that owns the reader until it is dropped, not until it completes.)
    let seen = Arc::new(Mutex::new(Vec::new()));
    let reader = ReadsRequestOnDrop(seen.clone());
    let mut scoped = Box::pin(REQUEST.scope(
        6,
        std::future::poll_fn(move |_| {
            let _owned = &reader;
            Poll::Ready(())
        }),
    ));
    assert_eq!(poll_noop(&mut scoped), Poll::Ready(()));
    assert_eq!(
        *seen.lock().unwrap(),
        [Some(6)],
        "dropped at completion, in scope"
    );
    drop(scoped);
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[test]
fn a_panic_in_the_inner_poll_restores_the_outer_value() {
    quiet_expected_panics();
    REQUEST.sync_scope(1, || {
        let mut scoped = Box::pin(REQUEST.scope(2, async {
            assert_eq!(REQUEST.get(), 2);
            panic!("{EXPECTED}: the inner poll panics");
        }));
        let polled = panic::catch_unwind(AssertUnwindSafe(|| poll_noop(&mut scoped)));
        assert!(polled.is_err(), "the inner poll did not panic");
        assert_eq!(REQUEST.get(), 1, "the outer value was not restored");
        // The scope's own value went back into its future.
        assert_eq!(scoped.as_mut().take_value(), Some(2));
    });
    assert!(!request_is_set());

    // The same with no outer scope, and through sync_scope.
    let caught = panic::catch_unwind(|| {
        REQUEST.sync_scope(3, || panic!("{EXPECTED}: the closure panics"));
    });
    assert!(caught.is_err());
    assert!(
        !request_is_set(),
        "a panicking sync_scope left its value behind"
    );
}

#[test]
fn a_panicking_scoped_task_leaves_no_value_on_its_worker() {
    quiet_expected_panics();
    run_on("a scoped task panics", 1, async {
        let h = magpie::spawn(REQUEST.scope(7, async {
            task::yield_now().await;
            panic!("{EXPECTED}: a scoped task panics");
        }));
        assert!(h.await.unwrap_err().is_panic());
        // One worker: the next task runs on the thread that saw the panic.
        let after = magpie::spawn(async { request_is_set() });
        assert!(!after.await.expect("the next task failed"));
    });
}

#[test]
fn take_value_hands_the_value_back_once_and_leaves_the_key_unset() {
    let mut scoped = Box::pin(REQUEST.scope(8, async {
        task::yield_now().await;
        REQUEST.try_with(|v| *v).ok()
    }));
    assert!(poll_noop(&mut scoped).is_pending());
    assert_eq!(scoped.as_mut().take_value(), Some(8));
    assert_eq!(scoped.as_mut().take_value(), None);
    assert_eq!(poll_noop(&mut scoped), Poll::Ready(None));
}

#[test]
fn polling_a_completed_scoped_future_panics_naming_the_key() {
    let mut scoped = Box::pin(REQUEST.scope(1, async {}));
    assert_eq!(poll_noop(&mut scoped), Poll::Ready(()));
    let message = expect_panic(|| poll_noop(&mut scoped));
    assert!(message.contains("`REQUEST`"), "{message}");
    assert!(message.contains("polled after it completed"), "{message}");
}

#[test]
fn a_scoped_future_is_send_when_its_value_and_future_are() {
    fn assert_send<T: Send>(_: &T) {}
    let scoped = USER.scope("ada".to_string(), async {
        task::yield_now().await;
        USER.get()
    });
    assert_send(&scoped);
    let out = run_on("spawn a Send scoped future", 2, async move {
        magpie::spawn(scoped).await.expect("the scoped task failed")
    });
    assert_eq!(out, "ada");
}
