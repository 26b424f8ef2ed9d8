//! `http_hello`: hyper 1.x serving a small response on magpie vs tokio vs smol, driven by
//! one load client on loopback. Not a criterion group: the figures are requests per
//! second and latency percentiles of a closed-loop load, not the time of an iteration.
//!
//! # What runs
//!
//! * **The server**, the same code on every runtime: an accept loop task on a listener
//!   bound to `127.0.0.1:0` spawns one task per connection (`TCP_NODELAY` on), which
//!   serves it with `hyper::server::conn::http1::Builder` (keep-alive, hyper's defaults,
//!   the runtime's timer given to the builder so its 30 s header-read timeout is armed and
//!   reset on every request as in a real server) and the service [`hello`]:
//!   `200 OK` with the 13-byte body `Hello, world!`. The runtime glue is what each runtime
//!   offers hyper:
//!   - `magpie`: `magpie::net` streams in `magpie::hyper::HyperIo`, `HyperTimer`;
//!   - `tokio`: `tokio::net` streams in hyper-util's `TokioIo`, `TokioTimer` (multi-thread
//!     runtime);
//!   - `smol`: async-executor driven by as many threads (`SmolRuntime`), async-io's
//!     `Async<TcpStream>` in the same `HyperIo` (it is a plain futures-io → hyper I/O
//!     adapter with no runtime in it) and `SmolTimer` (async-io's `Timer`, reset in
//!     place).
//!
//!   Each has `MAGPIE_BENCH_WORKERS` worker threads (default 2). The server and the service
//!   are `benches/http.rs`'s, shared with `benches/conn_figures.rs`.
//! * **The load client**, the same code for every server ([`load`]): one thread of its own
//!   (not a runtime: raw level-triggered `epoll` over non-blocking std sockets), `C`
//!   keep-alive connections (`MAGPIE_BENCH_HTTP_CONNECTIONS`, default 64; `TCP_NODELAY`),
//!   each a closed loop: send `GET / HTTP/1.1\r\nHost: x\r\n\r\n`, read the response
//!   (headers to `\r\n\r\n`, then `Content-Length` bytes), check it (status 200, the
//!   length and the bytes of the body, nothing after it), send the next. A wrong response,
//!   a closed connection, a server-side error or 10 s without any response aborts the run
//!   with a message. Per-request latency (send to last byte read) is recorded for every
//!   response completed during the measured window; requests per second is the number of
//!   those responses over the window.
//!
//!   Why a client of its own rather than Debian's `wrk`: this one checks every response
//!   (wrk counts non-2xx statuses but never looks at bodies), keeps every latency in
//!   nanoseconds for exact percentiles, runs in the same process as the server so that the
//!   server's CPU can be told from the client's (below), needs nothing installed, and
//!   costs about the same per request (one `send`, one `recv`, a share of an `epoll_wait`).
//!
//!   On a 2-CPU machine the client thread and the server's 2 workers share the 2 CPUs:
//!   the client uses about a third of the CPU time (shown as `client CPU`), so the
//!   absolute rates are the machine's, not the server's; the comparison is fair because
//!   every server gets the same client on the same CPUs. The server's own CPU per request
//!   (process CPU minus the client thread's, over the window) is shown too: it is the
//!   steadier figure on a VM whose host steals CPU time.
//!
//! # How it is measured
//!
//! Each (round, runtime) pair runs in a child process of its own (this binary re-executed
//! with its child flag; the harness is `benches/figures.rs`): the runtime, its server and
//! the client start fresh, the client warms up (`MAGPIE_BENCH_HTTP_WARMUP_SECS`, default
//! 0.5 s) and then measures (`MAGPIE_BENCH_HTTP_SECS`, default 2 s). Rounds
//! (`MAGPIE_BENCH_HTTP_ROUNDS`, default 5) alternate the runtimes, each round starting
//! one later in the list (magpie tokio smol, tokio smol magpie, ...), so that drift in the
//! machine's load falls on all of them alike. Reported: per runtime, the median over the
//! rounds of each figure (with the rounds' range for requests per second), and the ratios
//! magpie/tokio and magpie/smol of those medians. Target (issue 6): magpie ≥ 1.1× tokio's
//! requests per second, and magpie's p99 ≤ tokio's.
//!
//! Prints a table and writes `target/magpie-http-figures.json`
//! (`MAGPIE_BENCH_HTTP_FIGURES_JSON` overrides the path), which `scripts/bench_report.py`
//! turns into the "HTTP" section of `docs/benchmarks.md`. The defaults take about 40 s.
//!
//! ```text
//! cargo bench -p magpie-benches --bench http_figures              # 5 rounds × 3 runtimes
//! cargo bench -p magpie-benches --bench http_figures -- --quick   # smoke run, no JSON
//! MAGPIE_BENCH_HTTP_CONNECTIONS=16,64 cargo bench -p magpie-benches --bench http_figures
//! ```
//!
//! A quick smoke run (one round, 16 connections, 0.1 s warm-up, 0.3 s measured, no JSON)
//! happens without `--bench` on the command line (`cargo test --benches`), with `--test`,
//! with `--quick`, or with `MAGPIE_BENCH_QUICK=1`. Filters follow `benches/figures.rs`
//! (the only figure is `http_hello`).
//!
//! Linux only: the load client is a thread of raw `epoll`. Elsewhere the binary says so and
//! exits successfully, so `cargo bench` runs on every platform.

#[cfg(target_os = "linux")]
#[path = "http_figures/linux.rs"]
mod linux;

fn main() {
    #[cfg(target_os = "linux")]
    linux::main();
    #[cfg(not(target_os = "linux"))]
    println!("http_figures: skipped, Linux only (its load client is raw epoll)");
}
