//! The HTTP/2 load generator of `http2_hello_h2load`: nghttp2's `h2load` (Debian's package
//! `nghttp2-client`) run as a child process against the server of this process, with `C`
//! connections of `M` concurrent streams each, over cleartext HTTP/2 (prior knowledge).
//! `scripts/bench.sh` installs it when it is missing.
//!
//! h2load's own summary gives the rate and the counts but only the mean and the standard
//! deviation of the latency, so the percentiles come from its `--log-file`: one row per
//! request (start time, status, microseconds until the end of the response). A request that
//! failed or answered anything but 200 fails the run, as the in-repo client does. As with
//! wrk (`crate::wrk`), its CPU time is the children's (`getrusage(RUSAGE_CHILDREN)`), and
//! the server's is this process's own.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::figures::Stats;
use crate::process_cpu_time;
use crate::wrk::{children_cpu_time, OutsideRun};

/// The program run.
const H2LOAD: &str = "h2load";

/// `Some(version line)` when h2load can be run, `None` when it is not installed.
pub fn available() -> Option<String> {
    let out = Command::new(H2LOAD).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    Some(text.lines().next().unwrap_or("h2load").trim().to_owned())
}

/// An h2load duration argument: whole milliseconds, at least one.
fn millis_arg(d: Duration) -> String {
    format!("{}ms", d.as_millis().max(1))
}

