//! An echo server, and a client that measures round trips.
//!
//! ```sh
//! cargo run --release --example echo                       # both, in one process
//! cargo run --release --example echo -- server [ADDR]      # only the server, until Ctrl-C
//! cargo run --release --example echo -- client ADDR [CONNECTIONS] [ROUND_TRIPS]
//! ```
//!
//! In asyncio terms: the server is `asyncio.start_server(handle_echo, host, port)` followed
//! by `serve_forever()`, with `handle_echo` run as a task per connection; the client is
//! `asyncio.open_connection(host, port)` in several tasks at once, each writing a message
//! and reading the echo back, timing every round trip.

use magpie::io::{AsyncReadExt, AsyncWriteExt};
use magpie::net::{TcpListener, TcpStream};
use magpie::task::JoinSet;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The server's address when none is given: the one in the asyncio docs' streams example.
const DEFAULT_SERVER_ADDR: &str = "127.0.0.1:8888";
const DEFAULT_CONNECTIONS: usize = 10;
const DEFAULT_ROUND_TRIPS: usize = 1_000;
/// Bounds that keep the client's memory (one `Duration` per round trip) and descriptors sane.
const MAX_CONNECTIONS: usize = 10_000;
const MAX_ROUND_TRIPS: usize = 10_000_000;
/// What each round trip sends (and expects back).
const MESSAGE: &[u8] = b"hello from magpie's echo client\n";

const USAGE: &str = "\
usage: cargo run --release --example echo [-- server [ADDR] | -- client ADDR [CONNECTIONS] [ROUND_TRIPS]]
  (no arguments)                           a server and a client in one process
  server [ADDR]                            only the server (ADDR defaults to 127.0.0.1:8888), until Ctrl-C
  client ADDR [CONNECTIONS] [ROUND_TRIPS]  only the client (defaults: 10 connections, 1000 round trips each)";

/// What the command line asks for.
enum Mode {
    Both(ClientConfig),
    Server(SocketAddr),
    Client(SocketAddr, ClientConfig),
}

#[derive(Clone, Copy)]
struct ClientConfig {
    connections: usize,
    round_trips: usize,
}

fn main() -> ExitCode {
    // `std::env::args()` panics on an argument that is not UTF-8: take them as OsStrings.
    let args: Result<Vec<String>, _> = std::env::args_os()
        .skip(1)
        .map(|a| a.into_string())
        .collect();
    let Ok(args) = args else {
        eprintln!("echo: the arguments must be UTF-8\n{USAGE}");
        return ExitCode::from(2);
    };
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let mode = match parse_args(&args) {
        Ok(mode) => mode,
        Err(problem) => {
            eprintln!("echo: {problem}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // asyncio.run(main())
    let outcome = magpie::run(async move {
        match mode {
            Mode::Both(config) => both(config).await,
            Mode::Server(addr) => server_until_ctrl_c(addr).await,
            Mode::Client(addr, config) => client(addr, config).await,
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Reads the command line by hand: `[]`, `[server, ADDR?]` or `[client, ADDR, N?, M?]`.
fn parse_args(args: &[String]) -> Result<Mode, String> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        [] => Ok(Mode::Both(ClientConfig {
            connections: DEFAULT_CONNECTIONS,
            round_trips: DEFAULT_ROUND_TRIPS,
        })),
        ["server"] => Ok(Mode::Server(parse_addr(DEFAULT_SERVER_ADDR)?)),
        ["server", addr] => Ok(Mode::Server(parse_addr(addr)?)),
        ["client"] => Err("client needs the server's address, e.g. 127.0.0.1:8888".into()),
        ["client", addr, rest @ ..] if rest.len() <= 2 => {
            let connections = match rest.first() {
                Some(n) => parse_count("CONNECTIONS", n, MAX_CONNECTIONS)?,
                None => DEFAULT_CONNECTIONS,
            };
            let round_trips = match rest.get(1) {
                Some(m) => parse_count("ROUND_TRIPS", m, MAX_ROUND_TRIPS)?,
                None => DEFAULT_ROUND_TRIPS,
            };
            if connections * round_trips > MAX_ROUND_TRIPS {
                return Err(format!(
                    "CONNECTIONS x ROUND_TRIPS must be at most {MAX_ROUND_TRIPS}, \
                     not {connections} x {round_trips}"
                ));
            }
            let config = ClientConfig {
                connections,
                round_trips,
            };
            Ok(Mode::Client(parse_addr(addr)?, config))
        }
        ["server" | "client", ..] => Err(format!("too many arguments: {}", args.join(" "))),
        [other, ..] => Err(format!(
            "unknown mode '{other}' (expected server or client)"
        )),
    }
}

/// `host:port`, resolved now so that a typo is a usage error rather than a failure later.
fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    let resolved = text.to_socket_addrs().map_err(|e| {
        format!("'{text}' is not an address of the form host:port, e.g. 127.0.0.1:8888 ({e})")
    })?;
    resolved
        .into_iter()
        .next()
        .ok_or_else(|| format!("'{text}' resolves to no address"))
}

/// A whole number from 1 to `max` for the argument called `name`.
fn parse_count(name: &str, text: &str, max: usize) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "{name} must be a whole number from 1 to {max}, not '{text}'"
        )),
    }
}

