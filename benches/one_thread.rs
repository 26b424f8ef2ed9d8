//! magpie vs tokio vs smol on one thread: asyncio's model, every task on the thread that
//! blocks on the runtime, with local (`!Send`-capable) tasks.
//!
//! * `magpie`  — a current-thread runtime (`magpie::Builder::new_current_thread()`), tasks
//!   spawned with `magpie::task::spawn_local`;
//! * `tokio`   — a current-thread runtime (`tokio::runtime::Builder::new_current_thread()
//!   .enable_all()`), tasks spawned with `tokio::task::spawn_local` inside a `LocalSet`
//!   (`LocalSet::block_on(&runtime, ..)`, a fresh set per iteration): tokio's way to run
//!   local tasks, the counterpart of magpie's `spawn_local` (tokio's `spawn` on the same
//!   runtime takes only `Send` futures);
//! * `tokio_spawn` — the same tokio runtime with `tokio::spawn` and no `LocalSet` (every
//!   workload's futures are `Send`): for information, how much the `LocalSet` costs tokio;
//! * `tokio_b` — a second, identical `tokio` measured last in the group: `tokio_b / tokio`
//!   is the noise band of the run;
//! * `smol`    — an `async_executor::LocalExecutor` run by `async_io::block_on(ex.run(..))`
//!   on the benchmark thread (what `smol::block_on` is), tasks spawned with
//!   `LocalExecutor::spawn`; async-io's reactor is driven by that same `block_on`.
//!
//! Each runtime (smol: executor) is built once per group, right before its function is
//! measured, and dropped right after it; every iteration is one `block_on` on the benchmark
//! thread whose future spawns the workload's tasks and joins them. The workloads are the
//! multi-thread suite's that make sense on one thread, at the same sizes, named with the
//! suffix `_1t`:
//!
//! * `spawn_many_local_1t`: 10,000 empty tasks spawned and joined;
//! * `yield_many_1t`: 200 tasks × 1,000 `yield_now` (smol: `futures_lite::future::yield_now`);
//! * `ping_pong_1t`: 1,000 task pairs × 20 round trips over each runtime's own channels
//!   ([`magpie_benches::ping_pong`], as `benches/sync.rs`);
//! * `timer_fire_1t`: 10,000 tasks each sleeping 1 ms five times in a row (smol:
//!   `async_io::Timer::after`);
//! * `tcp_echo_1t`: 50 connections × 2,000 round trips of 64 bytes on loopback, echo server
//!   and clients on the same thread ([`magpie_benches::echo`], as `benches/io.rs`; smol:
//!   async-io's `Async<TcpStream>`).
//!
//! Measured in wall time (group `<workload>`) and in process CPU time (group
//! `<workload>/cpu`), like the rest of the suite; the target (≤ 0.8× both tokio and smol) is
//! judged on wall time.
//!
//! Run with `scripts/bench.sh` (which also writes `docs/benchmarks.md`), or
//! `cargo bench -p magpie-benches --bench one_thread -- [criterion args]`.

use std::future::Future;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use async_executor::LocalExecutor;
use criterion::measurement::Measurement;
use criterion::{Criterion, SamplingMode};
use magpie_benches::echo::{client, echo, CONNECTIONS, LOOPBACK};
use magpie_benches::ping_pong::{PAIRS, ROUNDS};
use magpie_benches::{configure, CpuTime};

/// Tasks spawned by `spawn_many_local_1t`.
const SPAWN_MANY: usize = 10_000;
/// Tasks in `yield_many_1t`.
const YIELD_TASKS: usize = 200;
/// `yield_now` calls per task in `yield_many_1t`.
const YIELDS_PER_TASK: usize = 1_000;
/// Tasks in `timer_fire_1t`.
const FIRE_TASKS: usize = 10_000;
/// Sleeps per task in `timer_fire_1t`.
const FIRE_SLEEPS: usize = 5;
/// Each sleep in `timer_fire_1t`.
const FIRE_SLEEP: Duration = Duration::from_millis(1);

