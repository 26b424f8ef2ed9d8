//! The Linux body of `http_figures` (see `benches/http_figures.rs`): its load client is raw
//! epoll.

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::Request;

use magpie_benches::figures::{
    cpus, json_number, lookup, median, print_result, FigureBench, Stats, RUNTIMES,
};
use magpie_benches::http::{
    check_closed, complete_response, hello, serve_magpie, serve_smol, serve_tokio, thread_cpu_time,
    Epoll, Proto, Served, BODY, CUT_REQUESTS_ARE_FINE, REQUEST, STALL,
};
use magpie_benches::{process_cpu_time, workers};

const BENCH: FigureBench = FigureBench {
    name: "http_figures",
    child_flag: "--magpie-http-figure-child",
    figures: &[
        HTTP_HELLO,
        HTTP_HELLO_WRK,
        HTTP2_HELLO_H2LOAD,
        HTTP_AXUM,
        HTTP_AXUM_WRK,
    ],
    knobs: &[CONNECTIONS_ENV, SECS_ENV, WARMUP_ENV, ROUNDS_ENV, QUICK_ENV],
    json_env: "MAGPIE_BENCH_HTTP_FIGURES_JSON",
    json_file: "magpie-http-figures.json",
    command_env: "BENCH_HTTP_FIGURES_COMMAND",
};

const HTTP_HELLO: &str = "http_hello";
/// `http_hello` driven by Debian's wrk (issue 20's external load, HTTP/1.1).
const HTTP_HELLO_WRK: &str = "http_hello_wrk";
/// The hello service over HTTP/2 (cleartext, prior knowledge), driven by nghttp2's h2load
/// with [`H2_CONNECTIONS`] connections of [`H2_STREAMS`] concurrent streams each.
const HTTP2_HELLO_H2LOAD: &str = "http2_hello_h2load";
/// h2load's connections, whatever `MAGPIE_BENCH_HTTP_CONNECTIONS` says: HTTP/2 multiplexes,
/// so its load is connections × streams.
const H2_CONNECTIONS: usize = 16;
/// h2load's concurrent streams per connection (`-m`).
const H2_STREAMS: usize = 16;
/// The same, with an axum `Router` as the service (issue 19): axum on each runtime.
const HTTP_AXUM: &str = "http_axum";
/// `http_axum` driven by Debian's wrk instead of the in-repo client.
const HTTP_AXUM_WRK: &str = "http_axum_wrk";

/// What a figure's server answers with.
#[derive(Clone, Copy, Debug)]
enum App {
    /// hyper's `service_fn(hello)`.
    Hello,
    /// An axum `Router` with one route, `GET /` → the same body.
    Axum,
}

/// What drives a figure's server.
#[derive(Clone, Copy, Debug)]
enum Load {
    /// The in-repo client ([`load`]), a thread of this process.
    Client,
    /// wrk, a process of its own (`magpie_benches::wrk`).
    Wrk,
    /// h2load, a process of its own (`magpie_benches::h2load`), over HTTP/2.
    H2load,
}

/// The service and the load of `figure`; its one-line description; the requests/s target.
fn figure_parts(figure: &str) -> (App, Load, &'static str, f64) {
    match figure {
        HTTP_HELLO => (
            App::Hello,
            Load::Client,
            "hyper http1 serving hyper's service_fn",
            1.1,
        ),
        HTTP_HELLO_WRK => (
            App::Hello,
            Load::Wrk,
            "hyper http1 serving hyper's service_fn, driven by wrk",
            1.1,
        ),
        HTTP2_HELLO_H2LOAD => (
            App::Hello,
            Load::H2load,
            "hyper http2 serving hyper's service_fn, driven by h2load",
            1.1,
        ),
        HTTP_AXUM => (
            App::Axum,
            Load::Client,
            "hyper http1 serving an axum Router",
            1.0,
        ),
        HTTP_AXUM_WRK => (
            App::Axum,
            Load::Wrk,
            "hyper http1 serving an axum Router, driven by wrk",
            1.0,
        ),
        other => panic!("unknown figure {other:?}"),
    }
}

impl Load {
    fn run(self, addr: SocketAddr, conns: usize, warmup: Duration, measure: Duration) -> Stats {
        match self {
            Load::Client => load(addr, conns, warmup, measure),
            Load::Wrk => magpie_benches::wrk::load(addr, conns, warmup, measure),
            Load::H2load => magpie_benches::h2load::load(addr, conns, H2_STREAMS, warmup, measure),
        }
    }

