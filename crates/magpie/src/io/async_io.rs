//! `Async<T>`: any non-blocking file descriptor, driven by the runtime's reactor.
//!
//! On Unix `T: AsSource` (sockets, pipes, terminals...); on Windows `T: AsSocket` (sockets only:
//! `polling` watches nothing else there). The bound is `magpie_io::sys::AsSource`, which
//! names the one or the other.

use crate::driver;
use magpie_io::sys::{as_source, AsSource};
use magpie_io::{Direction, ReadyEvent, Registration};
use magpie_shim::coop;
use std::fmt;
use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// An I/O object (a socket, a pipe, anything with a file descriptor) registered with the
/// runtime's reactor: the escape hatch for what magpie does not wrap itself.
///
/// **Platforms:** on Unix `T: AsSource`; on Windows `T: AsSocket` (a socket: std's
/// `TcpStream`, `TcpListener`, `UdpSocket`, a `socket2::Socket`...), since the Windows poller
/// watches sockets only. The example below uses Unix sockets, so it is Unix only.
///
/// `Async::new` puts the descriptor in non-blocking mode and registers it with the current
/// runtime. [`readable`](Async::readable) / [`writable`](Async::writable) wait for
/// readiness; [`read_with`](Async::read_with) / [`write_with`](Async::write_with) retry a
/// non-blocking operation until it does not return `WouldBlock`. When `&T` implements
/// `Read`/`Write`, `Async<T>` and `&Async<T>` implement futures-io's `AsyncRead`/`AsyncWrite`:
/// the impls need `&T: Read`/`&T: Write`, not only `T: Read`, so `Async<ChildStdout>` has no
/// `AsyncRead` (std's `ChildStdout` reads through `&mut` only); `magpie::process` gives async
/// pipes for child processes.
///
/// Regular files are not for `Async`: the OS reports them always ready (epoll refuses them
/// outright, so `Async::new` fails on Linux with a message saying so). Use [`crate::fs`].
///
/// ```
/// use magpie::io::{Async, AsyncReadExt, AsyncWriteExt};
/// use std::net::{TcpListener, TcpStream};
///
/// # magpie::Runtime::new().unwrap().block_on(async {
/// // Two connected std sockets (a blocking connect on loopback, for the example's sake).
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let a = TcpStream::connect(listener.local_addr()?)?;
/// let (b, _) = listener.accept()?;
/// let (mut a, mut b) = (Async::new(a)?, Async::new(b)?);
/// a.write_all(b"ping").await?;
/// let mut buf = [0; 4];
/// b.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"ping");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
///
/// Dropping it deregisters the descriptor, then closes it (by dropping `T`). Once the
/// runtime it is bound to has shut down, every wait returns an error.
///
/// Every completed wait or operation spends one unit of the task's cooperative budget: a
/// task that keeps finding the descriptor ready yields to the other tasks of its worker
/// after 128 of them, as it would at a real wait.
pub struct Async<T: AsSource> {
    // Declared first: dropped (deregistered) before `io` closes the descriptor.
    registration: Registration,
    io: Option<T>,
}

impl<T: AsSource + fmt::Debug> fmt::Debug for Async<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Async").field("io", &self.io).finish()
    }
}

/// On Linux, epoll refuses regular files and directories with `EPERM`, which alone reads as
/// a bare "Operation not permitted": the message says why and where to go instead (the kind,
/// `PermissionDenied`, is kept).
fn explain_registration_error(error: io::Error) -> io::Error {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if error.raw_os_error() == Some(1) {
        return io::Error::new(
            error.kind(),
            format!(
                "regular files and directories cannot be registered with the reactor (epoll \
                 refuses them: {error}); use magpie::fs for files"
            ),
        );
    }
    error
}

impl<T: AsSource> Async<T> {
    /// Registers `io` with the current runtime's reactor, in non-blocking mode.
    ///
    /// # Errors
    ///
    /// Outside a magpie runtime (`ErrorKind::Other`, saying so), after the runtime shut
    /// down, or when the OS refuses the registration.
    pub fn new(io: T) -> io::Result<Async<T>> {
        magpie_io::sys::set_nonblocking(as_source(&io))?;
        Async::new_nonblocking(io)
    }

    /// [`Async::new`] for a descriptor already in non-blocking mode (one born so, from
    /// `magpie_io::sys::socket`), saving the `fcntl` calls.
    pub(crate) fn new_nonblocking(io: T) -> io::Result<Async<T>> {
        let reactor = driver::with_current(|d| d.map(|d| d.reactor.clone())).ok_or_else(|| {
            io::Error::other(
                "magpie::io::Async::new must be called from inside a magpie runtime \
                 (Runtime::block_on, a spawned task, or #[magpie::main] / #[magpie::test])",
            )
        })?;
        // SAFETY: `io` owns the descriptor and is dropped only after the registration (field
        // order, and `into_inner` drops the registration first).
        let registration =
            unsafe { reactor.register(as_source(&io)) }.map_err(explain_registration_error)?;
        Ok(Async {
            registration,
            io: Some(io),
        })
    }

    /// The wrapped I/O object.
    pub fn get_ref(&self) -> &T {
        self.io.as_ref().expect("present until into_inner")
    }

    /// Deregisters the descriptor and gives the I/O object back (still non-blocking).
    pub fn into_inner(mut self) -> io::Result<T> {
        let io = self.io.take().expect("present until into_inner");
        // Deregister now; `self` is then dropped with nothing left to close.
        let Async { registration, .. } = self;
        drop(registration);
        Ok(io)
    }

