//! `conn_scale` (issue 20): many concurrent keep-alive HTTP/1.1 connections, each sending a
//! request at a fixed rate, served by hyper on magpie vs tokio vs smol. Reported per runtime:
//! the server's memory per connection and the latency percentiles of an open-loop load. Not
//! a criterion group: the figures are bytes and a latency distribution, not the time of an
//! iteration.
//!
//! # What runs
//!
//! * **The server** (a child process per round and runtime, the harness is
//!   `benches/figures.rs`): the hyper http1 server of `benches/http_figures.rs`, shared
//!   with it in `benches/http.rs` (an accept loop task on a listener bound to
//!   `127.0.0.1:0`, one task per connection, `TCP_NODELAY`,
//!   `hyper::server::conn::http1::Builder` with the runtime's timer given to it,
//!   keep-alive, answering `200 OK` with the 13-byte body `Hello, world!`):
//!   `magpie::net` + `magpie::hyper::{HyperIo, HyperTimer}`; tokio's multi-thread runtime +
//!   hyper-util's `TokioIo`/`TokioTimer`; smol (async-executor + async-io's
//!   `Async<TcpStream>` in the same futures-io adapter, an async-io timer). Each has
//!   `MAGPIE_BENCH_WORKERS` worker threads (default 2). It raises its `RLIMIT_NOFILE` (soft
//!   limit to the hard one; a hard limit below the need fails the run with a message naming
//!   both).
//! * **The client**, a process of its own (this binary re-run with `--magpie-conn-client`,
//!   started by the server process once its runtime is idle), so that the server's resident
//!   set and CPU time are the server's alone. One thread of raw level-triggered `epoll` over
//!   non-blocking std sockets (no runtime). It raises its own `RLIMIT_NOFILE`, then opens `N`
//!   keep-alive connections (`MAGPIE_BENCH_CONN_COUNT`, default 10,000) in batches of 64,
//!   each connection sending one request and reading its response before the next batch
//!   connects: magpie, tokio (mio) and async-io all listen with std's backlog of 128, which
//!   a batch never fills, and every connection then holds hyper's state after one request
//!   (its read and write buffers), as a keep-alive connection of a real server does.
//!
//!   Then the load is **open-loop**: connection `i` sends its `k`-th
//!   `GET / HTTP/1.1\r\nHost: x\r\n\r\n` at the scheduled time `start + k·T + i·T/N`
//!   (`T` = `MAGPIE_BENCH_CONN_INTERVAL_MS`, default 100 ms), so that the `N/T` requests per
//!   second (100,000 by default) are spread evenly rather than sent in bursts. A `timerfd`
//!   wakes the client for the next scheduled send; it sends every request due in the next
//!   50 µs at once. A connection has at most one request outstanding (no pipelining): when
//!   its previous response has not come back by the time the next request is due, that
//!   request goes out as soon as the response is complete, late. Every response is checked
//!   (status 200, `Content-Length`, the body, nothing after it, no `Connection: close`); a
//!   wrong response, a closed connection, a socket error or 10 s without any response aborts
//!   the run with a message, as does a server-side connection error.
//!
//!   **Latency** is measured from the request's *scheduled* send time (or from its actual
//!   send, when that was earlier, by the 50 µs lead) to the last byte of its response. A
//!   server that falls behind therefore pays for the requests it delayed, not only for the
//!   ones it answered, which avoids the coordinated omission of a closed-loop client (whose
//!   latency would be measured from a send the slow server itself had put off). It also
//!   charges the client's own lateness to the latency: `client_lag_p99_us` in the JSON (how
//!   late the client sent requests whose connection was idle, i.e. its timer and CPU alone)
//!   shows how much of it that is, and `behind` (each round's line, `behind_share` in the
//!   JSON) the share of requests sent late because the previous one on their connection was
//!   still unanswered. When the machine cannot serve
//!   the offered rate, the achieved rate falls below it and the latencies grow with the
//!   backlog over the window: both are shown, the offered rate next to the achieved one.
//!
//! # How it is measured
//!
//! The server process samples its resident set size (`VmRSS`) and, with glibc, the heap in
//! use (`mallinfo2`: bytes allocated and not freed, in every arena, plus mmapped chunks)
//! before starting the client, with the runtime built, its accept loop waiting and nothing
//! connected. The client prints a line when every connection is open, and one at each edge
//! of the measured window (after `MAGPIE_BENCH_CONN_WARMUP_SECS` of load, default 2 s; the
//! window lasts `MAGPIE_BENCH_CONN_SECS`, default 3 s); the server reads them from a pipe,
//! and closes the client's stdin once it has taken its end-of-window samples: the client
//! drains its outstanding responses and keeps every connection open until then.
//! During the window a sampler thread reads `VmRSS` every 10 ms. **Memory per connection**
//! is (the largest RSS seen during the window, every connection open − the RSS before any
//! connection) / `N`: what the runtime, its registrations, the tasks and hyper's
//! per-connection state (buffers, timer, service) cost in resident pages. **Heap per
//! connection** is the same difference of the heap in use, at the window's end: bytes
//! allocated, whether or not their pages were touched (hyper's 8 KiB read buffer and 8 KiB
//! header buffer are most of it, and only their first pages are written). **Idle RSS per
//! connection** is the RSS difference once every connection has answered its first
//! request, before the load starts. The RSS under load also counts memory the allocator
//! keeps after it was freed: glibc gives each thread an arena of its own, so a connection
//! whose task moves between workers frees into one arena and allocates from another, and
//! that RSS grows during the load while the heap in use does not (it does not with one
//! worker, or with `MALLOC_ARENA_MAX=1`); the idle and heap figures leave that out.
//! **Server CPU per request** is the server process's CPU time
//! (`CLOCK_PROCESS_CPUTIME_ID`, all threads, less the sampler thread's) over the window,
//! divided by the responses completed in it; the client's share is its process's CPU over
//! the window divided by the sum of both.
//!
//! Rounds (`MAGPIE_BENCH_CONN_ROUNDS`, default 3) alternate the runtimes' order (magpie
//! tokio smol, tokio smol magpie, ...); reported per runtime are the medians over the rounds
//! and the ratios of magpie's medians to tokio's and smol's. Targets (issue 20): magpie's
//! memory per connection ≤ tokio's, and magpie's p99 ≤ tokio's.
//!
//! On a 2-CPU machine the client process and the server's workers share the CPUs: the
//! offered 100,000 requests/s can be more than client and server together can do there,
//! and then the achieved rate and the latencies are the machine's limit, reached by every
//! runtime under the same client. The defaults are the issue's (10,000 connections, one
//! request each per 100 ms) all the same; the achieved rate says how far it got (on the
//! 2-CPU development VM, 70,000–90,000 requests/s, with latencies of a backlog of hundreds
//! of ms). `MAGPIE_BENCH_CONN_INTERVAL_MS=1000` (or 200) offers a rate every runtime keeps
//! up with there, for latencies of the service itself. The defaults take about a minute.
//!
//! Prints a table and writes `target/magpie-conn-figures.json`
//! (`MAGPIE_BENCH_CONN_FIGURES_JSON` overrides the path), which `scripts/bench_report.py`
//! turns into the "Connection scale" section of `docs/benchmarks.md`.
//!
//! ```text
//! cargo bench -p magpie-benches --bench conn_figures              # 3 rounds × 3 runtimes
//! cargo bench -p magpie-benches --bench conn_figures -- --quick   # smoke run, no JSON
//! MAGPIE_BENCH_CONN_COUNT=2000 MAGPIE_BENCH_CONN_INTERVAL_MS=20 \
//!     cargo bench -p magpie-benches --bench conn_figures
//! ```
//!
//! A quick smoke run (one round, 200 connections, 0.2 s warm-up, 0.5 s measured, no JSON)
//! happens without `--bench` on the command line (`cargo test --benches`), with `--test`,
//! with `--quick`, or with `MAGPIE_BENCH_QUICK=1`. Filters follow `benches/figures.rs` (the
//! only figure is `conn_scale`).
//!
//! Linux only: the client is raw `epoll` and `timerfd`, the memory comes from `/proc`.
//! Elsewhere the binary says so and exits successfully, so `cargo bench` runs on every
//! platform.