type MagpieRt = magpie::Runtime;
type TokioRt = tokio::runtime::Runtime;
/// smol's one-thread executor, shared with the tasks that spawn more (`tcp_echo_1t`'s accept
/// loop).
type SmolEx = Rc<LocalExecutor<'static>>;

/// One workload, written once per runtime API; measured by [`run_all`].
struct OneThreadWorkload {
    /// The group name: the multi-thread workload's, with `_1t`.
    name: &'static str,
    /// One iteration on a magpie current-thread runtime.
    magpie: fn(&MagpieRt),
    /// One iteration on a tokio current-thread runtime with local tasks in a `LocalSet`
    /// (functions `tokio` and `tokio_b`).
    tokio: fn(&TokioRt),
    /// The same with `tokio::spawn`, no `LocalSet` (function `tokio_spawn`).
    tokio_spawn: fn(&TokioRt),
    /// One iteration on a smol `LocalExecutor`.
    smol: fn(&SmolEx),
}

const WORKLOADS: &[OneThreadWorkload] = &[
    OneThreadWorkload {
        name: "spawn_many_local_1t",
        magpie: spawn_many_local::magpie,
        tokio: spawn_many_local::tokio::<true>,
        tokio_spawn: spawn_many_local::tokio::<false>,
        smol: spawn_many_local::smol,
    },
    OneThreadWorkload {
        name: "yield_many_1t",
        magpie: yield_many::magpie,
        tokio: yield_many::tokio::<true>,
        tokio_spawn: yield_many::tokio::<false>,
        smol: yield_many::smol,
    },
    OneThreadWorkload {
        name: "ping_pong_1t",
        magpie: ping_pong::magpie,
        tokio: ping_pong::tokio::<true>,
        tokio_spawn: ping_pong::tokio::<false>,
        smol: ping_pong::smol,
    },
    OneThreadWorkload {
        name: "timer_fire_1t",
        magpie: timer_fire::magpie,
        tokio: timer_fire::tokio::<true>,
        tokio_spawn: timer_fire::tokio::<false>,
        smol: timer_fire::smol,
    },
    OneThreadWorkload {
        name: "tcp_echo_1t",
        magpie: tcp_echo::magpie,
        tokio: tcp_echo::tokio::<true>,
        tokio_spawn: tcp_echo::tokio::<false>,
        smol: tcp_echo::smol,
    },
];

/// A magpie current-thread runtime.
fn magpie_rt() -> MagpieRt {
    magpie::Builder::new_current_thread()
        .build()
        .expect("failed to build the magpie current-thread runtime")
}

/// A tokio current-thread runtime with its I/O and time drivers.
fn tokio_rt() -> TokioRt {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("failed to build the tokio current-thread runtime")
}

/// A smol local executor.
fn smol_ex() -> SmolEx {
    Rc::new(LocalExecutor::new())
}

/// Runs `future` on the tokio runtime: inside a fresh `LocalSet` when `LOCAL` (the `tokio`
/// function), with `block_on` alone otherwise (`tokio_spawn`).
fn tokio_block_on<const LOCAL: bool, F: Future>(rt: &TokioRt, future: F) -> F::Output {
    if LOCAL {
        tokio::task::LocalSet::new().block_on(rt, future)
    } else {
        rt.block_on(future)
    }
}

/// Spawns a task on the tokio runtime: `tokio::task::spawn_local` when `LOCAL` (inside
/// [`tokio_block_on`]'s `LocalSet`), `tokio::spawn` otherwise. Every workload's futures are
/// `Send`, so that both can run them.
fn tokio_spawn<const LOCAL: bool, F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    if LOCAL {
        tokio::task::spawn_local(future)
    } else {
        tokio::spawn(future)
    }
}

/// Runs `future` on the smol executor, on this thread (`smol::block_on(ex.run(future))`).
fn smol_local<F: Future>(ex: &SmolEx, future: F) -> F::Output {
    async_io::block_on(ex.run(future))
}

/// 10,000 empty tasks spawned from the `block_on` future, then all joined there.
mod spawn_many_local {
    use super::*;

