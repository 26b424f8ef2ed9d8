//! Shared pieces of magpie's benchmark suite (`benches/runtimes.rs`,
//! `benches/sync.rs`, `benches/timers.rs`, `benches/io.rs`,
//! `benches/one_thread.rs`, and the figure binaries).
//!
//! * [`echo`] and [`ping_pong`]: the pieces of `tcp_echo` and `ping_pong`
//!   shared by the multi-thread and one-thread suites.
//! * [`figures`]: the child-process harness and JSON output of the figure
//!   binaries (`timer_figures`, `io_figures`).
//! * `http` (Linux only): the hello service, hyper's server on each runtime and
//!   the raw-epoll load clients' pieces, shared by `benches/http_figures.rs` and
//!   `benches/conn_figures.rs`.
//! * [`scheduler`]: the scheduler workloads, shared by `benches/runtimes.rs`
//!   (criterion) and `benches/sched_figures.rs` (the oversubscription figure).
//! * [`CpuTime`]: a criterion [`Measurement`] of the *process* CPU time (all
//!   threads), used next to criterion's default wall-clock measurement.
//! * Runtime constructors that all use the same number of worker threads,
//!   [`workers()`] (env `MAGPIE_BENCH_WORKERS`, default 2): [`magpie_rt`]
//!   (and [`magpie_rt_with`] for a tuned one), [`tokio_rt`] and [`smol_rt`]
//!   (an [`async_executor::Executor`] driven by that many threads, owned by a
//!   [`SmolRuntime`]).
//! * [`configure`]: the criterion settings every group uses (sample size,
//!   warm-up and measurement time), overridable from the environment and from
//!   criterion's own command line.
//! * [`Workload`] and [`run_suite`]: one criterion group per workload, one
//!   function per runtime, measured in wall time and in CPU time.
//! * [`YieldOnce`]: a runtime-agnostic future that is pending once, then ready.
//! * [`rss_bytes`]: the process's resident set size.

pub mod echo;
pub mod figures;
#[cfg(unix)]
pub mod h2load;
#[cfg(target_os = "linux")]
pub mod http;
pub mod ping_pong;
pub mod scheduler;
#[cfg(unix)]
pub mod wrk;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

use async_executor::{Executor, Task};
use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{Criterion, SamplingMode, Throughput};

/// Environment variable holding the number of worker threads of every runtime.
pub const WORKERS_ENV: &str = "MAGPIE_BENCH_WORKERS";
/// Worker threads per runtime when [`WORKERS_ENV`] is unset.
pub const DEFAULT_WORKERS: usize = 2;

/// Environment variable overriding criterion's sample size (default 20).
pub const SAMPLE_SIZE_ENV: &str = "MAGPIE_BENCH_SAMPLE_SIZE";
/// Environment variable overriding the warm-up time in seconds (default 1).
pub const WARM_UP_ENV: &str = "MAGPIE_BENCH_WARM_UP_SECS";
/// Environment variable overriding the measurement time in seconds (default 3).
pub const MEASUREMENT_ENV: &str = "MAGPIE_BENCH_MEASUREMENT_SECS";

/// Number of worker threads every runtime under test gets.
///
/// Read from `MAGPIE_BENCH_WORKERS`; 2 when unset. Panics on a value that is
/// not a positive integer, so that a typo can't silently skew a comparison.
pub fn workers() -> usize {
    match std::env::var(WORKERS_ENV) {
        Ok(s) => match s.trim().parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => panic!("{WORKERS_ENV} must be a positive integer, got {s:?}"),
        },
        Err(_) => DEFAULT_WORKERS,
    }
}

fn env_parse<T: std::str::FromStr>(name: &str) -> Option<T> {
    let s = std::env::var(name).ok()?;
    match s.trim().parse() {
        Ok(v) => Some(v),
        Err(_) => panic!("{name}: cannot parse {s:?}"),
    }
}

/// Applies the suite's default criterion settings, then the environment
/// overrides, then criterion's command line (`--sample-size`,
/// `--warm-up-time`, `--measurement-time`, filters, `--test`, ...).
///
/// Defaults: 20 samples, 1 s warm-up, 3 s measurement, no plots. With 14
/// short workloads (5 in `runtimes`, 3 in `sync`, 2 in `timers`, 4 in
/// `one_thread`) × 4–5 runtimes × 2 measurements this keeps them at roughly
/// 10–12 minutes on a 2-core machine (`tcp_echo` and `tcp_echo_1t`, with ~1 s
/// iterations, add about 4 each).
pub fn configure<M: Measurement>(c: Criterion<M>) -> Criterion<M> {
    let sample_size = env_parse::<usize>(SAMPLE_SIZE_ENV).unwrap_or(20);
    let warm_up = env_parse::<f64>(WARM_UP_ENV).unwrap_or(1.0);
    let measurement = env_parse::<f64>(MEASUREMENT_ENV).unwrap_or(3.0);
    c.sample_size(sample_size)
        .warm_up_time(Duration::from_secs_f64(warm_up))
        .measurement_time(Duration::from_secs_f64(measurement))
        .without_plots()
        .configure_from_args()
}

