//! `magpie::net`: TCP, UDP and Unix sockets — round trips, shared clones, half-close,
//! vectored writes, the OS's error kinds, and what happens across a runtime's shutdown.
//!
//! The Unix-socket tests are Unix only (`UnixStream`/`UnixListener` do not exist on
//! Windows); the TCP and UDP tests compile everywhere.

mod common;

use common::{guard, runtime, HANG};
use futures_lite::StreamExt;
use magpie::io::{AsyncReadExt, AsyncWriteExt};
use magpie::net::{TcpListener, TcpStream, UdpSocket};
#[cfg(unix)]
use magpie::net::{UnixListener, UnixStream};
use std::io::{self, IoSlice};
use std::net::Shutdown;
#[cfg(unix)]
use std::path::PathBuf;
use std::time::Duration;

/// `SO_LINGER` with a zero timeout: closing `socket` then sends an RST.
#[cfg(unix)]
fn set_linger_zero(socket: &TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid `linger` and its size, on an open socket.
    let ret = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(ret, 0);
}

/// `SO_LINGER` with a zero timeout: closing `socket` then sends an RST.
#[cfg(windows)]
fn set_linger_zero(socket: &TcpStream) {
    use std::os::windows::io::AsRawSocket;
    use windows_sys::Win32::Networking::WinSock::{setsockopt, LINGER, SOL_SOCKET, SO_LINGER};
    let linger = LINGER {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid `LINGER` and its size, on an open socket.
    let ret = unsafe {
        setsockopt(
            socket.as_raw_socket() as usize,
            SOL_SOCKET,
            SO_LINGER,
            &linger as *const LINGER as *const u8,
            std::mem::size_of::<LINGER>() as i32,
        )
    };
    assert_eq!(ret, 0);
}

/// The OS's "destination address required" error (a `send` on an unconnected UDP socket).
#[cfg(unix)]
const EDESTADDRREQ: i32 = libc::EDESTADDRREQ;
/// The OS's "destination address required" error (a `send` on an unconnected UDP socket).
#[cfg(windows)]
const EDESTADDRREQ: i32 = windows_sys::Win32::Networking::WinSock::WSAEDESTADDRREQ;

/// A fresh directory for socket files, removed by the caller.
#[cfg(unix)]
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("magpie-net-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An echo server on `listener`: one task per connection, copying until EOF.
fn spawn_echo_server(listener: TcpListener) -> magpie::JoinHandle<()> {
    magpie::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            magpie::spawn(async move {
                let (reader, mut writer) = (stream.clone(), stream);
                let _ = futures_lite::io::copy(reader, &mut writer).await;
                let _ = writer.close().await;
            });
        }
    })
}

#[test]
fn tcp_echo_with_many_concurrent_connections() {
    guard("tcp echo", || {
        runtime(2).block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = spawn_echo_server(listener);
            let clients: Vec<_> = (0..32u64)
                .map(|c| {
                    magpie::spawn(async move {
                        let mut stream = TcpStream::connect(addr).await.unwrap();
                        stream.set_nodelay(true).unwrap();
                        assert!(stream.nodelay().unwrap());
                        assert_eq!(stream.peer_addr().unwrap(), addr);
                        let mut buf = [0u8; 16];
                        for i in 0..200u64 {
                            let mut msg = [0u8; 16];
                            msg[..8].copy_from_slice(&c.to_le_bytes());
                            msg[8..].copy_from_slice(&i.to_le_bytes());
                            stream.write_all(&msg).await.unwrap();
                            stream.read_exact(&mut buf).await.unwrap();
                            assert_eq!(buf, msg);
                        }
                        stream.close().await.unwrap();
                        assert_eq!(stream.read(&mut buf).await.unwrap(), 0, "EOF after close");
                    })
                })
                .collect();
            for client in clients {
                client.await.unwrap();
            }
            server.abort();
        });
    });
}

