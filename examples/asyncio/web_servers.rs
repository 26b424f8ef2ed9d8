//! Section 17, web servers: hyper on magpie (aiohttp's `web.Application`, FastAPI's app under
//! uvicorn, and `aiohttp.ClientSession`).
//!
//! ```python
//! from aiohttp import web
//!
//! async def hello(request):
//!     return web.Response(text="Hello from magpie!")
//!
//! async def echo(request):
//!     try:
//!         data = await request.json()
//!     except ValueError as e:
//!         return web.json_response({"error": f"invalid JSON: {e}"}, status=400)
//!     return web.json_response(data)
//!
//! async def slow(request):
//!     ms = min(int(request.query.get("ms", "1000")), 10_000)
//!     await asyncio.sleep(ms / 1000)
//!     return web.Response(text=f"slept {ms} ms")
//!
//! app = web.Application()
//! app.add_routes([web.get("/", hello), web.post("/echo", echo), web.get("/slow", slow)])
//! web.run_app(app, host="127.0.0.1", port=3000)  # Ctrl-C: a graceful shutdown
//!
//! async with aiohttp.ClientSession() as session:  # a pool of keep-alive connections
//!     async with session.get("http://127.0.0.1:3000/") as response:
//!         print(response.status, await response.text())
//! ```
//!
//! - The handlers and the router are one `async fn` from a request to a response,
//!   [`handle`]: a `match` on the method and the path. hyper calls it through `service_fn`.
//! - `web.run_app` is [`serve`] (or [`Server::serve`] with a [`ServerConfig`]): an accept
//!   loop that hands each connection, as a magpie task, to hyper-util's `auto::Builder`,
//!   which speaks HTTP/1.1 and HTTP/2 on one port (it tells them apart by the first bytes).
//!   The feature `hyper` of magpie gives hyper what it needs from a runtime: `HyperIo` (the
//!   socket), `HyperExecutor` (HTTP/2's streams become magpie tasks) and `HyperTimer` (the
//!   header-read timeout, HTTP/2 keep-alive pings).
//! - The graceful shutdown `run_app` does on Ctrl-C: stop accepting, ask every connection to
//!   finish (`graceful_shutdown`: HTTP/1 closes after the response in progress, HTTP/2 sends
//!   GOAWAY), wait for the requests in flight, with an upper bound
//!   ([`ServerConfig::shutdown_grace`]). A `watch` channel tells the connections.
//! - `aiohttp.ClientSession` is hyper-util's legacy `Client` on `HyperConnector` ([`client`]):
//!   a pool of keep-alive connections, HTTP/1.1 or HTTP/2.
//!
//! `examples/http_server.rs` and `examples/http_client.rs` are the server and the client on
//! their own; `examples/tests/http.rs` tests them (HTTP/1 and HTTP/2, a raw `std` socket, a
//! slow client, HTTP/2 keep-alive, the graceful shutdown).

use crate::{header, ms, say, secs};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode, Version};
use hyper_util::client::legacy::Client;
use hyper_util::server::conn::auto;
use magpie::hyper::{HyperConnector, HyperExecutor, HyperIo, HyperTimer};
use magpie::net::{TcpListener, TcpStream};
use magpie::sync::{oneshot, watch};
use magpie::task::JoinSet;
use magpie::time;
use std::convert::Infallible;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The error type of the client helpers: anything, with its source chain.
pub type BoxError = Box<dyn Error + Send + Sync>;

/// The longest `/slow` sleeps; a longer `ms` is capped to it.
pub const MAX_SLOW: Duration = Duration::from_secs(10);

/// `/slow`'s sleep when the request names none.
pub const DEFAULT_SLOW: Duration = Duration::from_secs(1);

/// The largest body `/echo` reads (larger: 413 Payload Too Large).
pub const MAX_ECHO_BODY: usize = 1 << 20;

// ---------------------------------------------------------------------------------------
// The application: routes and handlers.
// ---------------------------------------------------------------------------------------