// ---------------------------------------------------------------------------
// CPU-time measurement
// ---------------------------------------------------------------------------

/// A criterion [`Measurement`] of process CPU time: user + system time of
/// *all* threads of the process (`clock_gettime(CLOCK_PROCESS_CPUTIME_ID)`),
/// including threads that exited in between.
///
/// # Why
///
/// The benchmarks run on small shared VMs where the host steals roughly a
/// third of the CPU, in bursts. Wall-clock results then swing by tens of
/// percent between two runs of the *same* code, which is larger than the
/// differences we want to see. CPU time is not charged while a thread is
/// descheduled by the host, so it is much steadier: two identical runtimes
/// (`tokio` vs `tokio_b`) agree within about 5%.
///
/// It measures something slightly different from wall time: the total work
/// done by every thread (workers, blocking pools, the benchmark thread) to
/// finish the workload — a runtime that spins while idle pays for it here,
/// one that parks doesn't. Read it together with the wall-clock numbers.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuTime;

/// Current process CPU time (`clock_gettime(CLOCK_PROCESS_CPUTIME_ID)`; on Windows the
/// kernel plus user time of `GetProcessTimes`).
#[cfg(unix)]
pub fn process_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable `timespec` for the duration of the
    // call, and CLOCK_PROCESS_CPUTIME_ID is a clock every Linux supports.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(
        rc,
        0,
        "clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed: {}",
        std::io::Error::last_os_error()
    );
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Current process CPU time (see the Unix version): user plus kernel time.
#[cfg(windows)]
pub fn process_cpu_time() -> Duration {
    let (user, kernel) = process_times();
    user + kernel
}

/// The process's user and kernel CPU time so far (`GetProcessTimes`).
#[cfg(windows)]
pub fn process_times() -> (Duration, Duration) {
    use windows_sys::Win32::Foundation::FILETIME;
    use windows_sys::Win32::System::Threading::{GetCurrentProcess, GetProcessTimes};
    let zero = || FILETIME {
        dwLowDateTime: 0,
        dwHighDateTime: 0,
    };
    let (mut created, mut exited, mut kernel, mut user) = (zero(), zero(), zero(), zero());
    // SAFETY: the four `FILETIME`s are valid and writable for the duration of the call, and
    // `GetCurrentProcess` returns a pseudo-handle that is always valid for this process.
    let ok = unsafe {
        GetProcessTimes(
            GetCurrentProcess(),
            &mut created,
            &mut exited,
            &mut kernel,
            &mut user,
        )
    };
    assert_ne!(
        ok,
        0,
        "GetProcessTimes failed: {}",
        std::io::Error::last_os_error()
    );
    // FILETIME counts 100 ns ticks.
    let duration = |t: FILETIME| {
        let ticks = (u64::from(t.dwHighDateTime) << 32) | u64::from(t.dwLowDateTime);
        Duration::from_nanos(ticks.saturating_mul(100))
    };
    (duration(user), duration(kernel))
}

impl Measurement for CpuTime {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        process_cpu_time()
    }

    fn end(&self, start: Duration) -> Duration {
        process_cpu_time().saturating_sub(start)
    }

    fn add(&self, v1: &Duration, v2: &Duration) -> Duration {
        *v1 + *v2
    }

    fn zero(&self) -> Duration {
        Duration::ZERO
    }

    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        &DurationFormatter
    }
}

/// Formats nanosecond values as ps/ns/µs/ms/s, like criterion's wall-time
/// formatter (which is private to criterion).
struct DurationFormatter;

impl DurationFormatter {
    fn per_second(
        amount: f64,
        typical: f64,
        values: &mut [f64],
        units: &[(f64, &'static str); 4],
    ) -> &'static str {
        let rate = amount * (1e9 / typical);
        let (denominator, unit) = units
            .iter()
            .take_while(|(d, _)| rate >= *d)
            .last()
            .copied()
            .unwrap_or(units[0]);
        for val in values {
            *val = amount * (1e9 / *val) / denominator;
        }
        unit
    }
}

impl ValueFormatter for DurationFormatter {
    fn scale_values(&self, ns: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = if ns < 1.0 {
            (1e3, "ps")
        } else if ns < 1e3 {
            (1.0, "ns")
        } else if ns < 1e6 {
            (1e-3, "µs")
        } else if ns < 1e9 {
            (1e-6, "ms")
        } else {
            (1e-9, "s")
        };
        for val in values {
            *val *= factor;
        }
        unit
    }

