//! The edges of `tokio_compat(true)` (the "does not run" and "runs, but" rows of
//! docs/ecosystem.md). The tokio runtime magpie keeps beside its workers is a
//! current-thread one that drives timers and sockets, and magpie's threads are not tokio
//! worker threads: tokio's `spawn_local` outside a `LocalSet` fails from a magpie task (as it
//! does on tokio), a `LocalSet` driven by a magpie task works, and tokio's `block_in_place`
//! runs its closure in place without handing the worker's other tasks away. magpie's
//! counterparts do each job.

use magpie_ecosystem::{panic_message, test_runtime};
use std::rc::Rc;

#[test]
fn tokio_spawn_local_fails_and_magpie_spawn_local_runs() {
    test_runtime(true).block_on(async {
        let tokio_local = magpie::spawn(async {
            tokio::task::spawn_local(async {});
        });
        let text = panic_message(tokio_local.await.unwrap_err());
        assert!(text.contains("LocalSet"), "{text}");

        // magpie's: a !Send future on the worker thread that spawned it.
        let seen = magpie::spawn(async {
            let local = Rc::new(7);
            magpie::task::spawn_local(async move { *local * 6 })
                .await
                .unwrap()
        });
        assert_eq!(seen.await.unwrap(), 42);
    });
}

#[test]
fn a_tokio_local_set_driven_by_a_magpie_task_runs_its_local_tasks() {
    test_runtime(true).block_on(async {
        // A LocalSet is !Send: a local magpie task drives it.
        let sum = magpie::task::spawn_local(async {
            let local = tokio::task::LocalSet::new();
            local
                .run_until(async {
                    let shared = Rc::new(40);
                    let one = tokio::task::spawn_local({
                        let shared = shared.clone();
                        async move { *shared + 1 }
                    });
                    let two = tokio::task::spawn_local(async move { *shared + 2 });
                    one.await.unwrap() + two.await.unwrap()
                })
                .await
        });
        assert_eq!(sum.await.unwrap(), 83);
    });
}

#[test]
fn tokio_block_in_place_runs_in_place_and_magpie_block_in_place_hands_off() {
    test_runtime(true).block_on(async {
        // The tokio side is a current-thread runtime, and a magpie worker is no tokio
        // worker: tokio's block_in_place just calls the closure, blocking the magpie worker
        // (its other tasks wait, or are stolen by the other worker).
        assert_eq!(
            tokio::runtime::Handle::current().runtime_flavor(),
            tokio::runtime::RuntimeFlavor::CurrentThread
        );
        let worker = magpie::spawn(async {
            let before = std::thread::current().id();
            let inside = tokio::task::block_in_place(|| std::thread::current().id());
            (before, inside)
        });
        let (before, inside) = worker.await.unwrap();
        assert_eq!(before, inside);

        // magpie's: the same closure, while a stand-in thread takes the worker's other tasks.
        let done = magpie::spawn(async { magpie::task::block_in_place(|| 2 + 2) });
        assert_eq!(done.await.unwrap(), 4);
    });
}