    /// The protocol the server speaks to this load.
    fn proto(self) -> Proto {
        match self {
            Load::Client | Load::Wrk => Proto::Http1,
            Load::H2load => Proto::Http2,
        }
    }

    /// The outside program this load runs; `None` for the in-repo client.
    fn program(self) -> Option<Program> {
        match self {
            Load::Client => None,
            Load::Wrk => Some(Program {
                name: "wrk",
                package: "wrk",
                available: magpie_benches::wrk::available,
            }),
            Load::H2load => Some(Program {
                name: "h2load",
                package: "nghttp2-client",
                available: magpie_benches::h2load::available,
            }),
        }
    }
}

/// An outside load generator.
struct Program {
    name: &'static str,
    /// The Debian package that has it.
    package: &'static str,
    /// Its version line, or `None` when it is not installed.
    available: fn() -> Option<String>,
}

const CONNECTIONS_ENV: &str = "MAGPIE_BENCH_HTTP_CONNECTIONS";
const SECS_ENV: &str = "MAGPIE_BENCH_HTTP_SECS";
const WARMUP_ENV: &str = "MAGPIE_BENCH_HTTP_WARMUP_SECS";
const ROUNDS_ENV: &str = "MAGPIE_BENCH_HTTP_ROUNDS";
const QUICK_ENV: &str = "MAGPIE_BENCH_QUICK";

/// The run's settings.
#[derive(Clone, Debug)]
struct Settings {
    connections: Vec<usize>,
    warmup: Duration,
    measure: Duration,
    rounds: usize,
}

impl Settings {
    fn from_env(quick: bool) -> Settings {
        let connections = match std::env::var(CONNECTIONS_ENV) {
            Ok(s) => s
                .split(',')
                .map(|c| match c.trim().parse::<usize>() {
                    Ok(n) if n > 0 => n,
                    _ => panic!(
                        "{CONNECTIONS_ENV} must be positive integers (e.g. 16,64), got {s:?}"
                    ),
                })
                .collect(),
            Err(_) if quick => vec![16],
            Err(_) => vec![64],
        };
        let secs = |env: &str, default: f64, quick_default: f64| match std::env::var(env) {
            Ok(s) => match s.trim().parse::<f64>() {
                Ok(v) if v > 0.0 && v.is_finite() => Duration::from_secs_f64(v),
                _ => panic!("{env} must be a positive number of seconds, got {s:?}"),
            },
            Err(_) => Duration::from_secs_f64(if quick { quick_default } else { default }),
        };
        let rounds = match std::env::var(ROUNDS_ENV) {
            Ok(s) => match s.trim().parse::<usize>() {
                Ok(n) if n > 0 => n,
                _ => panic!("{ROUNDS_ENV} must be a positive integer, got {s:?}"),
            },
            Err(_) if quick => 1,
            Err(_) => 5,
        };
        Settings {
            connections,
            warmup: secs(WARMUP_ENV, 0.5, 0.1),
            measure: secs(SECS_ENV, 2.0, 0.3),
            rounds,
        }
    }
}

pub(crate) fn main() {
    let Some(mut selection) = BENCH.start(child) else {
        return;
    };
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--quick")
        || std::env::var(QUICK_ENV).is_ok_and(|v| !v.is_empty() && v != "0")
    {
        selection.quick = true;
    }
    let settings = Settings::from_env(selection.quick);
    let mut sections = Vec::new();
    for figure in BENCH.figures {
        if !selection.runs(figure) {
            continue;
        }
        let (_, load, _, _) = figure_parts(figure);
        if let Some(Program {
            name: program,
            package,
            available,
        }) = load.program()
        {
            match available() {
                Some(version) => println!("\n{figure}: load from {version}"),
                None => {
                    println!(
                        "\n{figure}: skipped: {program} is not installed (scripts/bench.sh \
                         installs it from Debian's packages; or `apt-get install {package}`)"
                    );
                    continue;
                }
            }
        }
        sections.push(http_figure(&settings, figure));
    }
    BENCH.finish(&selection, &sections);
}

// ---------------------------------------------------------------------------
// Parent: rounds, medians, table, JSON
// ---------------------------------------------------------------------------