    fn scale_throughputs(
        &self,
        typical: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        const KIB: f64 = 1024.0;
        match *throughput {
            Throughput::Bytes(n) => Self::per_second(
                n as f64,
                typical,
                values,
                &[
                    (1.0, "  B/s"),
                    (KIB, "KiB/s"),
                    (KIB * KIB, "MiB/s"),
                    (KIB * KIB * KIB, "GiB/s"),
                ],
            ),
            Throughput::BytesDecimal(n) => Self::per_second(
                n as f64,
                typical,
                values,
                &[(1.0, "  B/s"), (1e3, "KB/s"), (1e6, "MB/s"), (1e9, "GB/s")],
            ),
            Throughput::Elements(n) => Self::per_second(
                n as f64,
                typical,
                values,
                &[
                    (1.0, " elem/s"),
                    (1e3, "Kelem/s"),
                    (1e6, "Melem/s"),
                    (1e9, "Gelem/s"),
                ],
            ),
        }
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

// ---------------------------------------------------------------------------
// Runtimes
// ---------------------------------------------------------------------------

/// A magpie runtime with [`workers()`] worker threads and default settings.
pub fn magpie_rt() -> magpie::Runtime {
    magpie_rt_with(|_| {})
}

/// A magpie runtime with [`workers()`] worker threads, after `tune` has
/// adjusted its builder (e.g. `|b| { b.timer_shards(1); }`).
pub fn magpie_rt_with(tune: impl FnOnce(&mut magpie::Builder)) -> magpie::Runtime {
    let mut builder = magpie::Runtime::builder();
    builder.worker_threads(workers());
    tune(&mut builder);
    builder.build().expect("failed to build the magpie runtime")
}

/// A magpie runtime with `n` worker threads (not [`workers()`]) and default
/// settings: the oversubscription figure's.
pub fn magpie_rt_with_workers(n: usize) -> magpie::Runtime {
    magpie_rt_with(|b| {
        b.worker_threads(n);
    })
}

/// A tokio multi-thread runtime with [`workers()`] worker threads and all
/// drivers (I/O, time) enabled.
pub fn tokio_rt() -> tokio::runtime::Runtime {
    tokio_rt_with_workers(workers())
}

/// [`tokio_rt`] with `n` worker threads (not [`workers()`]).
pub fn tokio_rt_with_workers(n: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(n)
        .enable_all()
        .build()
        .expect("failed to build the tokio runtime")
}

/// A smol-style runtime with [`workers()`] executor threads.
pub fn smol_rt() -> SmolRuntime {
    SmolRuntime::new(workers())
}

/// An [`async_executor::Executor`] driven by a fixed set of threads, each
/// running `async_io::block_on(executor.run(shutdown))` — the way `smol`
/// builds a multi-threaded executor.
///
/// Dropping it signals the shutdown and joins the threads.
pub struct SmolRuntime {
    executor: Arc<Executor<'static>>,
    shutdown: Option<async_channel::Sender<()>>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl SmolRuntime {
    /// Starts an executor driven by `threads` threads.
    pub fn new(threads: usize) -> Self {
        assert!(threads > 0, "a SmolRuntime needs at least one thread");
        let executor = Arc::new(Executor::new());
        // Nothing is ever sent: closing the channel (dropping the sender)
        // makes every `recv` return, which ends every `run`.
        let (shutdown, signal) = async_channel::bounded::<()>(1);
        let threads = (0..threads)
            .map(|i| {
                let ex = Arc::clone(&executor);
                let signal = signal.clone();
                thread::Builder::new()
                    .name(format!("smol-worker-{i}"))
                    .spawn(move || {
                        let _ = async_io::block_on(ex.run(signal.recv()));
                    })
                    .expect("failed to spawn a smol executor thread")
            })
            .collect();
        SmolRuntime {
            executor,
            shutdown: Some(shutdown),
            threads,
        }
    }

    /// The executor, to spawn onto from inside tasks (clone the `Arc`).
    pub fn executor(&self) -> &Arc<Executor<'static>> {
        &self.executor
    }

    /// Spawns `future` onto the executor. The task is cancelled if the
    /// returned [`Task`] is dropped; `.detach()` it to let it run on.
    pub fn spawn<T, F>(&self, future: F) -> Task<T>
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        self.executor.spawn(future)
    }

    /// Blocks the current thread on `future` (with `async_io::block_on`).
    ///
    /// The current thread does not run executor tasks, just as the calling
    /// thread of tokio's or magpie's `block_on` does not run worker tasks, so
    /// every runtime gets exactly [`workers()`] threads of task execution.
    pub fn block_on<T>(&self, future: impl Future<Output = T>) -> T {
        async_io::block_on(future)
    }
}

impl Drop for SmolRuntime {
    fn drop(&mut self) {
        drop(self.shutdown.take());
        for t in self.threads.drain(..) {
            // A panicking executor thread has already reported itself.
            let _ = t.join();
        }
    }
}

impl std::fmt::Debug for SmolRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmolRuntime")
            .field("threads", &self.threads.len())
            .finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------
// Workloads and the side-by-side suite
// ---------------------------------------------------------------------------

/// One benchmark workload, written once per runtime API.
///
/// [`run_suite`] measures it in one criterion group (`name` for wall time,
/// `name/cpu` for CPU time) with one function per runtime: `tokio`, `magpie`,
/// then each of `magpie_variants`, `smol`, and `tokio_b` last.
#[derive(Clone, Copy)]
pub struct Workload {
    /// Group name, as tokio and async-executor name their benchmarks.
    pub name: &'static str,
    /// One iteration on a magpie runtime (also used for `magpie_variants`).
    pub magpie: fn(&magpie::Runtime),
    /// One iteration on a tokio runtime (functions `tokio` and `tokio_b`).
    pub tokio: fn(&tokio::runtime::Runtime),
    /// One iteration on a [`SmolRuntime`].
    pub smol: fn(&SmolRuntime),
    /// Extra magpie configurations measured in the same group, beside the
    /// default one.
    pub magpie_variants: &'static [MagpieVariant],
}

/// A magpie runtime configuration other than the default, measured as its
/// own function (`name`) inside a [`Workload`]'s group.
#[derive(Clone, Copy, Debug)]
pub struct MagpieVariant {
    /// The criterion function name, e.g. `magpie_1wheel`.
    pub name: &'static str,
    /// Builds the runtime (through [`magpie_rt_with`], so that it gets the
    /// same worker count).
    pub build: fn() -> magpie::Runtime,
}

impl std::fmt::Debug for Workload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workload")
            .field("name", &self.name)
            .field("magpie_variants", &self.magpie_variants)
            .finish_non_exhaustive()
    }
}

