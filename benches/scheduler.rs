//! The scheduler workloads, written once per runtime API (magpie, tokio, smol's
//! async-executor) and shared by the criterion bench `benches/runtimes.rs` and the
//! oversubscription figure of `benches/sched_figures.rs`, so that both measure the same
//! code.
//!
//! Each workload is a module with one function per runtime. The plain ones
//! (`spawn_many_local`, `chained_spawn`, `chained_spawn_remote`, `spawn_blocking`) are
//! `fn(&Runtime)`: one iteration, run from a thread that is not one of the runtime's
//! workers. `spawn_many_remote` and `yield_many` are async (`async fn` for magpie and
//! tokio, a function of the executor returning a future for smol), for criterion's
//! `b.to_async(&runtime)`, which runs each measured batch inside one `block_on` on the
//! benchmark thread; their `*_block_on` functions run one iteration inside the
//! runtime's `block_on` on the calling thread, which is what `to_async` amounts to, per
//! iteration instead of per batch.
//!
//! [`WORKLOADS`] lists all six as [`Workload`]s (the async ones through their
//! `*_block_on` functions), in the order of `docs/benchmarks.md`.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::{SmolRuntime, Workload};

/// Tasks spawned by `spawn_many_local` and `spawn_many_remote`.
pub const SPAWN_MANY: usize = 10_000;
/// Tasks in `yield_many`.
pub const YIELD_TASKS: usize = 200;
/// `yield_now` calls per task in `yield_many`.
pub const YIELDS_PER_TASK: usize = 1_000;
/// Length of the task chain in `chained_spawn`.
pub const CHAIN_LEN: usize = 1_000;
/// `spawn_blocking` calls in `spawn_blocking`.
pub const BLOCKING_CALLS: usize = 1_000;

type TokioRt = tokio::runtime::Runtime;
type MagpieRt = magpie::Runtime;
/// The executor of a [`SmolRuntime`], which smol's async workloads take.
pub type SmolExecutor = Arc<async_executor::Executor<'static>>;

/// `spawn_many_local` as a [`Workload`].
pub const SPAWN_MANY_LOCAL: Workload = Workload {
    name: "spawn_many_local",
    magpie: spawn_many_local::magpie,
    tokio: spawn_many_local::tokio,
    smol: spawn_many_local::smol,
    magpie_variants: &[],
};

/// `spawn_many_remote` as a [`Workload`]: one iteration in the runtime's `block_on`.
pub const SPAWN_MANY_REMOTE: Workload = Workload {
    name: "spawn_many_remote",
    magpie: spawn_many_remote::magpie_block_on,
    tokio: spawn_many_remote::tokio_block_on,
    smol: spawn_many_remote::smol_block_on,
    magpie_variants: &[],
};

/// `yield_many` as a [`Workload`]: one iteration in the runtime's `block_on`.
pub const YIELD_MANY: Workload = Workload {
    name: "yield_many",
    magpie: yield_many::magpie_block_on,
    tokio: yield_many::tokio_block_on,
    smol: yield_many::smol_block_on,
    magpie_variants: &[],
};

/// `chained_spawn` as a [`Workload`].
pub const CHAINED_SPAWN: Workload = Workload {
    name: "chained_spawn",
    magpie: chained_spawn::magpie,
    tokio: chained_spawn::tokio,
    smol: chained_spawn::smol,
    magpie_variants: &[],
};

/// `chained_spawn_remote` as a [`Workload`].
pub const CHAINED_SPAWN_REMOTE: Workload = Workload {
    name: "chained_spawn_remote",
    magpie: chained_spawn_remote::magpie,
    tokio: chained_spawn_remote::tokio,
    smol: chained_spawn_remote::smol,
    magpie_variants: &[],
};

/// `spawn_blocking` as a [`Workload`].
pub const SPAWN_BLOCKING: Workload = Workload {
    name: "spawn_blocking",
    magpie: spawn_blocking::magpie,
    tokio: spawn_blocking::tokio,
    smol: spawn_blocking::smol,
    magpie_variants: &[],
};

/// Every scheduler workload, in the order of `docs/benchmarks.md` (and of
/// `benches/runtimes.rs`'s groups).
pub const WORKLOADS: [Workload; 6] = [
    SPAWN_MANY_LOCAL,
    SPAWN_MANY_REMOTE,
    YIELD_MANY,
    CHAINED_SPAWN,
    CHAINED_SPAWN_REMOTE,
    SPAWN_BLOCKING,
];

/// 10,000 empty tasks spawned from inside the runtime — from a driver task
/// running on a worker — and all joined by that driver.
pub mod spawn_many_local {
    use super::*;

    /// One iteration on magpie.
    pub fn magpie(rt: &MagpieRt) {
        rt.block_on(rt.spawn(async {
            let handles: Vec<_> = (0..SPAWN_MANY).map(|_| magpie::spawn(async {})).collect();
            for h in handles {
                h.await.unwrap();
            }
        }))
        .unwrap();
    }