#[test]
fn clones_read_and_write_from_separate_tasks_with_a_large_transfer() {
    guard("clone read/write", || {
        runtime(2).block_on(async {
            const LEN: usize = 8 << 20;
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = spawn_echo_server(listener);
            let stream = TcpStream::connect(addr).await.unwrap();
            // Writing 8 MiB before reading would deadlock on full buffers: the writer and
            // the reader must run concurrently, on two clones of one socket.
            let mut writer = stream.clone();
            let write = magpie::spawn(async move {
                let data: Vec<u8> = (0..LEN).map(|i| (i % 251) as u8).collect();
                writer.write_all(&data).await.unwrap();
                writer.close().await.unwrap();
            });
            let mut received = Vec::with_capacity(LEN);
            (&stream).read_to_end(&mut received).await.unwrap();
            write.await.unwrap();
            assert_eq!(received.len(), LEN);
            assert!(received
                .iter()
                .enumerate()
                .all(|(i, &b)| b == (i % 251) as u8));
            server.abort();
        });
    });
}

#[test]
fn close_shuts_only_the_write_side() {
    guard("half close", || {
        runtime(2).block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = magpie::spawn(async move {
                let (mut conn, peer) = listener.accept().await.unwrap();
                assert_eq!(peer, conn.peer_addr().unwrap());
                let mut request = Vec::new();
                // The client's close() is our EOF...
                conn.read_to_end(&mut request).await.unwrap();
                // ...and our side can still answer.
                conn.write_all(b"got ").await.unwrap();
                conn.write_all(&request).await.unwrap();
            });
            let mut client = TcpStream::connect(addr).await.unwrap();
            client.write_all(b"question").await.unwrap();
            client.close().await.unwrap();
            let mut reply = Vec::new();
            client.read_to_end(&mut reply).await.unwrap();
            assert_eq!(reply, b"got question");
            server.await.unwrap();
            // Closing twice, or after the peer left, is not an error.
            client.close().await.unwrap();
        });
    });
}

#[test]
fn vectored_writes_and_reads() {
    guard("vectored", || {
        runtime(1).block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let accept = magpie::spawn(async move { listener.accept().await.unwrap().0 });
            let mut client = TcpStream::connect(addr).await.unwrap();
            let mut server = accept.await.unwrap();
            let parts = [IoSlice::new(b"head:"), IoSlice::new(b"body")];
            let n = client.write_vectored(&parts).await.unwrap();
            assert_eq!(n, 9, "a 9-byte vectored write fits a fresh socket buffer");
            client.close().await.unwrap();
            // Wait until all nine bytes are queued, then take them in one vectored read.
            let mut probe = [0u8; 16];
            while server.peek(&mut probe).await.unwrap() < 9 {
                magpie::task::yield_now().await;
            }
            let (mut a, mut b) = ([0u8; 5], [0u8; 4]);
            let mut bufs = [io::IoSliceMut::new(&mut a), io::IoSliceMut::new(&mut b)];
            assert_eq!(server.read_vectored(&mut bufs).await.unwrap(), 9);
            assert_eq!((&a, &b), (b"head:", b"body"));
        });
    });
}

#[test]
fn incoming_yields_each_connection_and_peek_does_not_consume() {
    guard("incoming", || {
        runtime(2).block_on(async {
            let listener = TcpListener::bind("localhost:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let clients = magpie::spawn(async move {
                for i in 0..3u8 {
                    let mut s = TcpStream::connect(addr).await.unwrap();
                    s.write_all(&[i]).await.unwrap();
                }
            });
            let mut incoming = listener.incoming();
            let mut seen = Vec::new();
            for _ in 0..3 {
                let mut stream = incoming.next().await.unwrap().unwrap();
                let mut peeked = [0u8; 1];
                assert_eq!(stream.peek(&mut peeked).await.unwrap(), 1);
                let mut byte = [0u8; 1];
                stream.read_exact(&mut byte).await.unwrap();
                assert_eq!(peeked, byte);
                seen.push(byte[0]);
            }
            clients.await.unwrap();
            seen.sort_unstable();
            assert_eq!(seen, [0, 1, 2]);
        });
    });
}