/// Measures every workload on every runtime with measurement `M`; group
/// names get `suffix` appended (`""` for wall time, `"/cpu"` for CPU time).
///
/// Each runtime is built right before its function is measured and dropped
/// right after it, so that only one runtime exists at a time (an idle
/// runtime's threads would otherwise show up in the CPU-time numbers).
pub fn run_all<M: Measurement>(c: &mut Criterion<M>, workloads: &[Workload], suffix: &str) {
    for w in workloads {
        let mut group = c.benchmark_group(format!("{}{}", w.name, suffix));
        // Iterations take 0.1–30 ms: flat sampling (the same iteration count
        // in every sample) keeps each function within warm-up + measurement
        // time, where linear sampling would overrun it for the slow ones.
        group.sampling_mode(SamplingMode::Flat);
        // tokio first and tokio_b last: their ratio spans the whole group's
        // run time, so drift (e.g. a noisy neighbour) shows up in it.
        {
            let rt = tokio_rt();
            group.bench_function("tokio", |b| b.iter(|| (w.tokio)(&rt)));
        }
        {
            let rt = magpie_rt();
            group.bench_function("magpie", |b| b.iter(|| (w.magpie)(&rt)));
        }
        for variant in w.magpie_variants {
            let rt = (variant.build)();
            group.bench_function(variant.name, |b| b.iter(|| (w.magpie)(&rt)));
        }
        {
            let rt = smol_rt();
            group.bench_function("smol", |b| b.iter(|| (w.smol)(&rt)));
        }
        {
            let rt = tokio_rt();
            group.bench_function("tokio_b", |b| b.iter(|| (w.tokio)(&rt)));
        }
        group.finish();
    }
}

/// The `main` of a criterion bench target: every workload in wall time, then
/// in process CPU time ([`CpuTime`]), with the [`configure`]d settings.
pub fn run_suite(workloads: &[Workload]) {
    let mut wall = configure(Criterion::default());
    run_all(&mut wall, workloads, "");
    let mut cpu = configure(Criterion::default().with_measurement(CpuTime));
    run_all(&mut cpu, workloads, "/cpu");
    wall.final_summary();
    cpu.final_summary();
}