/// Runs h2load against `addr` for `duration` with `conns` connections of `streams` streams
/// each, writing its per-request log to `log`; returns its summary.
fn run(addr: SocketAddr, conns: usize, streams: usize, duration: Duration, log: &Path) -> String {
    let out = Command::new(H2LOAD)
        .args([
            "-t1",
            &format!("-c{conns}"),
            &format!("-m{streams}"),
            &format!("-D{}", millis_arg(duration)),
        ])
        .arg(format!("--log-file={}", log.display()))
        .arg(format!("http://{addr}/"))
        .output()
        .unwrap_or_else(|e| panic!("http2_hello_h2load: cannot run {H2LOAD}: {e}"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "http2_hello_h2load: h2load failed ({}):\n{text}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// The figures of one h2load run.
#[derive(Debug)]
struct Summary {
    /// Requests answered with 200.
    requests: f64,
    /// h2load's rate over its measured time.
    rps: f64,
    /// Each request's latency in microseconds, sorted.
    latencies_us: Vec<f64>,
}

/// Parses h2load's summary (the rate and the request counts) and its per-request `log`;
/// panics, showing the summary, on any failed, errored or timed-out request or any status
/// other than 200.
fn parse(summary: &str, log: &str) -> Summary {
    let fail =
        |what: &str| -> ! { panic!("http2_hello_h2load: {what} in h2load's output:\n{summary}") };
    let (mut rps, mut done) = (None, None);
    for line in summary.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("finished in ") {
            // "finished in 2.00s, 123456.00 req/s, 4.71MB/s"
            rps = rest
                .split(", ")
                .find_map(|part| part.strip_suffix(" req/s"))
                .and_then(|v| v.parse::<f64>().ok());
        } else if let Some(rest) = line.strip_prefix("requests: ") {
            // "requests: 246912 total, 246928 started, 246912 done, 246912 succeeded,
            //  0 failed, 0 errored, 0 timeout"
            let count = |name: &str| {
                rest.split(", ")
                    .find_map(|part| part.strip_suffix(name))
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .unwrap_or_else(|| fail(&format!("no `{name}` count")))
            };
            for bad in [" failed", " errored", " timeout"] {
                if count(bad) != 0 {
                    fail(&format!("requests{bad}"));
                }
            }
            done = Some(count(" succeeded"));
        } else if let Some(rest) = line.strip_prefix("status codes: ") {
            // "status codes: 246912 2xx, 0 3xx, 0 4xx, 0 5xx"
            if rest
                .split(", ")
                .filter(|part| !part.ends_with(" 2xx"))
                .any(|part| !part.starts_with("0 "))
            {
                fail("error responses");
            }
        }
    }
    let done = done.unwrap_or_else(|| fail("no request counts"));
    let mut latencies_us = Vec::with_capacity(done as usize);
    for row in log.lines() {
        let columns: Vec<&str> = row.split('\t').collect();
        let [_start, status, micros, ..] = columns.as_slice() else {
            fail(&format!("a log row without three columns: {row:?}"));
        };
        if *status != "200" {
            fail(&format!("a request with status {status} in the log"));
        }
        latencies_us.push(
            micros
                .trim()
                .parse::<f64>()
                .unwrap_or_else(|_| fail(&format!("a log row's latency is not a number: {row:?}"))),
        );
    }
    latencies_us.sort_by(f64::total_cmp);
    Summary {
        requests: latencies_us.len() as f64,
        rps: rps.unwrap_or_else(|| fail("no req/s")),
        latencies_us,
    }
}

/// The `q` quantile of sorted `v` (nearest rank); NaN for none.
fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

/// h2load as the load: a warm-up run, then the measured run; the same figures as the
/// in-repo client's.
pub fn load(
    addr: SocketAddr,
    conns: usize,
    streams: usize,
    warmup: Duration,
    measure: Duration,
) -> Stats {
    let dir = std::env::temp_dir();
    let log = dir.join(format!("magpie-h2load-{}.tsv", std::process::id()));
    run(addr, conns, streams, warmup, &log);
    let (server0, client0, start) = (process_cpu_time(), children_cpu_time(), Instant::now());
    let text = run(addr, conns, streams, measure, &log);
    let (server1, client1, end) = (process_cpu_time(), children_cpu_time(), Instant::now());
    let rows = std::fs::read_to_string(&log)
        .unwrap_or_else(|e| panic!("http2_hello_h2load: cannot read {}: {e}", log.display()));
    let _ = std::fs::remove_file(&log);
    let summary = parse(&text, &rows);
    assert!(
        summary.requests > 0.0,
        "http2_hello_h2load: no request answered"
    );
    let lat = &summary.latencies_us;
    OutsideRun {
        rps: summary.rps,
        requests: summary.requests,
        p50_us: quantile(lat, 0.50),
        p90_us: quantile(lat, 0.90),
        p99_us: quantile(lat, 0.99),
        p999_us: quantile(lat, 0.999),
        max_us: lat.last().copied().unwrap_or(f64::NAN),
        mean_us: lat.iter().sum::<f64>() / summary.requests,
        server_cpu: server1.saturating_sub(server0),
        client_cpu: client1.saturating_sub(client0),
        wall: end - start,
    }
    .stats()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUMMARY: &str = "starting benchmark...
spawning thread #0: 16 total client(s). Timing-based test with 0s of warm-up time and 2s of main duration for measurements.
Warm-up phase is over for thread #0.
Main benchmark duration is over for thread #0. Stopping all clients.
Stopped all clients for thread #0

finished in 2.00s, 120000.50 req/s, 4.71MB/s
requests: 240001 total, 240257 started, 240001 done, 240001 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 240001 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 9.42MB (9876543) total, 1.00MB (1048576) headers (space savings 95.00%), 3.00MB (3145728) data
                     min         max         mean         sd        +/- sd
time for request:      100us      5.00ms      2.10ms       300us    70.00%
";

    #[test]
    fn an_h2load_summary_and_log_are_parsed() {
        let log =
            "1700000000000000\t200\t120\n1700000000000100\t200\t80\n1700000000000200\t200\t400\n";
        let s = parse(SUMMARY, log);
        assert_eq!(s.rps, 120_000.5);
        assert_eq!(s.requests, 3.0);
        assert_eq!(s.latencies_us, vec![80.0, 120.0, 400.0]);
        assert_eq!(quantile(&s.latencies_us, 0.5), 120.0);
        assert_eq!(quantile(&s.latencies_us, 0.99), 400.0);
    }

    #[test]
    #[should_panic(expected = "requests failed")]
    fn failed_requests_fail_the_run() {
        let summary = SUMMARY.replace("0 failed", "3 failed");
        parse(&summary, "");
    }

    #[test]
    #[should_panic(expected = "status 503")]
    fn an_error_status_in_the_log_fails_the_run() {
        parse(SUMMARY, "1700000000000000\t503\t120\n");
    }
}
