//! The reactor through `magpie::io::Async`: readiness, no lost events, EOF, shutdown,
//! registration churn, and a blocked worker that must not freeze everybody's I/O.

mod common;

use common::{guard, runtime, HANG};
use magpie::io::{Async, AsyncReadExt, AsyncWriteExt};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// A connected pair of blocking std streams: a Unix socket pair on Unix, a loopback TCP
/// connection elsewhere (Windows: `Async` takes sockets only, and there is no `UnixStream`).
#[cfg(unix)]
fn pair() -> (UnixStream, UnixStream) {
    UnixStream::pair().unwrap()
}

/// A connected pair of blocking std streams: a Unix socket pair on Unix, a loopback TCP
/// connection elsewhere (Windows: `Async` takes sockets only, and there is no `UnixStream`).
#[cfg(not(unix))]
fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    (client, server)
}

#[test]
fn ping_pong_over_a_socket_pair_between_two_tasks() {
    guard("ping-pong", || {
        let rt = runtime(2);
        rt.block_on(async {
            let (a, b) = pair();
            let (mut a, mut b) = (Async::new(a).unwrap(), Async::new(b).unwrap());
            let echo = magpie::spawn(async move {
                let mut buf = [0u8; 8];
                for _ in 0..2_000 {
                    b.read_exact(&mut buf).await.unwrap();
                    b.write_all(&buf).await.unwrap();
                }
            });
            let mut buf = [0u8; 8];
            for i in 0..2_000u64 {
                a.write_all(&i.to_le_bytes()).await.unwrap();
                a.read_exact(&mut buf).await.unwrap();
                assert_eq!(u64::from_le_bytes(buf), i);
            }
            echo.await.unwrap();
        });
    });
}

#[test]
fn eof_is_ok_zero_and_a_blocking_peer_thread_is_served() {
    guard("eof", || {
        let rt = runtime(1);
        let (a, mut b) = pair();
        let writer = std::thread::spawn(move || {
            for chunk in 0..10u8 {
                std::thread::sleep(Duration::from_millis(2));
                b.write_all(&[chunk; 100]).unwrap();
            }
            // Dropping `b` closes the peer: the reader must see EOF.
        });
        let got = rt.block_on(async {
            let mut a = Async::new(a).unwrap();
            let mut all = Vec::new();
            a.read_to_end(&mut all).await.unwrap();
            all
        });
        writer.join().unwrap();
        assert_eq!(got.len(), 1_000);
        assert!(got
            .chunks(100)
            .enumerate()
            .all(|(i, c)| c.iter().all(|&x| x == i as u8)));
    });
}

#[test]
fn tcp_accept_and_echo_through_async_std_types() {
    guard("tcp through Async", || {
        let rt = runtime(2);
        rt.block_on(async {
            let listener = Async::new(TcpListener::bind("127.0.0.1:0").unwrap()).unwrap();
            let addr = listener.get_ref().local_addr().unwrap();
            let server = magpie::spawn(async move {
                for _ in 0..20 {
                    let (stream, _) = listener.read_with(|l| l.accept()).await.unwrap();
                    magpie::spawn(async move {
                        let mut stream = Async::new(stream).unwrap();
                        let mut buf = [0u8; 64];
                        loop {
                            let n = stream.read(&mut buf).await.unwrap();
                            if n == 0 {
                                break;
                            }
                            stream.write_all(&buf[..n]).await.unwrap();
                        }
                    });
                }
            });
            let clients: Vec<_> = (0..20u8)
                .map(|c| {
                    magpie::spawn(async move {
                        let stream = TcpStream::connect(addr).unwrap();
                        let mut stream = Async::new(stream).unwrap();
                        let mut buf = [0u8; 3];
                        for i in 0..50u8 {
                            stream.write_all(&[c, i, c ^ i]).await.unwrap();
                            stream.read_exact(&mut buf).await.unwrap();
                            assert_eq!(buf, [c, i, c ^ i]);
                        }
                    })
                })
                .collect();
            for client in clients {
                client.await.unwrap();
            }
            server.await.unwrap();
        });
    });
}

#[test]
fn new_outside_a_runtime_is_a_clear_error() {
    let (a, _b) = pair();
    let err = Async::new(a).unwrap_err();
    assert!(
        err.to_string().contains("inside a magpie runtime"),
        "unclear error: {err}"
    );
}

#[test]
fn a_pending_read_fails_when_its_runtime_shuts_down() {
    guard("read across shutdown", || {
        let rt = runtime(1);
        let (a, _b) = pair();
        let a = rt.block_on(async { Async::new(a).unwrap() });
        let (tx, rx) = std::sync::mpsc::channel();
        // A foreign executor awaits a read that no data will ever satisfy.
        let reader = std::thread::spawn(move || {
            let mut a = a;
            let mut buf = [0u8; 1];
            let result = futures_lite::future::block_on(a.read(&mut buf));
            tx.send(result.map_err(|e| e.to_string())).unwrap();
        });
        std::thread::sleep(Duration::from_millis(50));
        drop(rt);
        let result = rx.recv_timeout(HANG).expect("the read hung after shutdown");
        reader.join().unwrap();
        let err = result.expect_err("a read on a shut-down runtime must fail");
        assert!(err.contains("shut down"), "{err}");
    });
}