    /// One iteration on tokio.
    pub fn tokio(rt: &TokioRt) {
        rt.block_on(rt.spawn(async {
            let handles: Vec<_> = (0..SPAWN_MANY).map(|_| tokio::spawn(async {})).collect();
            for h in handles {
                h.await.unwrap();
            }
        }))
        .unwrap();
    }

    /// One iteration on smol.
    pub fn smol(rt: &SmolRuntime) {
        let ex = Arc::clone(rt.executor());
        rt.block_on(rt.spawn(async move {
            let handles: Vec<_> = (0..SPAWN_MANY).map(|_| ex.spawn(async {})).collect();
            for h in handles {
                h.await;
            }
        }));
    }
}

/// 10,000 empty tasks spawned from the benchmark thread (outside the runtime's
/// workers: inside criterion's `block_on`), then all joined there.
pub mod spawn_many_remote {
    use super::*;

    /// One iteration on magpie, to run inside the runtime's `block_on`.
    pub async fn magpie() {
        let handles: Vec<_> = (0..SPAWN_MANY).map(|_| magpie::spawn(async {})).collect();
        for h in handles {
            h.await.unwrap();
        }
    }

    /// One iteration on tokio, to run inside the runtime's `block_on`.
    pub async fn tokio() {
        let handles: Vec<_> = (0..SPAWN_MANY).map(|_| tokio::spawn(async {})).collect();
        for h in handles {
            h.await.unwrap();
        }
    }

    /// One iteration on smol: spawns the tasks onto `ex` at once, and returns the
    /// future that joins them (to run inside `SmolRuntime::block_on`).
    pub fn smol(ex: &SmolExecutor) -> impl Future<Output = ()> {
        let handles: Vec<_> = (0..SPAWN_MANY).map(|_| ex.spawn(async {})).collect();
        async move {
            for h in handles {
                h.await;
            }
        }
    }

    /// [`magpie()`] in `rt.block_on`.
    pub fn magpie_block_on(rt: &MagpieRt) {
        rt.block_on(magpie());
    }

    /// [`tokio()`] in `rt.block_on`.
    pub fn tokio_block_on(rt: &TokioRt) {
        rt.block_on(tokio());
    }

    /// [`smol()`] in `rt.block_on`.
    pub fn smol_block_on(rt: &SmolRuntime) {
        rt.block_on(smol(rt.executor()));
    }
}

/// 200 tasks, each calling `yield_now` 1,000 times, spawned from the benchmark
/// thread (inside criterion's `block_on`) and all joined there.
pub mod yield_many {
    use super::*;