// ---------------------------------------------------------------------------
// Small helpers for workloads and figures
// ---------------------------------------------------------------------------

/// A future that is pending on its first poll (waking its task at once) and
/// ready on the second: one trip through the scheduler, written without any
/// runtime's API so that every runtime runs exactly the same code.
#[derive(Debug, Default)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct YieldOnce {
    yielded: bool,
}

impl YieldOnce {
    /// A fresh future, pending once.
    pub fn new() -> Self {
        YieldOnce { yielded: false }
    }
}

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            Poll::Ready(())
        } else {
            self.yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// The process's CPU time (µs) and context switches, all threads (`getrusage`; on Windows,
/// `GetProcessTimes` and no switch counts: NaN).
#[derive(Clone, Copy, Debug)]
pub struct Usage {
    /// User CPU time.
    pub user_us: f64,
    /// System (kernel) CPU time.
    pub sys_us: f64,
    /// Voluntary context switches (a thread blocked).
    pub vol_switches: f64,
    /// Involuntary context switches (a thread was preempted).
    pub invol_switches: f64,
}

impl Usage {
    /// The usage so far.
    #[cfg(windows)]
    pub fn now() -> Usage {
        let (user, kernel) = process_times();
        Usage {
            user_us: user.as_secs_f64() * 1e6,
            sys_us: kernel.as_secs_f64() * 1e6,
            vol_switches: f64::NAN,
            invol_switches: f64::NAN,
        }
    }

    /// The usage so far.
    #[cfg(unix)]
    pub fn now() -> Usage {
        // SAFETY: `rusage` is plain old data; all zeroes is a valid value.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `ru` is a valid, writable `rusage` for the duration of the call.
        let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
        assert_eq!(
            rc,
            0,
            "getrusage failed: {}",
            std::io::Error::last_os_error()
        );
        let us = |tv: libc::timeval| tv.tv_sec as f64 * 1e6 + tv.tv_usec as f64;
        Usage {
            user_us: us(ru.ru_utime),
            sys_us: us(ru.ru_stime),
            vol_switches: ru.ru_nvcsw as f64,
            invol_switches: ru.ru_nivcsw as f64,
        }
    }

    /// Voluntary and involuntary context switches together.
    pub fn switches(&self) -> f64 {
        self.vol_switches + self.invol_switches
    }
}

/// Threads of this process (`Threads:` of `/proc/self/status`), or NaN where that is not
/// available.
pub fn thread_count() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse::<f64>().ok())
        })
        .unwrap_or(f64::NAN)
}

/// The resident set size of this process in bytes (`VmRSS` of
/// `/proc/self/status`), or `None` where that file is not available.
pub fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_advances_with_work() {
        let m = CpuTime;
        let start = m.start();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = std::hint::black_box(x.wrapping_add(i));
        }
        let spent = m.end(start);
        assert!(spent > Duration::ZERO, "{spent:?} (x = {x})");
    }

    #[test]
    fn formatter_picks_units() {
        let mut v = [1_500.0];
        assert_eq!(DurationFormatter.scale_values(1_500.0, &mut v), "µs");
        assert!((v[0] - 1.5).abs() < 1e-9);
        let mut v = [2.5e6];
        assert_eq!(DurationFormatter.scale_values(2.5e6, &mut v), "ms");
        assert!((v[0] - 2.5).abs() < 1e-9);
    }

    #[test]
    fn yield_once_is_pending_once_on_every_runtime() {
        async fn twice() -> u32 {
            YieldOnce::new().await;
            YieldOnce::new().await;
            2
        }
        assert_eq!(magpie_rt().block_on(twice()), 2);
        assert_eq!(tokio_rt().block_on(twice()), 2);
        let smol = smol_rt();
        assert_eq!(smol.block_on(smol.spawn(twice())), 2);
    }

    #[test]
    #[cfg(target_os = "linux")] // VmRSS comes from /proc/self/status
    fn rss_is_readable_and_grows() {
        let before = rss_bytes().expect("/proc/self/status has VmRSS");
        let block = vec![1u8; 64 << 20];
        let after = rss_bytes().unwrap();
        assert!(after >= before + (32 << 20), "{before} -> {after}");
        drop(std::hint::black_box(block));
    }

    #[test]
    fn smol_runtime_runs_and_shuts_down() {
        let rt = SmolRuntime::new(2);
        let ex = Arc::clone(rt.executor());
        let out = rt.block_on(rt.spawn(async move { ex.spawn(async { 21 * 2 }).await }));
        assert_eq!(out, 42);
        drop(rt);
    }
}