#[test]
fn registration_churn_never_crosses_sources() {
    guard("registration churn", || {
        let rt = runtime(2);
        rt.block_on(async {
            // Pairs come and go while others carry traffic: a reused key must never deliver
            // an old source's event to a new one (a read would then hang or see junk).
            let workers: Vec<_> = (0..4u8)
                .map(|t| {
                    magpie::spawn(async move {
                        for round in 0..500u32 {
                            let (a, b) = pair();
                            let (mut a, mut b) = (Async::new(a).unwrap(), Async::new(b).unwrap());
                            let msg = [t, (round % 251) as u8];
                            a.write_all(&msg).await.unwrap();
                            let mut buf = [0u8; 2];
                            b.read_exact(&mut buf).await.unwrap();
                            assert_eq!(buf, msg);
                        }
                    })
                })
                .collect();
            for w in workers {
                w.await.unwrap();
            }
        });
    });
}

/// Starts a TCP echo server on `rt` and returns a client connected to it, after one round
/// trip.
fn echo_client(rt: &magpie::Runtime) -> TcpStream {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move {
        let listener = Async::new(listener).unwrap();
        loop {
            let Ok((stream, _)) = listener.read_with(|l| l.accept()).await else {
                return;
            };
            magpie::spawn(async move {
                let mut stream = Async::new(stream).unwrap();
                let mut buf = [0u8; 16];
                while let Ok(n) = stream.read(&mut buf).await {
                    if n == 0 || stream.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    let mut client = TcpStream::connect(addr).unwrap();
    client.set_nodelay(true).unwrap();
    round_trip(&mut client);
    client
}

fn round_trip(client: &mut TcpStream) -> Duration {
    let start = Instant::now();
    client.write_all(b"ping").unwrap();
    let mut buf = [0u8; 4];
    client.read_exact(&mut buf).unwrap();
    start.elapsed()
}

/// Round trips for 800 ms while some task blocks a worker for a second: the median must be
/// far below the block (a frozen reactor makes the first round trip last until it ends).
fn assert_echo_answers_while_blocked(client: &mut TcpStream, what: &str) {
    let started = Instant::now();
    let mut times = Vec::new();
    while started.elapsed() < Duration::from_millis(800) {
        times.push(round_trip(client));
        std::thread::sleep(Duration::from_millis(10));
    }
    times.sort();
    let median = times[times.len() / 2];
    // Generous: a frozen reactor would make these ~1 s.
    assert!(
        median < Duration::from_millis(100),
        "{what}: round trips while a worker was blocked: median {median:?} (max {:?})",
        times.last().unwrap()
    );
}

#[test]
fn a_blocked_worker_does_not_freeze_io() {
    guard("blocked worker vs io", || {
        let rt = runtime(2);
        let mut client = echo_client(&rt);
        // One task blocks its worker thread for a second (tokio issue 4730's scenario).
        rt.spawn(async { std::thread::sleep(Duration::from_secs(1)) });
        std::thread::sleep(Duration::from_millis(20));
        assert_echo_answers_while_blocked(&mut client, "a spawned blocker");
    });
}

/// The driver wakes exactly one task, which blocks its worker: the worker that was parked
/// on the driver runs it without waking another worker (only one task is queued), so nobody
/// waits on the driver until the monitor sends the sleeping worker there.
#[test]
fn a_blocker_woken_alone_by_the_driver_does_not_freeze_io() {
    guard("blocker woken alone by the driver vs io", || {
        let rt = runtime(2);
        let mut client = echo_client(&rt);
        for by_timer in [true, false] {
            // Let both workers go idle: one parks on the driver, the other on its condvar.
            std::thread::sleep(Duration::from_millis(50));
            let (ours, theirs) = pair();
            rt.spawn(async move {
                if by_timer {
                    magpie::time::sleep(Duration::from_millis(30)).await;
                } else {
                    let mut ours = Async::new(ours).unwrap();
                    let mut byte = [0u8; 1];
                    ours.read_exact(&mut byte).await.unwrap();
                }
                std::thread::sleep(Duration::from_secs(1));
            });
            std::thread::sleep(Duration::from_millis(if by_timer { 50 } else { 20 }));
            if !by_timer {
                (&theirs).write_all(b"!").unwrap();
                std::thread::sleep(Duration::from_millis(20));
            }
            let what = if by_timer {
                "woken by a timer"
            } else {
                "woken by a socket"
            };
            assert_echo_answers_while_blocked(&mut client, what);
            // Let the blocker finish before the next case.
            std::thread::sleep(Duration::from_millis(300));
            drop(theirs);
        }
    });
}