    /// One iteration on magpie, to run inside the runtime's `block_on`.
    pub async fn magpie() {
        let handles: Vec<_> = (0..YIELD_TASKS)
            .map(|_| {
                magpie::spawn(async {
                    for _ in 0..YIELDS_PER_TASK {
                        magpie::task::yield_now().await;
                    }
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
    }

    /// One iteration on tokio, to run inside the runtime's `block_on`.
    pub async fn tokio() {
        let handles: Vec<_> = (0..YIELD_TASKS)
            .map(|_| {
                tokio::spawn(async {
                    for _ in 0..YIELDS_PER_TASK {
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
    }

    /// One iteration on smol: spawns the tasks onto `ex` at once, and returns the
    /// future that joins them (to run inside `SmolRuntime::block_on`).
    pub fn smol(ex: &SmolExecutor) -> impl Future<Output = ()> {
        let handles: Vec<_> = (0..YIELD_TASKS)
            .map(|_| {
                ex.spawn(async {
                    for _ in 0..YIELDS_PER_TASK {
                        futures_lite::future::yield_now().await;
                    }
                })
            })
            .collect();
        async move {
            for h in handles {
                h.await;
            }
        }
    }

    /// [`magpie()`] in `rt.block_on`.
    pub fn magpie_block_on(rt: &MagpieRt) {
        rt.block_on(magpie());
    }

    /// [`tokio()`] in `rt.block_on`.
    pub fn tokio_block_on(rt: &TokioRt) {
        rt.block_on(tokio());
    }

    /// [`smol()`] in `rt.block_on`.
    pub fn smol_block_on(rt: &SmolRuntime) {
        rt.block_on(smol(rt.executor()));
    }
}

/// A chain of 1,000 tasks, each spawning the next (from inside the runtime);
/// the last one signals a driver task, which waits inside the runtime.
///
/// Every runtime signals through the same `async_channel`, so the channel is
/// not part of the comparison.
pub mod chained_spawn {
    use super::*;

    /// What the last task of a chain signals through.
    pub type Done = async_channel::Sender<()>;

    /// A link of the chain on magpie: spawns the next `n` links, or signals `done`.
    pub fn magpie_link(n: usize, done: Done) {
        if n == 0 {
            done.try_send(()).unwrap();
        } else {
            drop(magpie::spawn(async move { magpie_link(n - 1, done) }));
        }
    }

    /// One iteration on magpie.
    pub fn magpie(rt: &MagpieRt) {
        rt.block_on(rt.spawn(async {
            let (done, finished) = async_channel::bounded(1);
            drop(magpie::spawn(
                async move { magpie_link(CHAIN_LEN - 1, done) },
            ));
            finished.recv().await.unwrap();
        }))
        .unwrap();
    }

    /// A link of the chain on tokio: spawns the next `n` links, or signals `done`.
    pub fn tokio_link(n: usize, done: Done) {
        if n == 0 {
            done.try_send(()).unwrap();
        } else {
            drop(tokio::spawn(async move { tokio_link(n - 1, done) }));
        }
    }

    /// One iteration on tokio.
    pub fn tokio(rt: &TokioRt) {
        rt.block_on(rt.spawn(async {
            let (done, finished) = async_channel::bounded(1);
            drop(tokio::spawn(async move { tokio_link(CHAIN_LEN - 1, done) }));
            finished.recv().await.unwrap();
        }))
        .unwrap();
    }

    /// A link of the chain on smol: spawns the next `n` links onto `ex`, or signals
    /// `done`.
    pub fn smol_link(ex: SmolExecutor, n: usize, done: Done) {
        if n == 0 {
            done.try_send(()).unwrap();
        } else {
            let next = Arc::clone(&ex);
            ex.spawn(async move { smol_link(next, n - 1, done) })
                .detach();
        }
    }

    /// One iteration on smol.
    pub fn smol(rt: &SmolRuntime) {
        let ex = Arc::clone(rt.executor());
        rt.block_on(rt.spawn(async move {
            let (done, finished) = async_channel::bounded(1);
            let next = Arc::clone(&ex);
            ex.spawn(async move { smol_link(next, CHAIN_LEN - 1, done) })
                .detach();
            finished.recv().await.unwrap();
        }));
    }
}

/// `chained_spawn` started from outside the runtime (issue 20's shape): the
/// benchmark thread's `block_on` spawns the chain's first task (a remote spawn),
/// each task spawns the next from a worker, and the last one answers the
/// waiting `block_on` over a channel. Wakes that spread work where none is to
/// be had show up here as CPU time above the wall time.
pub mod chained_spawn_remote {
    use super::chained_spawn::{magpie_link, smol_link, tokio_link};
    use super::*;

    /// One iteration on magpie.
    pub fn magpie(rt: &MagpieRt) {
        rt.block_on(async {
            let (done, finished) = async_channel::bounded(1);
            drop(magpie::spawn(
                async move { magpie_link(CHAIN_LEN - 1, done) },
            ));
            finished.recv().await.unwrap();
        });
    }

    /// One iteration on tokio.
    pub fn tokio(rt: &TokioRt) {
        rt.block_on(async {
            let (done, finished) = async_channel::bounded(1);
            drop(tokio::spawn(async move { tokio_link(CHAIN_LEN - 1, done) }));
            finished.recv().await.unwrap();
        });
    }

    /// One iteration on smol.
    pub fn smol(rt: &SmolRuntime) {
        let ex = Arc::clone(rt.executor());
        rt.block_on(async move {
            let (done, finished) = async_channel::bounded(1);
            let next = Arc::clone(&ex);
            ex.spawn(async move { smol_link(next, CHAIN_LEN - 1, done) })
                .detach();
            finished.recv().await.unwrap();
        });
    }
}

/// 1,000 `spawn_blocking` calls of a trivial closure from the benchmark
/// thread, all joined. smol has no `spawn_blocking`; its idiom is the
/// `blocking` crate's thread pool (`blocking::unblock`).
pub mod spawn_blocking {
    use super::*;

    /// The closure each call runs: touches a shared counter so that it can't
    /// be optimised away.
    fn work(counter: &AtomicUsize) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// One iteration on magpie.
    pub fn magpie(rt: &MagpieRt) {
        let counter = Arc::new(AtomicUsize::new(0));
        let handle = rt.handle();
        let handles: Vec<_> = (0..BLOCKING_CALLS)
            .map(|_| {
                let counter = Arc::clone(&counter);
                handle.spawn_blocking(move || work(&counter))
            })
            .collect();
        rt.block_on(async move {
            for h in handles {
                h.await.unwrap();
            }
        });
        assert_eq!(counter.load(Ordering::Relaxed), BLOCKING_CALLS);
    }

    /// One iteration on tokio.
    pub fn tokio(rt: &TokioRt) {
        let counter = Arc::new(AtomicUsize::new(0));
        let handle = rt.handle();
        let handles: Vec<_> = (0..BLOCKING_CALLS)
            .map(|_| {
                let counter = Arc::clone(&counter);
                handle.spawn_blocking(move || work(&counter))
            })
            .collect();
        rt.block_on(async move {
            for h in handles {
                h.await.unwrap();
            }
        });
        assert_eq!(counter.load(Ordering::Relaxed), BLOCKING_CALLS);
    }

    /// One iteration on smol.
    pub fn smol(rt: &SmolRuntime) {
        let counter = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..BLOCKING_CALLS)
            .map(|_| {
                let counter = Arc::clone(&counter);
                blocking::unblock(move || work(&counter))
            })
            .collect();
        rt.block_on(async move {
            for h in handles {
                h.await;
            }
        });
        assert_eq!(counter.load(Ordering::Relaxed), BLOCKING_CALLS);
    }
}
