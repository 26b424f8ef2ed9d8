//! magpie vs tokio vs smol (async-executor + async-io) on timer throughput.
//!
//! Same structure as `benches/runtimes.rs` (one criterion group per workload,
//! functions `tokio`, `magpie`, `smol`, `tokio_b`, wall time and `/cpu`
//! groups, all through [`magpie_benches::run_suite`]), plus, for
//! `timer_churn`, `magpie_1wheel`: magpie with one timer wheel behind one lock
//! (`Builder::timer_shards(1)`) instead of one per worker.
//!
//! * `timer_churn`: 100,000 timeouts registered and cancelled before they fire.
//!   100 tasks each run 1,000 `timeout(1 s, YieldOnce)` in a row; the inner
//!   future is pending on its first poll (so the timeout's sleep is polled and
//!   its timer registered) and ready on its second (so the timer is cancelled).
//!   smol: `future::or(inner, Timer::after(1 s))`.
//! * `timer_fire`: 10,000 tasks each sleeping 1 ms five times in a row, all
//!   joined. smol: `async_io::Timer::after`.
//!
//! How late a single sleep wakes, and the memory of 1,000,000 pending sleeps,
//! are not throughput figures: see `benches/timer_figures.rs`.
//!
//! Run with `scripts/bench.sh` (which also writes `docs/benchmarks.md`), or
//! `cargo bench -p magpie-benches --bench timers -- [criterion args]`.

use std::time::Duration;

use magpie_benches::{magpie_rt_with, run_suite, MagpieVariant, SmolRuntime, Workload, YieldOnce};

/// Tasks in `timer_churn`.
const CHURN_TASKS: usize = 100;
/// Timeouts per task in `timer_churn` (100 × 1,000 = 100,000 in all).
const CHURN_PER_TASK: usize = 1_000;
/// The timeouts' duration in `timer_churn`: far longer than the workload, so
/// none ever fires.
const CHURN_TIMEOUT: Duration = Duration::from_secs(1);
/// Tasks in `timer_fire`.
const FIRE_TASKS: usize = 10_000;
/// Sleeps per task in `timer_fire`.
const FIRE_SLEEPS: usize = 5;
/// Each sleep in `timer_fire`.
const FIRE_SLEEP: Duration = Duration::from_millis(1);

type TokioRt = tokio::runtime::Runtime;
type MagpieRt = magpie::Runtime;

/// magpie with a single timer wheel (one lock for every worker).
fn magpie_1wheel() -> MagpieRt {
    magpie_rt_with(|b| {
        b.timer_shards(1);
    })
}

const WORKLOADS: &[Workload] = &[
    Workload {
        name: "timer_churn",
        magpie: timer_churn::magpie,
        tokio: timer_churn::tokio,
        smol: timer_churn::smol,
        magpie_variants: &[MagpieVariant {
            name: "magpie_1wheel",
            build: magpie_1wheel,
        }],
    },
    Workload {
        name: "timer_fire",
        magpie: timer_fire::magpie,
        tokio: timer_fire::tokio,
        smol: timer_fire::smol,
        magpie_variants: &[],
    },
];

/// 100 tasks × 1,000 timeouts that are registered (the inner future is
/// pending once) and cancelled (it is ready on the next poll) long before
/// their 1 s deadline. Tasks are spawned from the benchmark thread, so they
/// spread over the workers, and all joined.
mod timer_churn {
    use super::*;

    pub(super) fn magpie(rt: &MagpieRt) {
        let handles: Vec<_> = (0..CHURN_TASKS)
            .map(|_| {
                rt.spawn(async {
                    for _ in 0..CHURN_PER_TASK {
                        magpie::time::timeout(CHURN_TIMEOUT, YieldOnce::new())
                            .await
                            .expect("a churn timeout fired");
                    }
                })
            })
            .collect();
        rt.block_on(async move {
            for h in handles {
                h.await.unwrap();
            }
        });
    }

    pub(super) fn tokio(rt: &TokioRt) {
        let handles: Vec<_> = (0..CHURN_TASKS)
            .map(|_| {
                rt.spawn(async {
                    for _ in 0..CHURN_PER_TASK {
                        tokio::time::timeout(CHURN_TIMEOUT, YieldOnce::new())
                            .await
                            .expect("a churn timeout fired");
                    }
                })
            })
            .collect();
        rt.block_on(async move {
            for h in handles {
                h.await.unwrap();
            }
        });
    }

    pub(super) fn smol(rt: &SmolRuntime) {
        let handles: Vec<_> = (0..CHURN_TASKS)
            .map(|_| {
                rt.spawn(async {
                    for _ in 0..CHURN_PER_TASK {
                        // `or` polls the inner future first, like the other
                        // runtimes' `timeout`, then the timer.
                        futures_lite::future::or(
                            async {
                                YieldOnce::new().await;
                                Ok(())
                            },
                            async {
                                async_io::Timer::after(CHURN_TIMEOUT).await;
                                Err(())
                            },
                        )
                        .await
                        .expect("a churn timeout fired");
                    }
                })
            })
            .collect();
        rt.block_on(async move {
            for h in handles {
                h.await;
            }
        });
    }
}

/// 10,000 tasks, each sleeping 1 ms five times in a row; spawned from the
/// benchmark thread and all joined.
mod timer_fire {
    use super::*;

    pub(super) fn magpie(rt: &MagpieRt) {
        let handles: Vec<_> = (0..FIRE_TASKS)
            .map(|_| {
                rt.spawn(async {
                    for _ in 0..FIRE_SLEEPS {
                        magpie::time::sleep(FIRE_SLEEP).await;
                    }
                })
            })
            .collect();
        rt.block_on(async move {
            for h in handles {
                h.await.unwrap();
            }
        });
    }

    pub(super) fn tokio(rt: &TokioRt) {
        let handles: Vec<_> = (0..FIRE_TASKS)
            .map(|_| {
                rt.spawn(async {
                    for _ in 0..FIRE_SLEEPS {
                        tokio::time::sleep(FIRE_SLEEP).await;
                    }
                })
            })
            .collect();
        rt.block_on(async move {
            for h in handles {
                h.await.unwrap();
            }
        });
    }

    pub(super) fn smol(rt: &SmolRuntime) {
        let handles: Vec<_> = (0..FIRE_TASKS)
            .map(|_| {
                rt.spawn(async {
                    for _ in 0..FIRE_SLEEPS {
                        async_io::Timer::after(FIRE_SLEEP).await;
                    }
                })
            })
            .collect();
        rt.block_on(async move {
            for h in handles {
                h.await;
            }
        });
    }
}

fn main() {
    run_suite(WORKLOADS);
}