#[test]
fn errors_carry_the_os_kind() {
    guard("error kinds", || {
        runtime(1).block_on(async {
            // Address in use.
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let err = TcpListener::bind(addr).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");

            // Connection refused: a port nobody listens on any more.
            drop(listener);
            let err = TcpStream::connect(addr).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");

            // An address that resolves to nothing.
            let none: &[std::net::SocketAddr] = &[];
            let err = TcpStream::connect(none).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");

            // Reset by peer: the server closes with SO_LINGER 0, which sends an RST. (Under
            // Wine a read after the RST is `Ok(0)`, for std's blocking sockets too, where
            // Windows says WSAECONNRESET: checked on Unix only, see docs/reliability.md.)
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let mut client = TcpStream::connect(addr).await.unwrap();
            let (server, _) = listener.accept().await.unwrap();
            set_linger_zero(&server);
            drop(server);
            let mut buf = [0u8; 8];
            #[cfg(unix)]
            {
                let err = client.read(&mut buf).await.unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
            }
            #[cfg(not(unix))]
            let _ = client.read(&mut buf).await;

            // EOF is Ok(0), repeatedly.
            let mut client = TcpStream::connect(addr).await.unwrap();
            drop(listener.accept().await.unwrap());
            assert_eq!(client.read(&mut buf).await.unwrap(), 0);
            assert_eq!(client.read(&mut buf).await.unwrap(), 0);
        });
    });
}

#[test]
fn shutdown_read_and_write_sides() {
    guard("shutdown", || {
        runtime(1).block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let client = TcpStream::connect(addr).await.unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            client.shutdown(Shutdown::Write).unwrap();
            let mut buf = [0u8; 4];
            assert_eq!(server.read(&mut buf).await.unwrap(), 0);
            // The clone shares the socket, so it sees the shutdown too.
            let mut clone = client.clone();
            let err = clone.write_all(b"late").await.unwrap_err();
            // Unix: EPIPE. Windows: WSAESHUTDOWN, which std leaves uncategorised.
            #[cfg(unix)]
            assert_eq!(err.kind(), io::ErrorKind::BrokenPipe, "{err}");
            #[cfg(windows)]
            assert_eq!(
                err.raw_os_error(),
                Some(windows_sys::Win32::Networking::WinSock::WSAESHUTDOWN),
                "{err}"
            );
        });
    });
}

#[test]
fn udp_send_to_recv_from_and_connected_sockets() {
    guard("udp", || {
        runtime(2).block_on(async {
            let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());

            // A receive posted before the datagram arrives is woken by it.
            let b = std::sync::Arc::new(b);
            let b2 = b.clone();
            let recv = magpie::spawn(async move {
                let mut buf = [0u8; 32];
                let (n, from) = b2.recv_from(&mut buf).await.unwrap();
                (buf[..n].to_vec(), from)
            });
            magpie::time::sleep(Duration::from_millis(20)).await;
            assert_eq!(a.send_to(b"hello", b_addr).await.unwrap(), 5);
            assert_eq!(recv.await.unwrap(), (b"hello".to_vec(), a_addr));

            // Connected: send/recv, and datagrams from others are filtered out.
            a.connect(b_addr).await.unwrap();
            assert_eq!(a.peer_addr().unwrap(), b_addr);
            let stranger = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            stranger.send_to(b"noise", a_addr).await.unwrap();
            b.send_to(b"reply", a_addr).await.unwrap();
            let mut buf = [0u8; 32];
            let mut peeked = [0u8; 32];
            let (n, from) = a.peek_from(&mut peeked).await.unwrap();
            assert_eq!((&peeked[..n], from), (&b"reply"[..], b_addr));
            let n = a.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"reply");

            // A datagram to a closed port draws an ICMP "port unreachable": ConnectionRefused.
            // (Windows reports it as WSAECONNRESET, and Wine not at all: Unix only, see
            // docs/reliability.md.)
            #[cfg(unix)]
            {
                let closed = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                let closed_addr = closed.local_addr().unwrap();
                drop(closed);
                let c = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                c.connect(closed_addr).await.unwrap();
                c.send(b"anyone?").await.unwrap();
                let err = magpie::time::timeout(HANG, c.recv(&mut buf))
                    .await
                    .expect("the ICMP error must wake the receive")
                    .unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
            }

            // Unconnected send() is an error, not a hang.
            let d = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let err = d.send(b"x").await.unwrap_err();
            assert!(
                matches!(
                    err.kind(),
                    io::ErrorKind::NotConnected | io::ErrorKind::InvalidInput
                ) || err.raw_os_error() == Some(EDESTADDRREQ),
                "{err}"
            );
        });
    });
}