    pub(super) fn magpie(rt: &MagpieRt) {
        rt.block_on(async {
            let handles: Vec<_> = (0..SPAWN_MANY)
                .map(|_| magpie::task::spawn_local(async {}))
                .collect();
            for h in handles {
                h.await.unwrap();
            }
        });
    }

    pub(super) fn tokio<const LOCAL: bool>(rt: &TokioRt) {
        tokio_block_on::<LOCAL, _>(rt, async {
            let handles: Vec<_> = (0..SPAWN_MANY)
                .map(|_| tokio_spawn::<LOCAL, _>(async {}))
                .collect();
            for h in handles {
                h.await.unwrap();
            }
        });
    }

    pub(super) fn smol(ex: &SmolEx) {
        smol_local(ex, async {
            let handles: Vec<_> = (0..SPAWN_MANY).map(|_| ex.spawn(async {})).collect();
            for h in handles {
                h.await;
            }
        });
    }
}

/// 200 tasks, each calling `yield_now` 1,000 times; spawned from the `block_on` future and
/// all joined there.
mod yield_many {
    use super::*;

    pub(super) fn magpie(rt: &MagpieRt) {
        rt.block_on(async {
            let handles: Vec<_> = (0..YIELD_TASKS)
                .map(|_| {
                    magpie::task::spawn_local(async {
                        for _ in 0..YIELDS_PER_TASK {
                            magpie::task::yield_now().await;
                        }
                    })
                })
                .collect();
            for h in handles {
                h.await.unwrap();
            }
        });
    }

    pub(super) fn tokio<const LOCAL: bool>(rt: &TokioRt) {
        tokio_block_on::<LOCAL, _>(rt, async {
            let handles: Vec<_> = (0..YIELD_TASKS)
                .map(|_| {
                    tokio_spawn::<LOCAL, _>(async {
                        for _ in 0..YIELDS_PER_TASK {
                            tokio::task::yield_now().await;
                        }
                    })
                })
                .collect();
            for h in handles {
                h.await.unwrap();
            }
        });
    }

    pub(super) fn smol(ex: &SmolEx) {
        smol_local(ex, async {
            let handles: Vec<_> = (0..YIELD_TASKS)
                .map(|_| {
                    ex.spawn(async {
                        for _ in 0..YIELDS_PER_TASK {
                            futures_lite::future::yield_now().await;
                        }
                    })
                })
                .collect();
            for h in handles {
                h.await;
            }
        });
    }
}

/// 1,000 pinger/ponger pairs, 20 round trips each, over each runtime's own channels
/// ([`magpie_benches::ping_pong`]); all 2,000 tasks spawned from the `block_on` future (each
/// ponger before its pinger), then joined.
mod ping_pong {
    use super::*;

    pub(super) fn magpie(rt: &MagpieRt) {
        use magpie::sync::mpsc;
        use magpie_benches::ping_pong::magpie::{pinger, ponger};
        rt.block_on(async {
            let mut pongers = Vec::with_capacity(PAIRS);
            let mut pingers = Vec::with_capacity(PAIRS);
            for _ in 0..PAIRS {
                let (tx, rx) = mpsc::channel(1);
                pongers.push(magpie::task::spawn_local(ponger(rx)));
                pingers.push(magpie::task::spawn_local(pinger(tx)));
            }
            for p in pingers {
                p.await.unwrap();
            }
            for p in pongers {
                assert_eq!(p.await.unwrap(), ROUNDS);
            }
        });
    }

    pub(super) fn tokio<const LOCAL: bool>(rt: &TokioRt) {
        use magpie_benches::ping_pong::tokio::{pinger, ponger};
        use tokio::sync::mpsc;
        tokio_block_on::<LOCAL, _>(rt, async {
            let mut pongers = Vec::with_capacity(PAIRS);
            let mut pingers = Vec::with_capacity(PAIRS);
            for _ in 0..PAIRS {
                let (tx, rx) = mpsc::channel(1);
                pongers.push(tokio_spawn::<LOCAL, _>(ponger(rx)));
                pingers.push(tokio_spawn::<LOCAL, _>(pinger(tx)));
            }
            for p in pingers {
                p.await.unwrap();
            }
            for p in pongers {
                assert_eq!(p.await.unwrap(), ROUNDS);
            }
        });
    }