/// No arguments: a server on a free port, the client against it, then the server stops.
async fn both(config: ClientConfig) -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    println!("echo server listening on {addr}");
    let served = Arc::new(AtomicUsize::new(0));
    let server = magpie::spawn(serve(listener, served.clone()));
    let result = client(addr, config).await;
    // `server.close()`: the accept loop is cancelled, and the listener is dropped with it.
    server.abort();
    let _ = server.await;
    println!(
        "server stopped; it served {} connection(s)",
        served.load(Ordering::Relaxed)
    );
    result
}

/// `-- server [ADDR]`: serve until Ctrl-C, then stop accepting and say how much was served.
async fn server_until_ctrl_c(addr: SocketAddr) -> io::Result<()> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
    println!(
        "echo server listening on {}; Ctrl-C stops it",
        listener.local_addr()?
    );
    let served = Arc::new(AtomicUsize::new(0));
    let server = magpie::spawn(serve(listener, served.clone()));
    // loop.add_signal_handler(signal.SIGINT, ...): wait for Ctrl-C instead of dying of it.
    magpie::signal::ctrl_c().await?;
    server.abort();
    let _ = server.await;
    println!(
        "\nCtrl-C: stopped accepting; served {} connection(s)",
        served.load(Ordering::Relaxed)
    );
    // Returning ends `magpie::run`, which drops the connection tasks still running (closing
    // their sockets), as `asyncio.run` cancels the tasks left over when main returns.
    Ok(())
}

/// The accept loop of `asyncio.start_server`: a task per connection, like asyncio calling
/// `handle_echo(reader, writer)` for each client.
async fn serve(listener: TcpListener, served: Arc<AtomicUsize>) {
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                served.fetch_add(1, Ordering::Relaxed);
                magpie::spawn(async move {
                    if let Err(e) = handle_echo(stream).await {
                        eprintln!("echo server: a connection failed: {e}");
                    }
                });
            }
            // Out of descriptors, a connection reset before it was accepted, ...: the
            // listener backs off by itself after EMFILE, so log and keep accepting.
            Err(e) => eprintln!("echo server: accept failed: {e}"),
        }
    }
}

/// `handle_echo(reader, writer)`: write back whatever arrives until the client closes.
async fn handle_echo(mut stream: TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?; // small replies go out at once (no Nagle delay)
    let mut buf = vec![0; 4096];
    loop {
        let n = stream.read(&mut buf).await?; // `await reader.read(4096)`
        if n == 0 {
            return Ok(()); // b"": the client closed its side
        }
        stream.write_all(&buf[..n]).await?; // `writer.write(data); await writer.drain()`
    }
}

/// `CONNECTIONS` tasks, each opening a connection and timing `ROUND_TRIPS` echoes.
async fn client(addr: SocketAddr, config: ClientConfig) -> io::Result<()> {
    let ClientConfig {
        connections,
        round_trips,
    } = config;
    println!(
        "client: {connections} connection(s) x {round_trips} round trip(s) of {} bytes to {addr}",
        MESSAGE.len()
    );
    let started = Instant::now();
    let mut set = JoinSet::new();
    for _ in 0..connections {
        set.spawn(one_connection(addr, round_trips));
    }
    let mut latencies = Vec::with_capacity(connections * round_trips);
    while let Some(done) = set.join_next().await {
        let times = done.map_err(io::Error::other)??; // a panic, or the connection's error
        latencies.extend(times);
    }
    let elapsed = started.elapsed();

    latencies.sort_unstable();
    let total = latencies.len();
    println!("connections:      {connections}");
    println!("round trips:      {total}");
    println!("total time:       {:.3} s", elapsed.as_secs_f64());
    println!(
        "round trips/s:    {:.0}",
        total as f64 / elapsed.as_secs_f64()
    );
    println!(
        "latency:          p50 {} µs, p99 {} µs",
        percentile(&latencies, 50).as_micros(),
        percentile(&latencies, 99).as_micros()
    );
    Ok(())
}

/// `reader, writer = await asyncio.open_connection(host, port)`, then `round_trips` times:
/// write the message, read the echo back, note how long that took.
async fn one_connection(addr: SocketAddr, round_trips: usize) -> io::Result<Vec<Duration>> {
    let mut stream = TcpStream::connect(addr)
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("cannot connect to {addr}: {e}")))?;
    stream.set_nodelay(true)?;
    let mut reply = vec![0; MESSAGE.len()];
    let mut times = Vec::with_capacity(round_trips);
    for _ in 0..round_trips {
        let sent = Instant::now();
        let echoed = async {
            stream.write_all(MESSAGE).await?;
            stream.read_exact(&mut reply).await // `await reader.readexactly(n)`
        };
        if let Err(e) = echoed.await {
            let done = times.len();
            let context = format!("the connection to {addr} failed after {done} round trips");
            return Err(io::Error::new(e.kind(), format!("{context}: {e}")));
        }
        times.push(sent.elapsed());
        if reply != MESSAGE {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the server sent back something other than the message",
            ));
        }
    }
    // `writer.close(); await writer.wait_closed()`: shut our side, then see the server's EOF.
    stream.close().await?;
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).await?;
    Ok(times)
}

/// The `p`th percentile (nearest rank) of sorted, non-empty `values`.
fn percentile(sorted: &[Duration], p: usize) -> Duration {
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted[rank - 1]
}
