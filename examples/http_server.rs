//! An HTTP server on magpie: hyper, HTTP/1.1 and HTTP/2 on one port, with a graceful shutdown
//! on Ctrl-C or (Unix) SIGTERM, which `kill`, systemd and container orchestrators send.
//!
//! ```sh
//! cargo run --release --example http_server              # on 127.0.0.1:3000
//! cargo run --release --example http_server -- 0.0.0.0:8080
//! HTTP_SERVER_ADDR=127.0.0.1:8080 cargo run --release --example http_server
//! ```
//!
//! Routes (see `handle` in `examples/asyncio/web_servers.rs`): `GET /` says hello,
//! `POST /echo` writes a JSON body back (400 when it is not JSON), `GET /slow?ms=N` answers
//! after N ms of `magpie::time::sleep` (at most 10 s), anything else is a 404.
//!
//! Ctrl-C or SIGTERM stops accepting (new connections are refused), lets the requests in
//! flight finish (for at most 10 s), prints what was served and exits with status 0; a
//! second Ctrl-C or SIGTERM exits at once (status 130 or 143, as a shell reports them).
//! `examples/http_client.rs` is a client for it.

use magpie::net::TcpListener;
use magpie_examples::web_servers::{Server, ServerConfig};
use magpie_examples::{ms, say};
use std::io;
use std::process::ExitCode;

/// Where the server listens without an argument or `HTTP_SERVER_ADDR`.
const DEFAULT_ADDR: &str = "127.0.0.1:3000";

fn main() -> ExitCode {
    let addr = match std::env::args_os().nth(1) {
        Some(arg) => match arg.into_string() {
            Ok(addr) if addr != "-h" && addr != "--help" => addr,
            _ => {
                eprintln!("usage: cargo run --release --example http_server [-- ADDR] (default {DEFAULT_ADDR}, or $HTTP_SERVER_ADDR)");
                return ExitCode::FAILURE;
            }
        },
        None => std::env::var("HTTP_SERVER_ADDR").unwrap_or_else(|_| DEFAULT_ADDR.to_owned()),
    };
    magpie::run(run(addr))
}

async fn run(addr: String) -> ExitCode {
    let listener = match TcpListener::bind(addr.as_str()).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("http_server: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let local = match listener.local_addr() {
        Ok(local) => local,
        Err(e) => {
            eprintln!("http_server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let config = ServerConfig {
        log: true,
        ..ServerConfig::default()
    };
    let grace = config.shutdown_grace;
    // Listening before "Serving on" is printed: from then on, SIGTERM no longer kills the
    // process outright (a script that waits for that line may send it at once).
    let mut stop = match StopSignals::new() {
        Ok(stop) => stop,
        Err(e) => {
            eprintln!("http_server: cannot listen for signals: {e}");
            return ExitCode::FAILURE;
        }
    };
    say!("Serving on http://{local} (HTTP/1.1 and HTTP/2); Ctrl-C or SIGTERM stops it gracefully. Try:");
    say!("  curl http://{local}/");
    say!("  curl -d '{{\"hello\": [1, 2, 3]}}' -H 'content-type: application/json' http://{local}/echo");
    say!("  curl 'http://{local}/slow?ms=3000'     (then Ctrl-C here: it still completes)");
    say!("  curl --http2-prior-knowledge http://{local}/");

    let server = Server::new(config);
    let live = server.live();
    let shutdown = async move {
        let Some(first) = stop.next().await else {
            std::future::pending::<()>().await;
            return;
        };
        say!(
            "{}: no new connections; finishing {} request(s) in flight (at most {}; \
             a second Ctrl-C or SIGTERM quits at once)",
            first.name,
            live.in_flight(),
            ms(grace)
        );
        magpie::spawn(async move {
            if let Some(second) = stop.next().await {
                say!("second {}: quitting now", second.name);
                std::process::exit(second.exit_status);
            }
        });
    };
    let start = magpie::time::now();
    match server.serve(listener, shutdown).await {
        Ok(stats) => {
            say!(
                "Stopped after {:.1} s: {} connections, {} requests served, {} connections cut off.",
                (magpie::time::now() - start).as_secs_f64(),
                stats.connections,
                stats.requests,
                stats.cut_off
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("http_server: accepting failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A stop request: what the user did, and the exit status that a second one quits with
/// (128 + the signal's number, as shells report a process killed by a signal).
struct Stop {
    name: &'static str,
    exit_status: i32,
}

/// Ctrl-C (SIGINT) and, on Unix, SIGTERM, each listened for from `new` on.
struct StopSignals {
    #[cfg(unix)]
    interrupt: magpie::signal::unix::Signal,
    #[cfg(unix)]
    terminate: magpie::signal::unix::Signal,
}

impl StopSignals {
    fn new() -> io::Result<StopSignals> {
        #[cfg(unix)]
        {
            use magpie::signal::unix::{signal, SignalKind};
            Ok(StopSignals {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(StopSignals {})
    }

    /// The next stop request; `None` (after saying why) if signals can no longer be seen.
    async fn next(&mut self) -> Option<Stop> {
        #[cfg(unix)]
        let stop = magpie::select! {
            received = self.interrupt.recv() => received.map(|()| Stop { name: "Ctrl-C", exit_status: 130 }),
            received = self.terminate.recv() => received.map(|()| Stop { name: "SIGTERM", exit_status: 143 }),
        };
        #[cfg(not(unix))]
        let stop = match magpie::signal::ctrl_c().await {
            Ok(()) => Some(Stop {
                name: "Ctrl-C",
                exit_status: 130,
            }),
            Err(e) => {
                eprintln!("http_server: cannot wait for Ctrl-C ({e})");
                None
            }
        };
        if stop.is_none() {
            eprintln!("http_server: signals can no longer be seen; serving until killed");
        }
        stop
    }
}