#[cfg(target_os = "linux")]
mod linux {
    use std::fmt::Write as _;
    use std::fs::File;
    use std::io::{self, BufRead, BufReader, Read, Write};
    use std::net::{SocketAddr, TcpStream};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::process::{Command, Stdio};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use hyper::service::service_fn;

    use magpie_benches::figures::{
        cpus, json_number, lookup, median, print_result, FigureBench, Stats, RUNTIMES,
    };
    use magpie_benches::http::{
        check_closed, complete_response, hello, open_connections, serve_magpie, serve_smol,
        serve_tokio, thread_cpu_time, Epoll, Http1Only, BODY, REQUEST, STALL,
    };
    use magpie_benches::{process_cpu_time, rss_bytes, workers};

    const BENCH: FigureBench = FigureBench {
        name: "conn_figures",
        child_flag: "--magpie-conn-figure-child",
        figures: &[CONN_SCALE],
        knobs: &[
            COUNT_ENV,
            INTERVAL_ENV,
            SECS_ENV,
            WARMUP_ENV,
            ROUNDS_ENV,
            QUICK_ENV,
        ],
        json_env: "MAGPIE_BENCH_CONN_FIGURES_JSON",
        json_file: "magpie-conn-figures.json",
        command_env: "BENCH_CONN_FIGURES_COMMAND",
    };

    const CONN_SCALE: &str = "conn_scale";

    /// First argument of the client process (the server process starts it).
    const CLIENT_FLAG: &str = "--magpie-conn-client";
    /// Prefix of the client's progress lines on its stdout, which the server reads.
    const MARK: &str = "CONN_CLIENT";
    /// Prefix of a child's result line (as `figures::print_result` writes it).
    const RESULT: &str = "RESULT";

    const COUNT_ENV: &str = "MAGPIE_BENCH_CONN_COUNT";
    const INTERVAL_ENV: &str = "MAGPIE_BENCH_CONN_INTERVAL_MS";
    const SECS_ENV: &str = "MAGPIE_BENCH_CONN_SECS";
    const WARMUP_ENV: &str = "MAGPIE_BENCH_CONN_WARMUP_SECS";
    const ROUNDS_ENV: &str = "MAGPIE_BENCH_CONN_ROUNDS";
    const QUICK_ENV: &str = "MAGPIE_BENCH_QUICK";

    /// Connections opened before the client waits for their first responses: half of the
    /// listen backlog every runtime here uses (std's 128, which magpie's `TcpListener`, mio's
    /// and async-io's all pass to `listen`), so the accept queue never overflows (a dropped
    /// SYN costs a 1 s retransmission).
    const CONNECT_BATCH: usize = 64;
    /// How early the client sends a request that is due soon: one wake-up sends them all.
    const LEAD: Duration = Duration::from_micros(50);
    /// How often the server samples its RSS during the measured window.
    const RSS_SAMPLE: Duration = Duration::from_millis(10);
    /// Descriptors beyond one per connection: the server's epoll, listener, eventfds,
    /// pipes and std's own; the client's epoll and timerfd.
    const SERVER_SPARE_FDS: usize = 256;
    const CLIENT_SPARE_FDS: usize = 64;

    /// The run's settings.
    #[derive(Clone, Debug)]
    struct Settings {
        conns: usize,
        interval: Duration,
        warmup: Duration,
        measure: Duration,
        rounds: usize,
    }

