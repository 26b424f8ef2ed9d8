//! hyper on magpie, both sides: the web servers section's server (`Server`, `handle`) against
//! hyper's own client connections, hyper-util's pooling client, and plain `std` sockets that
//! write raw HTTP/1.1 or HTTP/2 bytes (and stall, to hit the server's timeouts).
//!
//! Every test runs under a watchdog (`run`: 20 s) and every blocking `std` socket has a read
//! timeout, so that a bug fails a test instead of hanging the run. No assertion depends on
//! how fast this machine is: timeouts are checked as lower bounds (never early) and, with a
//! generous slack, upper bounds (they do fire).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE, HOST};
use hyper::{Request, Response, StatusCode, Version};
use magpie::hyper::{HyperExecutor, HyperIo};
use magpie::net::{TcpListener, TcpStream};
use magpie::sync::oneshot;
use magpie::task::JoinHandle;
use magpie::time;
use magpie_examples::web_servers::{
    self, handle, Live, ServeStats, Server, ServerConfig, DEFAULT_SLOW, MAX_ECHO_BODY, MAX_SLOW,
};
use serde_json::json;
use std::future::Future;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// How long any one test may take before it counts as hung.
const WATCHDOG: Duration = Duration::from_secs(20);
/// The read timeout of the blocking `std` clients: far longer than anything they wait for.
const STD_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs `test` on a fresh two-worker runtime, failing it if it takes longer than [`WATCHDOG`].
fn run<F: Future<Output = ()>>(test: impl FnOnce() -> F) {
    let runtime = magpie::Builder::new()
        .worker_threads(2)
        .build()
        .expect("failed to start a runtime");
    runtime.block_on(async {
        time::timeout(WATCHDOG, test())
            .await
            .expect("watchdog: the test took longer than 20 s (hung?)")
    });
}

/// Runs `f` on magpie's blocking pool (a `std` client), and re-raises its panic here.
async fn blocking<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    match magpie::task::spawn_blocking(f).await {
        Ok(value) => value,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("the blocking client did not finish: {e}"),
    }
}

/// A server running as a task, on a free port of 127.0.0.1.
struct Running {
    addr: SocketAddr,
    base: String,
    live: Live,
    stop: oneshot::Sender<()>,
    serving: JoinHandle<io::Result<ServeStats>>,
}

impl Running {
    async fn start(config: ServerConfig) -> Running {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local_addr");
        let server = Server::new(config);
        let live = server.live();
        let (stop, stop_rx) = oneshot::channel::<()>();
        let serving = magpie::spawn(server.serve(listener, stop_rx));
        Running {
            addr,
            base: format!("http://{addr}"),
            live,
            stop,
            serving,
        }
    }

    /// Signals the shutdown and waits for `serve` to return.
    async fn stop(self) -> ServeStats {
        let _ = self.stop.send(());
        self.serving
            .await
            .expect("the server task panicked")
            .expect("serve failed")
    }
}

fn header<B>(response: &Response<B>, name: hyper::header::HeaderName) -> Option<&str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

async fn body_of(response: Response<hyper::body::Incoming>) -> Bytes {
    response
        .into_body()
        .collect()
        .await
        .expect("reading the body")
        .to_bytes()
}

fn json_request(uri: &str, value: &serde_json::Value) -> Request<Full<Bytes>> {
    Request::post(uri)
        .header(CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(value.to_string())))
        .unwrap()
}

// ---------------------------------------------------------------------------------------
// (a) HTTP/1.1: hyper's client connection, on magpie, to the server on magpie.
// ---------------------------------------------------------------------------------------

