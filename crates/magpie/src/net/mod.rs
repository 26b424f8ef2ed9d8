//! Networking: TCP, UDP and Unix sockets driven by the runtime's reactor.
//!
//! **Platforms:** TCP and UDP everywhere (Windows included, through `polling`'s IOCP/AFD
//! backend); [`UnixStream`] and [`UnixListener`] are Unix only. The types expose their
//! descriptor through `AsFd`/`AsRawFd` on Unix and their socket through
//! `AsSocket`/`AsRawSocket` on Windows.
//!
//! Python's `asyncio.open_connection` / `asyncio.start_server` are [`TcpStream::connect`] and
//! a loop over [`TcpListener::accept`] that spawns a task per connection:
//!
//! ```
//! use magpie::io::{AsyncReadExt, AsyncWriteExt};
//! use magpie::net::{TcpListener, TcpStream};
//!
//! # magpie::Runtime::new().unwrap().block_on(async {
//! let listener = TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! magpie::spawn(async move {
//!     let (mut conn, _peer) = listener.accept().await?;
//!     let mut buf = [0; 5];
//!     conn.read_exact(&mut buf).await?;
//!     conn.write_all(&buf).await?; // echo
//!     std::io::Result::Ok(())
//! });
//! let mut client = TcpStream::connect(addr).await?;
//! client.write_all(b"hello").await?;
//! let mut reply = [0; 5];
//! client.read_exact(&mut reply).await?;
//! assert_eq!(&reply, b"hello");
//! # std::io::Result::Ok(()) }).unwrap();
//! ```
//!
//! - Streams ([`TcpStream`], [`UnixStream`]) implement futures-io's `AsyncRead` and
//!   `AsyncWrite`, for the owned value and for `&stream`; `close` shuts the write side down
//!   (the peer reads EOF). They are cheap to clone: clones share one socket, so one task can
//!   read while another writes.
//! - Errors are `io::Error`s with the OS's kind: `AddrInUse`, `ConnectionRefused`,
//!   `ConnectionReset`, ...; end of stream is `Ok(0)`.
//! - Out of descriptors: when `accept` fails with `EMFILE`, `ENFILE`, `ENOBUFS` or `ENOMEM`,
//!   it returns the error, and the listener's next accepts first wait (1 ms, doubling up to
//!   64 ms, reset by the next success), so an accept loop that logs and retries neither spins
//!   nor stalls for long once descriptors are freed.
//! - Addresses are `std::net::ToSocketAddrs`. A host name is resolved on the calling worker
//!   (a quick `/etc/hosts` lookup for `localhost`, but a DNS query can block it); resolve
//!   remote names with `magpie::task::spawn_blocking` first if that matters.
//! - Every constructor needs a magpie runtime in context (a task, `block_on`): outside one,
//!   it returns an error saying so. After the runtime shuts down, pending and new operations
//!   return errors instead of waiting forever.
//! - With the feature `tokio-io`, the streams (owned and `&stream`) also implement tokio's
//!   `AsyncRead`/`AsyncWrite` (the traits only; no tokio runtime), for crates written
//!   against them, such as tokio-postgres.

mod accept;
mod tcp;
#[cfg(feature = "tokio-io")]
pub(crate) mod tokio_io;
mod udp;
#[cfg(unix)]
mod unix;

pub use tcp::{Incoming, TcpListener, TcpStream};
pub use udp::UdpSocket;
/// Unix only.
#[cfg(unix)]
pub use unix::{UnixListener, UnixStream};

use crate::io::Async;
use magpie_io::sys::socket::{self, Kind, RawAddr};
use magpie_io::sys::{as_source, AsSource, OwnedSource};
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// Resolves `addr`, failing with `InvalidInput` when it names no address.
fn resolve(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the address resolved to no socket address",
        ));
    }
    Ok(addrs)
}

/// Tries `op` on each address in turn; the first success wins, else the last error.
fn first_success<T>(
    addrs: &[SocketAddr],
    mut op: impl FnMut(SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    let mut last = None;
    for &addr in addrs {
        match op(addr) {
            Ok(value) => return Ok(value),
            Err(e) => last = Some(e),
        }
    }
    Err(last.expect("resolve returns at least one address"))
}

/// Connects a new non-blocking stream socket to `addr`, registered with the reactor.
async fn connect_stream<T>(addr: &RawAddr) -> io::Result<Async<T>>
where
    T: AsSource + From<OwnedSource>,
{
    let fd = socket::socket(addr, Kind::Stream)?;
    let connected = socket::connect(as_source(&fd), addr)?;
    let stream = Async::new_nonblocking(T::from(fd))?;
    if !connected {
        // The handshake finishes (or fails) when the socket turns writable; `SO_ERROR` says
        // which.
        stream.writable().await?;
        if let Some(err) = socket::take_error(as_source(&stream))? {
            return Err(err);
        }
    }
    Ok(stream)
}

/// `poll_close` of a stream: shut the write side down. A peer that already went away is
/// not an error here: there is nothing left to close.
fn shutdown_write(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
        other => other,
    }
}

/// futures-io's `AsyncRead`/`AsyncWrite` for a stream type `$ty` holding
/// `inner: Arc<Async<_>>`, both owned and by reference (the owned impls delegate). Reads go
/// through `Async::poll_read_stream`: a short read of a byte stream clears the readiness.
macro_rules! stream_io_traits {
    ($ty:ty) => {
        impl futures_io::AsyncRead for &$ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                use std::io::Read;
                let want = buf.len();
                self.inner
                    .poll_read_stream(cx, want, &mut |mut io| io.read(buf))
            }

            fn poll_read_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                use std::io::Read;
                let want = bufs.iter().map(|buf| buf.len()).sum();
                self.inner
                    .poll_read_stream(cx, want, &mut |mut io| io.read_vectored(bufs))
            }
        }

        impl futures_io::AsyncWrite for &$ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut &*self.inner).poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut &*self.inner).poll_write_vectored(cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                // Sockets have no user-space buffer to flush.
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready($crate::net::shutdown_write(
                    self.shutdown(std::net::Shutdown::Write),
                ))
            }
        }

        impl futures_io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut &*self).poll_read(cx, buf)
            }

            fn poll_read_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut &*self).poll_read_vectored(cx, bufs)
            }
        }

        impl futures_io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut &*self).poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut &*self).poll_write_vectored(cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::pin::Pin::new(&mut &*self).poll_flush(cx)
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::pin::Pin::new(&mut &*self).poll_close(cx)
            }
        }
    };
}
use stream_io_traits;
