//! The HTTP pieces shared by `benches/http_figures.rs` (`http_hello`, `http_hello_wrk`,
//! `http2_hello_h2load`, `http_axum`, `http_axum_wrk`) and `benches/conn_figures.rs`
//! (`conn_scale`): the hello service, hyper's server on magpie, tokio and smol with its
//! connection accounting, and the pieces of their raw-epoll load clients. Linux only, as
//! those clients are.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::rt::bounds::Http2ServerConnExec;
use hyper::server::conn::{http1, http2};
use hyper::{Request, Response};

use crate::figures::Stats;
use crate::{magpie_rt, smol_rt, tokio_rt};

/// The response body.
pub const BODY: &[u8] = b"Hello, world!";
/// The request every connection sends, over and over.
pub const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
/// How long a load client waits for any response before it declares the server stuck.
pub const STALL: Duration = Duration::from_secs(10);

/// The service, the same on every runtime.
pub async fn hello(_request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(BODY))))
}

// ---------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------

/// What the servers here serve: a hyper service of `Request<Incoming>` that never fails,
/// cloned for each connection ([`hello`]'s `service_fn`, `http_figures`' axum service).
pub trait Served:
    hyper::service::Service<
        Request<Incoming>,
        Response = Response<Self::Body>,
        Error = Infallible,
        Future: Send + 'static,
    > + Clone
    + Send
    + 'static
{
    /// The response body.
    type Body: hyper::body::Body<Data = Bytes, Error: Into<Box<dyn std::error::Error + Send + Sync>>>
        + Send
        + 'static;
}

impl<S, B> Served for S
where
    S: hyper::service::Service<
            Request<Incoming>,
            Response = Response<B>,
            Error = Infallible,
            Future: Send + 'static,
        > + Clone
        + Send
        + 'static,
    B: hyper::body::Body<Data = Bytes, Error: Into<Box<dyn std::error::Error + Send + Sync>>>
        + Send
        + 'static,
{
    type Body = B;
}

/// The protocol a server speaks: [`Proto`], chosen per run (`http_figures`), or
/// [`Http1Only`] (`conn_scale`).
pub trait Protocol: Copy + Send + 'static {
    /// The task of one connection, counted by `serving`: hyper's connection over the I/O
    /// that `io` makes, serving `service` (`executor` runs HTTP/2's streams, `timer` arms
    /// hyper's timeouts, HTTP/1.1's 30 s header read among them). It does nothing until
    /// first polled: the I/O, hyper's builder and connection (its buffers) are made in the
    /// task, on the thread that runs it.
    fn serve<S, I, E, T>(
        self,
        serving: Serving,
        io: impl FnOnce() -> I + Send + 'static,
        service: S,
        executor: E,
        timer: T,
    ) -> impl Future<Output = ()> + Send + 'static
    where
        S: Served,
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
        E: Http2ServerConnExec<S::Future, S::Body> + Send + 'static,
        T: hyper::rt::Timer + Send + Sync + 'static;
}

/// The protocol of a figure's server, chosen per run.
#[derive(Clone, Copy, Debug)]
pub enum Proto {
    /// HTTP/1.1, keep-alive.
    Http1,
    /// Cleartext HTTP/2 with prior knowledge (h2load's default for `http://`).
    Http2,
}

impl Protocol for Proto {
    async fn serve<S, I, E, T>(
        self,
        serving: Serving,
        io: impl FnOnce() -> I + Send + 'static,
        service: S,
        executor: E,
        timer: T,
    ) where
        S: Served,
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
        E: Http2ServerConnExec<S::Future, S::Body> + Send + 'static,
        T: hyper::rt::Timer + Send + Sync + 'static,
    {
        let io = io();
        let result = match self {
            Proto::Http1 => {
                http1::Builder::new()
                    .timer(timer)
                    .serve_connection(io, service)
                    .await
            }
            Proto::Http2 => {
                http2::Builder::new(executor)
                    .timer(timer)
                    .serve_connection(io, service)
                    .await
            }
        };
        serving.finished(result);
    }
}