    impl Settings {
        fn from_env(quick: bool) -> Settings {
            let count = |env: &str, default: usize, quick_default: usize| match std::env::var(env) {
                Ok(s) => match s.trim().parse::<usize>() {
                    Ok(n) if n > 0 => n,
                    _ => panic!("{env} must be a positive integer, got {s:?}"),
                },
                Err(_) if quick => quick_default,
                Err(_) => default,
            };
            let positive =
                |env: &str, default: f64, quick_default: f64, unit: f64| match std::env::var(env) {
                    Ok(s) => match s.trim().parse::<f64>() {
                        Ok(v) if v > 0.0 && v.is_finite() => Duration::from_secs_f64(v * unit),
                        _ => panic!("{env} must be a positive number, got {s:?}"),
                    },
                    Err(_) => {
                        Duration::from_secs_f64(if quick { quick_default } else { default } * unit)
                    }
                };
            Settings {
                conns: count(COUNT_ENV, 10_000, 200),
                interval: positive(INTERVAL_ENV, 100.0, 100.0, 1e-3),
                warmup: positive(WARMUP_ENV, 2.0, 0.2, 1.0),
                measure: positive(SECS_ENV, 3.0, 0.5, 1.0),
                rounds: count(ROUNDS_ENV, 3, 1),
            }
        }

        /// The arguments a server process gets after the figure and the runtime (and passes
        /// on to its client after the address).
        fn child_args(&self) -> Vec<String> {
            vec![
                self.conns.to_string(),
                self.interval.as_secs_f64().to_string(),
                self.warmup.as_secs_f64().to_string(),
                self.measure.as_secs_f64().to_string(),
            ]
        }

        /// The inverse of [`child_args`](Settings::child_args); one round.
        fn from_args(args: &[String]) -> Settings {
            let [conns, interval, warmup, measure] = args else {
                panic!(
                    "expected <connections> <interval s> <warm-up s> <measured s>, got {args:?}"
                );
            };
            let secs = |s: &str| Duration::from_secs_f64(s.parse().expect("durations are seconds"));
            Settings {
                conns: conns.parse().expect("connections is a count"),
                interval: secs(interval),
                warmup: secs(warmup),
                measure: secs(measure),
                rounds: 1,
            }
        }

        fn offered_rps(&self) -> f64 {
            self.conns as f64 / self.interval.as_secs_f64()
        }
    }

    pub(crate) fn main() {
        let args: Vec<String> = std::env::args().collect();
        if args.get(1).map(String::as_str) == Some(CLIENT_FLAG) {
            client_main(&args[2..]);
            return;
        }
        let Some(mut selection) = BENCH.start(server_child) else {
            return;
        };
        if args.iter().any(|a| a == "--quick")
            || std::env::var(QUICK_ENV).is_ok_and(|v| !v.is_empty() && v != "0")
        {
            selection.quick = true;
        }
        let settings = Settings::from_env(selection.quick);
        let mut sections = Vec::new();
        if selection.runs(CONN_SCALE) {
            sections.push(conn_scale(&settings));
        }
        BENCH.finish(&selection, &sections);
    }

    // -----------------------------------------------------------------------------------
    // Parent: rounds, medians, table, JSON
    // -----------------------------------------------------------------------------------

    /// The figures in the table, in order: (key, column title).
    const SHOWN: &[(&str, &str)] = &[
        ("offered_rps", "offered/s"),
        ("rps", "achieved/s"),
        ("p50_us", "p50 µs"),
        ("p99_us", "p99 µs"),
        ("p999_us", "p99.9 µs"),
        ("mem_per_conn_kib", "RSS KiB/conn"),
        ("mem_per_conn_connected_kib", "idle RSS KiB/c"),
        ("heap_per_conn_kib", "heap KiB/conn"),
        ("server_cpu_us_per_req", "srv CPU µs/req"),
        ("client_cpu_share", "client CPU"),
    ];