/// The application: routes a request to its handler and answers it.
///
/// | route | answer |
/// |---|---|
/// | `GET /` | 200, `Hello from magpie!` |
/// | `POST /echo` | the JSON body, parsed and written back (`application/json`); 400 with `{"error": "invalid JSON: ..."}` when it is not JSON, 413 over [`MAX_ECHO_BODY`] |
/// | `GET /slow?ms=N` | sleeps N ms on magpie's timer (at most [`MAX_SLOW`], [`DEFAULT_SLOW`] without `ms`), then 200 `slept N ms`; 400 when N is not a whole number |
/// | another method on those paths | 405, with `Allow` |
/// | anything else | 404 |
///
/// Generic over the request body, so that it can be called directly (a test, another
/// server); hyper gives it [`Incoming`]. It never fails: every problem is a response.
pub async fn handle<B>(req: Request<B>) -> Result<Response<Full<Bytes>>, Infallible>
where
    B: hyper::body::Body,
    B::Error: Into<BoxError>,
{
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let response = match (method, path.as_str()) {
        (Method::GET, "/") => text(StatusCode::OK, "Hello from magpie!\n"),
        (Method::POST, "/echo") => echo(req.into_body()).await,
        (Method::GET, "/slow") => slow(req.uri().query()).await,
        (_, "/" | "/slow") => not_allowed("GET"),
        (_, "/echo") => not_allowed("POST"),
        (method, path) => text(
            StatusCode::NOT_FOUND,
            format!("no route for {method} {path}\n"),
        ),
    };
    Ok(response)
}

/// `POST /echo`: the body parsed as JSON and written back.
async fn echo<B>(body: B) -> Response<Full<Bytes>>
where
    B: hyper::body::Body,
    B::Error: Into<BoxError>,
{
    let bytes = match Limited::new(body, MAX_ECHO_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => {
            return json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is larger than {MAX_ECHO_BODY} bytes"),
            )
        }
        Err(e) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                format!("could not read the body: {e}"),
            )
        }
    };
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(value) => json(StatusCode::OK, &value),
        Err(e) => json_error(StatusCode::BAD_REQUEST, format!("invalid JSON: {e}")),
    }
}

/// `GET /slow?ms=N`: sleeps, then answers.
async fn slow(query: Option<&str>) -> Response<Full<Bytes>> {
    let asked = match slow_duration(query) {
        Ok(asked) => asked,
        Err(message) => return text(StatusCode::BAD_REQUEST, message),
    };
    let slept = asked.min(MAX_SLOW);
    time::sleep(slept).await; // asyncio.sleep: the worker serves other requests meanwhile
    let capped = if asked > slept {
        format!(" (capped: {} ms asked)", asked.as_millis())
    } else {
        String::new()
    };
    text(
        StatusCode::OK,
        format!("slept {} ms{capped}\n", slept.as_millis()),
    )
}

/// The `ms` of a `/slow` query: [`DEFAULT_SLOW`] when absent, an error message when it is
/// not a whole number of milliseconds.
fn slow_duration(query: Option<&str>) -> Result<Duration, String> {
    let ms = query
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix("ms="));
    match ms {
        None => Ok(DEFAULT_SLOW),
        Some(ms) => ms.parse::<u64>().map(Duration::from_millis).map_err(|_| {
            format!(
                "bad ms: expected /slow?ms=N with N a whole number of milliseconds, got {ms:?}\n"
            )
        }),
    }
}

/// A `text/plain` response.
pub fn text(status: StatusCode, body: impl Into<String>) -> Response<Full<Bytes>> {
    respond(status, "text/plain; charset=utf-8", body.into().into())
}

/// An `application/json` response holding `value`.
pub fn json(status: StatusCode, value: &serde_json::Value) -> Response<Full<Bytes>> {
    // Serializing a `Value` cannot fail.
    let body = serde_json::to_vec(value).unwrap_or_default();
    respond(status, "application/json", body.into())
}

/// `{"error": message}`.
fn json_error(status: StatusCode, message: String) -> Response<Full<Bytes>> {
    json(status, &serde_json::json!({ "error": message }))
}

/// 405 Method Not Allowed, saying which method the path takes.
fn not_allowed(allow: &'static str) -> Response<Full<Bytes>> {
    let mut response = text(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("use {allow} for this path\n"),
    );
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    response
}