    /// Waits until the descriptor is readable (or the peer closed, or an error is pending).
    pub async fn readable(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_readable(cx)).await
    }

    /// Waits until the descriptor is writable.
    pub async fn writable(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_writable(cx)).await
    }

    /// [`readable`](Async::readable), for hand-written futures.
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_ready_budgeted(Direction::Read, cx)
    }

    /// [`writable`](Async::writable), for hand-written futures.
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_ready_budgeted(Direction::Write, cx)
    }

    /// Readiness for `direction`, spending one unit of the cooperative budget when ready
    /// (refunded when pending).
    fn poll_ready_budgeted(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        let spent = ready!(coop::poll_proceed(cx));
        let polled = self.registration.poll_ready(direction, cx);
        if polled.is_ready() {
            spent.made_progress();
        }
        polled.map_ok(|_| ())
    }

    /// Runs the non-blocking read `op` until it does not return `WouldBlock`, waiting for
    /// readability in between.
    pub async fn read_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        poll_fn(|cx| self.poll_with(Direction::Read, cx, &mut op)).await
    }

    /// Runs the non-blocking write `op` until it does not return `WouldBlock`, waiting for
    /// writability in between.
    pub async fn write_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        poll_fn(|cx| self.poll_with(Direction::Write, cx, &mut op)).await
    }

    /// One step of `read_with` / `write_with`: wait for readiness, try, and on `WouldBlock`
    /// clear the readiness seen (unless a newer event arrived) and wait again.
    ///
    /// Only `WouldBlock` clears readiness, never a short read: the poller is edge-triggered,
    /// and the peer's FIN can arrive in the same edge as the last data, so a read that
    /// drained the data but not the end of stream must leave readiness set for the read
    /// that returns `Ok(0)` (`tests/net.rs` has the case).
    ///
    /// Every socket and pipe operation of magpie (reads, writes, accepts, sends, receives,
    /// peeks, a child's pipes and pidfd) comes through here or through [`Async::poll_readable`] /
    /// [`Async::poll_writable`] (connect), so this is where I/O spends the cooperative
    /// budget: one unit per completed operation, none for a `WouldBlock` that ends in
    /// `Pending`. With the budget spent it returns `Pending` (the task woken) before trying.
    pub(crate) fn poll_with<R>(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
        op: &mut impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_with_drain(direction, cx, op, |_| false)
    }

    /// A byte stream's read (`TcpStream`, `UnixStream`): [`poll_with`](Async::poll_with),
    /// except that a read returning fewer bytes than `want` (but not 0) drained the receive
    /// queue, so it clears the read readiness at once, unless the peer has shut its write
    /// side down (see "Short read" in magpie-io's `source.rs`). The next read then waits for
    /// the next edge instead of trying a read that would only say `WouldBlock`.
    pub(crate) fn poll_read_stream(
        &self,
        cx: &mut Context<'_>,
        want: usize,
        op: &mut impl FnMut(&T) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.poll_with_drain(Direction::Read, cx, op, |&n| n > 0 && n < want)
    }

    /// `poll_with`, where `drained(result)` says that a successful operation emptied the
    /// kernel's queue (its readiness may be cleared as for `WouldBlock`).
    fn poll_with_drain<R>(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
        op: &mut impl FnMut(&T) -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        let spent = ready!(coop::poll_proceed(cx));
        loop {
            let ready: ReadyEvent = match self.registration.poll_ready(direction, cx) {
                Poll::Ready(Ok(ready)) => ready,
                Poll::Ready(Err(e)) => {
                    spent.made_progress();
                    return Poll::Ready(Err(e));
                }
                // The refund: `spent` drops unused.
                Poll::Pending => return Poll::Pending,
            };
            match op(self.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.registration.clear_readiness(ready);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => {
                    if matches!(&result, Ok(done) if drained(done))
                        && !self.registration.read_closed()
                    {
                        self.registration.clear_readiness(ready);
                    }
                    spent.made_progress();
                    return Poll::Ready(result);
                }
            }
        }
    }
}

#[cfg(unix)]
impl<T: AsSource> std::os::fd::AsFd for Async<T> {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

#[cfg(unix)]
impl<T: AsSource> std::os::fd::AsRawFd for Async<T> {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.registration.fd()
    }
}

#[cfg(windows)]
impl<T: AsSource> std::os::windows::io::AsSocket for Async<T> {
    fn as_socket(&self) -> std::os::windows::io::BorrowedSocket<'_> {
        self.get_ref().as_socket()
    }
}

#[cfg(windows)]
impl<T: AsSource> std::os::windows::io::AsRawSocket for Async<T> {
    fn as_raw_socket(&self) -> std::os::windows::io::RawSocket {
        self.registration.fd()
    }
}

// The owned impls delegate to the `&Async<T>` ones: reads and writes only need `&T`.

impl<T: AsSource> futures_io::AsyncRead for Async<T>
where
    for<'a> &'a T: Read,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_read(cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [io::IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_read_vectored(cx, bufs)
    }
}

impl<T: AsSource> futures_io::AsyncRead for &Async<T>
where
    for<'a> &'a T: Read,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_with(Direction::Read, cx, &mut |mut io: &T| io.read(buf))
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [io::IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_with(Direction::Read, cx, &mut |mut io: &T| {
            io.read_vectored(bufs)
        })
    }
}

impl<T: AsSource> futures_io::AsyncWrite for Async<T>
where
    for<'a> &'a T: Write,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self).poll_close(cx)
    }
}

impl<T: AsSource> futures_io::AsyncWrite for &Async<T>
where
    for<'a> &'a T: Write,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_with(Direction::Write, cx, &mut |mut io: &T| io.write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_with(Direction::Write, cx, &mut |mut io: &T| {
            io.write_vectored(bufs)
        })
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_with(Direction::Write, cx, &mut |mut io: &T| io.flush())
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}
