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
//! The workloads themselves, with what each one does, are in `benches/scheduler.rs`
//! ([`magpie_benches::scheduler`]), shared with the oversubscription figure
//! (`benches/sched_figures.rs`); this file is the criterion driver over them.
//!
//! Run with `scripts/bench.sh` (which also writes `docs/benchmarks.md`), or
//! `cargo bench -p magpie-benches --bench runtimes -- [criterion args]`.

use std::future::Future;
use std::sync::Arc;

use criterion::async_executor::AsyncExecutor;
use criterion::measurement::Measurement;
use criterion::{Criterion, SamplingMode};
use magpie_benches::scheduler::{
    spawn_many_remote, yield_many, SmolExecutor, CHAINED_SPAWN, CHAINED_SPAWN_REMOTE,
    SPAWN_BLOCKING, SPAWN_MANY_LOCAL,
};
use magpie_benches::{configure, magpie_rt, run_all, smol_rt, tokio_rt, CpuTime, SmolRuntime};

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
    S: Fn(&SmolExecutor) -> SF,
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
    run_all(c, &[SPAWN_MANY_LOCAL], suffix);
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
    run_all(
        c,
        &[CHAINED_SPAWN, CHAINED_SPAWN_REMOTE, SPAWN_BLOCKING],
        suffix,
    );
}

fn main() {
    let mut wall = configure(Criterion::default());
    run(&mut wall, "");
    let mut cpu = configure(Criterion::default().with_measurement(CpuTime));
    run(&mut cpu, "/cpu");
    wall.final_summary();
    cpu.final_summary();
}