fn respond(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

// ---------------------------------------------------------------------------------------
// The server: accept loop, connections, graceful shutdown.
// ---------------------------------------------------------------------------------------

/// How [`Server`] serves.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// How long a client may take to send its first bytes, and then each request's headers
    /// (HTTP/1): a slow or silent client is disconnected after it. Also how long an idle
    /// keep-alive HTTP/1 connection stays open. Default 5 s.
    pub header_read_timeout: Duration,
    /// HTTP/2: ping the client this often, to find dead connections (`None`: never).
    /// Default 20 s.
    pub http2_keep_alive_interval: Option<Duration>,
    /// HTTP/2: close the connection when a ping's answer takes longer than this. Default 10 s.
    pub http2_keep_alive_timeout: Duration,
    /// On shutdown, how long to wait for the requests in flight before cutting their
    /// connections. Default 10 s.
    pub shutdown_grace: Duration,
    /// Print a line per request (method, path, status, time taken), and one per connection
    /// that ends in an error (a client that left mid-request, a header-read timeout).
    /// Default off.
    pub log: bool,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            header_read_timeout: Duration::from_secs(5),
            http2_keep_alive_interval: Some(Duration::from_secs(20)),
            http2_keep_alive_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
            log: false,
        }
    }
}

/// What a server did, from [`Server::serve`] once it has stopped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServeStats {
    /// Connections accepted.
    pub connections: u64,
    /// Requests handed to [`handle`].
    pub requests: u64,
    /// Connections still busy when the shutdown's grace ran out, closed mid-request.
    pub cut_off: usize,
}

/// The server's counters, shared with its connections and with [`Live`] handles.
struct Counters {
    connections: AtomicU64,
    requests: AtomicU64,
    /// Requests being handled right now (a watch channel, so that one can wait for a value).
    in_flight: watch::Sender<usize>,
}

/// A view of a running server: its counters now, and a way to wait for requests in flight.
#[derive(Clone)]
pub struct Live {
    counters: Arc<Counters>,
}

impl fmt::Debug for Live {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Live")
            .field("connections", &self.connections())
            .field("requests", &self.requests())
            .field("in_flight", &self.in_flight())
            .finish()
    }
}

impl Live {
    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.counters.connections.load(Ordering::Relaxed)
    }

    /// Requests handed to [`handle`] so far.
    pub fn requests(&self) -> u64 {
        self.counters.requests.load(Ordering::Relaxed)
    }

    /// Requests being handled right now.
    pub fn in_flight(&self) -> usize {
        *self.counters.in_flight.borrow()
    }

    /// Waits until at least `n` requests are being handled at once.
    pub async fn until_in_flight(&self, n: usize) {
        let mut in_flight = self.counters.in_flight.subscribe();
        // Err only if the sender were gone; `self` holds it.
        let _ = in_flight.wait_for(|now| *now >= n).await;
    }
}

/// Counts a request in flight for as long as it lives (also when hyper drops the handler
/// midway, as it does when the connection is cut).
struct InFlight(Arc<Counters>);

impl InFlight {
    fn begin(counters: &Arc<Counters>) -> InFlight {
        counters.requests.fetch_add(1, Ordering::Relaxed);
        counters.in_flight.send_modify(|n| *n += 1);
        InFlight(counters.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.send_modify(|n| *n -= 1);
    }
}

/// An HTTP/1.1 and HTTP/2 server of [`handle`] on magpie.
///
/// ```ignore
/// let server = Server::new(ServerConfig::default());
/// let live = server.live(); // counters while it runs
/// let stats = server.serve(listener, magpie::signal::ctrl_c()).await?;
/// ```
pub struct Server {
    config: ServerConfig,
    counters: Arc<Counters>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// A server that will serve with `config`.
    pub fn new(config: ServerConfig) -> Server {
        Server {
            config,
            counters: Arc::new(Counters {
                connections: AtomicU64::new(0),
                requests: AtomicU64::new(0),
                in_flight: watch::Sender::new(0),
            }),
        }
    }

    /// A handle on the server's counters, usable while [`serve`](Server::serve) runs.
    pub fn live(&self) -> Live {
        Live {
            counters: self.counters.clone(),
        }
    }

    /// Serves the connections `listener` accepts until `shutdown` completes, then shuts
    /// down gracefully: stops accepting (new connections are refused), asks every
    /// connection to finish, waits for the requests in flight (at most
    /// [`ServerConfig::shutdown_grace`], then cuts the connections still busy), and returns
    /// what it did.
    ///
    /// # Errors
    ///
    /// When accepting fails for good (the listener is broken), after the same graceful
    /// shutdown. Errors that pass (a client that gave up while queued, descriptors
    /// exhausted for a while) are printed and the loop goes on.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future,
    ) -> io::Result<ServeStats> {
        self.serve_with(listener, shutdown, handle).await
    }