/// The figures each child reports, in table order: (key, column title).
const SHOWN: &[(&str, &str)] = &[
    ("rps", "req/s"),
    ("p50_us", "p50 µs"),
    ("p99_us", "p99 µs"),
    ("p999_us", "p99.9 µs"),
    ("server_cpu_us_per_req", "server CPU µs/req"),
    ("client_cpu_share", "client CPU share"),
];

/// Every round of every runtime at every connection count of `figure`; returns the JSON
/// section.
fn http_figure(settings: &Settings, figure: &str) -> String {
    let cpus = cpus();
    let (_, load, what, rps_target) = figure_parts(figure);
    let client = match load {
        Load::Client => "one load-client thread (epoll, closed loop)".to_string(),
        Load::Wrk => "wrk -t1 (a process of its own; whole seconds)".to_string(),
        Load::H2load => format!(
            "h2load -t1 -m{H2_STREAMS} (a process of its own; {H2_CONNECTIONS} connections \
             of {H2_STREAMS} streams)"
        ),
    };
    let connections = match load {
        Load::H2load => vec![H2_CONNECTIONS],
        Load::Client | Load::Wrk => settings.connections.clone(),
    };
    println!(
        "\n{figure}: {what} answering {:?} ({} bytes, keep-alive), {} workers per \
         runtime; {client}; {} round(s) of {:?} warm-up + {:?} measured, runtimes alternating",
        std::str::from_utf8(BODY).unwrap(),
        BODY.len(),
        workers(),
        settings.rounds,
        settings.warmup,
        settings.measure,
    );
    println!(
        "note: this machine has {cpus} CPU(s): the load client's thread shares them with the \
         server's {} workers, so the rates are those of client + server together",
        workers()
    );

    let mut json = format!("  \"{figure}\": {{\n");
    let _ = writeln!(
        json,
        "    \"warmup_secs\": {},",
        json_number(settings.warmup.as_secs_f64())
    );
    let _ = writeln!(
        json,
        "    \"measure_secs\": {},",
        json_number(settings.measure.as_secs_f64())
    );
    let _ = writeln!(json, "    \"rounds\": {},", settings.rounds);
    let _ = writeln!(json, "    \"cpus\": {cpus},");
    let _ = writeln!(json, "    \"body_bytes\": {},", BODY.len());
    let _ = writeln!(
        json,
        "    \"runtimes_order\": [{}],",
        RUNTIMES.map(|r| format!("\"{r}\"")).join(", ")
    );
    json.push_str("    \"connections\": {\n");

    for (ci, &conns) in connections.iter().enumerate() {
        println!("\n{conns} connections");
        // rounds[runtime index] = each round's stats
        let mut per_rt: Vec<Vec<Stats>> = vec![Vec::new(); RUNTIMES.len()];
        for round in 0..settings.rounds {
            for k in 0..RUNTIMES.len() {
                let i = (round + k) % RUNTIMES.len();
                let rt = RUNTIMES[i];
                let stats = BENCH.run_child(
                    figure,
                    rt,
                    &[
                        conns.to_string(),
                        settings.warmup.as_secs_f64().to_string(),
                        settings.measure.as_secs_f64().to_string(),
                    ],
                );
                println!(
                    "  round {} {:<7} {:>9.0} req/s  p50 {:>7.1} µs  p99 {:>7.1} µs  server CPU {:>5.1} µs/req  client CPU {:>4.0}%",
                    round + 1,
                    rt,
                    lookup(&stats, "rps"),
                    lookup(&stats, "p50_us"),
                    lookup(&stats, "p99_us"),
                    lookup(&stats, "server_cpu_us_per_req"),
                    100.0 * lookup(&stats, "client_cpu_share"),
                );
                per_rt[i].push(stats);
            }
        }

        // Medians per runtime.
        let medians: Vec<Vec<(&str, f64)>> = per_rt
            .iter()
            .map(|rounds| {
                SHOWN
                    .iter()
                    .map(|(k, _)| (*k, median(rounds.iter().map(|s| lookup(s, k)).collect())))
                    .chain([
                        (
                            "requests",
                            median(rounds.iter().map(|s| lookup(s, "requests")).collect()),
                        ),
                        (
                            "mean_us",
                            median(rounds.iter().map(|s| lookup(s, "mean_us")).collect()),
                        ),
                        (
                            "max_us",
                            median(rounds.iter().map(|s| lookup(s, "max_us")).collect()),
                        ),
                    ])
                    .collect()
            })
            .collect();
        let get = |rt: &str, key: &str| -> f64 {
            let i = RUNTIMES.iter().position(|r| *r == rt).unwrap();
            medians[i].iter().find(|(k, _)| *k == key).unwrap().1
        };
        println!(
            "\n  medians over {} round(s), {conns} connections:",
            settings.rounds
        );
        print!("  {:<8}", "runtime");
        for (_, title) in SHOWN {
            print!(" {title:>17}");
        }
        println!(" {:>21}", "req/s range");
        for (i, rt) in RUNTIMES.iter().enumerate() {
            print!("  {rt:<8}");
            for (k, _) in SHOWN {
                let v = get(rt, k);
                if *k == "client_cpu_share" {
                    print!(" {:>16.0}%", 100.0 * v);
                } else {
                    print!(" {v:>17.1}");
                }
            }
            let rps: Vec<f64> = per_rt[i].iter().map(|s| lookup(s, "rps")).collect();
            println!(
                " {:>10.0} – {:<10.0}",
                rps.iter().copied().fold(f64::INFINITY, f64::min),
                rps.iter().copied().fold(0.0, f64::max)
            );
        }
        let ratio = |a: &str, b: &str, key: &str| get(a, key) / get(b, key);
        let rps_mt = ratio("magpie", "tokio", "rps");
        let p99_mt = ratio("magpie", "tokio", "p99_us");
        // The same ratios within each round (the two ran next to each other in time):
        // how consistent the comparison is.
        let per_round = |key: &str| -> Vec<f64> {
            let at = |rt: &str| RUNTIMES.iter().position(|r| *r == rt).unwrap();
            let (m, t) = (&per_rt[at("magpie")], &per_rt[at("tokio")]);
            m.iter()
                .zip(t)
                .map(|(m, t)| lookup(m, key) / lookup(t, key))
                .collect()
        };
        let (rps_rounds, p99_rounds) = (per_round("rps"), per_round("p99_us"));
        let range = |v: &[f64]| {
            (
                v.iter().copied().fold(f64::INFINITY, f64::min),
                v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            )
        };
        let ((rps_lo, rps_hi), (p99_lo, p99_hi)) = (range(&rps_rounds), range(&p99_rounds));
        println!(
            "  magpie/tokio: req/s {rps_mt:.2} (target ≥ {rps_target:.1}: {}; rounds {rps_lo:.2}–{rps_hi:.2}), \
             p99 {p99_mt:.2} (target ≤ 1.0: {}; rounds {p99_lo:.2}–{p99_hi:.2}), server CPU/req {:.2}",
            if rps_mt >= rps_target { "met" } else { "missed" },
            if p99_mt <= 1.0 { "met" } else { "missed" },
            ratio("magpie", "tokio", "server_cpu_us_per_req"),
        );
        println!(
            "  magpie/smol:  req/s {:.2}, p99 {:.2}, server CPU/req {:.2}",
            ratio("magpie", "smol", "rps"),
            ratio("magpie", "smol", "p99_us"),
            ratio("magpie", "smol", "server_cpu_us_per_req"),
        );

        // JSON: medians, every round, and the ratios of the medians.
        let _ = writeln!(json, "      \"{conns}\": {{");
        json.push_str("        \"runtimes\": {\n");
        for (i, rt) in RUNTIMES.iter().enumerate() {
            let fields: Vec<String> = medians[i]
                .iter()
                .map(|(k, v)| format!("\"{k}\": {}", json_number(*v)))
                .collect();
            let rounds: Vec<String> = per_rt[i]
                .iter()
                .map(|s| {
                    let f: Vec<String> = s
                        .iter()
                        .map(|(k, v)| format!("\"{k}\": {}", json_number(*v)))
                        .collect();
                    format!("{{{}}}", f.join(", "))
                })
                .collect();
            let comma = if i + 1 < RUNTIMES.len() { "," } else { "" };
            let _ = writeln!(
                json,
                "          \"{rt}\": {{{}, \"per_round\": [{}]}}{comma}",
                fields.join(", "),
                rounds.join(", ")
            );
        }
        json.push_str("        },\n");
        let _ = writeln!(
            json,
            "        \"ratios\": {{\"rps_magpie_tokio\": {}, \"p99_magpie_tokio\": {}, \
             \"rps_magpie_tokio_per_round\": [{}], \"p99_magpie_tokio_per_round\": [{}], \
             \"server_cpu_magpie_tokio\": {}, \"rps_magpie_smol\": {}, \"p99_magpie_smol\": {}}}",
            json_number(rps_mt),
            json_number(p99_mt),
            rps_rounds
                .iter()
                .map(|v| json_number(*v))
                .collect::<Vec<_>>()
                .join(", "),
            p99_rounds
                .iter()
                .map(|v| json_number(*v))
                .collect::<Vec<_>>()
                .join(", "),
            json_number(ratio("magpie", "tokio", "server_cpu_us_per_req")),
            json_number(ratio("magpie", "smol", "rps")),
            json_number(ratio("magpie", "smol", "p99_us")),
        );
        let comma = if ci + 1 < connections.len() { "," } else { "" };
        let _ = writeln!(json, "      }}{comma}");
    }
    json.push_str("    }\n  }");
    json
}

