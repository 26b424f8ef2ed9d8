//! magpie vs tokio vs smol (async-executor) on scheduler micro-benchmarks.
//!
//! One criterion group per workload, one function per runtime inside it:
//!
//! * `magpie`  — [`magpie::Runtime`]
//! * `tokio`   — tokio's multi-thread runtime
//! * `tokio_b` — a second, identical tokio runtime measured last in the group:
//!   `tokio_b / tokio` is the noise band of the run
//! * `smol`    — an `async_executor::Executor` driven by as many threads
//!
//! Every runtime has the same number of workers (`MAGPIE_BENCH_WORKERS`,
//! default 2) and is built once per group, before its function is measured,
//! and dropped right after it, so that only one runtime exists at a time (an
//! idle runtime's threads would otherwise show up in the CPU-time numbers).
//! The group runner of the plain workloads is [`magpie_benches::run_all`],
//! shared with `benches/timers.rs`.
//!
//! Each workload is measured twice: with wall time (group `<workload>`, results
//! in `target/criterion/<workload>/<runtime>/`) and with process CPU time
//! (group `<workload>/cpu`, results in `target/criterion/<workload>_cpu/<runtime>/`).
//!
//! `spawn_many_remote` and `yield_many` are written as async benchmarks:
//! `b.to_async(&runtime).iter(|| async { ... })`, with criterion's
//! `AsyncExecutor` for `&magpie::Runtime` (magpie's feature `criterion`), for
//! `&tokio::runtime::Runtime` (criterion's feature `async_tokio`) and for a
//! [`SmolRuntime`] (the [`SmolBlockOn`] newtype here). All three run each of
//! criterion's measured batches inside one `block_on` on the benchmark thread,
//! which is not one of the runtime's workers, so the tasks are spawned from
//! outside the workers and joined there, on every runtime alike. The other
//! workloads are plain functions of the runtime, measured by
//! [`magpie_benches::run_all`].
//!
//! Run with `scripts/bench.sh` (which also writes `docs/benchmarks.md`), or
//! `cargo bench -p magpie-benches --bench runtimes -- [criterion args]`.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use criterion::async_executor::AsyncExecutor;
use criterion::measurement::Measurement;
use criterion::{Criterion, SamplingMode};
use magpie_benches::{
    configure, magpie_rt, run_all, smol_rt, tokio_rt, CpuTime, SmolRuntime, Workload,
};

/// Tasks spawned by `spawn_many_local` and `spawn_many_remote`.
const SPAWN_MANY: usize = 10_000;
/// Tasks in `yield_many`.
const YIELD_TASKS: usize = 200;
/// `yield_now` calls per task in `yield_many`.
const YIELDS_PER_TASK: usize = 1_000;
/// Length of the task chain in `chained_spawn`.
const CHAIN_LEN: usize = 1_000;
/// `spawn_blocking` calls in `spawn_blocking`.
const BLOCKING_CALLS: usize = 1_000;

type TokioRt = tokio::runtime::Runtime;
type MagpieRt = magpie::Runtime;

/// The workloads written as plain functions of the runtime (see the module
/// documentation for the async ones), in run order: `spawn_many_local` runs
/// before the async ones, the rest after them.
const WORKLOADS: &[Workload] = &[
    Workload {
        name: "spawn_many_local",
        magpie: spawn_many_local::magpie,
        tokio: spawn_many_local::tokio,
        smol: spawn_many_local::smol,
        magpie_variants: &[],
    },
    Workload {
        name: "chained_spawn",
        magpie: chained_spawn::magpie,
        tokio: chained_spawn::tokio,
        smol: chained_spawn::smol,
        magpie_variants: &[],
    },
    Workload {
        name: "chained_spawn_remote",
        magpie: chained_spawn_remote::magpie,
        tokio: chained_spawn_remote::tokio,
        smol: chained_spawn_remote::smol,
        magpie_variants: &[],
    },
    Workload {
        name: "spawn_blocking",
        magpie: spawn_blocking::magpie,
        tokio: spawn_blocking::tokio,
        smol: spawn_blocking::smol,
        magpie_variants: &[],
    },
];

