//! magpie vs tokio vs smol on channel workloads: each runtime with its own
//! channels.
//!
//! Same structure as `benches/runtimes.rs` (one criterion group per workload,
//! functions `tokio`, `magpie`, `smol`, `tokio_b`, wall time and `/cpu`
//! groups, all through [`magpie_benches::run_suite`]). Unlike the scheduler
//! workloads, which signal through one shared channel so that the channel is
//! not part of the comparison, here the channels *are* the comparison: magpie
//! uses `magpie::sync::{oneshot, mpsc}`, tokio `tokio::sync::{oneshot, mpsc}`,
//! and smol `async-channel` (what smol re-exports as `smol::channel`). smol
//! has no oneshot channel; a smol program sends one reply over an
//! `async_channel::bounded(1)`, so that is what the smol side does
//! (`futures-channel`'s oneshot would be a fourth implementation, not smol's).
//!
//! * `ping_pong`: 1,000 task pairs exchanging messages over oneshot and
//!   bounded(1) channels ([`magpie_benches::ping_pong`]). Each pair is a
//!   pinger and a ponger joined by a bounded mpsc channel of capacity 1. For
//!   each of [`ROUNDS`](magpie_benches::ping_pong::ROUNDS) rounds the pinger
//!   creates a fresh oneshot channel, sends `(round, reply
//!   sender)` to the ponger over the bounded(1) channel and awaits the reply;
//!   the ponger answers `round + 1` on the oneshot. After the last round the
//!   pinger drops its sender, the ponger's `recv` returns `None` and it ends.
//!   A driver task on the runtime spawns all 2,000 tasks at once (each
//!   ponger before its pinger), then joins them all. 20,000 round trips per
//!   iteration: 20,000 mpsc sends and receives and 20,000 oneshot channels,
//!   each message a wake of the other task of the pair, with all 2,000 tasks
//!   runnable or waiting at once. 20 rounds put an iteration at about
//!   5–15 ms with magpie and tokio and 20–60 ms with smol on 2 workers of
//!   the shared 2-core VM the suite runs on.
//! * `mpsc`: mpsc throughput (5 senders × 1,000 messages, 2 workers). One
//!   bounded channel of capacity [`MPSC_CAPACITY`] (1,024), 5 sender tasks
//!   each sending 1,000 `u64`s, one receiver task summing them; the
//!   iteration ends when the receiver has all 5,000 (and its sum is checked)
//!   and every sender has been joined. The capacity is below the 5,000
//!   messages, so senders can meet a full channel when the receiver falls
//!   behind (tokio's own `sync_mpsc` benches, which receive on the
//!   `block_on` thread rather than in a task, use 1,000,000 for a channel
//!   that is never full and 100 for one that mostly is; 1,024 sits
//!   between). smol: `async_channel::bounded(1_024)`.
//! * `mpsc_unbounded`: the same over an unbounded channel
//!   (`magpie::sync::mpsc::unbounded_channel`,
//!   `tokio::sync::mpsc::unbounded_channel`, `async_channel::unbounded`):
//!   senders never wait, so it is the channel's queue and the receiver's
//!   wake-ups alone.
//!
//! Every task runs on the runtime's workers (`MAGPIE_BENCH_WORKERS`, default
//! 2): the benchmark thread only blocks on a driver task that spawns and
//! joins the others.
//!
//! Run with `scripts/bench.sh` (which also writes `docs/benchmarks.md`), or
//! `cargo bench -p magpie-benches --bench sync -- [criterion args]`.

use std::sync::Arc;

use magpie_benches::{run_suite, SmolRuntime, Workload};

/// Sender tasks in `mpsc` and `mpsc_unbounded`.
const MPSC_SENDERS: u64 = 5;
/// Messages per sender in `mpsc` and `mpsc_unbounded`.
const MPSC_MESSAGES: u64 = 1_000;
/// Capacity of the bounded channel in `mpsc`.
const MPSC_CAPACITY: usize = 1_024;

type TokioRt = tokio::runtime::Runtime;
type MagpieRt = magpie::Runtime;