// ---------------------------------------------------------------------------
// Child: one runtime's server, the load client, one RESULT line
// ---------------------------------------------------------------------------

fn child(args: &[String]) {
    let [figure, runtime, conns, warmup, measure] = args else {
        panic!("usage: <child flag> <figure> <runtime> <connections> <warm-up s> <measured s>, got {args:?}");
    };
    let (app, load, _, _) = figure_parts(figure);
    CUT_REQUESTS_ARE_FINE.store(!matches!(load, Load::Client), Ordering::SeqCst);
    let conns: usize = conns.parse().expect("connections is a count");
    let secs = |s: &str| Duration::from_secs_f64(s.parse().expect("durations are seconds"));
    let (warmup, measure) = (secs(warmup), secs(measure));
    let drive = move |addr| load_and_check(figure, || load.run(addr, conns, warmup, measure));
    let proto = load.proto();
    let stats = match (runtime.as_str(), app) {
        ("magpie", App::Hello) => serve_magpie(service_fn(hello), proto, drive),
        ("magpie", App::Axum) => serve_magpie(axum_service(), proto, drive),
        ("tokio", App::Hello) => serve_tokio(service_fn(hello), proto, drive),
        ("tokio", App::Axum) => serve_tokio(axum_service(), proto, drive),
        ("smol", App::Hello) => serve_smol(service_fn(hello), proto, drive),
        ("smol", App::Axum) => serve_smol(axum_service(), proto, drive),
        (other, _) => panic!("unknown runtime {other:?}"),
    };
    print_result(&stats);
}

