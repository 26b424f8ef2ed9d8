//! magpie vs tokio vs smol (async-executor + async-io) on TCP I/O.
//!
//! Same structure as `benches/runtimes.rs` and `benches/timers.rs` (one
//! criterion group per workload, functions `tokio`, `magpie`, `smol`,
//! `tokio_b`, wall time and `/cpu` groups, all through
//! [`magpie_benches::run_suite`]).
//!
//! * `tcp_echo`: 50 connections × 2,000 round trips of 64 bytes on loopback.
//!   One iteration, on the runtime under test:
//!   - binds a listener on `127.0.0.1:0` and spawns the server: an accept
//!     loop that takes exactly 50 connections and spawns a task per
//!     connection (`set_nodelay(true)`, then `read` up to 64 bytes →
//!     `write_all` of what was read, until end of stream);
//!   - spawns 50 client tasks, each: `connect`, `set_nodelay(true)`, then
//!     2,000 × {`write_all` 64 bytes, `read_exact` 64 bytes} (checking the
//!     echo), then drops the stream (the server's task sees end of stream and
//!     ends);
//!   - joins the clients, then the server (which joins its connection tasks).
//!
//!   magpie: `magpie::net::{TcpListener, TcpStream}`; tokio:
//!   `tokio::net::{TcpListener, TcpStream}`; smol: async-io's
//!   `Async<std::net::TcpListener>` / `Async<std::net::TcpStream>`. The echo
//!   and client loops are the same code for magpie and smol (futures-io
//!   traits, futures-lite's extension methods) and the same steps with
//!   tokio's own traits for tokio.
//!
//! # Why a listener per iteration
//!
//! The listener is bound inside each iteration and dropped at its end, and
//! the accept loop ends after its 50 connections, so an iteration starts
//! from a runtime with no socket and no task left over from the previous
//! one: nothing an earlier iteration registered (a listener with a pending
//! accept, connections in TIME_WAIT on the same port pair) can tilt a later
//! one, and every runtime pays the same setup. That setup (one
//! `socket`/`bind`/`listen`, 50 connects and accepts, their `setsockopt`s,
//! registrations and closes) is part of the measured work, but it is small:
//! a few hundred syscalls against the 600,000 or more of the 100,000 round
//! trips (a readiness-based runtime makes a send and two receives, one of
//! which finds nothing yet, on each side per round trip), about 0.1% of an
//! iteration. Keeping one listener per runtime instead would need state
//! outside the `fn(&Runtime)` workloads and would leave an accept pending
//! between iterations for no gain in accuracy. The clients close first, so
//! the TIME_WAIT sockets are theirs, each on a port pair with a listener port
//! that no later iteration reuses soon.
//!
//! Every task (server, connections, clients) runs on the runtime's workers
//! (`MAGPIE_BENCH_WORKERS`, default 2); the benchmark thread only spawns
//! them from inside `block_on` and waits. With smol it waits in
//! `async_io::block_on` (as every smol workload here does, and as a smol
//! program's main thread does), which may take turns driving async-io's
//! reactor while it waits; it runs no tasks.
//!
//! Run with `scripts/bench.sh` (which also writes `docs/benchmarks.md`), or
//! `cargo bench -p magpie-benches --bench io -- [criterion args]`.

use std::net::SocketAddr;

use magpie_benches::echo::{client, echo, CONNECTIONS, LOOPBACK};
use magpie_benches::{run_suite, SmolRuntime, Workload};

type TokioRt = tokio::runtime::Runtime;
type MagpieRt = magpie::Runtime;

const WORKLOADS: &[Workload] = &[Workload {
    name: "tcp_echo",
    magpie: tcp_echo::magpie,
    tokio: tcp_echo::tokio,
    smol: tcp_echo::smol,
    magpie_variants: &[],
}];

/// 50 connections × 2,000 round trips of 64 bytes, server and clients on
/// the runtime under test (see the module documentation).
mod tcp_echo {
    use super::*;

    pub(super) fn magpie(rt: &MagpieRt) {
        use magpie::net::{TcpListener, TcpStream};
        rt.block_on(async {
            let listener = TcpListener::bind(LOOPBACK).await.expect("bind");
            let addr = listener.local_addr().expect("local_addr");
            let server = magpie::spawn(async move {
                let mut conns = Vec::with_capacity(CONNECTIONS);
                for _ in 0..CONNECTIONS {
                    let (stream, _) = listener.accept().await.expect("accept");
                    stream.set_nodelay(true).expect("server set_nodelay");
                    conns.push(magpie::spawn(echo(stream)));
                }
                for conn in conns {
                    conn.await.unwrap();
                }
            });
            let clients: Vec<_> = (0..CONNECTIONS)
                .map(|id| {
                    magpie::spawn(async move {
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

    pub(super) fn tokio(rt: &TokioRt) {
        use magpie_benches::echo::tokio_io::{client, echo};
        use tokio::net::{TcpListener, TcpStream};

        rt.block_on(async {
            let listener = TcpListener::bind(LOOPBACK).await.expect("bind");
            let addr = listener.local_addr().expect("local_addr");
            let server = tokio::spawn(async move {
                let mut conns = Vec::with_capacity(CONNECTIONS);
                for _ in 0..CONNECTIONS {
                    let (stream, _) = listener.accept().await.expect("accept");
                    stream.set_nodelay(true).expect("server set_nodelay");
                    conns.push(tokio::spawn(echo(stream)));
                }
                for conn in conns {
                    conn.await.unwrap();
                }
            });
            let clients: Vec<_> = (0..CONNECTIONS)
                .map(|id| {
                    tokio::spawn(async move {
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

    pub(super) fn smol(rt: &SmolRuntime) {
        use async_io::Async;
        use std::net::{TcpListener, TcpStream};

        let ex = rt.executor().clone();
        rt.block_on(async {
            let listener =
                Async::<TcpListener>::bind(LOOPBACK.parse::<SocketAddr>().unwrap()).expect("bind");
            let addr = listener.get_ref().local_addr().expect("local_addr");
            let server = rt.spawn(async move {
                let mut conns = Vec::with_capacity(CONNECTIONS);
                for _ in 0..CONNECTIONS {
                    let (stream, _) = listener.accept().await.expect("accept");
                    stream
                        .get_ref()
                        .set_nodelay(true)
                        .expect("server set_nodelay");
                    conns.push(ex.spawn(echo(stream)));
                }
                for conn in conns {
                    conn.await;
                }
            });
            let clients: Vec<_> = (0..CONNECTIONS)
                .map(|id| {
                    rt.spawn(async move {
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

fn main() {
    run_suite(WORKLOADS);
}