const WORKLOADS: &[Workload] = &[
    Workload {
        name: "ping_pong",
        magpie: ping_pong::magpie,
        tokio: ping_pong::tokio,
        smol: ping_pong::smol,
        magpie_variants: &[],
    },
    Workload {
        name: "mpsc",
        magpie: mpsc::magpie,
        tokio: mpsc::tokio,
        smol: mpsc::smol,
        magpie_variants: &[],
    },
    Workload {
        name: "mpsc_unbounded",
        magpie: mpsc_unbounded::magpie,
        tokio: mpsc_unbounded::tokio,
        smol: mpsc_unbounded::smol,
        magpie_variants: &[],
    },
];

/// What the receiver of `mpsc` and `mpsc_unbounded` must add up: each sender
/// sends `0..MPSC_MESSAGES`.
const MPSC_SUM: u64 = MPSC_SENDERS * (MPSC_MESSAGES * (MPSC_MESSAGES - 1) / 2);

/// 1,000 pinger/ponger pairs, 20 round trips each: ping over a bounded(1)
/// mpsc channel carrying a fresh oneshot sender, pong over that oneshot
/// (the pairs' tasks: [`magpie_benches::ping_pong`]).
mod ping_pong {
    use super::*;
    use magpie_benches::ping_pong::{PAIRS, ROUNDS};

    pub(super) fn magpie(rt: &MagpieRt) {
        use magpie::sync::mpsc;
        use magpie_benches::ping_pong::magpie::{pinger, ponger};
        rt.block_on(rt.spawn(async {
            let mut pongers = Vec::with_capacity(PAIRS);
            let mut pingers = Vec::with_capacity(PAIRS);
            for _ in 0..PAIRS {
                let (tx, rx) = mpsc::channel(1);
                pongers.push(magpie::spawn(ponger(rx)));
                pingers.push(magpie::spawn(pinger(tx)));
            }
            for p in pingers {
                p.await.unwrap();
            }
            for p in pongers {
                assert_eq!(p.await.unwrap(), ROUNDS);
            }
        }))
        .unwrap();
    }

    pub(super) fn tokio(rt: &TokioRt) {
        use magpie_benches::ping_pong::tokio::{pinger, ponger};
        use tokio::sync::mpsc;
        rt.block_on(rt.spawn(async {
            let mut pongers = Vec::with_capacity(PAIRS);
            let mut pingers = Vec::with_capacity(PAIRS);
            for _ in 0..PAIRS {
                let (tx, rx) = mpsc::channel(1);
                pongers.push(tokio::spawn(ponger(rx)));
                pingers.push(tokio::spawn(pinger(tx)));
            }
            for p in pingers {
                p.await.unwrap();
            }
            for p in pongers {
                assert_eq!(p.await.unwrap(), ROUNDS);
            }
        }))
        .unwrap();
    }

    pub(super) fn smol(rt: &SmolRuntime) {
        use magpie_benches::ping_pong::smol::{pinger, ponger};
        let ex = Arc::clone(rt.executor());
        rt.block_on(rt.spawn(async move {
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
        }));
    }
}

/// 5 sender tasks × 1,000 `u64`s over one bounded channel of capacity 1,024,
/// one receiver task summing them.
mod mpsc {
    use super::*;

    pub(super) fn magpie(rt: &MagpieRt) {
        use magpie::sync::mpsc;
        rt.block_on(rt.spawn(async {
            let (tx, mut rx) = mpsc::channel::<u64>(MPSC_CAPACITY);
            let receiver = magpie::spawn(async move {
                let mut sum = 0;
                while let Some(v) = rx.recv().await {
                    sum += v;
                }
                sum
            });
            let senders: Vec<_> = (0..MPSC_SENDERS)
                .map(|_| {
                    let tx = tx.clone();
                    magpie::spawn(async move {
                        for i in 0..MPSC_MESSAGES {
                            tx.send(i).await.expect("receiver gone");
                        }
                    })
                })
                .collect();
            drop(tx);
            for s in senders {
                s.await.unwrap();
            }
            assert_eq!(receiver.await.unwrap(), MPSC_SUM);
        }))
        .unwrap();
    }