#[cfg(unix)]
#[test]
fn unix_listener_and_stream() {
    guard("unix", || {
        let dir = temp_dir("unix");
        let path = dir.join("echo.sock");
        runtime(2).block_on(async {
            let listener = UnixListener::bind(&path).unwrap();
            assert_eq!(
                listener.local_addr().unwrap().as_pathname(),
                Some(path.as_path())
            );
            let server = magpie::spawn(async move {
                let (conn, _peer) = listener.accept().await.unwrap();
                let (reader, mut writer) = (conn.clone(), conn);
                futures_lite::io::copy(reader, &mut writer).await.unwrap();
                writer.close().await.unwrap();
                listener
            });
            let mut client = UnixStream::connect(&path).await.unwrap();
            client.write_all(b"over unix").await.unwrap();
            client.close().await.unwrap();
            let mut reply = Vec::new();
            client.read_to_end(&mut reply).await.unwrap();
            assert_eq!(reply, b"over unix");
            let listener = server.await.unwrap();

            // Binding an existing path is AddrInUse.
            let err = UnixListener::bind(&path).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
            // With the listener gone, the file remains and nobody accepts: refused.
            drop(listener);
            let err = UnixStream::connect(&path).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
            // No such file.
            let err = UnixStream::connect(dir.join("missing.sock"))
                .await
                .unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
            // A path too long for a socket address is named as such.
            let long = dir.join("x".repeat(200));
            let err = UnixStream::connect(&long).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");

            // pair(): two connected ends.
            let (mut x, mut y) = UnixStream::pair().unwrap();
            x.write_all(b"paired").await.unwrap();
            let mut buf = [0u8; 6];
            y.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"paired");
        });
        std::fs::remove_dir_all(&dir).unwrap();
    });
}

#[test]
fn constructors_outside_a_runtime_are_clear_errors() {
    let err = futures_lite::future::block_on(TcpListener::bind("127.0.0.1:0")).unwrap_err();
    assert!(err.to_string().contains("inside a magpie runtime"), "{err}");
    #[cfg(unix)]
    {
        let err = UnixStream::pair().unwrap_err();
        assert!(err.to_string().contains("inside a magpie runtime"), "{err}");
    }
    let err = futures_lite::future::block_on(UdpSocket::bind("127.0.0.1:0")).unwrap_err();
    assert!(err.to_string().contains("inside a magpie runtime"), "{err}");
}

#[test]
fn a_pending_accept_fails_when_its_runtime_shuts_down() {
    guard("accept across shutdown", || {
        let rt = runtime(2);
        let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        // A foreign executor awaits a connection that never comes.
        let acceptor = std::thread::spawn(move || {
            let result = futures_lite::future::block_on(listener.accept());
            tx.send(result.map(|_| ()).map_err(|e| e.to_string()))
                .unwrap();
        });
        std::thread::sleep(Duration::from_millis(50));
        drop(rt);
        let result = rx
            .recv_timeout(HANG)
            .expect("the accept hung after shutdown");
        acceptor.join().unwrap();
        let err = result.expect_err("an accept on a shut-down runtime must fail");
        assert!(err.contains("shut down"), "{err}");
    });
}

