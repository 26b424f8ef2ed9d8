//! Panics: in tasks, in `block_on`, in a future's `Drop`, in blocking closures and in thread
//! hooks. None of them may take a worker down or leak a future.

mod common;

use common::{
    counted_runtime, counter, expect_panic, guard, panic_message, pending_forever,
    quiet_expected_panics, runtime, wait_until, HookCounts, PanicOnDrop, Tally, EXPECTED,
};
use magpie::task;
use magpie::Runtime;
use std::collections::HashSet;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

#[test]
fn panic_in_a_task_becomes_a_join_error_with_its_payload_and_drops_the_future() {
    quiet_expected_panics();
    guard("task panic", || {
        let rt = runtime(2);
        let tally = Tally::new();
        let g = tally.guard();
        let h = rt.spawn(async move {
            let _g = g;
            task::yield_now().await;
            if true {
                panic!("{EXPECTED}: boom {}", 7);
            }
            5u32
        });
        let id = h.id();
        let err = rt.block_on(h).unwrap_err();
        assert!(err.is_panic());
        assert!(!err.is_cancelled());
        assert_eq!(err.id(), id);
        assert!(err.to_string().contains("boom 7"), "{err}");
        assert!(format!("{err:?}").contains("boom 7"), "{err:?}");
        let payload = err.into_panic();
        assert_eq!(
            payload.downcast_ref::<String>().map(String::as_str),
            Some("expected-panic: boom 7")
        );
        tally.assert_all_dropped("panicking task");

        // A &'static str payload comes back as such.
        let err = rt
            .block_on(rt.spawn(async { panic!("expected-panic: static") }))
            .unwrap_err();
        let payload = err.into_panic();
        assert_eq!(
            payload.downcast_ref::<&'static str>().copied(),
            Some("expected-panic: static")
        );

        // into_panic on a cancelled error panics with a clear message.
        let h = rt.spawn(pending_forever(counter()));
        h.abort();
        let cancelled = rt.block_on(h).unwrap_err();
        assert!(cancelled.is_cancelled() && !cancelled.is_panic());
        let msg = expect_panic(move || cancelled.into_panic());
        assert!(msg.contains("into_panic"), "{msg}");
    });
}

#[test]
fn a_one_worker_runtime_keeps_running_tasks_after_100_panics() {
    quiet_expected_panics();
    guard("100 panics on one worker", || {
        let (rt, HookCounts { starts, stops }) = counted_runtime(1);
        let tally = Tally::new();
        let worker_before = rt
            .block_on(rt.spawn(async { std::thread::current().id() }))
            .unwrap();
        let panicked = rt.block_on(async {
            let handles: Vec<_> = (0..100)
                .map(|i| {
                    let g = tally.guard();
                    magpie::spawn(async move {
                        let _g = g;
                        if i % 2 == 0 {
                            task::yield_now().await;
                        }
                        panic!("{EXPECTED}: task {i}");
                    })
                })
                .collect();
            let mut panicked = 0;
            for h in handles {
                if h.await.unwrap_err().is_panic() {
                    panicked += 1;
                }
            }
            panicked
        });
        assert_eq!(panicked, 100);
        tally.assert_all_dropped("100 panicking tasks");
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
        assert_eq!(sum, 4_950);
        let worker_after = rt
            .block_on(rt.spawn(async { std::thread::current().id() }))
            .unwrap();
        assert_eq!(
            worker_before, worker_after,
            "the only worker thread changed: a panic killed it"
        );
        assert_eq!(starts.load(SeqCst), 1, "a worker thread was restarted");
        assert_eq!(stops.load(SeqCst), 0, "a worker thread stopped");
        drop(rt);
        assert_eq!(stops.load(SeqCst), 1);
    });
}

#[test]
fn every_worker_survives_panics_on_a_two_worker_runtime() {
    quiet_expected_panics();
    guard("panics on two workers", || {
        let (rt, HookCounts { stops, .. }) = counted_runtime(2);
        let threads = rt.block_on(async {
            let handles: Vec<_> = (0..1_000)
                .map(|i| {
                    magpie::spawn(async move {
                        if i % 3 == 0 {
                            panic!("{EXPECTED}: {i}");
                        }
                        std::thread::current().id()
                    })
                })
                .collect();
            let mut threads = HashSet::new();
            for (i, h) in handles.into_iter().enumerate() {
                match h.await {
                    Ok(t) => {
                        assert_ne!(i % 3, 0);
                        threads.insert(t);
                    }
                    Err(e) => assert!(e.is_panic() && i % 3 == 0),
                }
            }
            threads
        });
        assert!(!threads.is_empty());
        assert_eq!(stops.load(SeqCst), 0, "a worker exited after a task panic");
        drop(rt);
        assert_eq!(stops.load(SeqCst), 2);
    });
}