/// The axum service, the same on every runtime: a `Router` with `GET /` answering
/// [`BODY`], called per request as hyper-util's `TowerToHyperService` would (a clone of the
/// router, `oneshot`).
fn axum_service() -> impl Served {
    use tower::ServiceExt;
    let body = std::str::from_utf8(BODY).expect("the body is text");
    let router = axum::Router::new().route("/", axum::routing::get(move || async move { body }));
    service_fn(move |request: Request<Incoming>| router.clone().oneshot(request))
}

/// Runs `load` (the in-repo client, wrk or h2load), then waits for the server to have closed
/// every connection cleanly (the client closes them all when it is done).
fn load_and_check(figure: &str, load: impl FnOnce() -> Stats) -> Stats {
    let stats = load();
    check_closed(figure, Duration::from_secs(10), Duration::from_millis(1));
    stats
}

// ---------------------------------------------------------------------------
// The load client
// ---------------------------------------------------------------------------

/// One keep-alive connection of the load client.
struct Conn {
    stream: TcpStream,
    /// The response read so far.
    buf: Vec<u8>,
    /// When the outstanding request was sent; `None` once the client stopped sending.
    sent: Option<Instant>,
}

/// The load client: `conns` keep-alive connections to `addr`, each sending the next
/// request as soon as its response is complete; `warmup` unrecorded, then `measure`
/// recorded. Runs on the calling thread.
fn load(addr: SocketAddr, conns: usize, warmup: Duration, measure: Duration) -> Stats {
    let epoll = Epoll::new();
    let mut conns: Vec<Conn> = (0..conns)
        .map(|i| {
            let stream = TcpStream::connect(addr).expect("http_hello: connect");
            stream.set_nodelay(true).expect("set_nodelay");
            stream.set_nonblocking(true).expect("set_nonblocking");
            epoll.add(stream.as_raw_fd(), i as u64);
            Conn {
                stream,
                buf: Vec::with_capacity(4096),
                sent: None,
            }
        })
        .collect();

    let send = |c: &mut Conn| {
        match c.stream.write(REQUEST) {
            Ok(n) if n == REQUEST.len() => {}
            // One small request at a time per connection: the socket's send buffer is
            // never full, so anything else is a failure.
            other => panic!("http_hello: sending a request: {other:?}"),
        }
        c.sent = Some(Instant::now());
    };

    let start = Instant::now();
    let (t0, t1) = (start + warmup, start + warmup + measure);
    for c in &mut conns {
        send(c);
    }
    let mut outstanding = conns.len();
    let mut latencies_ns: Vec<u64> = Vec::with_capacity(1 << 20);
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
    let mut chunk = [0u8; 4096];
    let mut last_response = start;
    // CPU readings at the window's edges: (process, this thread).
    let mut cpu_t0 = None;
    let mut cpu_t1 = None;

    while outstanding > 0 {
        let n = epoll.wait(&mut events, 100);
        let now = Instant::now();
        if cpu_t0.is_none() && now >= t0 {
            cpu_t0 = Some((process_cpu_time(), thread_cpu_time()));
        }
        if cpu_t1.is_none() && now >= t1 {
            cpu_t1 = Some((process_cpu_time(), thread_cpu_time()));
        }
        if n == 0 {
            assert!(
                now - last_response < STALL,
                "http_hello: no response for {STALL:?} ({outstanding} outstanding)"
            );
            continue;
        }
        for event in &events[..n] {
            let c = &mut conns[event.u64 as usize];
            let read = match c.stream.read(&mut chunk) {
                Ok(0) => panic!("http_hello: the server closed a connection"),
                Ok(read) => read,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => panic!("http_hello: reading a response: {e}"),
            };
            let sent = c
                .sent
                .expect("http_hello: bytes from the server with no request outstanding");
            c.buf.extend_from_slice(&chunk[..read]);
            if !complete_response(&c.buf, "http_hello") {
                continue;
            }
            c.buf.clear();
            let done = Instant::now();
            last_response = done;
            if done >= t0 && done < t1 {
                latencies_ns.push((done - sent).as_nanos() as u64);
            }
            if done < t1 {
                send(c);
            } else {
                c.sent = None;
                outstanding -= 1;
            }
        }
    }
    let end = Instant::now();
    // A window shorter than one wait: take the edges at the end.
    let (p0, c0) = cpu_t0.unwrap_or_else(|| (process_cpu_time(), thread_cpu_time()));
    let (p1, c1) = cpu_t1.unwrap_or_else(|| (process_cpu_time(), thread_cpu_time()));
    drop(conns); // closes every connection: the server sees end of stream

    assert!(
        !latencies_ns.is_empty(),
        "http_hello: no response completed in the measured window"
    );
    let requests = latencies_ns.len();
    latencies_ns.sort_unstable();
    let pct = |p: f64| {
        let i = ((p * requests as f64).ceil() as usize).clamp(1, requests) - 1;
        latencies_ns[i] as f64 / 1e3
    };
    let mean_us = latencies_ns.iter().sum::<u64>() as f64 / requests as f64 / 1e3;
    let process_cpu = p1.saturating_sub(p0).as_secs_f64();
    let client_cpu = c1.saturating_sub(c0).as_secs_f64();
    let server_cpu = (process_cpu - client_cpu).max(0.0);
    vec![
        ("rps".into(), requests as f64 / measure.as_secs_f64()),
        ("requests".into(), requests as f64),
        ("p50_us".into(), pct(0.50)),
        ("p90_us".into(), pct(0.90)),
        ("p99_us".into(), pct(0.99)),
        ("p999_us".into(), pct(0.999)),
        ("max_us".into(), latencies_ns[requests - 1] as f64 / 1e3),
        ("mean_us".into(), mean_us),
        ("process_cpu_s".into(), process_cpu),
        ("client_cpu_s".into(), client_cpu),
        (
            "server_cpu_us_per_req".into(),
            server_cpu * 1e6 / requests as f64,
        ),
        (
            "client_cpu_us_per_req".into(),
            client_cpu * 1e6 / requests as f64,
        ),
        (
            "client_cpu_share".into(),
            if process_cpu > 0.0 {
                client_cpu / process_cpu
            } else {
                f64::NAN
            },
        ),
        ("wall_s".into(), (end - start).as_secs_f64()),
    ]
}