#[test]
fn http1_round_trips_with_hyper_client_connection() {
    run(|| async {
        let server = Running::start(ServerConfig::default()).await;
        let host = server.addr.to_string();
        let tcp = TcpStream::connect(server.addr).await.unwrap();
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake::<_, Full<Bytes>>(HyperIo::new(tcp))
                .await
                .expect("HTTP/1 handshake");
        let driver = magpie::spawn(connection);

        let hello = Request::get("/")
            .header(HOST, &host)
            .body(Full::default())
            .unwrap();
        let response = sender.send_request(hello).await.expect("GET /");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.version(), Version::HTTP_11);
        assert_eq!(
            header(&response, CONTENT_TYPE),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(header(&response, CONTENT_LENGTH), Some("19"));
        assert_eq!(&body_of(response).await[..], b"Hello from magpie!\n");

        // The JSON echo, on the same (kept-alive) connection.
        sender.ready().await.expect("the connection stays open");
        let sent =
            json!({"name": "magpie", "tags": ["async", "rust"], "n": 3, "nested": {"ok": true}});
        let mut echo = json_request("/echo", &sent);
        echo.headers_mut().insert(HOST, host.parse().unwrap());
        let response = sender.send_request(echo).await.expect("POST /echo");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, CONTENT_TYPE), Some("application/json"));
        let echoed: serde_json::Value = serde_json::from_slice(&body_of(response).await).unwrap();
        assert_eq!(echoed, sent);

        // Dropping the sender closes the connection; its driver ends cleanly.
        drop(sender);
        driver
            .await
            .expect("the connection task panicked")
            .expect("the connection failed");
        let stats = server.stop().await;
        assert_eq!(
            (stats.connections, stats.requests, stats.cut_off),
            (1, 2, 0)
        );
    });
}

// ---------------------------------------------------------------------------------------
// (b) HTTP/2 (prior knowledge): streams at once on one connection.
// ---------------------------------------------------------------------------------------

#[test]
fn http2_concurrent_streams_on_one_connection() {
    run(|| async {
        let server = Running::start(ServerConfig::default()).await;
        let tcp = TcpStream::connect(server.addr).await.unwrap();
        // The auto server tells HTTP/2 from HTTP/1 by the preface hyper's client sends.
        let (sender, connection) = hyper::client::conn::http2::handshake::<_, _, Full<Bytes>>(
            HyperExecutor,
            HyperIo::new(tcp),
        )
        .await
        .expect("HTTP/2 handshake");
        let driver = magpie::spawn(connection);
        let base = server.base.clone();

        // Four slow requests and four echoes, as streams of the one connection.
        let mut tasks = Vec::new();
        for i in 0..8 {
            let mut sender = sender.clone();
            let base = base.clone();
            tasks.push(magpie::spawn(async move {
                let request = if i < 4 {
                    Request::get(format!("{base}/slow?ms=1500"))
                        .body(Full::default())
                        .unwrap()
                } else {
                    json_request(&format!("{base}/echo"), &json!({ "stream": i }))
                };
                let response = sender.send_request(request).await.expect("a stream");
                let version = response.version();
                let status = response.status();
                (i, version, status, body_of(response).await)
            }));
        }
        // The four slow ones are served at the same time: multiplexed, not queued.
        server.live.until_in_flight(4).await;

        for task in tasks {
            let (i, version, status, body) = task.await.expect("a request task panicked");
            assert_eq!(version, Version::HTTP_2, "stream {i}");
            assert_eq!(status, StatusCode::OK, "stream {i}");
            if i < 4 {
                assert_eq!(&body[..], b"slept 1500 ms\n", "stream {i}");
            } else {
                let echoed: serde_json::Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(echoed, json!({ "stream": i }));
            }
        }
        drop(sender);
        let _ = driver.await.expect("the connection task panicked");
        let stats = server.stop().await;
        assert_eq!(stats.connections, 1, "{stats:?}");
        assert_eq!(stats.requests, 8, "{stats:?}");
    });
}

// ---------------------------------------------------------------------------------------
// (c) hyper-util's pooling client on HyperConnector: connections are reused.
// ---------------------------------------------------------------------------------------