#[test]
fn panic_in_block_on_propagates_to_the_caller_and_the_runtime_stays_usable() {
    quiet_expected_panics();
    guard("block_on panic", || {
        let rt = runtime(2);
        let result = panic::catch_unwind(AssertUnwindSafe(|| {
            rt.block_on(async {
                let h = magpie::spawn(async { 1 });
                assert_eq!(h.await.unwrap(), 1);
                panic!("{EXPECTED}: in block_on");
            })
        }));
        let payload = result.expect_err("the panic in block_on did not propagate");
        assert_eq!(panic_message(&*payload), "expected-panic: in block_on");

        // The thread is no longer marked as inside a runtime, and the runtime works.
        let out = rt.block_on(async {
            let h = magpie::spawn(async { task::spawn_blocking(|| 2).await.unwrap() + 1 });
            h.await.unwrap()
        });
        assert_eq!(out, 3);

        // The same through magpie::run.
        let result = panic::catch_unwind(|| magpie::run(async { panic!("{EXPECTED}: in run") }));
        assert!(result.is_err());
        assert_eq!(magpie::run(async { 4 }), 4);
    });
}

#[test]
fn panic_in_a_future_drop_during_abort_is_contained() {
    quiet_expected_panics();
    guard("Drop panic on abort", || {
        let rt = runtime(1);
        let tally = Tally::new();
        let polls = counter();
        let (g, p) = (tally.guard(), polls.clone());
        let h = rt.spawn(async move {
            let _g = g;
            let _bomb = PanicOnDrop("dropped on abort");
            pending_forever(p).await
        });
        wait_until("the task was polled", Duration::from_secs(10), || {
            polls.load(SeqCst) > 0
        });
        h.abort();
        let err = rt.block_on(h).unwrap_err();
        // The panic of the Drop is the task's outcome: a cancelled task that panicked while
        // being dropped reports the panic.
        assert!(err.is_panic(), "expected the Drop's panic, got {err:?}");
        assert_eq!(
            panic_message(&*err.into_panic()),
            "expected-panic: dropped on abort"
        );
        tally.assert_all_dropped("the other locals of the aborted future");
        // The worker lives on.
        assert_eq!(rt.block_on(rt.spawn(async { 8 })).unwrap(), 8);
    });
}

#[test]
fn panic_in_a_future_drop_during_shutdown_is_contained() {
    quiet_expected_panics();
    guard("Drop panic at shutdown", || {
        let (rt, HookCounts { stops, .. }) = counted_runtime(2);
        let tally = Tally::new();
        let polls = counter();
        let mut handles = Vec::new();
        for i in 0..200 {
            let (g, p) = (tally.guard(), polls.clone());
            handles.push(rt.spawn(async move {
                let _g = g;
                let _bomb = (i % 2 == 0).then(|| PanicOnDrop("dropped at shutdown"));
                pending_forever(p).await
            }));
        }
        wait_until("every task was polled", Duration::from_secs(10), || {
            polls.load(SeqCst) >= 200
        });
        // The drop must neither panic nor hang.
        drop(rt);
        tally.assert_all_dropped("shutdown with panicking drops");
        assert_eq!(stops.load(SeqCst), 2);
        for (i, h) in handles.into_iter().enumerate() {
            let err = common::block_on_plain(h).unwrap_err();
            if i % 2 == 0 {
                assert!(err.is_panic(), "task {i}: {err:?}");
            } else {
                assert!(err.is_cancelled(), "task {i}: {err:?}");
            }
        }
    });
}

#[test]
fn panic_in_a_detached_task_output_drop_is_contained() {
    quiet_expected_panics();
    guard("output Drop panic", || {
        let rt = runtime(1);
        let done = counter();
        let d = done.clone();
        // Nobody reads the output: the runtime drops it, and its Drop panics.
        drop(rt.spawn(async move {
            d.fetch_add(1, SeqCst);
            PanicOnDrop("detached output")
        }));
        wait_until("the detached task ran", Duration::from_secs(10), || {
            done.load(SeqCst) == 1
        });
        assert_eq!(rt.block_on(rt.spawn(async { 1 })).unwrap(), 1);
    });
}