    pub(super) fn smol(ex: &SmolEx) {
        use magpie_benches::ping_pong::smol::{pinger, ponger};
        smol_local(ex, async {
            let mut pongers = Vec::with_capacity(PAIRS);
            let mut pingers = Vec::with_capacity(PAIRS);
            for _ in 0..PAIRS {
                let (tx, rx) = async_channel::bounded(1);
                pongers.push(ex.spawn(ponger(rx)));
                pingers.push(ex.spawn(pinger(tx)));
            }
            for p in pingers {
                p.await;
            }
            for p in pongers {
                assert_eq!(p.await, ROUNDS);
            }
        });
    }
}

/// 10,000 tasks, each sleeping 1 ms five times in a row; spawned from the `block_on` future
/// and all joined there.
mod timer_fire {
    use super::*;

    pub(super) fn magpie(rt: &MagpieRt) {
        rt.block_on(async {
            let handles: Vec<_> = (0..FIRE_TASKS)
                .map(|_| {
                    magpie::task::spawn_local(async {
                        for _ in 0..FIRE_SLEEPS {
                            magpie::time::sleep(FIRE_SLEEP).await;
                        }
                    })
                })
                .collect();
            for h in handles {
                h.await.unwrap();
            }
        });
    }

    pub(super) fn tokio<const LOCAL: bool>(rt: &TokioRt) {
        tokio_block_on::<LOCAL, _>(rt, async {
            let handles: Vec<_> = (0..FIRE_TASKS)
                .map(|_| {
                    tokio_spawn::<LOCAL, _>(async {
                        for _ in 0..FIRE_SLEEPS {
                            tokio::time::sleep(FIRE_SLEEP).await;
                        }
                    })
                })
                .collect();
            for h in handles {
                h.await.unwrap();
            }
        });
    }

    pub(super) fn smol(ex: &SmolEx) {
        smol_local(ex, async {
            let handles: Vec<_> = (0..FIRE_TASKS)
                .map(|_| {
                    ex.spawn(async {
                        for _ in 0..FIRE_SLEEPS {
                            async_io::Timer::after(FIRE_SLEEP).await;
                        }
                    })
                })
                .collect();
            for h in handles {
                h.await;
            }
        });
    }
}

/// 50 connections × 2,000 round trips of 64 bytes on loopback, all on one thread: a listener
/// bound per iteration, an accept loop task that takes exactly 50 connections and spawns a
/// task per connection (`set_nodelay`, echo until end of stream), 50 client tasks (connect,
/// `set_nodelay`, 2,000 × {write 64 bytes, `read_exact` 64 bytes}); the clients are joined,
/// then the accept loop (which joins its connection tasks). `benches/io.rs` says why a
/// listener per iteration.
mod tcp_echo {
    use super::*;

    pub(super) fn magpie(rt: &MagpieRt) {
        use magpie::net::{TcpListener, TcpStream};
        use magpie::task::spawn_local;
        rt.block_on(async {
            let listener = TcpListener::bind(LOOPBACK).await.expect("bind");
            let addr = listener.local_addr().expect("local_addr");
            let server = spawn_local(async move {
                let mut conns = Vec::with_capacity(CONNECTIONS);
                for _ in 0..CONNECTIONS {
                    let (stream, _) = listener.accept().await.expect("accept");
                    stream.set_nodelay(true).expect("server set_nodelay");
                    conns.push(spawn_local(echo(stream)));
                }
                for conn in conns {
                    conn.await.unwrap();
                }
            });
            let clients: Vec<_> = (0..CONNECTIONS)
                .map(|id| {
                    spawn_local(async move {
                        let stream = TcpStream::connect(addr).await.expect("connect");
                        stream.set_nodelay(true).expect("client set_nodelay");
                        client(stream, id).await;
                    })
                })
                .collect();
            for c in clients {
                c.await.unwrap();
            }
            server.await.unwrap();
        });
    }