    /// [`serve`](Server::serve), with `app` answering the requests instead of [`handle`]:
    /// another application on the same server (`examples/service.rs`, and an axum `Router`
    /// in `examples/axum.rs`). `app` is called once per request; it never fails (every
    /// problem is a response), and its response body may be any hyper body of `Bytes`.
    ///
    /// # Errors
    ///
    /// See [`serve`](Server::serve).
    pub async fn serve_with<A, F, B>(
        self,
        listener: TcpListener,
        shutdown: impl Future,
        app: A,
    ) -> io::Result<ServeStats>
    where
        A: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
        F: Future<Output = Result<Response<B>, Infallible>> + Send + 'static,
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn Error + Send + Sync>>,
    {
        let Server { config, counters } = self;
        let builder = Arc::new(http_builder(&config));
        let (stop, stop_rx) = watch::channel(false);
        let mut connections = JoinSet::new();
        let mut shutdown = pin!(shutdown);
        let mut failure = None;
        loop {
            magpie::select! {
                biased;
                _ = shutdown.as_mut() => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _peer)) => {
                        counters.connections.fetch_add(1, Ordering::Relaxed);
                        connections.spawn(serve_connection(
                            stream,
                            app.clone(),
                            builder.clone(),
                            counters.clone(),
                            stop_rx.clone(),
                            config.clone(),
                        ));
                    }
                    Err(e) => match e.kind() {
                        // A client that gave up while queued: the next one.
                        io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::ConnectionReset
                        | io::ErrorKind::Interrupted => {}
                        // EINVAL: the socket is not listening; nothing will change that.
                        io::ErrorKind::InvalidInput => {
                            failure = Some(e);
                            break;
                        }
                        // Out of descriptors or memory, for now: back off, go on.
                        _ => {
                            eprintln!("http: accept failed: {e}; retrying in 100 ms");
                            time::sleep(Duration::from_millis(100)).await;
                        }
                    },
                },
                // Reap the connections that ended, so that the set holds only live ones.
                Some(ended) = connections.join_next(), if !connections.is_empty() => {
                    if let Err(e) = ended {
                        eprintln!("http: a connection task failed: {e}");
                    }
                }
            }
        }

        // The graceful shutdown. 1. No new connections: the port is closed.
        drop(listener);
        // 2. Every connection: finish what you are doing, then close.
        let _ = stop.send(true);
        // 3. Wait for them, within the grace period.
        let mut cut_off = 0;
        let mut grace = pin!(time::sleep(config.shutdown_grace));
        while !connections.is_empty() {
            magpie::select! {
                biased;
                _ = connections.join_next() => {}
                _ = grace.as_mut() => {
                    cut_off = connections.len();
                    connections.shutdown().await; // aborts them: their sockets close
                }
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(ServeStats {
                connections: counters.connections.load(Ordering::Relaxed),
                requests: counters.requests.load(Ordering::Relaxed),
                cut_off,
            }),
        }
    }
}

/// Serves [`handle`] on `listener` with the default [`ServerConfig`] until `shutdown`
/// completes, then shuts down gracefully (see [`Server::serve`]).
///
/// # Errors
///
/// See [`Server::serve`].
pub async fn serve(listener: TcpListener, shutdown: impl Future) -> io::Result<ServeStats> {
    Server::new(ServerConfig::default())
        .serve(listener, shutdown)
        .await
}

/// hyper-util's HTTP/1.1-and-HTTP/2 connection builder, on magpie.
fn http_builder(config: &ServerConfig) -> auto::Builder<HyperExecutor> {
    // HTTP/2 streams are spawned as magpie tasks.
    let mut builder = auto::Builder::new(HyperExecutor);
    builder
        .http1()
        .timer(HyperTimer) // hyper's timeouts need a timer: magpie's
        .header_read_timeout(config.header_read_timeout);
    builder
        .http2()
        .timer(HyperTimer)
        .keep_alive_interval(config.http2_keep_alive_interval)
        .keep_alive_timeout(config.http2_keep_alive_timeout);
    builder
}

