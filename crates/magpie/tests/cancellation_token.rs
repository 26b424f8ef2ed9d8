//! `magpie::sync::CancellationToken` on the runtime: tasks stopped by a shared shutdown token
//! in a `select!`, an owned waiter spawned as a task, and a drop guard tied to a task.

mod common;

use common::{guard, run_on, runtime};
use magpie::sync::CancellationToken;
use std::time::Duration;

#[test]
fn a_shutdown_token_stops_every_worker_task() {
    run_on("shutdown token", 2, async {
        let shutdown = CancellationToken::new();
        let workers: Vec<_> = (0..8)
            .map(|i| {
                let token = shutdown.child_token();
                magpie::spawn(async move {
                    let mut ticks = 0u64;
                    loop {
                        magpie::select! {
                            _ = token.cancelled() => break (i, ticks),
                            _ = magpie::time::sleep(Duration::from_millis(1)) => ticks += 1,
                        }
                    }
                })
            })
            .collect();
        magpie::time::sleep(Duration::from_millis(20)).await;
        shutdown.cancel();
        for (expected, worker) in workers.into_iter().enumerate() {
            let (i, _ticks) = worker.await.unwrap();
            assert_eq!(i, expected);
        }
    });
}

#[test]
fn cancelled_owned_runs_as_a_spawned_task() {
    guard("cancelled_owned task", || {
        let rt = runtime(2);
        let token = CancellationToken::new();
        let waiter = rt.spawn(token.clone().cancelled_owned());
        let canceller = rt.spawn({
            let token = token.clone();
            async move { token.cancel() }
        });
        rt.block_on(async {
            canceller.await.unwrap();
            waiter.await.unwrap();
        });
        assert!(token.is_cancelled());
    });
}

#[test]
fn a_drop_guard_in_a_finished_task_cancels_its_children() {
    run_on("drop guard in a task", 2, async {
        let parent = CancellationToken::new();
        let child = parent.child_token();
        let waiting = magpie::spawn(async move { child.cancelled().await });
        let guarded = parent.clone();
        magpie::spawn(async move {
            let _guard = guarded.drop_guard();
        })
        .await
        .unwrap();
        waiting.await.unwrap();
        assert!(parent.is_cancelled());
    });
}
