//! TCP: [`TcpListener`] and [`TcpStream`].

use super::accept::Acceptor;
use super::{connect_stream, first_success, resolve, stream_io_traits};
use crate::io::Async;
use crate::time::Sleep;
use futures_lite::Stream;
use magpie_io::sys::as_source;
use magpie_io::sys::socket::{self, RawAddr};
use magpie_shim::Arc;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{self, Shutdown, SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::task::{Context, Poll};

/// A TCP socket listening for connections (asyncio's `start_server`).
///
/// ```
/// use magpie::net::TcpListener;
///
/// # magpie::Runtime::new().unwrap().block_on(async {
/// let listener = TcpListener::bind("127.0.0.1:0").await?;
/// println!("listening on {}", listener.local_addr()?);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct TcpListener {
    acceptor: Acceptor<net::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` and listens (with `SO_REUSEADDR`, as std does). Port 0 picks a free
    /// port; [`local_addr`](TcpListener::local_addr) tells which. When `addr` resolves to
    /// several addresses, the first that binds wins.
    ///
    /// # Errors
    ///
    /// The OS's error (`AddrInUse`, `PermissionDenied`, ...) for the last address tried;
    /// `InvalidInput` when `addr` resolves to nothing; an error outside a magpie runtime.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        let addrs = resolve(addr)?;
        let listener = first_success(&addrs, net::TcpListener::bind)?;
        TcpListener::from_std(listener)
    }

    /// Wraps a listener bound with std (or inherited), registering it with the runtime.
    pub fn from_std(listener: net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            acceptor: Acceptor::new(Async::new(listener)?),
        })
    }

    /// Waits for the next connection and returns it with the peer's address.
    ///
    /// # Errors
    ///
    /// The OS's error. Running out of descriptors (`EMFILE`, `ENFILE`) is returned too, and
    /// makes the next accepts wait a little first (see the [module docs](crate::net)), so a
    /// loop that retries does not spin. An error once the runtime has shut down.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let mut pause = None;
        poll_fn(|cx| self.poll_accept(cx, &mut pause)).await
    }

    fn poll_accept(
        &self,
        cx: &mut Context<'_>,
        pause: &mut Option<Sleep>,
    ) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let accepted = self
            .acceptor
            .poll_accept(cx, pause, &mut |l| socket::accept_inet(as_source(l)));
        accepted.map(|result| {
            let (fd, peer) = result?;
            let stream = Async::new_nonblocking(net::TcpStream::from(fd))?;
            Ok((TcpStream::from_async(stream), peer))
        })
    }

    /// The connections, as a stream that never ends (errors are items; see
    /// [`accept`](TcpListener::accept)).
    ///
    /// ```no_run
    /// use magpie::net::TcpListener;
    /// use futures_lite::StreamExt;
    ///
    /// # magpie::Runtime::new().unwrap().block_on(async {
    /// let listener = TcpListener::bind("127.0.0.1:8080").await?;
    /// let mut incoming = listener.incoming();
    /// while let Some(stream) = incoming.next().await {
    ///     let stream = stream?;
    ///     magpie::spawn(async move { drop(stream) });
    /// }
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming {
            listener: self,
            pause: None,
        }
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.acceptor.io.get_ref().local_addr()
    }

    /// Sets the IP time-to-live of the accepted connections' packets.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.acceptor.io.get_ref().set_ttl(ttl)
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("local_addr", &self.local_addr().ok())
            .field("fd", &magpie_io::sys::raw_source(as_source(self)))
            .finish()
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for TcpListener {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(&self.acceptor.io)
    }
}

#[cfg(windows)]
impl std::os::windows::io::AsSocket for TcpListener {
    fn as_socket(&self) -> std::os::windows::io::BorrowedSocket<'_> {
        std::os::windows::io::AsSocket::as_socket(&self.acceptor.io)
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(&self.acceptor.io)
    }
}