#[test]
fn legacy_client_pools_connections() {
    run(|| async {
        let server = Running::start(ServerConfig::default()).await;
        let client = web_servers::client();
        let (rounds, per_round) = (4, 10);
        for round in 0..rounds {
            let replies = magpie::join_all((0..per_round).map(|i| {
                let client = &client;
                let base = &server.base;
                async move {
                    if i % 2 == 0 {
                        web_servers::get(client, &format!("{base}/")).await
                    } else {
                        let sent = format!(r#"{{"round": {round}, "i": {i}}}"#);
                        web_servers::post_json(client, &format!("{base}/echo"), &sent).await
                    }
                }
            }))
            .await;
            for (i, reply) in replies.into_iter().enumerate() {
                let reply = reply.expect("a pooled request failed");
                assert_eq!(reply.status, StatusCode::OK);
                assert_eq!(reply.version, Version::HTTP_11);
                if i % 2 == 0 {
                    assert_eq!(reply.body, "Hello from magpie!\n");
                } else {
                    let echoed: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
                    assert_eq!(echoed, json!({"round": round, "i": i}));
                }
            }
        }
        let stats = server.stop().await;
        let requests = rounds * per_round;
        assert_eq!(stats.requests, requests as u64);
        // The rounds after the first reuse the pool's idle connections.
        assert!(
            stats.connections < requests as u64,
            "no connection was reused: {stats:?}"
        );
    });
}

#[test]
fn legacy_client_over_http2_multiplexes_one_connection() {
    run(|| async {
        let server = Running::start(ServerConfig::default()).await;
        let client = web_servers::client_http2();
        let url = format!("{}/slow?ms=200", server.base);
        let replies = magpie::join_all((0..20).map(|_| web_servers::get(&client, &url))).await;
        for reply in replies {
            let reply = reply.expect("an HTTP/2 request failed");
            assert_eq!(reply.status, StatusCode::OK);
            assert_eq!(reply.version, Version::HTTP_2);
            assert_eq!(reply.body, "slept 200 ms\n");
        }
        drop(client);
        let stats = server.stop().await;
        assert_eq!(stats.requests, 20);
        // HTTP/2: the pool makes one connection per host and multiplexes on it.
        assert_eq!(stats.connections, 1, "{stats:?}");
    });
}

// ---------------------------------------------------------------------------------------
// (d) A plain std TcpStream on a std thread, writing raw HTTP/1.1.
// ---------------------------------------------------------------------------------------

/// A response read off a raw socket.
#[derive(Debug)]
struct RawResponse {
    status_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one response (status line, headers, a `content-length` body).
fn read_response(reader: &mut impl BufRead) -> io::Result<RawResponse> {
    let mut status_line = String::new();
    if reader.read_line(&mut status_line)? == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').expect("a header line has a colon");
        headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
    }
    let mut response = RawResponse {
        status_line: status_line.trim_end().to_owned(),
        headers,
        body: Vec::new(),
    };
    let length: usize = response
        .header("content-length")
        .expect("a content-length")
        .parse()
        .unwrap();
    response.body = vec![0; length];
    reader.read_exact(&mut response.body)?;
    Ok(response)
}

/// Connects a blocking socket, with a read timeout so that nothing waits forever.
fn std_connect(addr: SocketAddr) -> std::net::TcpStream {
    let stream = std::net::TcpStream::connect(addr).expect("std connect");
    stream.set_read_timeout(Some(STD_READ_TIMEOUT)).unwrap();
    stream
}

/// Reads until the peer closes: what it sent, and how the reading ended (`Ok`: EOF).
fn read_until_closed(stream: &mut std::net::TcpStream) -> (Vec<u8>, io::Result<()>) {
    let mut got = Vec::new();
    let mut buf = [0; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return (got, Ok(())),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (got, Err(e)),
        }
    }
}

/// Asserts that the reading ended because the server closed the connection (EOF or a
/// reset), not because our read timeout ran out.
#[track_caller]
fn assert_closed_by_server(ended: &io::Result<()>) {
    if let Err(e) = ended {
        assert!(
            !matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ),
            "the server never closed the connection (our read timed out): {e}"
        );
    }
}