    /// Every round of every runtime; prints the table; returns the JSON section.
    fn conn_scale(settings: &Settings) -> String {
        let cpus = cpus();
        println!(
            "\n{CONN_SCALE}: {} keep-alive connections, each sending GET / every {:?} \
             ({:.0} requests/s offered, open loop, latency from the scheduled send), hyper \
             http1 answering {:?}; {} workers per runtime; the client is a process of its own \
             (one epoll thread); {} round(s) of {:?} warm-up + {:?} measured, runtimes \
             alternating",
            settings.conns,
            settings.interval,
            settings.offered_rps(),
            std::str::from_utf8(BODY).unwrap(),
            workers(),
            settings.rounds,
            settings.warmup,
            settings.measure,
        );
        println!(
            "note: this machine has {cpus} CPU(s), shared by the client process and the \
             server's {} workers",
            workers()
        );

        let mut per_rt: Vec<Vec<Stats>> = vec![Vec::new(); RUNTIMES.len()];
        for round in 0..settings.rounds {
            for k in 0..RUNTIMES.len() {
                let i = (round + k) % RUNTIMES.len();
                let rt = RUNTIMES[i];
                let stats = BENCH.run_child(CONN_SCALE, rt, &settings.child_args());
                let get = |key| lookup(&stats, key);
                println!(
                    "  round {} {:<7} {:>7.0}/{:.0} req/s  p50 {:>8.0} µs  p99 {:>9.0} µs  \
                     RSS {:>5.2} KiB/conn  heap {:>5.2} KiB/conn  server CPU {:>5.1} µs/req  \
                     client CPU {:>3.0}%  behind {:>3.0}%  connect {:.1} s",
                    round + 1,
                    rt,
                    get("rps"),
                    get("offered_rps"),
                    get("p50_us"),
                    get("p99_us"),
                    get("mem_per_conn_kib"),
                    get("heap_per_conn_kib"),
                    get("server_cpu_us_per_req"),
                    100.0 * get("client_cpu_share"),
                    100.0 * get("behind_share"),
                    get("connect_secs"),
                );
                per_rt[i].push(stats);
            }
        }

        // Medians per runtime of every figure the children reported.
        let keys: Vec<String> = per_rt[0][0].iter().map(|(k, _)| k.clone()).collect();
        let medians: Vec<Vec<(String, f64)>> = per_rt
            .iter()
            .map(|rounds| {
                keys.iter()
                    .map(|k| {
                        (
                            k.clone(),
                            median(rounds.iter().map(|s| lookup(s, k)).collect()),
                        )
                    })
                    .collect()
            })
            .collect();
        let get = |rt: &str, key: &str| -> f64 {
            let i = RUNTIMES.iter().position(|r| *r == rt).unwrap();
            medians[i]
                .iter()
                .find(|(k, _)| k == key)
                .map_or(f64::NAN, |(_, v)| *v)
        };

        println!(
            "\n  medians over {} round(s), {} connections:",
            settings.rounds, settings.conns
        );
        print!("  {:<8}", "runtime");
        for (_, title) in SHOWN {
            print!(" {title:>14}");
        }
        println!();
        for rt in RUNTIMES {
            print!("  {rt:<8}");
            for (k, _) in SHOWN {
                let v = get(rt, k);
                match *k {
                    "client_cpu_share" => print!(" {:>13.0}%", 100.0 * v),
                    "mem_per_conn_kib" | "mem_per_conn_connected_kib" | "heap_per_conn_kib" => {
                        print!(" {v:>14.2}")
                    }
                    _ => print!(" {v:>14.0}"),
                }
            }
            println!();
        }
        let ratio = |a: &str, b: &str, key: &str| get(a, key) / get(b, key);
        let per_round = |key: &str| -> Vec<f64> {
            let at = |rt: &str| RUNTIMES.iter().position(|r| *r == rt).unwrap();
            per_rt[at("magpie")]
                .iter()
                .zip(&per_rt[at("tokio")])
                .map(|(m, t)| lookup(m, key) / lookup(t, key))
                .collect()
        };
        let range = |v: &[f64]| {
            (
                v.iter().copied().fold(f64::INFINITY, f64::min),
                v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            )
        };
        let (mem_mt, p99_mt) = (
            ratio("magpie", "tokio", "mem_per_conn_kib"),
            ratio("magpie", "tokio", "p99_us"),
        );
        let (mem_rounds, p99_rounds) = (per_round("mem_per_conn_kib"), per_round("p99_us"));
        let ((mem_lo, mem_hi), (p99_lo, p99_hi)) = (range(&mem_rounds), range(&p99_rounds));
        let verdict = |v: f64| if v <= 1.0 { "met" } else { "missed" };
        println!(
            "  magpie/tokio: memory/conn {mem_mt:.2} (target ≤ 1.0: {}; rounds \
             {mem_lo:.2}–{mem_hi:.2}), p99 {p99_mt:.2} (target ≤ 1.0: {}; rounds \
             {p99_lo:.2}–{p99_hi:.2}), heap/conn {:.2}, achieved req/s {:.2}, server CPU/req {:.2}",
            verdict(mem_mt),
            verdict(p99_mt),
            ratio("magpie", "tokio", "heap_per_conn_kib"),
            ratio("magpie", "tokio", "rps"),
            ratio("magpie", "tokio", "server_cpu_us_per_req"),
        );
        println!(
            "  magpie/smol:  memory/conn {:.2}, p99 {:.2}, heap/conn {:.2}, achieved req/s \
             {:.2}, server CPU/req {:.2}",
            ratio("magpie", "smol", "mem_per_conn_kib"),
            ratio("magpie", "smol", "p99_us"),
            ratio("magpie", "smol", "heap_per_conn_kib"),
            ratio("magpie", "smol", "rps"),
            ratio("magpie", "smol", "server_cpu_us_per_req"),
        );

        // JSON: the settings, per runtime the medians and every round, the ratios.
        let mut json = format!("  \"{CONN_SCALE}\": {{\n");
        for (k, v) in [
            ("connections", settings.conns as f64),
            ("interval_ms", settings.interval.as_secs_f64() * 1e3),
            ("offered_rps", settings.offered_rps()),
            ("warmup_secs", settings.warmup.as_secs_f64()),
            ("measure_secs", settings.measure.as_secs_f64()),
            ("rounds", settings.rounds as f64),
            ("cpus", cpus as f64),
            ("body_bytes", BODY.len() as f64),
        ] {
            let _ = writeln!(json, "    \"{k}\": {},", json_number(v));
        }
        let _ = writeln!(
            json,
            "    \"runtimes_order\": [{}],",
            RUNTIMES.map(|r| format!("\"{r}\"")).join(", ")
        );
        json.push_str("    \"runtimes\": {\n");
        let fields = |stats: &[(String, f64)]| -> String {
            stats
                .iter()
                .map(|(k, v)| format!("\"{k}\": {}", json_number(*v)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        for (i, rt) in RUNTIMES.iter().enumerate() {
            let rounds: Vec<String> = per_rt[i]
                .iter()
                .map(|s| format!("{{{}}}", fields(s)))
                .collect();
            let comma = if i + 1 < RUNTIMES.len() { "," } else { "" };
            let _ = writeln!(
                json,
                "      \"{rt}\": {{{}, \"per_round\": [{}]}}{comma}",
                fields(&medians[i]),
                rounds.join(", ")
            );
        }
        json.push_str("    },\n");
        let list = |v: &[f64]| {
            v.iter()
                .map(|x| json_number(*x))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            json,
            "    \"ratios\": {{\"mem_per_conn_magpie_tokio\": {}, \"p99_magpie_tokio\": {}, \
             \"mem_per_conn_magpie_tokio_per_round\": [{}], \"p99_magpie_tokio_per_round\": [{}], \
             \"heap_per_conn_magpie_tokio\": {}, \"rps_magpie_tokio\": {}, \
             \"server_cpu_magpie_tokio\": {}, \"mem_per_conn_magpie_smol\": {}, \
             \"p99_magpie_smol\": {}, \"heap_per_conn_magpie_smol\": {}, \"rps_magpie_smol\": {}, \
             \"server_cpu_magpie_smol\": {}}}",
            json_number(mem_mt),
            json_number(p99_mt),
            list(&mem_rounds),
            list(&p99_rounds),
            json_number(ratio("magpie", "tokio", "heap_per_conn_kib")),
            json_number(ratio("magpie", "tokio", "rps")),
            json_number(ratio("magpie", "tokio", "server_cpu_us_per_req")),
            json_number(ratio("magpie", "smol", "mem_per_conn_kib")),
            json_number(ratio("magpie", "smol", "p99_us")),
            json_number(ratio("magpie", "smol", "heap_per_conn_kib")),
            json_number(ratio("magpie", "smol", "rps")),
            json_number(ratio("magpie", "smol", "server_cpu_us_per_req")),
        );
        json.push_str("  }");
        json
    }

    // -----------------------------------------------------------------------------------
    // Both processes: descriptors, CPU, memory
    // -----------------------------------------------------------------------------------

    /// Raises `RLIMIT_NOFILE`'s soft limit to the hard one when it is below `need`; panics,
    /// naming the limit and the need, when the hard limit is below `need` too.
    fn raise_nofile(who: &str, conns: usize, spare: usize) {
        let need = (conns + spare) as libc::rlim_t;
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `limit` is a valid, writable `rlimit` for the duration of the call.
        let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
        assert_eq!(
            rc,
            0,
            "getrlimit(RLIMIT_NOFILE): {}",
            io::Error::last_os_error()
        );
        if limit.rlim_cur >= need {
            return;
        }
        if limit.rlim_max != libc::RLIM_INFINITY && limit.rlim_max < need {
            panic!(
                "{CONN_SCALE}: the {who} needs {need} file descriptors ({conns} connections + \
                 {spare} spare) but RLIMIT_NOFILE's hard limit is {} (soft {}): raise the hard \
                 limit (`ulimit -Hn {need}` as root, LimitNOFILE=, limits.conf) or lower \
                 {COUNT_ENV}",
                limit.rlim_max, limit.rlim_cur
            );
        }
        // An infinite hard limit: the soft one cannot be infinite (it is capped by
        // fs.nr_open), so take what is needed.
        limit.rlim_cur = if limit.rlim_max == libc::RLIM_INFINITY {
            need
        } else {
            limit.rlim_max
        };
        // SAFETY: `limit` is a valid `rlimit` for the duration of the call, its soft limit
        // at most its hard one.
        let rc = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
        assert_eq!(
            rc,
            0,
            "{CONN_SCALE}: the {who} cannot raise RLIMIT_NOFILE's soft limit to {}: {}",
            limit.rlim_cur,
            io::Error::last_os_error()
        );
    }

    /// This process's resident set size; panics where `/proc` does not say.
    fn rss() -> u64 {
        rss_bytes().expect("VmRSS of /proc/self/status")
    }

    /// The bytes of heap in use (allocated, not freed: every arena's `uordblks` plus the
    /// mmapped chunks' `hblkhd`), from glibc's `mallinfo2`; `None` where the C library has
    /// no `mallinfo2` (glibc before 2.33, musl). Looked up at run time so that the binary
    /// still links against an older glibc.
    #[cfg(target_env = "gnu")]
    fn heap_in_use() -> Option<u64> {
        type MallInfo2 = unsafe extern "C" fn() -> libc::mallinfo2;
        // SAFETY: dlsym only looks a symbol up; the name is a NUL-terminated C string and
        // RTLD_DEFAULT searches the objects already loaded.
        let symbol = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"mallinfo2".as_ptr()) };
        if symbol.is_null() {
            return None;
        }
        // SAFETY: glibc's `mallinfo2` is `struct mallinfo2 mallinfo2(void)`, which is what
        // `libc::mallinfo2` mirrors; the symbol is non-null.
        let mallinfo2: MallInfo2 = unsafe { std::mem::transmute(symbol) };
        // SAFETY: `mallinfo2` takes no arguments and only reads the allocator's statistics
        // (under each arena's lock).
        let info = unsafe { mallinfo2() };
        Some((info.uordblks + info.hblkhd) as u64)
    }

    #[cfg(not(target_env = "gnu"))]
    fn heap_in_use() -> Option<u64> {
        None
    }

    // -----------------------------------------------------------------------------------
    // Server process: one runtime's server, the client process, one RESULT line
    // -----------------------------------------------------------------------------------

    fn server_child(args: &[String]) {
        let [figure, runtime, rest @ ..] = args else {
            panic!("usage: <child flag> <figure> <runtime> <settings...>, got {args:?}");
        };
        assert_eq!(figure, CONN_SCALE, "unknown figure {figure:?}");
        let settings = Settings::from_args(rest);
        raise_nofile("server", settings.conns, SERVER_SPARE_FDS);
        let drive = |addr| drive_client(addr, &settings);
        let stats = match runtime.as_str() {
            "magpie" => serve_magpie(service_fn(hello), Http1Only, drive),
            "tokio" => serve_tokio(service_fn(hello), Http1Only, drive),
            "smol" => serve_smol(service_fn(hello), Http1Only, drive),
            other => panic!("unknown runtime {other:?}"),
        };
        print_result(&stats);
    }

    /// Samples this process's RSS every [`RSS_SAMPLE`] on a thread of its own until stopped;
    /// [`stop`](RssSampler::stop) returns the largest value and the thread's CPU time.
    struct RssSampler {
        stop: Arc<AtomicBool>,
        thread: std::thread::JoinHandle<(u64, Duration)>,
    }

    impl RssSampler {
        fn start() -> RssSampler {
            let stop = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&stop);
            let thread = std::thread::Builder::new()
                .name("rss-sampler".into())
                .spawn(move || {
                    let mut max = rss();
                    while !flag.load(Ordering::SeqCst) {
                        std::thread::sleep(RSS_SAMPLE);
                        max = max.max(rss());
                    }
                    (max, thread_cpu_time())
                })
                .expect("spawn the RSS sampler");
            RssSampler { stop, thread }
        }

        fn stop(self) -> (u64, Duration) {
            self.stop.store(true, Ordering::SeqCst);
            self.thread.join().expect("the RSS sampler panicked")
        }
    }

