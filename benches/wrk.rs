//! The external HTTP/1.1 load generator of `http_hello_wrk` and `http_axum_wrk`: Debian's `wrk` (keep-alive,
//! one thread, `C` connections) run as a child process against the server of this process,
//! its summary parsed into the figures the in-repo client reports. `scripts/bench.sh`
//! installs it (`apt-get install wrk`) when it is missing.
//!
//! What differs from the in-repo client: wrk does not check bodies (only counts non-2xx
//! statuses and socket errors, either of which fails the run here), reports latency
//! percentiles at 50/75/90/99 % only (no p99.9), and takes whole seconds. Its CPU time is
//! the children's CPU (`getrusage(RUSAGE_CHILDREN)`) over the run; the server's is this
//! process's own, which does not include its children's.

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::figures::Stats;
use crate::process_cpu_time;

/// The program run.
const WRK: &str = "wrk";

/// `Some(version line)` when wrk can be run, `None` when it is not installed.
pub fn available() -> Option<String> {
    // `wrk -v` prints its version and exits 1.
    let out = Command::new(WRK).arg("-v").output().ok()?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let line = text.lines().next().unwrap_or("wrk").trim().to_owned();
    Some(line)
}

/// The CPU time of this process's waited-for children so far (also h2load's, `crate::h2load`).
pub(crate) fn children_cpu_time() -> Duration {
    // SAFETY: an all-zero `rusage` is a valid value of the plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is valid, writable memory for one `rusage` during the call.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    assert_eq!(rc, 0, "getrusage: {}", std::io::Error::last_os_error());
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// wrk's duration: whole seconds, at least one.
fn whole_secs(d: Duration) -> u64 {
    d.as_secs_f64().ceil().max(1.0) as u64
}

/// Runs wrk against `addr` for `secs` seconds with `conns` connections; returns its output.
fn run(addr: SocketAddr, conns: usize, secs: u64) -> String {
    let out = Command::new(WRK)
        .args([
            "-t1",
            &format!("-c{conns}"),
            &format!("-d{secs}s"),
            "--latency",
        ])
        .arg(format!("http://{addr}/"))
        .output()
        .unwrap_or_else(|e| panic!("wrk: cannot run {WRK}: {e}"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "wrk: wrk failed ({}):\n{text}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// A wrk duration (`401.00us`, `1.20ms`, `2.00s`) in microseconds.
fn micros(value: &str) -> f64 {
    let (number, scale) = if let Some(n) = value.strip_suffix("us") {
        (n, 1.0)
    } else if let Some(n) = value.strip_suffix("ms") {
        (n, 1e3)
    } else if let Some(n) = value.strip_suffix('m') {
        (n, 60e6)
    } else if let Some(n) = value.strip_suffix('s') {
        (n, 1e6)
    } else {
        panic!("wrk: a latency without a unit: {value:?}")
    };
    number
        .parse::<f64>()
        .unwrap_or_else(|_| panic!("wrk: not a latency: {value:?}"))
        * scale
}

/// The figures of one wrk summary.
struct Summary {
    requests: f64,
    rps: f64,
    mean_us: f64,
    max_us: f64,
    percentiles: Vec<(f64, f64)>,
}

/// Parses wrk's `--latency` summary; panics (showing it) on errors it reports.
fn parse(text: &str) -> Summary {
    let fail = |what: &str| -> ! { panic!("wrk: {what} in wrk's output:\n{text}") };
    if text.contains("Socket errors:") {
        fail("socket errors");
    }
    if text.contains("Non-2xx or 3xx responses:") {
        fail("error responses");
    }
    let (mut requests, mut rps, mut mean_us, mut max_us) = (None, None, None, None);
    let mut percentiles = Vec::new();
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Latency", avg, _stdev, max, ..] => {
                mean_us = Some(micros(avg));
                max_us = Some(micros(max));
            }
            [pct, value] if pct.ends_with('%') => {
                let p = pct.trim_end_matches('%').parse::<f64>();
                if let Ok(p) = p {
                    percentiles.push((p / 100.0, micros(value)));
                }
            }
            [n, "requests", "in", ..] => requests = n.parse::<f64>().ok(),
            ["Requests/sec:", value] => rps = value.parse::<f64>().ok(),
            _ => {}
        }
    }
    Summary {
        requests: requests.unwrap_or_else(|| fail("no request count")),
        rps: rps.unwrap_or_else(|| fail("no Requests/sec")),
        mean_us: mean_us.unwrap_or_else(|| fail("no latency line")),
        max_us: max_us.unwrap_or_else(|| fail("no latency line")),
        percentiles,
    }
}

/// wrk as the load: a warm-up run, then the measured run; the same figures as the in-repo
/// client's (`p999_us` is NaN: wrk does not report it).
pub fn load(addr: SocketAddr, conns: usize, warmup: Duration, measure: Duration) -> Stats {
    run(addr, conns, whole_secs(warmup));
    let secs = whole_secs(measure);
    let (server0, client0, start) = (process_cpu_time(), children_cpu_time(), Instant::now());
    let text = run(addr, conns, secs);
    let (server1, client1, end) = (process_cpu_time(), children_cpu_time(), Instant::now());
    let summary = parse(&text);
    assert!(summary.requests > 0.0, "wrk: no request answered");
    let pct = |p: f64| {
        summary
            .percentiles
            .iter()
            .find(|(q, _)| (q - p).abs() < 1e-9)
            .map_or(f64::NAN, |(_, v)| *v)
    };
    OutsideRun {
        rps: summary.rps,
        requests: summary.requests,
        p50_us: pct(0.50),
        p90_us: pct(0.90),
        p99_us: pct(0.99),
        p999_us: f64::NAN,
        max_us: summary.max_us,
        mean_us: summary.mean_us,
        server_cpu: server1.saturating_sub(server0),
        client_cpu: client1.saturating_sub(client0),
        wall: end - start,
    }
    .stats()
}

/// One measured run of an outside load generator (wrk, `crate::h2load`) against this
/// process's server.
pub(crate) struct OutsideRun {
    pub(crate) rps: f64,
    pub(crate) requests: f64,
    pub(crate) p50_us: f64,
    pub(crate) p90_us: f64,
    pub(crate) p99_us: f64,
    /// NaN where the generator does not report it.
    pub(crate) p999_us: f64,
    pub(crate) max_us: f64,
    pub(crate) mean_us: f64,
    /// This process's CPU time over the run (the server's).
    pub(crate) server_cpu: Duration,
    /// The generator's CPU time over the run (`RUSAGE_CHILDREN`).
    pub(crate) client_cpu: Duration,
    pub(crate) wall: Duration,
}

impl OutsideRun {
    /// The figures the in-repo client reports, under the same keys.
    pub(crate) fn stats(self) -> Stats {
        let (server_cpu, client_cpu) =
            (self.server_cpu.as_secs_f64(), self.client_cpu.as_secs_f64());
        let requests = self.requests;
        vec![
            ("rps".into(), self.rps),
            ("requests".into(), requests),
            ("p50_us".into(), self.p50_us),
            ("p90_us".into(), self.p90_us),
            ("p99_us".into(), self.p99_us),
            ("p999_us".into(), self.p999_us),
            ("max_us".into(), self.max_us),
            ("mean_us".into(), self.mean_us),
            ("process_cpu_s".into(), server_cpu + client_cpu),
            ("client_cpu_s".into(), client_cpu),
            ("server_cpu_us_per_req".into(), server_cpu * 1e6 / requests),
            ("client_cpu_us_per_req".into(), client_cpu * 1e6 / requests),
            (
                "client_cpu_share".into(),
                if server_cpu + client_cpu > 0.0 {
                    client_cpu / (server_cpu + client_cpu)
                } else {
                    f64::NAN
                },
            ),
            ("wall_s".into(), self.wall.as_secs_f64()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrk_summary_is_parsed() {
        let text = "Running 2s test @ http://127.0.0.1:8080/
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   510.31us  120.00us   5.20ms   90.00%
    Req/Sec    60.00k     1.00k   62.00k    80.00%
  Latency Distribution
     50%  490.00us
     75%  550.00us
     90%  620.00us
     99%    1.10ms
  120000 requests in 2.00s, 10.00MB read
Requests/sec:  59990.00
Transfer/sec:      5.00MB
";
        let s = parse(text);
        assert_eq!(s.requests, 120_000.0);
        assert_eq!(s.rps, 59_990.0);
        assert!((s.mean_us - 510.31).abs() < 1e-6);
        assert!((s.max_us - 5200.0).abs() < 1e-6);
        assert_eq!(s.percentiles.len(), 4);
        assert!((s.percentiles[3].1 - 1100.0).abs() < 1e-6);
    }
}