#[test]
fn a_pending_read_task_is_dropped_with_its_runtime() {
    guard("read task at shutdown", || {
        let rt = runtime(2);
        let dropped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = dropped.clone();
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let client = TcpStream::connect(addr).await.unwrap();
            let (server, _) = listener.accept().await.unwrap();
            magpie::spawn(async move {
                struct SetOnDrop(std::sync::Arc<std::sync::atomic::AtomicBool>);
                impl Drop for SetOnDrop {
                    fn drop(&mut self) {
                        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
                    }
                }
                let _flag = SetOnDrop(flag);
                let mut server = server;
                let mut buf = [0u8; 1];
                let _ = server.read(&mut buf).await;
                drop(client);
            });
            magpie::time::sleep(Duration::from_millis(20)).await;
        });
        drop(rt);
        assert!(dropped.load(std::sync::atomic::Ordering::SeqCst));
    });
}

#[test]
fn an_always_yielding_task_does_not_starve_a_socket() {
    guard("yielding task vs socket", || {
        // One worker, shared by a task that never stops yielding and a TCP client: the
        // worker's periodic I/O turn must still deliver the socket's events.
        let rt = runtime(1);
        let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = server.local_addr().unwrap();
        let echo = std::thread::spawn(move || {
            use std::io::{Read, Write};
            let (mut conn, _) = server.accept().unwrap();
            let mut buf = [0u8; 8];
            while conn.read_exact(&mut buf).is_ok() {
                conn.write_all(&buf).unwrap();
            }
        });
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let round_trips = rt.block_on(async {
            let spinner = {
                let stop = stop.clone();
                magpie::spawn(async move {
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        magpie::task::yield_now().await;
                    }
                })
            };
            let client = magpie::spawn(async move {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                stream.set_nodelay(true).unwrap();
                let mut times = Vec::new();
                let mut buf = [0u8; 8];
                for i in 0..100u64 {
                    let start = std::time::Instant::now();
                    stream.write_all(&i.to_le_bytes()).await.unwrap();
                    stream.read_exact(&mut buf).await.unwrap();
                    assert_eq!(u64::from_le_bytes(buf), i);
                    times.push(start.elapsed());
                }
                times
            });
            let times = client.await.unwrap();
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            spinner.await.unwrap();
            times
        });
        echo.join().unwrap();
        let mut sorted = round_trips;
        sorted.sort_unstable();
        let median = sorted[sorted.len() / 2];
        assert!(
            median < Duration::from_millis(50),
            "median round trip {median:?} beside an always-yielding task"
        );
    });
}

#[test]
fn data_and_end_of_stream_in_one_edge_are_both_read() {
    guard("data + FIN in one event", || {
        runtime(1).block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            for _ in 0..20 {
                let client = std::net::TcpStream::connect(addr).unwrap();
                let (mut server, _) = listener.accept().await.unwrap();
                // Data and FIN both arrive before the server first looks, so the poller
                // reports them as one edge; a read larger than the data drains it short.
                use std::io::Write;
                (&client).write_all(b"last words").unwrap();
                client.shutdown(Shutdown::Write).unwrap();
                magpie::time::sleep(Duration::from_millis(5)).await;
                let mut buf = [0u8; 4096];
                let n = server.read(&mut buf).await.unwrap();
                assert_eq!(&buf[..n], b"last words");
                let eof = magpie::time::timeout(Duration::from_secs(5), server.read(&mut buf))
                    .await
                    .expect("the end of stream that came with the data was lost");
                assert_eq!(eof.unwrap(), 0);
            }
        });
    });
}