    /// Parses a `RESULT k=v ...` line's fields.
    fn parse_result(fields: &str) -> Stats {
        fields
            .split_whitespace()
            .map(|kv| {
                let (k, v) = kv.split_once('=').expect("RESULT fields are key=value");
                (k.to_string(), v.parse().expect("RESULT values are numbers"))
            })
            .collect()
    }

    /// Runs the client process against the server at `addr` and reads its progress: the
    /// server's memory before any connection and while all are open, its CPU over the
    /// measured window; then checks that the server closed every connection cleanly.
    /// Returns the client's figures and the server's.
    fn drive_client(addr: SocketAddr, settings: &Settings) -> Stats {
        // Let the runtime settle: its workers parked, the accept loop waiting.
        std::thread::sleep(Duration::from_millis(50));
        let (rss_before, heap_before) = (rss(), heap_in_use());

        let exe = std::env::current_exe().expect("cannot find this benchmark's executable");
        let mut client = Command::new(exe)
            .arg(CLIENT_FLAG)
            .arg(addr.to_string())
            .args(settings.child_args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("cannot start the client process");
        let lines = BufReader::new(client.stdout.take().expect("the client's stdout"));
        // Closing it tells the client it may close its connections.
        let mut hold = Some(client.stdin.take().expect("the client's stdin"));

        let mut rss_connected = None;
        let mut window_start = None;
        let mut sampler = None;
        let mut window_end = None;
        let mut client_stats = None;
        for line in lines.lines() {
            let line = line.expect("reading the client's output");
            if let Some(mark) = line.strip_prefix(MARK) {
                match mark.trim() {
                    "connected" => {
                        let open = open_connections();
                        assert_eq!(
                            open, settings.conns,
                            "{CONN_SCALE}: the client opened {} connections, the server serves {open}",
                            settings.conns
                        );
                        rss_connected = Some((rss(), heap_in_use()));
                    }
                    "window_start" => {
                        window_start = Some(process_cpu_time());
                        sampler = Some(RssSampler::start());
                    }
                    "window_end" => {
                        let (cpu, heap, rss_end) = (process_cpu_time(), heap_in_use(), rss());
                        let (rss_max, sampler_cpu) = sampler
                            .take()
                            .expect("the window ends after it starts")
                            .stop();
                        window_end = Some((cpu, rss_max.max(rss_end), sampler_cpu, heap));
                        drop(hold.take());
                    }
                    other => panic!("{CONN_SCALE}: unknown client mark {other:?}"),
                }
            } else if let Some(fields) = line.strip_prefix(RESULT) {
                client_stats = Some(parse_result(fields));
            } else {
                eprintln!("{CONN_SCALE} client: {line}");
            }
        }
        let status = client.wait().expect("waiting for the client");
        assert!(
            status.success(),
            "{CONN_SCALE}: the client process failed ({status})"
        );
        let mut stats = client_stats.expect("the client printed no RESULT line");

        // The client has closed every connection: the server must see each end cleanly.
        check_closed(
            CONN_SCALE,
            Duration::from_secs(20),
            Duration::from_millis(5),
        );

        let conns = settings.conns as f64;
        let (rss_connected, heap_connected) =
            rss_connected.expect("the client never said it was connected");
        let cpu0 = window_start.expect("the client never started the window");
        let (cpu1, rss_max, sampler_cpu, heap_end) =
            window_end.expect("the client never ended the window");
        let server_cpu = cpu1
            .saturating_sub(cpu0)
            .saturating_sub(sampler_cpu)
            .as_secs_f64();
        let requests = lookup(&stats, "requests");
        let client_cpu = lookup(&stats, "client_cpu_s");
        let measure = settings.measure.as_secs_f64();
        let kib_per_conn = |after: f64, before: f64| (after - before) / conns / 1024.0;
        let heap_per_conn = |after: Option<u64>| match (heap_before, after) {
            (Some(b), Some(a)) => kib_per_conn(a as f64, b as f64),
            _ => f64::NAN,
        };
        stats.extend([
            (
                "mem_per_conn_kib".to_string(),
                kib_per_conn(rss_max as f64, rss_before as f64),
            ),
            ("heap_per_conn_kib".to_string(), heap_per_conn(heap_end)),
            (
                "heap_per_conn_connected_kib".to_string(),
                heap_per_conn(heap_connected),
            ),
            (
                "mem_per_conn_connected_kib".to_string(),
                kib_per_conn(rss_connected as f64, rss_before as f64),
            ),
            ("rss_before_mib".to_string(), rss_before as f64 / 1048576.0),
            (
                "rss_connected_mib".to_string(),
                rss_connected as f64 / 1048576.0,
            ),
            ("rss_max_mib".to_string(), rss_max as f64 / 1048576.0),
            (
                "heap_before_mib".to_string(),
                heap_before.map_or(f64::NAN, |b| b as f64 / 1048576.0),
            ),
            (
                "heap_end_mib".to_string(),
                heap_end.map_or(f64::NAN, |b| b as f64 / 1048576.0),
            ),
            ("server_cpu_s".to_string(), server_cpu),
            ("server_cpu_cores".to_string(), server_cpu / measure),
            (
                "server_cpu_us_per_req".to_string(),
                server_cpu * 1e6 / requests,
            ),
            (
                "client_cpu_share".to_string(),
                if server_cpu + client_cpu > 0.0 {
                    client_cpu / (server_cpu + client_cpu)
                } else {
                    f64::NAN
                },
            ),
        ]);
        stats
    }

    // -----------------------------------------------------------------------------------
    // Client process: N connections, open-loop requests, one RESULT line
    // -----------------------------------------------------------------------------------

    fn client_main(args: &[String]) {
        let [addr, rest @ ..] = args else {
            panic!("usage: {CLIENT_FLAG} <addr> <settings...>, got {args:?}");
        };
        let addr: SocketAddr = addr.parse().expect("the server's address");
        let settings = Settings::from_args(rest);
        raise_nofile("client", settings.conns, CLIENT_SPARE_FDS);
        let stats = client(addr, &settings);
        print_result(&stats);
    }

    /// Prints a progress line for the server.
    fn mark(what: &str) {
        println!("{MARK} {what}");
        io::stdout().flush().expect("writing to the server");
    }

    /// A non-blocking one-shot `timerfd` on the monotonic clock (`Instant`'s), to wake the
    /// client's `epoll_wait` with nanosecond resolution (its own timeout is in ms).
    struct TimerFd(File);

    impl TimerFd {
        fn new() -> TimerFd {
            // SAFETY: timerfd_create takes no pointers; the clock and flags are valid.
            let fd = unsafe {
                libc::timerfd_create(
                    libc::CLOCK_MONOTONIC,
                    libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
                )
            };
            assert!(fd >= 0, "timerfd_create: {}", io::Error::last_os_error());
            // SAFETY: `fd` is a fresh descriptor that nothing else owns.
            TimerFd(File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
        }

        /// Arms the timer to expire once, `after` from now (at least 1 ns: zero disarms).
        fn arm(&self, after: Duration) {
            let after = after.max(Duration::from_nanos(1));
            let spec = libc::itimerspec {
                it_interval: libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                },
                it_value: libc::timespec {
                    tv_sec: after.as_secs() as libc::time_t,
                    tv_nsec: after.subsec_nanos() as libc::c_long,
                },
            };
            // SAFETY: the descriptor is an open timerfd, `spec` a valid itimerspec for the
            // duration of the call, and a null old value is allowed.
            let rc = unsafe {
                libc::timerfd_settime(self.0.as_raw_fd(), 0, &spec, std::ptr::null_mut())
            };
            assert_eq!(rc, 0, "timerfd_settime: {}", io::Error::last_os_error());
        }

        /// Consumes an expiry, so that the level-triggered epoll stops reporting it.
        fn clear(&self) {
            let mut expirations = [0u8; 8];
            match (&self.0).read(&mut expirations) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("reading the timerfd: {e}"),
            }
        }
    }