/// 10,000 empty tasks spawned from inside the runtime — from a driver task
/// running on a worker — and all joined by that driver.
mod spawn_many_local {
    use super::*;

    pub(super) fn magpie(rt: &MagpieRt) {
        rt.block_on(rt.spawn(async {
            let handles: Vec<_> = (0..SPAWN_MANY).map(|_| magpie::spawn(async {})).collect();
            for h in handles {
                h.await.unwrap();
            }
        }))
        .unwrap();
    }

    pub(super) fn tokio(rt: &TokioRt) {
        rt.block_on(rt.spawn(async {
            let handles: Vec<_> = (0..SPAWN_MANY).map(|_| tokio::spawn(async {})).collect();
            for h in handles {
                h.await.unwrap();
            }
        }))
        .unwrap();
    }

    pub(super) fn smol(rt: &SmolRuntime) {
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
mod spawn_many_remote {
    use super::*;

    pub(super) async fn magpie() {
        let handles: Vec<_> = (0..SPAWN_MANY).map(|_| magpie::spawn(async {})).collect();
        for h in handles {
            h.await.unwrap();
        }
    }

    pub(super) async fn tokio() {
        let handles: Vec<_> = (0..SPAWN_MANY).map(|_| tokio::spawn(async {})).collect();
        for h in handles {
            h.await.unwrap();
        }
    }

    pub(super) fn smol(ex: &Arc<async_executor::Executor<'static>>) -> impl Future<Output = ()> {
        let handles: Vec<_> = (0..SPAWN_MANY).map(|_| ex.spawn(async {})).collect();
        async move {
            for h in handles {
                h.await;
            }
        }
    }
}

/// 200 tasks, each calling `yield_now` 1,000 times, spawned from the benchmark
/// thread (inside criterion's `block_on`) and all joined there.
mod yield_many {
    use super::*;

    pub(super) async fn magpie() {
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

    pub(super) async fn tokio() {
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

    pub(super) fn smol(ex: &Arc<async_executor::Executor<'static>>) -> impl Future<Output = ()> {
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
}

/// A chain of 1,000 tasks, each spawning the next (from inside the runtime);
/// the last one signals a driver task, which waits inside the runtime.
///
/// Every runtime signals through the same `async_channel`, so the channel is
/// not part of the comparison.
mod chained_spawn {
    use super::*;

    pub(super) type Done = async_channel::Sender<()>;

    pub(super) fn magpie_link(n: usize, done: Done) {
        if n == 0 {
            done.try_send(()).unwrap();
        } else {
            drop(magpie::spawn(async move { magpie_link(n - 1, done) }));
        }
    }

    pub(super) fn magpie(rt: &MagpieRt) {
        rt.block_on(rt.spawn(async {
            let (done, finished) = async_channel::bounded(1);
            drop(magpie::spawn(
                async move { magpie_link(CHAIN_LEN - 1, done) },
            ));
            finished.recv().await.unwrap();
        }))
        .unwrap();
    }

    pub(super) fn tokio_link(n: usize, done: Done) {
        if n == 0 {
            done.try_send(()).unwrap();
        } else {
            drop(tokio::spawn(async move { tokio_link(n - 1, done) }));
        }
    }

    pub(super) fn tokio(rt: &TokioRt) {
        rt.block_on(rt.spawn(async {
            let (done, finished) = async_channel::bounded(1);
            drop(tokio::spawn(async move { tokio_link(CHAIN_LEN - 1, done) }));
            finished.recv().await.unwrap();
        }))
        .unwrap();
    }

    pub(super) fn smol_link(ex: Arc<async_executor::Executor<'static>>, n: usize, done: Done) {
        if n == 0 {
            done.try_send(()).unwrap();
        } else {
            let next = Arc::clone(&ex);
            ex.spawn(async move { smol_link(next, n - 1, done) })
                .detach();
        }
    }

    pub(super) fn smol(rt: &SmolRuntime) {
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
mod chained_spawn_remote {
    use super::chained_spawn::{magpie_link, smol_link, tokio_link};
    use super::*;

    pub(super) fn magpie(rt: &MagpieRt) {
        rt.block_on(async {
            let (done, finished) = async_channel::bounded(1);
            drop(magpie::spawn(
                async move { magpie_link(CHAIN_LEN - 1, done) },
            ));
            finished.recv().await.unwrap();
        });
    }

    pub(super) fn tokio(rt: &TokioRt) {
        rt.block_on(async {
            let (done, finished) = async_channel::bounded(1);
            drop(tokio::spawn(async move { tokio_link(CHAIN_LEN - 1, done) }));
            finished.recv().await.unwrap();
        });
    }

    pub(super) fn smol(rt: &SmolRuntime) {
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
mod spawn_blocking {
    use super::*;

    /// The closure each call runs: touches a shared counter so that it can't
    /// be optimised away.
    fn work(counter: &AtomicUsize) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn magpie(rt: &MagpieRt) {
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

    pub(super) fn tokio(rt: &TokioRt) {
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

    pub(super) fn smol(rt: &SmolRuntime) {
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

/// criterion's `AsyncExecutor` for a [`SmolRuntime`]: `async_io::block_on` on the
/// calling thread, as `SmolRuntime::block_on` (criterion's own `async_smol` runs
/// `smol::block_on`, which is the same function, but would pull in all of smol).
struct SmolBlockOn<'a>(&'a SmolRuntime);

impl AsyncExecutor for SmolBlockOn<'_> {
    fn block_on<T>(&self, future: impl Future<Output = T>) -> T {
        self.0.block_on(future)
    }
}

/// One async workload in one criterion group (`name` + `suffix`), one function
/// per runtime in [`run_all`]'s order (tokio, magpie, smol, then `tokio_b`, a
/// second tokio measured last: the noise band), each runtime built right before
/// its function and dropped right after it.
fn async_group<M, T, TF, G, GF, S, SF>(
    c: &mut Criterion<M>,
    name: &str,
    suffix: &str,
    tokio: T,
    magpie: G,
    smol: S,
) where
    M: Measurement,
    T: Fn() -> TF,
    TF: Future<Output = ()>,
    G: Fn() -> GF,
    GF: Future<Output = ()>,
    S: Fn(&Arc<async_executor::Executor<'static>>) -> SF,
    SF: Future<Output = ()>,
{
    let mut group = c.benchmark_group(format!("{name}{suffix}"));
    group.sampling_mode(SamplingMode::Flat);
    {
        let rt = tokio_rt();
        group.bench_function("tokio", |b| b.to_async(&rt).iter(&tokio));
    }
    {
        let rt = magpie_rt();
        group.bench_function("magpie", |b| b.to_async(&rt).iter(&magpie));
    }
    {
        let rt = smol_rt();
        let ex = Arc::clone(rt.executor());
        group.bench_function("smol", |b| b.to_async(SmolBlockOn(&rt)).iter(|| smol(&ex)));
    }
    {
        let rt = tokio_rt();
        group.bench_function("tokio_b", |b| b.to_async(&rt).iter(&tokio));
    }
    group.finish();
}

/// Every workload, in the order of `docs/benchmarks.md`, measured with `c`.
fn run<M: Measurement>(c: &mut Criterion<M>, suffix: &str) {
    run_all(c, &WORKLOADS[..1], suffix);
    async_group(
        c,
        "spawn_many_remote",
        suffix,
        spawn_many_remote::tokio,
        spawn_many_remote::magpie,
        spawn_many_remote::smol,
    );
    async_group(
        c,
        "yield_many",
        suffix,
        yield_many::tokio,
        yield_many::magpie,
        yield_many::smol,
    );
    run_all(c, &WORKLOADS[1..], suffix);
}

fn main() {
    let mut wall = configure(Criterion::default());
    run(&mut wall, "");
    let mut cpu = configure(Criterion::default().with_measurement(CpuTime));
    run(&mut cpu, "/cpu");
    wall.final_summary();
    cpu.final_summary();
}
