//! Unix domain sockets: [`UnixListener`] and [`UnixStream`]. Unix only (the module is
//! `cfg(unix)`: Windows has no `AF_UNIX` support in `polling`'s backend nor in std).

use super::accept::Acceptor;
use super::{connect_stream, stream_io_traits};
use crate::io::Async;
use magpie_io::sys::socket::{self, RawAddr};
use magpie_shim::Arc;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;

/// A Unix domain socket listening for connections.
///
/// The socket file is created by [`bind`](UnixListener::bind) and, as with std, not removed
/// when the listener drops: remove it yourself (binding to an existing path fails with
/// `AddrInUse`).
pub struct UnixListener {
    acceptor: Acceptor<net::UnixListener>,
}

impl UnixListener {
    /// Binds to the socket file `path` and listens.
    ///
    /// # Errors
    ///
    /// The OS's error (`AddrInUse` when the file exists, ...); an error outside a magpie
    /// runtime.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        UnixListener::from_std(net::UnixListener::bind(path)?)
    }

    /// Wraps a std listener, registering it with the runtime.
    pub fn from_std(listener: net::UnixListener) -> io::Result<UnixListener> {
        Ok(UnixListener {
            acceptor: Acceptor::new(Async::new(listener)?),
        })
    }

    /// Waits for the next connection and returns it with the peer's address (usually
    /// unnamed). Errors as [`TcpListener::accept`](crate::net::TcpListener::accept),
    /// including the back-off when descriptors run out.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let mut pause = None;
        let fd = poll_fn(|cx| {
            self.acceptor
                .poll_accept(cx, &mut pause, &mut |l| socket::accept(l.as_fd()))
        })
        .await?;
        let stream = net::UnixStream::from(fd);
        let peer = stream.peer_addr()?;
        Ok((
            UnixStream::from_async(Async::new_nonblocking(stream)?),
            peer,
        ))
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.acceptor.io.get_ref().local_addr()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("local_addr", &self.local_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.acceptor.io.as_fd()
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.acceptor.io.as_raw_fd()
    }
}

/// A Unix domain stream connection. Like [`TcpStream`](crate::net::TcpStream): futures-io's
/// traits on the stream and on `&stream`, cheap clones sharing the socket, `close()` shuts
/// the write side down.
#[derive(Clone)]
pub struct UnixStream {
    inner: Arc<Async<net::UnixStream>>,
}

impl UnixStream {
    /// Connects to the socket file `path` (a path starting with a NUL byte names Linux's
    /// abstract namespace).
    ///
    /// # Errors
    ///
    /// The OS's error (`NotFound` when no such file, `ConnectionRefused` when nobody
    /// listens, `WouldBlock` when the listener's backlog is full); `InvalidInput` for a path
    /// too long for a socket address.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let addr = RawAddr::from_unix_path(path.as_ref())?;
        Ok(UnixStream::from_async(connect_stream(&addr).await?))
    }

    /// A pair of connected streams (`socketpair`).
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = net::UnixStream::pair()?;
        Ok((UnixStream::from_std(a)?, UnixStream::from_std(b)?))
    }

    /// Wraps a connected std stream, registering it with the runtime.
    pub fn from_std(stream: net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream::from_async(Async::new(stream)?))
    }

    fn from_async(inner: Async<net::UnixStream>) -> UnixStream {
        UnixStream {
            inner: Arc::new(inner),
        }
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// Shuts the read side, the write side or both down, for every clone.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.get_ref().shutdown(how)
    }

    /// Waits until the stream is readable (data, end of stream, or an error).
    pub async fn readable(&self) -> io::Result<()> {
        self.inner.readable().await
    }

    /// Waits until the stream is writable.
    pub async fn writable(&self) -> io::Result<()> {
        self.inner.writable().await
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

stream_io_traits!(UnixStream);