    /// One keep-alive connection of the client.
    struct Conn {
        stream: TcpStream,
        /// The response read so far.
        buf: Vec<u8>,
        /// The index of the next request to send (its scheduled time is
        /// `start + next·T + i·T/N`).
        next: u64,
        /// When the outstanding request's latency started (its scheduled send, or its actual
        /// send when that was earlier); `None` when no request is outstanding.
        started: Option<Instant>,
    }

    /// Sends one request on `c`, whose scheduled time is `due`.
    fn send(c: &mut Conn, due: Instant) -> Instant {
        match c.stream.write(REQUEST) {
            Ok(n) if n == REQUEST.len() => {}
            // One small request at a time per connection: its send buffer is never full,
            // so anything else is a failure.
            other => panic!("{CONN_SCALE}: sending a request: {other:?}"),
        }
        let sent = Instant::now();
        c.started = Some(due.min(sent));
        c.next += 1;
        sent
    }

    /// Opens the connections, in batches of [`CONNECT_BATCH`], each with one request
    /// answered (blocking), then made non-blocking and registered with `epoll`.
    fn connect_all(addr: SocketAddr, n: usize, epoll: &Epoll) -> Vec<Conn> {
        let mut conns: Vec<Conn> = Vec::with_capacity(n);
        let mut chunk = [0u8; 4096];
        while conns.len() < n {
            let batch: Vec<TcpStream> = (conns.len()..n.min(conns.len() + CONNECT_BATCH))
                .map(|i| {
                    let mut stream = TcpStream::connect(addr).unwrap_or_else(|e| {
                        panic!("{CONN_SCALE}: connection {i} of {n} to {addr}: {e}")
                    });
                    stream.set_nodelay(true).expect("set_nodelay");
                    stream
                        .set_read_timeout(Some(STALL))
                        .expect("set_read_timeout");
                    stream
                        .write_all(REQUEST)
                        .expect("sending the first request");
                    stream
                })
                .collect();
            for mut stream in batch {
                let mut buf = Vec::with_capacity(256);
                while !complete_response(&buf, CONN_SCALE) {
                    match stream.read(&mut chunk) {
                        Ok(0) => panic!("{CONN_SCALE}: the server closed a new connection"),
                        Ok(read) => buf.extend_from_slice(&chunk[..read]),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => panic!(
                            "{CONN_SCALE}: the first response on connection {} ({e}; \
                             {STALL:?} timeout)",
                            conns.len()
                        ),
                    }
                }
                buf.clear();
                stream.set_nonblocking(true).expect("set_nonblocking");
                epoll.add(stream.as_raw_fd(), conns.len() as u64);
                conns.push(Conn {
                    stream,
                    buf,
                    next: 0,
                    started: None,
                });
            }
        }
        conns
    }