#[cfg(windows)]
impl std::os::windows::io::AsRawSocket for TcpListener {
    fn as_raw_socket(&self) -> std::os::windows::io::RawSocket {
        std::os::windows::io::AsRawSocket::as_raw_socket(&self.acceptor.io)
    }
}

/// The stream of a [`TcpListener`]'s connections, from [`TcpListener::incoming`].
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
    pause: Option<Sleep>,
}

impl Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        this.listener
            .poll_accept(cx, &mut this.pause)
            .map(|result| Some(result.map(|(stream, _)| stream)))
    }
}

/// A TCP connection (asyncio's `StreamReader` and `StreamWriter` in one).
///
/// Reads and writes go through futures-io's `AsyncRead`/`AsyncWrite` (with the extension
/// traits of [`magpie::io`](crate::io): `read`, `write_all`, ...), on the stream or on
/// `&stream`. Cloning is cheap and shares the socket: read in one task, write in another.
/// `close()` shuts the write side down; the socket itself closes when the last clone drops.
#[derive(Clone)]
pub struct TcpStream {
    inner: Arc<Async<net::TcpStream>>,
}

impl TcpStream {
    /// Connects to `addr`, trying each address it resolves to until one accepts.
    ///
    /// # Errors
    ///
    /// The OS's error for the last address tried (`ConnectionRefused`, `TimedOut`,
    /// `NetworkUnreachable`, ...); wrap it in [`magpie::time::timeout`](crate::time::timeout)
    /// to give up sooner than the OS does.
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let addrs = resolve(addr)?;
        let mut last = None;
        for addr in addrs {
            match connect_stream(&RawAddr::from_inet(&addr)).await {
                Ok(stream) => return Ok(TcpStream::from_async(stream)),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("resolve returns at least one address"))
    }

    /// Wraps a connected std stream, registering it with the runtime.
    pub fn from_std(stream: net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream::from_async(Async::new(stream)?))
    }

    fn from_async(inner: Async<net::TcpStream>) -> TcpStream {
        TcpStream {
            inner: Arc::new(inner),
        }
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().local_addr()
    }

    /// Turns Nagle's algorithm off (`true`) or on: with it off, small writes leave at once.
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.inner.get_ref().set_nodelay(on)
    }

    /// Whether Nagle's algorithm is off.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.get_ref().nodelay()
    }

    /// Sets the IP time-to-live of outgoing packets.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.inner.get_ref().set_ttl(ttl)
    }

    /// Shuts the read side, the write side or both down, for every clone.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.get_ref().shutdown(how)
    }

    /// Reads into `buf` without consuming: the next read sees the same bytes.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read_with(|s| s.peek(buf)).await
    }

    /// Waits until the stream is readable (data, end of stream, or an error).
    pub async fn readable(&self) -> io::Result<()> {
        self.inner.readable().await
    }

    /// Waits until the stream is writable.
    pub async fn writable(&self) -> io::Result<()> {
        self.inner.writable().await
    }

    /// [`readable`](TcpStream::readable) for hand-written futures.
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.poll_readable(cx)
    }

    /// [`writable`](TcpStream::writable) for hand-written futures.
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.poll_writable(cx)
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .field("fd", &magpie_io::sys::raw_source(as_source(self)))
            .finish()
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for TcpStream {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(&self.inner)
    }
}

#[cfg(windows)]
impl std::os::windows::io::AsSocket for TcpStream {
    fn as_socket(&self) -> std::os::windows::io::BorrowedSocket<'_> {
        std::os::windows::io::AsSocket::as_socket(&self.inner)
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(&self.inner)
    }
}

#[cfg(windows)]
impl std::os::windows::io::AsRawSocket for TcpStream {
    fn as_raw_socket(&self) -> std::os::windows::io::RawSocket {
        std::os::windows::io::AsRawSocket::as_raw_socket(&*self.inner)
    }
}

impl TryFrom<net::TcpStream> for TcpStream {
    type Error = io::Error;

    fn try_from(stream: net::TcpStream) -> io::Result<TcpStream> {
        TcpStream::from_std(stream)
    }
}

stream_io_traits!(TcpStream);
