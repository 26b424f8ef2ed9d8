//! An HTTP client on magpie: concurrent GETs, each under its own timeout.
//!
//! ```sh
//! cargo run --release --example http_client                   # against a server of its own
//! cargo run --release --example http_client -- URL...         # GET each URL, all at once
//! cargo run --release --example http_client -- --timeout-ms 500 URL...
//! ```
//!
//! In asyncio terms: `aiohttp.ClientSession` (hyper-util's pooling `Client` on
//! `magpie::hyper::HyperConnector`), `asyncio.gather` over the requests (`magpie::join_all`),
//! each wrapped in `asyncio.wait_for(..., timeout)` (`magpie::time::timeout`): a request that
//! takes too long is dropped, the others go on.
//!
//! Without URLs it starts `examples/http_server.rs`'s server in this process, on a free port
//! of 127.0.0.1, and fetches a mix: `/`, some `/slow?ms=N` (one longer than the timeout), a
//! 404 and a 400. Only `http://` URLs (no TLS here).

use magpie::net::TcpListener;
use magpie::sync::oneshot;
use magpie::time;
use magpie_examples::web_servers::{self, BoxError, Reply, Server, ServerConfig};
use magpie_examples::{ms, say};
use std::process::ExitCode;
use std::time::Duration;

/// Each request's timeout, unless `--timeout-ms` says otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_millis(1000);

const USAGE: &str =
    "usage: cargo run --release --example http_client [-- [--timeout-ms MS] URL...]";

fn main() -> ExitCode {
    let mut args: Vec<String> = Vec::new();
    for arg in std::env::args_os().skip(1) {
        match arg.into_string() {
            Ok(arg) => args.push(arg),
            Err(_) => {
                eprintln!("http_client: the arguments must be UTF-8\n{USAGE}");
                return ExitCode::FAILURE;
            }
        }
    }
    let mut limit = DEFAULT_TIMEOUT;
    if let Some(at) = args.iter().position(|a| a == "--timeout-ms") {
        match args.get(at + 1).and_then(|v| v.parse::<u64>().ok()) {
            Some(ms) => limit = Duration::from_millis(ms),
            None => {
                eprintln!("http_client: --timeout-ms needs a number of milliseconds\n{USAGE}");
                return ExitCode::FAILURE;
            }
        }
        args.drain(at..at + 2);
    }
    if args.iter().any(|a| a.starts_with('-')) {
        eprintln!("{USAGE}");
        return ExitCode::FAILURE;
    }
    magpie::run(run(args, limit))
}

async fn run(urls: Vec<String>, limit: Duration) -> ExitCode {
    if !urls.is_empty() {
        let outcome = fetch_all(&urls, limit).await;
        return if outcome.failed == 0 && outcome.timed_out == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }

    // No URLs: our own server, on a free port, until we are done.
    let listener = match TcpListener::bind("127.0.0.1:0").await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("http_client: cannot start the server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let base = match listener.local_addr() {
        Ok(addr) => format!("http://{addr}"),
        Err(e) => {
            eprintln!("http_client: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let server = magpie::spawn(Server::new(ServerConfig::default()).serve(listener, stopped));
    say!("Started the example server on {base}.");
    let over = limit + limit / 2; // one request that exceeds its timeout
    let paths = [
        "/".to_owned(),
        "/slow?ms=100".to_owned(),
        format!("/slow?ms={}", (limit / 4).as_millis()),
        format!("/slow?ms={}", (limit / 2).as_millis()),
        format!("/slow?ms={}", over.as_millis()),
        "/nowhere".to_owned(),
        "/slow?ms=soon".to_owned(),
    ];
    let urls: Vec<String> = paths.iter().map(|p| format!("{base}{p}")).collect();
    let outcome = fetch_all(&urls, limit).await;

    // A graceful shutdown: nothing is left in flight. (The request we gave up on is not:
    // dropping it closed its connection, and the server dropped its handler, as aiohttp
    // cancels the handler of a client that disconnected.)
    let _ = stop.send(());
    let stopping = time::now();
    match server.await {
        Ok(Ok(stats)) => say!(
            "The server stopped in {}: {} requests served on {} connections.",
            ms(time::now() - stopping),
            stats.requests,
            stats.connections
        ),
        Ok(Err(e)) => say!("The server failed: {e}"),
        Err(e) => say!("The server task failed: {e}"),
    }
    // Here, with our own server, the one timeout and the 404 and 400 are the point.
    if outcome.failed == 0 && outcome.timed_out == 1 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// How a batch went.
struct Outcome {
    timed_out: usize,
    failed: usize,
}

/// GETs every URL at once, each under `limit`, printing each result as it arrives.
async fn fetch_all(urls: &[String], limit: Duration) -> Outcome {
    let client = web_servers::client();
    say!(
        "GET {} URLs at once, each with a {} timeout:",
        urls.len(),
        ms(limit)
    );
    let width = urls.iter().map(|u| u.len()).max().unwrap_or(0);
    let start = time::now();
    let results = magpie::join_all(urls.iter().map(|url| {
        let client = &client;
        async move {
            let started = time::now();
            // asyncio.wait_for(session.get(url), timeout)
            let result = time::timeout(limit, web_servers::get(client, url)).await;
            let took = time::now() - started;
            say!("  {url:<width$}  {}", describe(&result, took));
            result
        }
    }))
    .await;
    let elapsed = time::now() - start;

    let timed_out = results.iter().filter(|r| r.is_err()).count();
    let failed = results.iter().filter(|r| matches!(r, Ok(Err(_)))).count();
    let answered = results.len() - timed_out - failed;
    say!(
        "{} requests in {} (at once, not one after another): {answered} answered, \
         {timed_out} timed out, {failed} failed.",
        results.len(),
        ms(elapsed)
    );
    Outcome { timed_out, failed }
}

/// One result, as a line's end.
fn describe(result: &Result<Result<Reply, BoxError>, time::Elapsed>, took: Duration) -> String {
    match result {
        Ok(Ok(reply)) => {
            let first_line = reply.body.lines().next().unwrap_or("");
            format!(
                "{:<15} in {:>4} ms ({:?}, {} bytes): {first_line}",
                reply.status.to_string(),
                took.as_millis(),
                reply.version,
                reply.body.len()
            )
        }
        Ok(Err(e)) => format!("failed after {}: {}", ms(took), web_servers::describe(&**e)),
        Err(_) => format!("timed out after {} (dropped)", ms(took)),
    }
}