    pub(super) fn tokio(rt: &TokioRt) {
        use tokio::sync::mpsc;
        rt.block_on(rt.spawn(async {
            let (tx, mut rx) = mpsc::channel::<u64>(MPSC_CAPACITY);
            let receiver = tokio::spawn(async move {
                let mut sum = 0;
                while let Some(v) = rx.recv().await {
                    sum += v;
                }
                sum
            });
            let senders: Vec<_> = (0..MPSC_SENDERS)
                .map(|_| {
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        for i in 0..MPSC_MESSAGES {
                            tx.send(i).await.expect("receiver gone");
                        }
                    })
                })
                .collect();
            drop(tx);
            for s in senders {
                s.await.unwrap();
            }
            assert_eq!(receiver.await.unwrap(), MPSC_SUM);
        }))
        .unwrap();
    }

    pub(super) fn smol(rt: &SmolRuntime) {
        let ex = Arc::clone(rt.executor());
        rt.block_on(rt.spawn(async move {
            let (tx, rx) = async_channel::bounded::<u64>(MPSC_CAPACITY);
            let receiver = ex.spawn(async move {
                let mut sum = 0;
                while let Ok(v) = rx.recv().await {
                    sum += v;
                }
                sum
            });
            let senders: Vec<_> = (0..MPSC_SENDERS)
                .map(|_| {
                    let tx = tx.clone();
                    ex.spawn(async move {
                        for i in 0..MPSC_MESSAGES {
                            tx.send(i).await.expect("receiver gone");
                        }
                    })
                })
                .collect();
            drop(tx);
            for s in senders {
                s.await;
            }
            assert_eq!(receiver.await, MPSC_SUM);
        }));
    }
}

/// `mpsc` over an unbounded channel: 5 sender tasks × 1,000 `u64`s that
/// never wait, one receiver task summing them.
mod mpsc_unbounded {
    use super::*;

    pub(super) fn magpie(rt: &MagpieRt) {
        use magpie::sync::mpsc;
        rt.block_on(rt.spawn(async {
            let (tx, mut rx) = mpsc::unbounded_channel::<u64>();
            let receiver = magpie::spawn(async move {
                let mut sum = 0;
                while let Some(v) = rx.recv().await {
                    sum += v;
                }
                sum
            });
            let senders: Vec<_> = (0..MPSC_SENDERS)
                .map(|_| {
                    let tx = tx.clone();
                    magpie::spawn(async move {
                        for i in 0..MPSC_MESSAGES {
                            tx.send(i).expect("receiver gone");
                        }
                    })
                })
                .collect();
            drop(tx);
            for s in senders {
                s.await.unwrap();
            }
            assert_eq!(receiver.await.unwrap(), MPSC_SUM);
        }))
        .unwrap();
    }

    pub(super) fn tokio(rt: &TokioRt) {
        use tokio::sync::mpsc;
        rt.block_on(rt.spawn(async {
            let (tx, mut rx) = mpsc::unbounded_channel::<u64>();
            let receiver = tokio::spawn(async move {
                let mut sum = 0;
                while let Some(v) = rx.recv().await {
                    sum += v;
                }
                sum
            });
            let senders: Vec<_> = (0..MPSC_SENDERS)
                .map(|_| {
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        for i in 0..MPSC_MESSAGES {
                            tx.send(i).expect("receiver gone");
                        }
                    })
                })
                .collect();
            drop(tx);
            for s in senders {
                s.await.unwrap();
            }
            assert_eq!(receiver.await.unwrap(), MPSC_SUM);
        }))
        .unwrap();
    }

    pub(super) fn smol(rt: &SmolRuntime) {
        let ex = Arc::clone(rt.executor());
        rt.block_on(rt.spawn(async move {
            let (tx, rx) = async_channel::unbounded::<u64>();
            let receiver = ex.spawn(async move {
                let mut sum = 0;
                while let Ok(v) = rx.recv().await {
                    sum += v;
                }
                sum
            });
            let senders: Vec<_> = (0..MPSC_SENDERS)
                .map(|_| {
                    let tx = tx.clone();
                    ex.spawn(async move {
                        for i in 0..MPSC_MESSAGES {
                            tx.try_send(i).expect("receiver gone");
                        }
                    })
                })
                .collect();
            drop(tx);
            for s in senders {
                s.await;
            }
            assert_eq!(receiver.await, MPSC_SUM);
        }));
    }
}

fn main() {
    run_suite(WORKLOADS);
}