/// HTTP/1.1 alone, known when the server is built. A connection's task then holds
/// hyper's HTTP/1.1 connection only, where one serving a [`Proto`] has room for the larger
/// of the HTTP/1.1 and HTTP/2 ones (and keeps the executor): about 870 bytes more per
/// connection, which would count in `conn_scale`'s memory per connection.
#[derive(Clone, Copy, Debug)]
pub struct Http1Only;

impl Protocol for Http1Only {
    // Not an `async fn`: that would keep `executor` in the task.
    #[allow(clippy::manual_async_fn)]
    fn serve<S, I, E, T>(
        self,
        serving: Serving,
        io: impl FnOnce() -> I + Send + 'static,
        service: S,
        _executor: E,
        timer: T,
    ) -> impl Future<Output = ()> + Send + 'static
    where
        S: Served,
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
        E: Http2ServerConnExec<S::Future, S::Body> + Send + 'static,
        T: hyper::rt::Timer + Send + Sync + 'static,
    {
        async move {
            let result = http1::Builder::new()
                .timer(timer)
                .serve_connection(io(), service)
                .await;
            serving.finished(result);
        }
    }
}

/// Connections the server is serving.
static OPEN: AtomicUsize = AtomicUsize::new(0);
/// Served connections that ended in an error.
static SERVER_ERRORS: AtomicUsize = AtomicUsize::new(0);
/// Whether a connection closed by the client in the middle of a request is fine: wrk and
/// h2load stop that way, with requests in flight (`cut_by_client`); the in-repo clients
/// never do (they close their connections between requests), so with them (`false`, the
/// default) any error is the server's.
pub static CUT_REQUESTS_ARE_FINE: AtomicBool = AtomicBool::new(false);

/// The connections the server is serving now.
pub fn open_connections() -> usize {
    OPEN.load(Ordering::SeqCst)
}

/// Counts a served connection open until it is dropped (at the end of its task); made by
/// the serve functions.
pub struct Serving(());

impl Serving {
    fn new() -> Serving {
        OPEN.fetch_add(1, Ordering::SeqCst);
        Serving(())
    }

    /// Records how `serve_connection` ended.
    fn finished(self, result: Result<(), hyper::Error>) {
        match result {
            Err(e) if CUT_REQUESTS_ARE_FINE.load(Ordering::SeqCst) && cut_by_client(&e) => {}
            Err(e) => {
                SERVER_ERRORS.fetch_add(1, Ordering::SeqCst);
                eprintln!("http server: a connection ended in an error: {e:?}");
            }
            Ok(()) => {}
        }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        OPEN.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Whether `e` is what a client that closes with requests in flight leaves: hyper's
/// `IncompleteMessage` (HTTP/1.1), or a write to the closed socket (HTTP/2 streams still
/// answering when h2load stops).
fn cut_by_client(e: &hyper::Error) -> bool {
    use std::error::Error as _;
    let io_kind = e
        .source()
        .and_then(|source| source.downcast_ref::<io::Error>())
        .map(io::Error::kind);
    e.is_incomplete_message()
        || matches!(
            io_kind,
            Some(io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset)
        )
}

/// Once the load has closed its connections: waits up to `within`, looking every `poll`,
/// for the server to have closed every one of them, then checks that none ended in an
/// error; panics, naming `who`, otherwise.
pub fn check_closed(who: &str, within: Duration, poll: Duration) {
    let deadline = Instant::now() + within;
    while OPEN.load(Ordering::SeqCst) > 0 {
        assert!(
            Instant::now() < deadline,
            "{who}: {} server connection(s) still open {within:?} after the client closed them",
            OPEN.load(Ordering::SeqCst)
        );
        std::thread::sleep(poll);
    }
    let errors = SERVER_ERRORS.load(Ordering::SeqCst);
    assert_eq!(
        errors, 0,
        "{who}: {errors} server connection(s) ended in an error"
    );
}

/// Serves `service` over `proto` on a magpie runtime (`magpie::net`, `HyperIo`,
/// `HyperTimer`, `HyperExecutor`): an accept loop on `127.0.0.1:0`, a task per connection
/// (`TCP_NODELAY` on). Returns what `drive` returns, given the server's address.
pub fn serve_magpie<S: Served>(
    service: S,
    proto: impl Protocol,
    drive: impl FnOnce(SocketAddr) -> Stats,
) -> Stats {
    use magpie::hyper::{HyperExecutor, HyperIo, HyperTimer};
    use magpie::net::TcpListener;

    let rt = magpie_rt();
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    drop(rt.spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.expect("accept");
            stream.set_nodelay(true).expect("set_nodelay");
            let io = move || HyperIo::new(stream);
            let task = proto.serve(
                Serving::new(),
                io,
                service.clone(),
                HyperExecutor,
                HyperTimer,
            );
            drop(magpie::spawn(task));
        }
    }));
    drive(addr)
}

