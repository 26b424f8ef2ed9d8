//! tokio's I/O helpers in `magpie::io`, on futures-io types: `copy_bidirectional` as a TCP
//! proxy (data both ways, a half-close passed through, the byte counts, errors), `split` and
//! `BufReader::lines` over a magpie socket, with no tokio trait in scope (the mix that gives
//! E0034, docs/ecosystem.md).

mod common;

use common::run_on;
use magpie::io::{
    copy_bidirectional, split, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt,
    BufReader,
};
use magpie::net::{TcpListener, TcpStream};
use magpie::stream::StreamExt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// An echo server on loopback, as a magpie task: every connection's bytes back, then the
/// write side shut when the client's side ends.
async fn echo_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    magpie::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            magpie::spawn(async move {
                let (mut reader, mut writer) = (&stream, &stream);
                magpie::io::copy(&mut reader, &mut writer).await.unwrap();
                writer.close().await.unwrap();
            });
        }
    });
    addr
}

/// A proxy on loopback in front of `upstream`: each accepted connection is joined to a new
/// upstream connection with `copy_bidirectional`, whose result goes to `results`.
async fn proxy(
    upstream: std::net::SocketAddr,
) -> (
    std::net::SocketAddr,
    magpie::sync::mpsc::UnboundedReceiver<io::Result<(u64, u64)>>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (results, received) = magpie::sync::mpsc::unbounded_channel();
    magpie::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let results = results.clone();
            magpie::spawn(async move {
                let mut server = TcpStream::connect(upstream).await.unwrap();
                let _ = results.send(copy_bidirectional(&mut client, &mut server).await);
            });
        }
    });
    (addr, received)
}

#[test]
fn copy_bidirectional_proxies_both_ways_and_passes_the_end_on() {
    run_on("copy_bidirectional proxy", 2, async {
        let (proxy_addr, mut results) = proxy(echo_server().await).await;
        let client = TcpStream::connect(proxy_addr).await.unwrap();
        // 1 MiB (many buffers' worth) written by one task while another reads the echo back.
        let sent: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
        let writer = {
            let (client, sent) = (client.clone(), sent.clone());
            magpie::spawn(async move {
                let mut client = &client;
                client.write_all(&sent).await.unwrap();
                // The end travels: client → proxy → echo server, whose end comes back.
                client.close().await.unwrap();
            })
        };
        let mut echoed = Vec::new();
        (&client).read_to_end(&mut echoed).await.unwrap();
        writer.await.unwrap();
        assert_eq!(echoed.len(), sent.len());
        assert!(echoed == sent, "the echo differs from what was sent");
        let (up, down) = results.recv().await.unwrap().unwrap();
        assert_eq!((up, down), (sent.len() as u64, sent.len() as u64));
    });
}

#[test]
fn copy_bidirectional_reports_a_writer_that_takes_nothing() {
    /// Reads `data` once then ends; as a writer, accepts zero bytes.
    struct Stuck(&'static [u8]);
    impl AsyncRead for Stuck {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            let n = self.0.len().min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Poll::Ready(Ok(n))
        }
    }
    impl AsyncWrite for Stuck {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &[u8],
        ) -> Poll<io::Result<usize>> {
            Poll::Ready(Ok(0))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }
    run_on("copy_bidirectional WriteZero", 1, async {
        let error = copy_bidirectional(&mut Stuck(b"hello"), &mut Stuck(b""))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::WriteZero);
        assert!(error.to_string().contains("zero bytes"), "{error}");
    });
}

/// Unix only: the reset below relies on a close with unread data sending a TCP reset,
/// which Linux and the BSDs do (Wine's Winsock need not).
#[cfg(unix)]
#[test]
fn copy_bidirectional_returns_the_error_of_a_side_that_fails() {
    run_on("copy_bidirectional reset", 2, async {
        // An upstream that resets its connection: it waits for data, then closes without
        // reading it, and the kernel answers the close with a reset.
        let upstream = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let upstream_addr = upstream.local_addr().unwrap();
        std::thread::spawn(move || {
            if let Ok((stream, _)) = upstream.accept() {
                let _ = stream.peek(&mut [0]);
            }
        });
        let (proxy_addr, mut results) = proxy(upstream_addr).await;
        let mut client = TcpStream::connect(proxy_addr).await.unwrap();
        client.write_all(b"x").await.unwrap();
        let result = results.recv().await.unwrap();
        let error = result.expect_err("a reset upstream is an error");
        assert!(
            matches!(
                error.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
            ),
            "{error:?}"
        );
    });
}

#[test]
fn split_halves_and_lines_work_in_separate_tasks() {
    run_on("split and lines", 2, async {
        let addr = echo_server().await;
        let stream = TcpStream::connect(addr).await.unwrap();
        // tokio::io::split's counterpart: owned halves of any futures-io stream.
        let (reader, mut writer) = split(stream);
        let writing = magpie::spawn(async move {
            for i in 0..100 {
                writer
                    .write_all(format!("line {i}\n").as_bytes())
                    .await
                    .unwrap();
            }
            writer.close().await.unwrap();
        });
        let lines: Vec<String> = BufReader::new(reader)
            .lines()
            .map(Result::unwrap)
            .collect()
            .await;
        writing.await.unwrap();
        assert_eq!(lines.len(), 100);
        assert_eq!(lines[0], "line 0");
        assert_eq!(lines[99], "line 99");
    });
}
