//! The `ping_pong` workload's pieces shared by `benches/sync.rs` (on the multi-thread
//! runtimes) and `benches/one_thread.rs` (on the one-thread ones): its sizes and, per
//! runtime, the two tasks of a pair over that runtime's own channels.
//!
//! A pair is a pinger and a ponger joined by a bounded mpsc channel of capacity 1. For each
//! of [`ROUNDS`] rounds the pinger creates a fresh oneshot channel, sends `(round, reply
//! sender)` to the ponger and awaits the reply; the ponger answers `round + 1` on the
//! oneshot. After the last round the pinger drops its sender, the ponger's `recv` returns
//! `None` and the ponger ends, returning how many pings it answered.

/// Pinger/ponger pairs.
pub const PAIRS: usize = 1_000;
/// Round trips per pair (1,000 × 20 = 20,000 in all).
pub const ROUNDS: u64 = 20;

/// `magpie::sync::{mpsc, oneshot}`.
pub mod magpie {
    use magpie::sync::{mpsc, oneshot};

    /// A ping: the round and where to answer.
    pub type Ping = (u64, oneshot::Sender<u64>);

    /// Answers every ping with its round + 1; returns how many it answered.
    pub async fn ponger(mut pings: mpsc::Receiver<Ping>) -> u64 {
        let mut answered = 0;
        while let Some((round, reply)) = pings.recv().await {
            reply.send(round + 1).expect("pinger gone");
            answered += 1;
        }
        answered
    }

    /// Sends [`ROUNDS`](super::ROUNDS) pings, each awaiting its pong.
    pub async fn pinger(pings: mpsc::Sender<Ping>) {
        for round in 0..super::ROUNDS {
            let (reply, pong) = oneshot::channel();
            pings.send((round, reply)).await.expect("ponger gone");
            assert_eq!(pong.await.expect("no pong"), round + 1);
        }
    }
}

/// `tokio::sync::{mpsc, oneshot}`.
pub mod tokio {
    use tokio::sync::{mpsc, oneshot};

    /// A ping: the round and where to answer.
    pub type Ping = (u64, oneshot::Sender<u64>);

    /// Answers every ping with its round + 1; returns how many it answered.
    pub async fn ponger(mut pings: mpsc::Receiver<Ping>) -> u64 {
        let mut answered = 0;
        while let Some((round, reply)) = pings.recv().await {
            reply.send(round + 1).expect("pinger gone");
            answered += 1;
        }
        answered
    }

    /// Sends [`ROUNDS`](super::ROUNDS) pings, each awaiting its pong.
    pub async fn pinger(pings: mpsc::Sender<Ping>) {
        for round in 0..super::ROUNDS {
            let (reply, pong) = oneshot::channel();
            pings.send((round, reply)).await.expect("ponger gone");
            assert_eq!(pong.await.expect("no pong"), round + 1);
        }
    }
}

/// `async-channel` (smol's `smol::channel`). smol has no oneshot channel; a smol program
/// sends one reply over an `async_channel::bounded(1)`, so the reply channel is a fresh
/// `bounded(1)` (`futures-channel`'s oneshot would be a fourth implementation, not smol's).
pub mod smol {
    use async_channel::{bounded, Receiver, Sender};

    /// A ping: the round and where to answer.
    pub type Ping = (u64, Sender<u64>);

    /// Answers every ping with its round + 1; returns how many it answered.
    pub async fn ponger(pings: Receiver<Ping>) -> u64 {
        let mut answered = 0;
        while let Ok((round, reply)) = pings.recv().await {
            reply.try_send(round + 1).expect("pinger gone");
            answered += 1;
        }
        answered
    }

    /// Sends [`ROUNDS`](super::ROUNDS) pings, each awaiting its pong.
    pub async fn pinger(pings: Sender<Ping>) {
        for round in 0..super::ROUNDS {
            let (reply, pong) = bounded(1);
            pings.send((round, reply)).await.expect("ponger gone");
            assert_eq!(pong.recv().await.expect("no pong"), round + 1);
        }
    }
}
