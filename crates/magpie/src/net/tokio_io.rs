//! Feature `tokio-io`: tokio's `AsyncRead`/`AsyncWrite` on magpie's streams, so that crates
//! written against tokio's I/O traits (tokio-postgres, tokio-util codecs, ...) run on magpie.
//!
//! Only the traits come from tokio (`default-features = false`): no tokio runtime is started
//! or needed. Each impl forwards to the stream's futures-io impl, so reads and writes go
//! through magpie's reactor and spend magpie's cooperative budget exactly as futures-io's
//! do. `poll_shutdown` is futures-io's `poll_close`: the write side is shut down and the
//! peer reads end of stream.
//!
//! ```
//! use tokio::io::{AsyncRead, AsyncWrite};
//! fn tokio_io<T: AsyncRead + AsyncWrite + Unpin + Send>() {}
//! tokio_io::<magpie::net::TcpStream>();
//! tokio_io::<&magpie::net::TcpStream>();
//! # #[cfg(unix)]
//! tokio_io::<magpie::net::UnixStream>(); // Unix only
//! ```

use super::TcpStream;
#[cfg(unix)]
use super::UnixStream;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::ReadBuf;

/// Reads into the unfilled part of `buf` with a futures-io read, then marks what was read as
/// filled. tokio's `ReadBuf` remembers how much of its memory is initialized, so the
/// zeroing `initialize_unfilled` does happens once per buffer, not once per read.
pub(crate) fn read_into(
    buf: &mut ReadBuf<'_>,
    read: impl FnOnce(&mut [u8]) -> Poll<io::Result<usize>>,
) -> Poll<io::Result<()>> {
    let n = std::task::ready!(read(buf.initialize_unfilled()))?;
    buf.advance(n);
    Poll::Ready(Ok(()))
}

/// tokio's `AsyncRead`/`AsyncWrite` for `$ty` and `&$ty`, forwarding to `&$ty`'s futures-io
/// impls (reads and writes only need a shared reference).
macro_rules! tokio_io_traits {
    ($ty:ty) => {
        impl tokio::io::AsyncRead for &$ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                let mut this: &$ty = *self;
                read_into(buf, |slice| {
                    futures_io::AsyncRead::poll_read(Pin::new(&mut this), cx, slice)
                })
            }
        }

        impl tokio::io::AsyncWrite for &$ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                futures_io::AsyncWrite::poll_write(self, cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                futures_io::AsyncWrite::poll_write_vectored(self, cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                futures_io::AsyncWrite::poll_flush(self, cx)
            }

            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                futures_io::AsyncWrite::poll_close(self, cx)
            }
        }

        impl tokio::io::AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                tokio::io::AsyncRead::poll_read(Pin::new(&mut &*self), cx, buf)
            }
        }

        impl tokio::io::AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                tokio::io::AsyncWrite::poll_write(Pin::new(&mut &*self), cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                tokio::io::AsyncWrite::poll_write_vectored(Pin::new(&mut &*self), cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                tokio::io::AsyncWrite::poll_flush(Pin::new(&mut &*self), cx)
            }

            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                tokio::io::AsyncWrite::poll_shutdown(Pin::new(&mut &*self), cx)
            }
        }
    };
}

tokio_io_traits!(TcpStream);
#[cfg(unix)]
tokio_io_traits!(UnixStream);

#[cfg(test)]
mod tests {
    #[cfg(unix)]
    use crate::net::UnixStream;
    use crate::net::{TcpListener, TcpStream};
    use std::future::poll_fn;
    use std::pin::Pin;
    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

    /// A tokio-style round trip written with the traits' poll methods only (tokio's
    /// `AsyncReadExt` needs tokio's "io-util", which this feature does not pull in).
    async fn write_all<W: AsyncWrite + Unpin>(w: &mut W, mut data: &[u8]) {
        while !data.is_empty() {
            let n = poll_fn(|cx| Pin::new(&mut *w).poll_write(cx, data))
                .await
                .unwrap();
            assert!(n > 0);
            data = &data[n..];
        }
        poll_fn(|cx| Pin::new(&mut *w).poll_flush(cx))
            .await
            .unwrap();
    }

    async fn read_to_end<R: AsyncRead + Unpin>(r: &mut R) -> Vec<u8> {
        let mut out = Vec::new();
        let mut chunk = [0u8; 7];
        loop {
            let mut buf = ReadBuf::new(&mut chunk);
            poll_fn(|cx| Pin::new(&mut *r).poll_read(cx, &mut buf))
                .await
                .unwrap();
            if buf.filled().is_empty() {
                return out;
            }
            out.extend_from_slice(buf.filled());
        }
    }

    #[test]
    fn tcp_round_trip_and_shutdown_through_tokio_traits() {
        crate::Runtime::new().unwrap().block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = crate::spawn(async move {
                let (mut conn, _) = listener.accept().await.unwrap();
                let got = read_to_end(&mut conn).await;
                write_all(&mut &conn, &got).await;
                poll_fn(|cx| Pin::new(&mut conn).poll_shutdown(cx))
                    .await
                    .unwrap();
                got.len()
            });
            let mut client = TcpStream::connect(addr).await.unwrap();
            let message: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
            write_all(&mut client, &message).await;
            poll_fn(|cx| Pin::new(&mut client).poll_shutdown(cx))
                .await
                .unwrap();
            let echoed = read_to_end(&mut &client).await;
            assert_eq!(server.await.unwrap(), message.len());
            assert_eq!(echoed, message);
        });
    }

    #[cfg(unix)]
    #[test]
    fn unix_pair_through_tokio_traits() {
        crate::Runtime::new().unwrap().block_on(async {
            let (mut a, mut b) = UnixStream::pair().unwrap();
            write_all(&mut a, b"ping").await;
            poll_fn(|cx| Pin::new(&mut a).poll_shutdown(cx))
                .await
                .unwrap();
            assert_eq!(read_to_end(&mut b).await, b"ping");
        });
    }
}