    /// The `p` quantile of sorted nanoseconds, in µs.
    fn percentile_us(sorted_ns: &[u64], p: f64) -> f64 {
        if sorted_ns.is_empty() {
            return f64::NAN;
        }
        let i = ((p * sorted_ns.len() as f64).ceil() as usize).clamp(1, sorted_ns.len()) - 1;
        sorted_ns[i] as f64 / 1e3
    }

    /// The client: opens the connections, runs the open-loop schedule (warm-up, then the
    /// measured window), drains the outstanding responses, closes everything. Runs on the
    /// calling thread.
    fn client(addr: SocketAddr, settings: &Settings) -> Stats {
        let n = settings.conns;
        let epoll = Epoll::new();
        let setup = Instant::now();
        let mut conns = connect_all(addr, n, &epoll);
        let connect_secs = setup.elapsed().as_secs_f64();
        mark("connected");

        let timer = TimerFd::new();
        const TIMER: u64 = u64::MAX;
        epoll.add(timer.0.as_raw_fd(), TIMER);

        // Slot s is request s / N of connection s % N, due at start + s·T/N.
        let interval_ns = settings.interval.as_nanos();
        let start = Instant::now() + Duration::from_millis(1);
        let slot_time =
            |s: u64| start + Duration::from_nanos((u128::from(s) * interval_ns / n as u128) as u64);
        let due = |i: usize, k: u64| slot_time(k * n as u64 + i as u64);
        let (t0, t1) = (
            start + settings.warmup,
            start + settings.warmup + settings.measure,
        );

        let mut next_slot: u64 = 0;
        let mut outstanding = 0usize;
        let mut armed: Option<Instant> = None;
        let mut latencies_ns: Vec<u64> =
            Vec::with_capacity((settings.offered_rps() * settings.measure.as_secs_f64()) as usize);
        // Of the requests sent during the window: the client's own lateness for those sent
        // on an idle connection, and how many were sent late because their connection was
        // still waiting for the previous response.
        let mut lag_ns: Vec<u64> = Vec::with_capacity(latencies_ns.capacity());
        let (mut sent_in_window, mut sent_behind) = (0u64, 0u64);
        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 1024];
        let mut chunk = [0u8; 4096];
        let mut last_response = Instant::now();
        let mut cpu_t0 = None;
        let mut cpu_t1 = None;