    pub(super) fn tokio<const LOCAL: bool>(rt: &TokioRt) {
        use magpie_benches::echo::tokio_io::{client, echo};
        use tokio::net::{TcpListener, TcpStream};
        tokio_block_on::<LOCAL, _>(rt, async {
            let listener = TcpListener::bind(LOOPBACK).await.expect("bind");
            let addr = listener.local_addr().expect("local_addr");
            let server = tokio_spawn::<LOCAL, _>(async move {
                let mut conns = Vec::with_capacity(CONNECTIONS);
                for _ in 0..CONNECTIONS {
                    let (stream, _) = listener.accept().await.expect("accept");
                    stream.set_nodelay(true).expect("server set_nodelay");
                    conns.push(tokio_spawn::<LOCAL, _>(echo(stream)));
                }
                for conn in conns {
                    conn.await.unwrap();
                }
            });
            let clients: Vec<_> = (0..CONNECTIONS)
                .map(|id| {
                    tokio_spawn::<LOCAL, _>(async move {
                        let stream = TcpStream::connect(addr).await.expect("connect");
                        stream.set_nodelay(true).expect("client set_nodelay");
                        client(stream, id).await;
                    })
                })
                .collect();
            for c in clients {
                c.await.unwrap();
            }
            server.await.unwrap();
        });
    }

    pub(super) fn smol(ex: &SmolEx) {
        use async_io::Async;
        use std::net::{TcpListener, TcpStream};
        smol_local(ex, async {
            let listener =
                Async::<TcpListener>::bind(LOOPBACK.parse::<SocketAddr>().unwrap()).expect("bind");
            let addr = listener.get_ref().local_addr().expect("local_addr");
            let spawner = Rc::clone(ex);
            let server = ex.spawn(async move {
                let mut conns = Vec::with_capacity(CONNECTIONS);
                for _ in 0..CONNECTIONS {
                    let (stream, _) = listener.accept().await.expect("accept");
                    stream
                        .get_ref()
                        .set_nodelay(true)
                        .expect("server set_nodelay");
                    conns.push(spawner.spawn(echo(stream)));
                }
                for conn in conns {
                    conn.await;
                }
            });
            let clients: Vec<_> = (0..CONNECTIONS)
                .map(|id| {
                    ex.spawn(async move {
                        let stream = Async::<TcpStream>::connect(addr).await.expect("connect");
                        stream
                            .get_ref()
                            .set_nodelay(true)
                            .expect("client set_nodelay");
                        client(stream, id).await;
                    })
                })
                .collect();
            for c in clients {
                c.await;
            }
            server.await;
        });
    }
}

/// Measures every workload with `M`, one group per workload (`name` + `suffix`) and one
/// function per runtime: tokio, magpie, smol, tokio_spawn, then `tokio_b` (a second tokio,
/// the noise band). Each runtime is built right before its function and dropped right after it.
fn run_all<M: Measurement>(c: &mut Criterion<M>, suffix: &str) {
    for w in WORKLOADS {
        let mut group = c.benchmark_group(format!("{}{}", w.name, suffix));
        // Iterations of 1 ms to 1 s: flat sampling keeps each function within warm-up +
        // measurement time (see `magpie_benches::run_all`).
        group.sampling_mode(SamplingMode::Flat);
        {
            let rt = tokio_rt();
            group.bench_function("tokio", |b| b.iter(|| (w.tokio)(&rt)));
        }
        {
            let rt = magpie_rt();
            group.bench_function("magpie", |b| b.iter(|| (w.magpie)(&rt)));
        }
        {
            let ex = smol_ex();
            group.bench_function("smol", |b| b.iter(|| (w.smol)(&ex)));
        }
        {
            let rt = tokio_rt();
            group.bench_function("tokio_spawn", |b| b.iter(|| (w.tokio_spawn)(&rt)));
        }
        {
            let rt = tokio_rt();
            group.bench_function("tokio_b", |b| b.iter(|| (w.tokio)(&rt)));
        }
        group.finish();
    }
}

fn main() {
    let mut wall = configure(Criterion::default());
    run_all(&mut wall, "");
    let mut cpu = configure(Criterion::default().with_measurement(CpuTime));
    run_all(&mut cpu, "/cpu");
    wall.final_summary();
    cpu.final_summary();
}