#[test]
fn raw_std_socket_keep_alive_and_pipelining() {
    run(|| async {
        let server = Running::start(ServerConfig::default()).await;
        let addr = server.addr;
        blocking(move || {
            let mut writer = std_connect(addr);
            let mut reader = BufReader::new(writer.try_clone().unwrap());

            writer
                .write_all(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
                .unwrap();
            let hello = read_response(&mut reader).expect("the first response");
            assert_eq!(hello.status_line, "HTTP/1.1 200 OK");
            assert_eq!(
                hello.header("content-type"),
                Some("text/plain; charset=utf-8")
            );
            assert_eq!(hello.body, b"Hello from magpie!\n");

            // Keep-alive: a second request on the same socket.
            let body = br#"{"keep": "alive", "n": [1, 2]}"#;
            write!(
                writer,
                "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\n\r\n",
                body.len()
            )
            .unwrap();
            writer.write_all(body).unwrap();
            let echo = read_response(&mut reader).expect("the second response");
            assert_eq!(echo.status_line, "HTTP/1.1 200 OK");
            assert_eq!(echo.header("content-type"), Some("application/json"));
            assert_eq!(echo.body, br#"{"keep":"alive","n":[1,2]}"#);

            // Pipelining: two requests written at once, answered in order; the second asks
            // the server to close.
            writer
                .write_all(
                    b"GET /nowhere HTTP/1.1\r\nHost: test\r\n\r\n\
                      GET /slow?ms=10 HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
                )
                .unwrap();
            let missing = read_response(&mut reader).expect("the third response");
            assert_eq!(missing.status_line, "HTTP/1.1 404 Not Found");
            assert_eq!(missing.body, b"no route for GET /nowhere\n");
            let slow = read_response(&mut reader).expect("the fourth response");
            assert_eq!(slow.status_line, "HTTP/1.1 200 OK");
            assert_eq!(slow.body, b"slept 10 ms\n");
            let mut rest = Vec::new();
            let n = reader
                .read_to_end(&mut rest)
                .expect("EOF after Connection: close");
            assert_eq!(n, 0, "bytes after the last response: {rest:?}");
        })
        .await;
        let stats = server.stop().await;
        assert_eq!((stats.connections, stats.requests), (1, 4));
    });
}

// ---------------------------------------------------------------------------------------
// (e) A slow client and the header-read timeout.
// ---------------------------------------------------------------------------------------

const HEADER_READ_TIMEOUT: Duration = Duration::from_millis(500);

fn header_timeout_config() -> ServerConfig {
    ServerConfig {
        header_read_timeout: HEADER_READ_TIMEOUT,
        ..ServerConfig::default()
    }
}

/// Asserts the server closed the connection no earlier than the header-read timeout and
/// within a generous slack of it.
#[track_caller]
fn assert_closed_after_the_timeout(what: &str, elapsed: Duration, got: &[u8]) {
    assert!(
        elapsed >= HEADER_READ_TIMEOUT,
        "{what}: closed after {elapsed:?}, before the {HEADER_READ_TIMEOUT:?} timeout"
    );
    assert!(
        elapsed < Duration::from_secs(10),
        "{what}: closed only after {elapsed:?}"
    );
    // No response, or a 408 at most: never the response to a request it did not finish.
    assert!(
        got.is_empty() || got.starts_with(b"HTTP/1.1 408"),
        "{what}: unexpected bytes {:?}",
        String::from_utf8_lossy(got)
    );
}

#[test]
fn a_slow_client_hits_the_header_read_timeout() {
    run(|| async {
        let server = Running::start(header_timeout_config()).await;
        let addr = server.addr;
        blocking(move || {
            // The headers begun, never finished (hyper's own timeout, on HyperTimer). The
            // clock starts before connecting, so it cannot start after the server's.
            let start = Instant::now();
            let mut stream = std_connect(addr);
            stream.write_all(b"GET / HTTP/1.1\r\nHost: te").unwrap();
            let (got, ended) = read_until_closed(&mut stream);
            let elapsed = start.elapsed();
            assert_closed_by_server(&ended);
            assert_closed_after_the_timeout("partial headers", elapsed, &got);
        })
        .await;
        let stats = server.stop().await;
        assert_eq!((stats.connections, stats.requests), (1, 0));
    });
}

#[test]
fn a_silent_client_is_disconnected_after_the_header_read_timeout() {
    run(|| async {
        let server = Running::start(header_timeout_config()).await;
        let addr = server.addr;
        blocking(move || {
            // Connects and sends nothing (the server's wait for the first bytes).
            let start = Instant::now();
            let mut stream = std_connect(addr);
            let (got, ended) = read_until_closed(&mut stream);
            let elapsed = start.elapsed();
            assert_closed_by_server(&ended);
            assert_closed_after_the_timeout("no bytes at all", elapsed, &got);
        })
        .await;
        let stats = server.stop().await;
        assert_eq!((stats.connections, stats.requests), (1, 0));
    });
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_the_header_read_timeout() {
    run(|| async {
        let server = Running::start(header_timeout_config()).await;
        let addr = server.addr;
        blocking(move || {
            let start = Instant::now();
            let mut stream = std_connect(addr);
            stream
                .write_all(b"GET / HTTP/1.1\r\nHost: idle\r\n\r\n")
                .unwrap();
            // The response, then nothing: the wait for the next request's headers times out.
            let (got, ended) = read_until_closed(&mut stream);
            let elapsed = start.elapsed();
            assert_closed_by_server(&ended);
            let got = String::from_utf8_lossy(&got);
            assert!(got.starts_with("HTTP/1.1 200 OK\r\n"), "{got}");
            assert!(got.ends_with("\r\n\r\nHello from magpie!\n"), "{got}");
            assert!(elapsed >= HEADER_READ_TIMEOUT, "closed after {elapsed:?}");
            assert!(
                elapsed < Duration::from_secs(10),
                "closed only after {elapsed:?}"
            );
        })
        .await;
        let stats = server.stop().await;
        assert_eq!((stats.connections, stats.requests), (1, 1));
    });
}

#[test]
fn a_slow_client_within_the_timeout_is_served() {
    run(|| async {
        let server = Running::start(header_timeout_config()).await;
        let addr = server.addr;
        blocking(move || {
            let mut stream = std_connect(addr);
            // In three parts, well within the 500 ms the headers may take.
            stream.write_all(b"GET / HT").unwrap();
            std::thread::sleep(Duration::from_millis(50));
            stream.write_all(b"TP/1.1\r\nHost: slow\r\n").unwrap();
            std::thread::sleep(Duration::from_millis(50));
            stream.write_all(b"Connection: close\r\n\r\n").unwrap();
            let response = read_response(&mut BufReader::new(stream)).expect("a response");
            assert_eq!(response.status_line, "HTTP/1.1 200 OK");
            assert_eq!(response.body, b"Hello from magpie!\n");
        })
        .await;
        let stats = server.stop().await;
        assert_eq!((stats.connections, stats.requests), (1, 1));
    });
}

// ---------------------------------------------------------------------------------------
// (f) HTTP/2 keep-alive pings (they need the timer).
// ---------------------------------------------------------------------------------------

const PING_INTERVAL: Duration = Duration::from_millis(100);
const PING_TIMEOUT: Duration = Duration::from_millis(500);

fn keep_alive_config() -> ServerConfig {
    ServerConfig {
        http2_keep_alive_interval: Some(PING_INTERVAL),
        http2_keep_alive_timeout: PING_TIMEOUT,
        ..ServerConfig::default()
    }
}

/// HTTP/2 frame types (RFC 9113, section 6).
const SETTINGS: u8 = 0x4;
const PING: u8 = 0x6;
const ACK: u8 = 0x1;

/// Reads HTTP/2 frames until the peer closes: their (type, flags), and how it ended.
fn read_frames_until_closed(stream: &mut std::net::TcpStream) -> (Vec<(u8, u8)>, io::Result<()>) {
    let mut frames = Vec::new();
    loop {
        let mut head = [0u8; 9];
        if let Err(e) = stream.read_exact(&mut head) {
            let ended = if e.kind() == io::ErrorKind::UnexpectedEof {
                Ok(())
            } else {
                Err(e)
            };
            return (frames, ended);
        }
        let length = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
        frames.push((head[3], head[4]));
        let mut payload = vec![0; length];
        if let Err(e) = stream.read_exact(&mut payload) {
            let ended = if e.kind() == io::ErrorKind::UnexpectedEof {
                Ok(())
            } else {
                Err(e)
            };
            return (frames, ended);
        }
    }
}

#[test]
fn http2_keep_alive_closes_a_client_that_never_answers_pings() {
    run(|| async {
        let server = Running::start(keep_alive_config()).await;
        let addr = server.addr;
        blocking(move || {
            let start = Instant::now();
            let mut stream = std_connect(addr);
            // HTTP/2 with prior knowledge: the preface and an empty SETTINGS frame, then
            // silence: no SETTINGS ack, no PING ack.
            stream
                .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
                .unwrap();
            stream
                .write_all(&[0, 0, 0, SETTINGS, 0, 0, 0, 0, 0])
                .unwrap();
            let (frames, ended) = read_frames_until_closed(&mut stream);
            let elapsed = start.elapsed();
            assert_closed_by_server(&ended);
            assert!(
                frames.contains(&(SETTINGS, 0)),
                "no SETTINGS from the server: {frames:?}"
            );
            assert!(
                frames
                    .iter()
                    .any(|&(kind, flags)| kind == PING && flags & ACK == 0),
                "the server never pinged: {frames:?}"
            );
            // A ping after the interval, then the timeout for its answer.
            assert!(
                elapsed >= PING_INTERVAL + PING_TIMEOUT,
                "closed after {elapsed:?}, before interval + timeout"
            );
            assert!(
                elapsed < Duration::from_secs(10),
                "closed only after {elapsed:?}"
            );
        })
        .await;
        let stats = server.stop().await;
        assert_eq!((stats.connections, stats.requests), (1, 0));
    });
}

#[test]
fn http2_keep_alive_keeps_a_client_that_answers_pings() {
    run(|| async {
        let server = Running::start(keep_alive_config()).await;
        let tcp = TcpStream::connect(server.addr).await.unwrap();
        // hyper's client (h2) answers the server's pings by itself.
        let (mut sender, connection) = hyper::client::conn::http2::handshake::<_, _, Full<Bytes>>(
            HyperExecutor,
            HyperIo::new(tcp),
        )
        .await
        .expect("HTTP/2 handshake");
        let driver = magpie::spawn(connection);
        let get = |base: &str| {
            Request::get(format!("{base}/"))
                .body(Full::default())
                .unwrap()
        };
        let response = sender.send_request(get(&server.base)).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        // Idle for many ping intervals and more than a ping timeout.
        time::sleep(PING_INTERVAL * 10 + PING_TIMEOUT).await;
        assert!(
            !driver.is_finished(),
            "the connection was closed while idle"
        );
        let response = sender
            .send_request(get(&server.base))
            .await
            .expect("the connection survived the pings");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(&body_of(response).await[..], b"Hello from magpie!\n");
        drop(sender);
        let _ = driver.await;
        let stats = server.stop().await;
        assert_eq!((stats.connections, stats.requests), (1, 2));
    });
}

// ---------------------------------------------------------------------------------------
// (g) The graceful shutdown.
// ---------------------------------------------------------------------------------------

/// Connects until the port refuses (the server has closed its listener).
async fn until_refused(addr: SocketAddr) {
    loop {
        match TcpStream::connect(addr).await {
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => return,
            // Still listening (or in the backlog of a listener about to close): again.
            _ => time::sleep(Duration::from_millis(10)).await,
        }
    }
}

/// A raw client whose request is in flight until the test lets it finish its body.
struct HalfSentPost {
    finish: std::sync::mpsc::Sender<()>,
    client: JoinHandle<(io::Result<RawResponse>, Vec<u8>, io::Result<()>)>,
}

/// Sends a POST /echo's headers and half its body, then waits for `finish` before sending
/// the rest (a dropped `finish`: never), and reads what comes back until the close.
fn half_sent_post(addr: SocketAddr, body: &'static [u8]) -> HalfSentPost {
    let (finish, finish_rx) = std::sync::mpsc::channel::<()>();
    let client = magpie::task::spawn_blocking(move || {
        let mut writer = std_connect(addr);
        let mut reader = BufReader::new(writer.try_clone().unwrap());
        let (first, second) = body.split_at(body.len() / 2);
        write!(
            writer,
            "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .unwrap();
        writer.write_all(first).unwrap();
        if finish_rx.recv().is_ok() {
            writer.write_all(second).unwrap();
        }
        let response = read_response(&mut reader);
        let mut rest = Vec::new();
        let ended = reader.read_to_end(&mut rest).map(drop);
        (response, rest, ended)
    });
    HalfSentPost { finish, client }
}

#[test]
fn graceful_shutdown_finishes_the_request_in_flight_and_refuses_new_ones() {
    run(|| async {
        let server = Running::start(ServerConfig::default()).await;
        let addr = server.addr;
        let live = server.live.clone();
        let body: &'static [u8] = br#"{"shutdown": "graceful", "in_flight": true}"#;
        let post = half_sent_post(addr, body);
        // The handler is running, reading the body, which the client holds back.
        live.until_in_flight(1).await;

        let Running { stop, serving, .. } = server;
        let _ = stop.send(());
        // The port closes: new connections are refused...
        until_refused(addr).await;
        // ... while the request is still in flight (it cannot finish before its body).
        assert_eq!(live.in_flight(), 1);
        assert!(
            !serving.is_finished(),
            "serve returned with a request in flight"
        );

        post.finish.send(()).unwrap();
        let (response, rest, ended) = post.client.await.expect("the raw client panicked");
        let response = response.expect("the request in flight got its response");
        assert_eq!(response.status_line, "HTTP/1.1 200 OK");
        assert_eq!(
            response.body,
            br#"{"in_flight":true,"shutdown":"graceful"}"#
        );
        // Then the server closed the connection (no keep-alive while shutting down).
        assert!(ended.is_ok() && rest.is_empty(), "{rest:?} {ended:?}");

        let stats = serving.await.unwrap().expect("serve failed");
        assert_eq!(
            (stats.connections, stats.requests, stats.cut_off),
            (1, 1, 0)
        );
        let refused = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);
    });
}

#[test]
fn graceful_shutdown_cuts_off_what_outlasts_the_grace() {
    run(|| async {
        let grace = Duration::from_millis(300);
        let server = Running::start(ServerConfig {
            shutdown_grace: grace,
            ..ServerConfig::default()
        })
        .await;
        let live = server.live.clone();
        let post = half_sent_post(server.addr, br#"{"never": "finished"}"#);
        live.until_in_flight(1).await;

        let start = Instant::now();
        let stats = server.stop().await;
        let took = start.elapsed();
        assert_eq!((stats.requests, stats.cut_off), (1, 1));
        assert!(took >= grace, "cut off after {took:?}, before the grace");
        // The cut connection's handler was dropped; nothing is in flight any more.
        assert_eq!(live.in_flight(), 0);

        // The client never got an answer: its connection was closed under it.
        drop(post.finish);
        let (response, _, _) = post.client.await.expect("the raw client panicked");
        let err = response.expect_err("a response to an unfinished request");
        assert!(
            !matches!(
                err.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ),
            "the connection stayed open: {err}"
        );
    });
}

#[test]
fn graceful_shutdown_over_http2_finishes_its_streams() {
    run(|| async {
        let server = Running::start(ServerConfig::default()).await;
        let client = web_servers::client_http2();
        let url = format!("{}/slow?ms=300", server.base);
        let requests: Vec<_> = (0..3)
            .map(|_| {
                let (client, url) = (client.clone(), url.clone());
                magpie::spawn(async move { web_servers::get(&client, &url).await })
            })
            .collect();
        server.live.until_in_flight(3).await;
        let stats = server.stop().await; // GOAWAY, then the three streams finish
        assert_eq!(
            (stats.connections, stats.requests, stats.cut_off),
            (1, 3, 0)
        );
        for request in requests {
            let reply = request
                .await
                .unwrap()
                .expect("a stream in flight at the GOAWAY");
            assert_eq!(
                (reply.status, reply.version),
                (StatusCode::OK, Version::HTTP_2)
            );
            assert_eq!(reply.body, "slept 300 ms\n");
        }
    });
}

// ---------------------------------------------------------------------------------------
// (h) 404, 405, 400, 413, and the /slow cap.
// ---------------------------------------------------------------------------------------

#[test]
fn errors_are_responses() {
    run(|| async {
        let server = Running::start(ServerConfig::default()).await;
        let client = web_servers::client();
        let base = &server.base;

        let missing = web_servers::get(&client, &format!("{base}/missing?x=1"))
            .await
            .unwrap();
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert_eq!(missing.body, "no route for GET /missing\n");

        let not_json = web_servers::post_json(&client, &format!("{base}/echo"), "{\"unterminated")
            .await
            .unwrap();
        assert_eq!(not_json.status, StatusCode::BAD_REQUEST);
        assert_eq!(not_json.content_type.as_deref(), Some("application/json"));
        let error: serde_json::Value = serde_json::from_str(&not_json.body).unwrap();
        let message = error["error"].as_str().expect("an error message");
        assert!(
            message.starts_with("invalid JSON: EOF while parsing a string"),
            "{message}"
        );

        for bad in ["abc", "-5", "1.5", ""] {
            let reply = web_servers::get(&client, &format!("{base}/slow?ms={bad}"))
                .await
                .unwrap();
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "ms={bad}");
            assert!(
                reply.body.starts_with("bad ms: expected /slow?ms=N"),
                "ms={bad}: {}",
                reply.body
            );
        }

        // A known path with the wrong method: 405 and the method it takes.
        let request = Request::get(format!("{base}/echo"))
            .body(Full::default())
            .unwrap();
        let response = client.request(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(header(&response, ALLOW), Some("POST"));
        let request = Request::delete(format!("{base}/"))
            .body(Full::default())
            .unwrap();
        let response = client.request(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(header(&response, ALLOW), Some("GET"));

        let stats = server.stop().await;
        assert_eq!(stats.requests, 8);
    });
}

/// Calls `handle` directly: the status, the body, and how long it took on the clock.
async fn call(request: Request<Full<Bytes>>) -> (StatusCode, String, Duration) {
    let start = time::now();
    let response = handle(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let took = time::now() - start;
    (status, String::from_utf8_lossy(&body).into_owned(), took)
}

/// `handle` called directly, on a paused clock: the cap and the default of `/slow` take no
/// real time, and the sleeps are exact.
#[test]
fn slow_is_capped_and_echo_is_bounded() {
    let runtime = magpie::Builder::new()
        .worker_threads(1)
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(async {
        let get = |uri: &str| call(Request::get(uri).body(Full::default()).unwrap());
        let post = |uri: &str, body: Bytes| call(Request::post(uri).body(Full::new(body)).unwrap());

        let (status, body, took) = get("/slow?ms=60000").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, "slept 10000 ms (capped: 60000 ms asked)\n");
        assert_eq!(took, MAX_SLOW);

        let (status, body, took) = get("/slow").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, format!("slept {} ms\n", DEFAULT_SLOW.as_millis()));
        assert_eq!(took, DEFAULT_SLOW);

        let (status, _, took) = get("/slow?other=1&ms=250").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(took, Duration::from_millis(250));

        let too_big = Bytes::from(vec![b' '; MAX_ECHO_BODY + 1]);
        let (status, body, _) = post("/echo", too_big).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(body.contains("larger than 1048576 bytes"), "{body}");

        let (status, body, _) = post("/echo", Bytes::from_static(b"[1, 2.5, null]")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, "[1,2.5,null]");
    });
}