#[test]
fn panic_in_spawn_blocking_becomes_a_join_error() {
    quiet_expected_panics();
    guard("spawn_blocking panic", || {
        let rt = runtime(1);
        let err = rt
            .block_on(rt.spawn_blocking(|| -> u8 { panic!("{EXPECTED}: blocking") }))
            .unwrap_err();
        assert!(err.is_panic());
        assert_eq!(
            panic_message(&*err.into_panic()),
            "expected-panic: blocking"
        );
        assert_eq!(rt.block_on(rt.spawn_blocking(|| 3)).unwrap(), 3);
    });
}

#[test]
fn a_panicking_on_thread_start_hook_does_not_kill_the_runtime() {
    quiet_expected_panics();
    guard("panicking start hook", || {
        let starts = counter();
        let stops = counter();
        let (s1, s2) = (starts.clone(), stops.clone());
        let rt = Runtime::builder()
            .worker_threads(2)
            .on_thread_start(move || {
                s1.fetch_add(1, SeqCst);
                panic!("{EXPECTED}: on_thread_start");
            })
            .on_thread_stop(move || {
                s2.fetch_add(1, SeqCst);
            })
            .build()
            .unwrap();
        let out = rt.block_on(async {
            let handles: Vec<_> = (0..100u64)
                .map(|i| magpie::spawn(async move { i }))
                .collect();
            let mut sum = 0;
            for h in handles {
                sum += h.await.unwrap();
            }
            sum + task::spawn_blocking(|| 1).await.unwrap()
        });
        assert_eq!(out, 4_951);
        drop(rt);
        let started = starts.load(SeqCst);
        assert!(started >= 3, "2 workers + 1 blocking thread, got {started}");
        assert_eq!(
            stops.load(SeqCst),
            started,
            "every started thread must run its stop hook"
        );
    });
}

#[test]
fn a_panicking_on_thread_stop_hook_does_not_break_shutdown() {
    quiet_expected_panics();
    guard("panicking stop hook", || {
        let stops = counter();
        let s = stops.clone();
        let rt = Runtime::builder()
            .worker_threads(2)
            .on_thread_stop(move || {
                s.fetch_add(1, SeqCst);
                panic!("{EXPECTED}: on_thread_stop");
            })
            .build()
            .unwrap();
        assert_eq!(rt.block_on(rt.spawn(async { 1 })).unwrap(), 1);
        drop(rt);
        assert_eq!(stops.load(SeqCst), 2);
    });
}

#[test]
fn a_panic_payload_that_panics_on_drop_is_contained() {
    quiet_expected_panics();
    guard("payload Drop panic", || {
        let rt = runtime(1);
        let ran = counter();
        let r = ran.clone();
        // Detached: the runtime drops the JoinError, and with it the payload.
        drop(rt.spawn(async move {
            r.fetch_add(1, SeqCst);
            std::panic::panic_any(PanicOnDrop("payload"));
        }));
        wait_until("the task ran", Duration::from_secs(10), || {
            ran.load(SeqCst) == 1
        });
        std::thread::sleep(Duration::from_millis(20));
        // Joined: the payload reaches the caller intact.
        let err = rt
            .block_on(rt.spawn(async { std::panic::panic_any(7u32) }))
            .unwrap_err();
        assert_eq!(err.into_panic().downcast_ref::<u32>(), Some(&7));
        assert_eq!(rt.block_on(rt.spawn(async { 1 })).unwrap(), 1);
    });
}

#[test]
fn dropping_the_handle_of_a_finished_task_contains_its_output_drop_panic() {
    quiet_expected_panics();
    guard("output Drop panic at handle drop", || {
        let rt = runtime(1);
        let handle = rt.spawn(async { PanicOnDrop("finished output") });
        wait_until("the task finished", Duration::from_secs(10), || {
            handle.is_finished()
        });
        // The output is stored in the task; dropping the handle drops it here, on this
        // thread, and its panic must not escape (as when the runtime drops it).
        drop(handle);
        assert_eq!(rt.block_on(rt.spawn(async { 2 })).unwrap(), 2);
    });
}