        loop {
            let now = Instant::now();
            if cpu_t0.is_none() && now >= t0 {
                cpu_t0 = Some(process_cpu_time());
                mark("window_start");
            }
            if cpu_t1.is_none() && now >= t1 {
                cpu_t1 = Some(process_cpu_time());
                mark("window_end");
            }
            // The scheduled sends due by now + LEAD, while the schedule runs.
            let horizon = now + LEAD;
            let last = horizon.min(t1 - Duration::from_nanos(1));
            while now < t1 && slot_time(next_slot) <= last {
                let (i, k) = ((next_slot % n as u64) as usize, next_slot / n as u64);
                let c = &mut conns[i];
                // A busy connection sends this one when its response is in (below).
                if c.started.is_none() && c.next <= k {
                    let at = due(i, c.next);
                    let sent = send(c, at);
                    outstanding += 1;
                    if sent >= t0 && sent < t1 {
                        sent_in_window += 1;
                        lag_ns.push(sent.saturating_duration_since(at).as_nanos() as u64);
                    }
                }
                next_slot += 1;
            }
            if now >= t1 && outstanding == 0 {
                break;
            }

            // Sleep until the next send (less the lead) or window edge, or a response.
            let mut wake = None::<Instant>;
            if now < t1 {
                let at = slot_time(next_slot);
                wake = Some(at.checked_sub(LEAD).unwrap_or(at).min(t1));
                if cpu_t0.is_none() {
                    wake = wake.map(|w| w.min(t0));
                }
            }
            let timeout_ms = match wake {
                Some(w) if w <= Instant::now() => 0,
                Some(w) => {
                    if armed != Some(w) {
                        timer.arm(w - Instant::now().min(w));
                        armed = Some(w);
                    }
                    100
                }
                None => 100,
            };
            let ready = epoll.wait(&mut events, timeout_ms);
            if ready == 0 && outstanding > 0 {
                assert!(
                    last_response.elapsed() < STALL,
                    "{CONN_SCALE}: no response for {STALL:?} ({outstanding} outstanding)"
                );
            }
            for event in &events[..ready] {
                if event.u64 == TIMER {
                    timer.clear();
                    armed = None;
                    continue;
                }
                let i = event.u64 as usize;
                let c = &mut conns[i];
                let read = match c.stream.read(&mut chunk) {
                    Ok(0) => panic!("{CONN_SCALE}: the server closed a connection"),
                    Ok(read) => read,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => panic!("{CONN_SCALE}: reading a response: {e}"),
                };
                let started = c
                    .started
                    .expect("bytes from the server with no request outstanding");
                c.buf.extend_from_slice(&chunk[..read]);
                if !complete_response(&c.buf, CONN_SCALE) {
                    continue;
                }
                c.buf.clear();
                c.started = None;
                outstanding -= 1;
                let done = Instant::now();
                last_response = done;
                if done >= t0 && done < t1 {
                    latencies_ns.push((done - started).as_nanos() as u64);
                }
                // A request that fell due while this one was outstanding goes now.
                let at = due(i, c.next);
                if done < t1 && at < t1 && at <= done + LEAD {
                    send(c, at);
                    outstanding += 1;
                    if done >= t0 {
                        sent_in_window += 1;
                        if at <= done {
                            sent_behind += 1;
                        }
                    }
                }
            }
        }
        let (cpu0, cpu1) = (
            cpu_t0.expect("the window started"),
            cpu_t1.expect("the window ended"),
        );
        // The server samples its memory at the window's end with every connection open: it
        // closes this process's stdin once it has.
        let mut ack = String::new();
        let _ = io::stdin().read_line(&mut ack);
        drop(conns); // closes every connection: the server sees end of stream

        assert!(
            !latencies_ns.is_empty(),
            "{CONN_SCALE}: no response completed in the measured window"
        );
        let requests = latencies_ns.len();
        latencies_ns.sort_unstable();
        lag_ns.sort_unstable();
        let mean_us = latencies_ns.iter().sum::<u64>() as f64 / requests as f64 / 1e3;
        let measure = settings.measure.as_secs_f64();
        vec![
            ("connections".into(), n as f64),
            ("offered_rps".into(), settings.offered_rps()),
            ("rps".into(), requests as f64 / measure),
            ("requests".into(), requests as f64),
            ("p50_us".into(), percentile_us(&latencies_ns, 0.50)),
            ("p90_us".into(), percentile_us(&latencies_ns, 0.90)),
            ("p99_us".into(), percentile_us(&latencies_ns, 0.99)),
            ("p999_us".into(), percentile_us(&latencies_ns, 0.999)),
            ("max_us".into(), latencies_ns[requests - 1] as f64 / 1e3),
            ("mean_us".into(), mean_us),
            ("client_lag_p50_us".into(), percentile_us(&lag_ns, 0.50)),
            ("client_lag_p99_us".into(), percentile_us(&lag_ns, 0.99)),
            (
                "behind_share".into(),
                if sent_in_window > 0 {
                    sent_behind as f64 / sent_in_window as f64
                } else {
                    f64::NAN
                },
            ),
            ("connect_secs".into(), connect_secs),
            (
                "client_cpu_s".into(),
                cpu1.saturating_sub(cpu0).as_secs_f64(),
            ),
        ]
    }
}

fn main() {
    #[cfg(target_os = "linux")]
    linux::main();
    #[cfg(not(target_os = "linux"))]
    println!("conn_figures: skipped, Linux only (its client is raw epoll, its memory /proc's)");
}
