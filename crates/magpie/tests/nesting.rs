//! Nesting: `block_on` inside a runtime panics clearly instead of deadlocking; a second
//! runtime may be built and dropped inside `block_on` or a task; `Handle::block_on` works
//! from blocking threads and foreign threads.

mod common;

use common::{expect_panic, guard, runtime};
use magpie::task;
use magpie::{Handle, Runtime};
use std::sync::mpsc;
use std::time::Duration;

fn assert_mentions_block_on(msg: &str) {
    assert!(
        msg.contains("block_on") && msg.contains("inside a magpie runtime"),
        "the nested block_on panic should say what went wrong: {msg}"
    );
}

#[test]
fn nested_block_on_inside_block_on_panics_with_a_clear_message() {
    guard("block_on in block_on", || {
        let rt = runtime(2);
        let other = runtime(1);
        let (same, via_handle, other_rt, via_run) = rt.block_on(async {
            let same = expect_panic(|| rt.block_on(async { 1 }));
            let via_handle = expect_panic(|| Handle::current().block_on(async { 1 }));
            let other_rt = expect_panic(|| other.block_on(async { 1 }));
            let via_run = expect_panic(|| magpie::run(async { 1 }));
            // The outer block_on still works after the nested attempts.
            let h = magpie::spawn(async { 2 });
            assert_eq!(h.await.unwrap(), 2);
            (same, via_handle, other_rt, via_run)
        });
        assert_mentions_block_on(&same);
        assert_mentions_block_on(&via_handle);
        assert_mentions_block_on(&other_rt);
        assert_mentions_block_on(&via_run);
        // And the thread may block_on again once outside.
        assert_eq!(rt.block_on(async { 3 }), 3);
        assert_eq!(other.block_on(async { 4 }), 4);
    });
}

#[test]
fn nested_block_on_inside_a_task_on_a_worker_panics_with_a_clear_message() {
    guard("block_on in a task", || {
        let rt = runtime(2);
        let other = runtime(1);
        let other_handle = other.handle().clone();
        let (own, foreign) = rt.block_on(async move {
            magpie::spawn(async move {
                let own = expect_panic(|| Handle::current().block_on(async { 1 }));
                let foreign = expect_panic(|| other_handle.block_on(async { 1 }));
                (own, foreign)
            })
            .await
            .unwrap()
        });
        assert_mentions_block_on(&own);
        assert_mentions_block_on(&foreign);
        // The worker survived and the runtime still runs tasks.
        assert_eq!(rt.block_on(rt.spawn(async { 5 })).unwrap(), 5);
        drop(other);
    });
}

#[test]
fn building_and_dropping_a_second_runtime_inside_block_on_works() {
    guard("runtime in block_on", || {
        let outer = Runtime::builder()
            .worker_threads(1)
            .thread_name("outer")
            .build()
            .unwrap();
        let (inner_name, outer_name) = outer.block_on(async {
            let inner = Runtime::builder()
                .worker_threads(2)
                .thread_name("inner")
                .build()
                .unwrap();
            let h = inner.spawn(async { std::thread::current().name().map(str::to_owned) });
            let inner_name = h.await.unwrap();
            let b = inner.spawn_blocking(|| 6);
            assert_eq!(b.await.unwrap(), 6);
            drop(inner);
            // magpie::spawn still goes to the outer runtime.
            let outer_name =
                magpie::spawn(async { std::thread::current().name().map(str::to_owned) })
                    .await
                    .unwrap();
            (inner_name, outer_name)
        });
        assert_eq!(inner_name.as_deref(), Some("inner"));
        assert_eq!(outer_name.as_deref(), Some("outer"));
    });
}

#[test]
fn building_and_dropping_a_second_runtime_inside_a_task_works() {
    guard("runtime in a task", || {
        let outer = runtime(2);
        let out = outer.block_on(async {
            magpie::spawn(async {
                let inner = runtime(1);
                let v = inner.spawn(async { 10 }).await.unwrap();
                drop(inner);
                v + 1
            })
            .await
            .unwrap()
        });
        assert_eq!(out, 11);
    });
}

#[test]
fn handle_block_on_from_a_spawn_blocking_thread_works() {
    guard("block_on in spawn_blocking", || {
        let rt = runtime(2);
        let out = rt.block_on(async {
            task::spawn_blocking(|| {
                Handle::current().block_on(async {
                    let h = magpie::spawn(async { 20 });
                    let nested = task::spawn_blocking(|| 1).await.unwrap();
                    h.await.unwrap() + nested
                })
            })
            .await
            .unwrap()
        });
        assert_eq!(out, 21);
        // Twice in a row on the same blocking thread.
        let out = rt.block_on(rt.spawn_blocking(|| {
            let h = Handle::current();
            h.block_on(async { 1 }) + h.block_on(async { 2 })
        }));
        assert_eq!(out.unwrap(), 3);
    });
}

#[test]
fn block_on_from_several_foreign_threads_at_once_works() {
    guard("concurrent block_on", || {
        let rt = runtime(2);
        let (tx, rx) = mpsc::channel();
        std::thread::scope(|s| {
            for i in 0..4u64 {
                let handle = rt.handle().clone();
                let tx = tx.clone();
                s.spawn(move || {
                    let v = handle.block_on(async move {
                        let hs: Vec<_> = (0..100u64)
                            .map(|j| magpie::spawn(async move { i * j }))
                            .collect();
                        let mut sum = 0;
                        for h in hs {
                            sum += h.await.unwrap();
                        }
                        sum
                    });
                    tx.send((i, v)).unwrap();
                });
            }
        });
        drop(tx);
        let mut results: Vec<_> = rx.iter().collect();
        results.sort();
        assert_eq!(
            results,
            (0..4u64).map(|i| (i, i * 4_950)).collect::<Vec<_>>()
        );
        assert!(rx.recv_timeout(Duration::from_millis(1)).is_err());
    });
}

#[test]
fn a_second_runtime_can_block_on_inside_spawn_blocking() {
    guard("runtime in spawn_blocking", || {
        let rt = runtime(1);
        let out = rt.block_on(rt.spawn_blocking(|| {
            let inner = runtime(1);
            let v = inner.block_on(async { magpie::spawn(async { 30 }).await.unwrap() });
            drop(inner);
            v
        }));
        assert_eq!(out.unwrap(), 30);
    });
}