/// [`serve_magpie`] on tokio's multi-thread runtime (`tokio::net`, hyper-util's `TokioIo`,
/// `TokioTimer`, `TokioExecutor`).
pub fn serve_tokio<S: Served>(
    service: S,
    proto: impl Protocol,
    drive: impl FnOnce(SocketAddr) -> Stats,
) -> Stats {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use tokio::net::TcpListener;

    let rt = tokio_rt();
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    drop(rt.spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.expect("accept");
            stream.set_nodelay(true).expect("set_nodelay");
            let io = move || TokioIo::new(stream);
            let task = proto.serve(
                Serving::new(),
                io,
                service.clone(),
                TokioExecutor::new(),
                TokioTimer::new(),
            );
            drop(tokio::spawn(task));
        }
    }));
    drive(addr)
}

/// [`serve_magpie`] on smol (`SmolRuntime`: async-executor driven by as many threads;
/// async-io's `Async<TcpStream>` in magpie's `HyperIo`, a plain futures-io adapter;
/// [`SmolTimer`], [`SmolExecutor`]).
pub fn serve_smol<S: Served>(
    service: S,
    proto: impl Protocol,
    drive: impl FnOnce(SocketAddr) -> Stats,
) -> Stats {
    use async_io::Async;
    use magpie::hyper::HyperIo;

    let rt = smol_rt();
    let listener = Async::<std::net::TcpListener>::bind(([127, 0, 0, 1], 0)).expect("bind");
    let addr = listener.get_ref().local_addr().expect("local_addr");
    let ex = rt.executor().clone();
    rt.spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.expect("accept");
            stream.get_ref().set_nodelay(true).expect("set_nodelay");
            let io = move || HyperIo::new(stream);
            let streams = SmolExecutor(ex.clone());
            let task = proto.serve(Serving::new(), io, service.clone(), streams, SmolTimer);
            ex.spawn(task).detach();
        }
    })
    .detach();
    drive(addr)
}

/// hyper's executor (HTTP/2 runs each stream as a task) on smol's executor.
#[derive(Clone)]
pub struct SmolExecutor(Arc<async_executor::Executor<'static>>);

impl<F> hyper::rt::Executor<F> for SmolExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        self.0.spawn(future).detach();
    }
}

/// hyper's timer on async-io's timers (smol's), reset in place like magpie's and tokio's.
#[derive(Clone, Copy, Debug)]
pub struct SmolTimer;

/// The `hyper::rt::Sleep` of [`SmolTimer`].
struct SmolSleep(async_io::Timer);

impl Future for SmolSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(|_| ())
    }
}

impl hyper::rt::Sleep for SmolSleep {}