/// Completes once the server says stop (or is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// One connection, from its first byte to its close.
async fn serve_connection<A, F, B>(
    stream: TcpStream,
    app: A,
    builder: Arc<auto::Builder<HyperExecutor>>,
    counters: Arc<Counters>,
    mut stop: watch::Receiver<bool>,
    config: ServerConfig,
) where
    A: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Response<B>, Infallible>> + Send + 'static,
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn Error + Send + Sync>>,
{
    // hyper-util reads the first bytes (HTTP/2's preface, or not?) before hyper's own
    // header-read timeout starts: bound that wait too, or a client that connects and sends
    // nothing would hold the connection forever.
    let has_bytes = magpie::select! {
        biased;
        _ = stopped(&mut stop) => false, // accepted as the server stopped: close it
        ready = time::timeout(config.header_read_timeout, stream.readable()) => {
            matches!(ready, Ok(Ok(())))
        }
    };
    if !has_bytes {
        return; // dropping the stream closes it
    }
    let _ = stream.set_nodelay(true); // responses are small writes that should leave at once
    let log = config.log;
    let service = service_fn(move |req: Request<Incoming>| {
        let in_flight = InFlight::begin(&counters);
        let app = app.clone();
        async move {
            let start = time::now();
            let line = log.then(|| format!("{} {}", req.method(), req.uri()));
            let response = app(req).await;
            if let (Some(line), Ok(response)) = (line, &response) {
                say!(
                    "{line} -> {} in {}",
                    response.status(),
                    ms(time::now() - start)
                );
            }
            drop(in_flight);
            response
        }
    });
    let mut connection = pin!(builder.serve_connection(HyperIo::new(stream), service));
    let served = magpie::select! {
        served = connection.as_mut() => served,
        _ = stopped(&mut stop) => {
            // HTTP/1: close after the response in progress; HTTP/2: GOAWAY, then finish the
            // streams in flight.
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    // A client that left mid-request (hyper then drops its handler, as aiohttp cancels
    // it), a header-read timeout, a protocol error: this connection's business, not the
    // server's.
    if let (Err(e), true) = (served, log) {
        say!("connection closed: {e}");
    }
}

// ---------------------------------------------------------------------------------------
// The client: hyper-util's legacy Client (aiohttp.ClientSession) on magpie.
// ---------------------------------------------------------------------------------------

/// hyper-util's pooling client, on magpie: connects with [`HyperConnector`], runs its
/// connections as magpie tasks, times its pool with magpie's timer.
pub type HttpClient = Client<HyperConnector, Full<Bytes>>;

/// A pooling client ([`HttpClient`]) speaking HTTP/1.1 (HTTP/2 with
/// [`client_http2`]).
pub fn client() -> HttpClient {
    Client::builder(HyperExecutor)
        .timer(HyperTimer)
        .pool_timer(HyperTimer)
        .build(HyperConnector::new())
}

/// A pooling client that speaks HTTP/2 with prior knowledge (`h2c`): one connection per
/// server, every request a stream on it.
pub fn client_http2() -> HttpClient {
    Client::builder(HyperExecutor)
        .timer(HyperTimer)
        .pool_timer(HyperTimer)
        .http2_only(true)
        .build(HyperConnector::new())
}

/// A response, read whole.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// The HTTP version it came over.
    pub version: Version,
    /// Its `content-type`, if any (and readable).
    pub content_type: Option<String>,
    /// Its body, as text (invalid UTF-8 replaced).
    pub body: String,
}

/// Sends `request` and reads the whole response.
///
/// # Errors
///
/// When connecting, sending or reading fails.
pub async fn fetch(client: &HttpClient, request: Request<Full<Bytes>>) -> Result<Reply, BoxError> {
    let response = client.request(request).await?;
    let status = response.status();
    let version = response.version();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.into_body().collect().await?.to_bytes();
    Ok(Reply {
        status,
        version,
        content_type,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// `GET url`.
///
/// # Errors
///
/// When `url` is not a URI, or as [`fetch`].
pub async fn get(client: &HttpClient, url: &str) -> Result<Reply, BoxError> {
    let request = Request::get(url).body(Full::default())?;
    fetch(client, request).await
}

/// `POST url` with a JSON body.
///
/// # Errors
///
/// When `url` is not a URI, or as [`fetch`].
pub async fn post_json(client: &HttpClient, url: &str, json: &str) -> Result<Reply, BoxError> {
    let request = Request::post(url)
        .header(CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::copy_from_slice(json.as_bytes())))?;
    fetch(client, request).await
}

/// An error and its sources, `a: b: c`; "connection refused" when that is what it comes to.
pub fn describe(error: &(dyn Error + 'static)) -> String {
    let mut chain = vec![error.to_string()];
    let mut source = error.source();
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            if io.kind() == io::ErrorKind::ConnectionRefused {
                return "connection refused".to_owned();
            }
        }
        chain.push(e.to_string());
        source = e.source();
    }
    chain.join(": ")
}

// ---------------------------------------------------------------------------------------
// The section.
// ---------------------------------------------------------------------------------------

/// The section.
pub async fn main() {
    header("17. Web servers: hyper on magpie (aiohttp, FastAPI)");
    if let Err(e) = tour().await {
        say!("the web server tour failed: {}", describe(&*e));
    }
}

/// A server and its clients, in this one process.
async fn tour() -> Result<(), BoxError> {
    // web.run_app(app, host="127.0.0.1", port=0), as a task; Ctrl-C is a oneshot here.
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let config = ServerConfig::default();
    say!(
        "Serving on {base} (HTTP/1.1 and HTTP/2 on one port; header-read timeout {} s)",
        config.header_read_timeout.as_secs()
    );
    let server = Server::new(config);
    let live = server.live();
    let (stop, stop_rx) = oneshot::channel::<()>();
    let serving = magpie::spawn(server.serve(listener, stop_rx));

    // async with aiohttp.ClientSession() as session:
    let client = client();
    let reply = get(&client, &format!("{base}/")).await?;
    say!(
        "GET /                 -> {} {}",
        reply.status,
        reply.body.trim_end()
    );
    let sent = r#"{"greeting": "hello", "n": [1, 2, 3]}"#;
    let reply = post_json(&client, &format!("{base}/echo"), sent).await?;
    say!(
        "POST /echo (JSON)     -> {} {}: {}",
        reply.status,
        reply.content_type.as_deref().unwrap_or("?"),
        reply.body
    );
    let reply = post_json(&client, &format!("{base}/echo"), "{greeting: hello}").await?;
    say!("POST /echo (not JSON) -> {} {}", reply.status, reply.body);
    let reply = get(&client, &format!("{base}/nowhere")).await?;
    say!(
        "GET /nowhere          -> {} {}",
        reply.status,
        reply.body.trim_end()
    );
    // The same port speaks HTTP/2 to a client that starts with HTTP/2's preface.
    let reply = get(&client_http2(), &format!("{base}/")).await?;
    say!(
        "{:<21} -> {} {}",
        format!("GET / ({:?})", reply.version),
        reply.status,
        reply.body.trim_end()
    );

    // Concurrency: while one request sleeps, the server serves the others (as aiohttp's
    // handlers await asyncio.sleep). Five 1-second requests at once take about 1 second.
    let slow_ms = secs(1).as_millis();
    let slow_url = format!("{base}/slow?ms={slow_ms}");
    let start = time::now();
    let replies = magpie::join_all((0..5).map(|_| get(&client, &slow_url))).await;
    let took = time::now() - start;
    let ok = replies
        .iter()
        .filter(|r| matches!(r, Ok(r) if r.status == StatusCode::OK))
        .count();
    say!(
        "5 x GET /slow?ms={slow_ms} at once -> {ok} x 200 OK in {} (in turn: {} ms): they overlap",
        ms(took),
        5 * slow_ms
    );

    // The graceful shutdown, while a request is in flight.
    let in_flight = magpie::spawn({
        let (client, slow_url) = (client.clone(), slow_url.clone());
        async move { get(&client, &slow_url).await }
    });
    live.until_in_flight(1).await;
    say!(
        "shutdown (run_app's Ctrl-C) while GET /slow?ms={slow_ms} is being served: stop \
         accepting, finish it"
    );
    let start = time::now();
    let _ = stop.send(());
    let stats = serving.await??;
    say!(
        "serve() returned after {}: {} requests served, {} connections cut off",
        ms(time::now() - start),
        stats.requests,
        stats.cut_off
    );
    let reply = in_flight.await??;
    say!(
        "the request in flight completed: {} {}",
        reply.status,
        reply.body.trim_end()
    );
    // A new client (the old one's pool may hold a connection the server has just closed).
    match get(&self::client(), &format!("{base}/")).await {
        Ok(reply) => say!(
            "GET / after the shutdown -> {} (still served?)",
            reply.status
        ),
        Err(e) => say!("GET / after the shutdown -> {}", describe(&*e)),
    }
    Ok(())
}