impl hyper::rt::Timer for SmolTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(SmolSleep(async_io::Timer::after(duration)))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(SmolSleep(async_io::Timer::at(deadline)))
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<SmolSleep>() {
            Some(mine) => mine.get_mut().0.set_at(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

// ---------------------------------------------------------------------------
// The load clients' pieces
// ---------------------------------------------------------------------------

/// An epoll instance, closed on drop.
pub struct Epoll(OwnedFd);

impl Default for Epoll {
    fn default() -> Epoll {
        Epoll::new()
    }
}

impl Epoll {
    /// A new epoll instance (close-on-exec).
    pub fn new() -> Epoll {
        // SAFETY: epoll_create1 takes no pointers; EPOLL_CLOEXEC is a valid flag.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        assert!(fd >= 0, "epoll_create1: {}", io::Error::last_os_error());
        // SAFETY: `fd` is a fresh descriptor that nothing else owns.
        Epoll(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// Registers `fd` for readability, level-triggered, tagged with `token`.
    pub fn add(&self, fd: i32, token: u64) {
        let mut event = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: token,
        };
        // SAFETY: both descriptors are open and `event` is a valid epoll_event for the
        // duration of the call.
        let rc =
            unsafe { libc::epoll_ctl(self.0.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut event) };
        assert_eq!(rc, 0, "epoll_ctl: {}", io::Error::last_os_error());
    }

    /// Waits up to `timeout_ms` (-1: no limit) for events; returns how many of `events`
    /// were filled.
    pub fn wait(&self, events: &mut [libc::epoll_event], timeout_ms: i32) -> usize {
        loop {
            // SAFETY: `events` is valid, writable memory for `events.len()` entries.
            let n = unsafe {
                libc::epoll_wait(
                    self.0.as_raw_fd(),
                    events.as_mut_ptr(),
                    events.len() as i32,
                    timeout_ms,
                )
            };
            if n >= 0 {
                return n as usize;
            }
            let e = io::Error::last_os_error();
            assert_eq!(e.kind(), io::ErrorKind::Interrupted, "epoll_wait: {e}");
        }
    }
}

/// The CPU time of the calling thread.
pub fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call, and
    // CLOCK_THREAD_CPUTIME_ID is a clock every Linux supports.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime: {}", io::Error::last_os_error());
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Whether `buf` holds one whole, correct response to [`REQUEST`] from [`hello`]; panics,
/// naming `who`, on a wrong one (status not 200, no or a wrong `Content-Length`, a wrong
/// body, bytes after it, `Connection: close`). Returns `false` while more bytes are
/// needed.
pub fn complete_response(buf: &[u8], who: &str) -> bool {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        assert!(buf.len() < 8192, "{who}: response headers over 8 KiB");
        return false;
    };
    let Ok(head) = std::str::from_utf8(&buf[..end]) else {
        panic!("{who}: response headers not UTF-8");
    };
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or("");
    assert!(
        status.starts_with("HTTP/1.1 200 "),
        "{who}: unexpected status line {status:?}"
    );
    let mut length = None;
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("{who}: malformed header line {line:?}"));
        if name.eq_ignore_ascii_case("content-length") {
            let Ok(value) = value.trim().parse::<usize>() else {
                panic!("{who}: bad Content-Length {value:?}");
            };
            length = Some(value);
        } else if name.eq_ignore_ascii_case("connection") {
            assert!(
                !value.trim().eq_ignore_ascii_case("close"),
                "{who}: the server closes the connection"
            );
        }
    }
    let Some(length) = length else {
        panic!("{who}: response without Content-Length");
    };
    assert_eq!(length, BODY.len(), "{who}: wrong Content-Length");
    let body_start = end + 4;
    if buf.len() < body_start + length {
        return false;
    }
    assert_eq!(
        buf.len(),
        body_start + length,
        "{who}: bytes after the response (nothing was pipelined)"
    );
    assert_eq!(&buf[body_start..], BODY, "{who}: wrong body");
    true
}
