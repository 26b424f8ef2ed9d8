//! `oversubscription`: the scheduler workloads with more workers than cores, magpie beside
//! tokio and smol (issue 20). Not a criterion group: one figure is a grid of worker counts ×
//! workloads × runtimes, each in a process of its own.
//!
//! # What is measured
//!
//! The six workloads of `benches/runtimes.rs` (`spawn_many_local`, `spawn_many_remote`,
//! `yield_many`, `chained_spawn`, `chained_spawn_remote`, `spawn_blocking`; the same code,
//! from [`magpie_benches::scheduler`]), on runtimes built with 2, 8 and 32 worker threads
//! (`MAGPIE_BENCH_OVERSUB_WORKERS`, default `2,8,32`) whatever the machine's core count.
//! `spawn_many_remote` and `yield_many` run each iteration inside the runtime's `block_on`
//! on the measuring thread, as criterion's `to_async` does. With more workers than cores,
//! a runtime that wakes idle workers to look for work which one worker could have done
//! alone pays for every wake-up, futile steal attempt and park in CPU time (and in wall
//! time, when those threads take the cores from the ones with work): what the figure shows
//! is how throughput and CPU change as the workers outnumber the cores, i.e. how well the
//! runtime throttles its searching workers and keeps the surplus parked.
//!
//! Per (worker count, workload, runtime, round), a child process (this binary re-executed
//! with its child flag; the harness is `benches/figures.rs`) builds the runtime with that
//! many workers, runs iterations for a warm-up (`MAGPIE_BENCH_OVERSUB_WARMUP_SECS`,
//! default 0.2 s, at least one iteration), then runs iterations for a measured window
//! (`MAGPIE_BENCH_OVERSUB_SECS`, default 0.5 s, at least [`MIN_ITERS`] iterations) and
//! reports, per iteration over that window:
//!
//! * wall time (`Instant` around the window);
//! * process CPU time (`CLOCK_PROCESS_CPUTIME_ID`: every thread: workers, blocking pools,
//!   the measuring thread), with its user/system split (`getrusage`);
//! * context switches of all threads (`getrusage`: voluntary ones are mostly a thread
//!   blocking to park, involuntary ones the kernel taking a core from a runnable thread);
//! * and the process's thread count after the warm-up.
//!
//! Rounds (`MAGPIE_BENCH_OVERSUB_ROUNDS`, default 3) alternate the runtimes' order, each
//! round starting one later in the list (magpie tokio smol, tokio smol magpie, ...), so that
//! drift in the machine's load falls on all of them alike; each figure is the median over
//! the rounds. Target (issue 20): at every worker count, magpie's CPU time per iteration ≤
//! tokio's, judged per workload and count.
//!
//! Prints, per worker count, a table of workloads × runtimes (wall and CPU µs per
//! iteration, context switches per iteration, ratios magpie/tokio) and a summary of the
//! target, and writes `target/magpie-sched-figures.json`
//! (`MAGPIE_BENCH_SCHED_FIGURES_JSON` overrides the path), which `scripts/bench_report.py`
//! turns into the "Oversubscription" section of `docs/benchmarks.md`. The defaults run
//! 3 × 6 × 3 × 3 = 162 children of about 0.75 s: under 3 minutes (the estimate is printed).
//!
//! ```text
//! cargo bench -p magpie-benches --bench sched_figures               # the whole grid
//! cargo bench -p magpie-benches --bench sched_figures -- --quick    # smoke run, no JSON
//! MAGPIE_BENCH_OVERSUB_WORKERS=32 MAGPIE_BENCH_OVERSUB_WORKLOADS=chained_spawn \
//!     cargo bench -p magpie-benches --bench sched_figures           # one cell
//! ```
//!
//! `MAGPIE_BENCH_OVERSUB_WORKLOADS` (a comma-separated list of workload names) measures only
//! those. A quick smoke run (worker counts 2 and 8, one round, one warm-up iteration, 20 ms
//! measured, no JSON) happens without `--bench` on the command line (`cargo test
//! --benches`), with `--test`, with `--quick`, or with `MAGPIE_BENCH_QUICK=1`. Filters
//! follow `benches/figures.rs` (the only figure is `oversubscription`).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use magpie_benches::figures::{
    cpus, json_number, lookup, median, print_result, FigureBench, Stats, RUNTIMES,
};
use magpie_benches::scheduler::WORKLOADS;
use magpie_benches::{
    magpie_rt_with_workers, process_cpu_time, thread_count, tokio_rt_with_workers, SmolRuntime,
    Usage, Workload,
};

const BENCH: FigureBench = FigureBench {
    name: "sched_figures",
    child_flag: "--magpie-sched-figure-child",
    figures: &[OVERSUBSCRIPTION],
    knobs: &[
        WORKERS_LIST_ENV,
        WORKLOADS_ENV,
        SECS_ENV,
        WARMUP_ENV,
        ROUNDS_ENV,
        QUICK_ENV,
    ],
    json_env: "MAGPIE_BENCH_SCHED_FIGURES_JSON",
    json_file: "magpie-sched-figures.json",
    command_env: "BENCH_SCHED_FIGURES_COMMAND",
};

const OVERSUBSCRIPTION: &str = "oversubscription";

const WORKERS_LIST_ENV: &str = "MAGPIE_BENCH_OVERSUB_WORKERS";
const WORKLOADS_ENV: &str = "MAGPIE_BENCH_OVERSUB_WORKLOADS";
const SECS_ENV: &str = "MAGPIE_BENCH_OVERSUB_SECS";
const WARMUP_ENV: &str = "MAGPIE_BENCH_OVERSUB_WARMUP_SECS";
const ROUNDS_ENV: &str = "MAGPIE_BENCH_OVERSUB_ROUNDS";
const QUICK_ENV: &str = "MAGPIE_BENCH_QUICK";

/// The fewest iterations a measured window runs, however long they take.
const MIN_ITERS: u64 = 3;
/// A child's cost beyond its warm-up and window (start, runtime build and drop), for the
/// printed estimate.
const CHILD_OVERHEAD_SECS: f64 = 0.06;

/// The run's settings.
#[derive(Clone, Debug)]
struct Settings {
    worker_counts: Vec<usize>,
    workloads: Vec<Workload>,
    warmup: Duration,
    measure: Duration,
    rounds: usize,
}

impl Settings {
    fn from_env(quick: bool) -> Settings {
        let worker_counts = match std::env::var(WORKERS_LIST_ENV) {
            Ok(s) => s
                .split(',')
                .map(|c| match c.trim().parse::<usize>() {
                    Ok(n) if n > 0 => n,
                    _ => panic!(
                        "{WORKERS_LIST_ENV} must be positive integers (e.g. 2,8,32), got {s:?}"
                    ),
                })
                .collect(),
            Err(_) if quick => vec![2, 8],
            Err(_) => vec![2, 8, 32],
        };
        let workloads = match std::env::var(WORKLOADS_ENV) {
            Ok(s) => s.split(',').map(|name| workload(name.trim())).collect(),
            Err(_) => WORKLOADS.to_vec(),
        };
        let secs = |env: &str, default: f64, quick_default: f64| match std::env::var(env) {
            Ok(s) => match s.trim().parse::<f64>() {
                Ok(v) if v >= 0.0 && v.is_finite() => Duration::from_secs_f64(v),
                _ => panic!("{env} must be a number of seconds, got {s:?}"),
            },
            Err(_) => Duration::from_secs_f64(if quick { quick_default } else { default }),
        };
        let rounds = match std::env::var(ROUNDS_ENV) {
            Ok(s) => match s.trim().parse::<usize>() {
                Ok(n) if n > 0 => n,
                _ => panic!("{ROUNDS_ENV} must be a positive integer, got {s:?}"),
            },
            Err(_) if quick => 1,
            Err(_) => 3,
        };
        Settings {
            worker_counts,
            workloads,
            warmup: secs(WARMUP_ENV, 0.2, 0.0),
            measure: secs(SECS_ENV, 0.5, 0.02),
            rounds,
        }
    }

    /// Child processes the run starts.
    fn children(&self) -> usize {
        self.worker_counts.len() * self.workloads.len() * RUNTIMES.len() * self.rounds
    }

    /// About how long the run takes.
    fn estimate(&self) -> Duration {
        let per_child =
            self.warmup.as_secs_f64() + self.measure.as_secs_f64() + CHILD_OVERHEAD_SECS;
        Duration::from_secs_f64(self.children() as f64 * per_child)
    }
}

/// The workload called `name`.
fn workload(name: &str) -> Workload {
    WORKLOADS
        .iter()
        .copied()
        .find(|w| w.name == name)
        .unwrap_or_else(|| {
            let names: Vec<&str> = WORKLOADS.iter().map(|w| w.name).collect();
            panic!("unknown workload {name:?} (workloads: {names:?})")
        })
}

fn main() {
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
    if selection.runs(OVERSUBSCRIPTION) {
        sections.push(oversubscription(&settings));
    }
    BENCH.finish(&selection, &sections);
}

// ---------------------------------------------------------------------------
// Parent: the grid, medians, tables, JSON
// ---------------------------------------------------------------------------

/// What each child reports, all per iteration except `iters` and `threads`.
const KEYS: &[&str] = &[
    "wall_us",
    "cpu_us",
    "user_us",
    "sys_us",
    "vol_switches",
    "invol_switches",
    "iters",
    "threads",
];

/// One (worker count, workload) cell: each runtime's rounds, in [`RUNTIMES`] order.
struct Cell {
    workload: &'static str,
    rounds: Vec<Vec<Stats>>,
}

impl Cell {
    fn index(rt: &str) -> usize {
        RUNTIMES.iter().position(|r| *r == rt).expect("a runtime")
    }

    /// The median over the rounds of `key` on `rt`.
    fn median(&self, rt: &str, key: &str) -> f64 {
        median(
            self.rounds[Self::index(rt)]
                .iter()
                .map(|s| lookup(s, key))
                .collect(),
        )
    }

    /// magpie's median of `key` over tokio's.
    fn ratio(&self, key: &str) -> f64 {
        self.median("magpie", key) / self.median("tokio", key)
    }

    /// magpie's `key` over tokio's within each round (the two ran close in time).
    fn per_round(&self, key: &str) -> Vec<f64> {
        let (m, t) = (
            &self.rounds[Self::index("magpie")],
            &self.rounds[Self::index("tokio")],
        );
        m.iter()
            .zip(t)
            .map(|(m, t)| lookup(m, key) / lookup(t, key))
            .collect()
    }

    /// The target: magpie's CPU per iteration ≤ tokio's.
    fn cpu_met(&self) -> bool {
        self.ratio("cpu_us") <= 1.0
    }
}

/// The whole grid; returns the JSON section.
fn oversubscription(settings: &Settings) -> String {
    let cpus = cpus();
    println!(
        "\n{OVERSUBSCRIPTION}: the scheduler workloads with {:?} workers on {cpus} CPU(s); \
         per child {:?} warm-up + {:?} measured (≥ {MIN_ITERS} iterations), {} round(s), \
         runtimes alternating",
        settings.worker_counts, settings.warmup, settings.measure, settings.rounds
    );
    println!(
        "{} child processes, estimated {:.0} s",
        settings.children(),
        settings.estimate().as_secs_f64()
    );
    let started = Instant::now();

    let mut grid: Vec<(usize, Vec<Cell>)> = Vec::new();
    for &workers in &settings.worker_counts {
        println!(
            "\n{workers} workers per runtime ({cpus} CPUs): µs per iteration, medians over {} \
             round(s); m/t = magpie/tokio; cs = context switches per iteration",
            settings.rounds
        );
        print_header();
        let mut cells = Vec::new();
        for w in &settings.workloads {
            let mut rounds: Vec<Vec<Stats>> = vec![Vec::new(); RUNTIMES.len()];
            for round in 0..settings.rounds {
                for k in 0..RUNTIMES.len() {
                    let i = (round + k) % RUNTIMES.len();
                    let stats = BENCH.run_child(
                        OVERSUBSCRIPTION,
                        RUNTIMES[i],
                        &[
                            w.name.to_string(),
                            workers.to_string(),
                            settings.warmup.as_secs_f64().to_string(),
                            settings.measure.as_secs_f64().to_string(),
                        ],
                    );
                    rounds[i].push(stats);
                }
            }
            let cell = Cell {
                workload: w.name,
                rounds,
            };
            print_row(&cell);
            cells.push(cell);
        }
        grid.push((workers, cells));
    }

    print_summary(&grid);
    println!(
        "\n{OVERSUBSCRIPTION}: took {:.0} s (estimated {:.0} s)",
        started.elapsed().as_secs_f64(),
        settings.estimate().as_secs_f64()
    );
    json(settings, cpus, &grid)
}

fn print_header() {
    println!(
        "  {:<21} {:>9} {:>9} {:>9} {:>5} | {:>9} {:>9} {:>9} {:>5} {:>6} | {:>7} {:>7} {:>7}",
        "workload",
        "magpie",
        "tokio",
        "smol",
        "m/t",
        "magpie",
        "tokio",
        "smol",
        "m/t",
        "≤tokio",
        "cs mag",
        "cs tok",
        "cs smol",
    );
    println!(
        "  {:<21} {:>35} | {:>42} |",
        "", "── wall µs/iter ──", "── CPU µs/iter ──"
    );
}

fn print_row(cell: &Cell) {
    let cs = |rt: &str| cell.median(rt, "vol_switches") + cell.median(rt, "invol_switches");
    println!(
        "  {:<21} {:>9.1} {:>9.1} {:>9.1} {:>5.2} | {:>9.1} {:>9.1} {:>9.1} {:>5.2} {:>6} | {:>7.1} {:>7.1} {:>7.1}",
        cell.workload,
        cell.median("magpie", "wall_us"),
        cell.median("tokio", "wall_us"),
        cell.median("smol", "wall_us"),
        cell.ratio("wall_us"),
        cell.median("magpie", "cpu_us"),
        cell.median("tokio", "cpu_us"),
        cell.median("smol", "cpu_us"),
        cell.ratio("cpu_us"),
        if cell.cpu_met() { "yes" } else { "NO" },
        cs("magpie"),
        cs("tokio"),
        cs("smol"),
    );
}

/// The target per workload across the worker counts.
fn print_summary(grid: &[(usize, Vec<Cell>)]) {
    let Some((_, first)) = grid.first() else {
        return;
    };
    println!("\ntarget (issue 20): magpie's CPU per iteration ≤ tokio's at every worker count");
    print!("  {:<21}", "CPU magpie/tokio");
    for (workers, _) in grid {
        print!(" {:>12}", format!("{workers} workers"));
    }
    println!("  at every count");
    let (mut met, mut total) = (0, 0);
    for (wi, cell) in first.iter().enumerate() {
        print!("  {:<21}", cell.workload);
        let mut all = true;
        for (_, cells) in grid {
            let c = &cells[wi];
            let ok = c.cpu_met();
            all &= ok;
            met += usize::from(ok);
            total += 1;
            print!(
                " {:>12}",
                format!(
                    "{:.2} {}",
                    c.ratio("cpu_us"),
                    if ok { "met" } else { "MISS" }
                )
            );
        }
        println!("  {}", if all { "met" } else { "missed" });
    }
    println!("  met in {met} of {total} (workload, worker count) cells");
}

/// The JSON section: settings, then per worker count and workload each runtime's medians
/// and rounds, and the ratios.
fn json(settings: &Settings, cpus: usize, grid: &[(usize, Vec<Cell>)]) -> String {
    let list = |v: Vec<String>| v.join(", ");
    let mut s = format!("  \"{OVERSUBSCRIPTION}\": {{\n");
    let _ = writeln!(
        s,
        "    \"warmup_secs\": {},",
        json_number(settings.warmup.as_secs_f64())
    );
    let _ = writeln!(
        s,
        "    \"measure_secs\": {},",
        json_number(settings.measure.as_secs_f64())
    );
    let _ = writeln!(s, "    \"min_iters\": {MIN_ITERS},");
    let _ = writeln!(s, "    \"rounds\": {},", settings.rounds);
    let _ = writeln!(s, "    \"cpus\": {cpus},");
    let _ = writeln!(
        s,
        "    \"worker_counts\": [{}],",
        list(
            settings
                .worker_counts
                .iter()
                .map(|n| n.to_string())
                .collect()
        )
    );
    let _ = writeln!(
        s,
        "    \"workloads\": [{}],",
        list(
            settings
                .workloads
                .iter()
                .map(|w| format!("\"{}\"", w.name))
                .collect()
        )
    );
    let _ = writeln!(
        s,
        "    \"runtimes_order\": [{}],",
        list(RUNTIMES.iter().map(|r| format!("\"{r}\"")).collect())
    );
    s.push_str("    \"results\": {\n");
    for (gi, (workers, cells)) in grid.iter().enumerate() {
        let _ = writeln!(s, "      \"{workers}\": {{");
        for (ci, cell) in cells.iter().enumerate() {
            let _ = writeln!(s, "        \"{}\": {{", cell.workload);
            s.push_str("          \"runtimes\": {\n");
            for (ri, rt) in RUNTIMES.iter().enumerate() {
                let medians: Vec<String> = KEYS
                    .iter()
                    .map(|k| format!("\"{k}\": {}", json_number(cell.median(rt, k))))
                    .collect();
                let rounds: Vec<String> = cell.rounds[ri]
                    .iter()
                    .map(|st| {
                        let f: Vec<String> = st
                            .iter()
                            .map(|(k, v)| format!("\"{k}\": {}", json_number(*v)))
                            .collect();
                        format!("{{{}}}", f.join(", "))
                    })
                    .collect();
                let comma = if ri + 1 < RUNTIMES.len() { "," } else { "" };
                let _ = writeln!(
                    s,
                    "            \"{rt}\": {{{}, \"per_round\": [{}]}}{comma}",
                    medians.join(", "),
                    rounds.join(", ")
                );
            }
            s.push_str("          },\n");
            let per_round =
                |key: &str| list(cell.per_round(key).into_iter().map(json_number).collect());
            let _ = writeln!(
                s,
                "          \"ratios\": {{\"wall_magpie_tokio\": {}, \"cpu_magpie_tokio\": {}, \
                 \"wall_magpie_smol\": {}, \"cpu_magpie_smol\": {}, \
                 \"wall_magpie_tokio_per_round\": [{}], \"cpu_magpie_tokio_per_round\": [{}]}},",
                json_number(cell.ratio("wall_us")),
                json_number(cell.ratio("cpu_us")),
                json_number(cell.median("magpie", "wall_us") / cell.median("smol", "wall_us")),
                json_number(cell.median("magpie", "cpu_us") / cell.median("smol", "cpu_us")),
                per_round("wall_us"),
                per_round("cpu_us"),
            );
            let _ = writeln!(s, "          \"cpu_target_met\": {}", cell.cpu_met());
            let comma = if ci + 1 < cells.len() { "," } else { "" };
            let _ = writeln!(s, "        }}{comma}");
        }
        let comma = if gi + 1 < grid.len() { "," } else { "" };
        let _ = writeln!(s, "      }}{comma}");
    }
    s.push_str("    }\n  }");
    s
}

// ---------------------------------------------------------------------------
// Child: one workload on one runtime with a given worker count
// ---------------------------------------------------------------------------

fn child(args: &[String]) {
    let [figure, runtime, name, workers, warmup, measure] = args else {
        panic!(
            "usage: <child flag> <figure> <runtime> <workload> <workers> <warm-up s> \
             <measured s>, got {args:?}"
        );
    };
    assert_eq!(figure, OVERSUBSCRIPTION, "unknown figure");
    let w = workload(name);
    let workers: usize = workers.parse().expect("workers is a count");
    let secs = |s: &str| Duration::from_secs_f64(s.parse().expect("durations are seconds"));
    let (warmup, measure) = (secs(warmup), secs(measure));
    let stats = match runtime.as_str() {
        "magpie" => run(&magpie_rt_with_workers(workers), w.magpie, warmup, measure),
        "tokio" => run(&tokio_rt_with_workers(workers), w.tokio, warmup, measure),
        "smol" => run(&SmolRuntime::new(workers), w.smol, warmup, measure),
        other => panic!("unknown runtime {other:?}"),
    };
    print_result(&stats);
    // The runtime has been dropped (its workers joined) by now.
}

/// Runs `iteration` on `rt` for the warm-up, then for the measured window; returns the
/// per-iteration figures of the window.
fn run<R>(rt: &R, iteration: fn(&R), warmup: Duration, measure: Duration) -> Stats {
    let start = Instant::now();
    loop {
        iteration(rt);
        if start.elapsed() >= warmup {
            break;
        }
    }
    let threads = thread_count();
    let usage = Usage::now();
    let cpu = process_cpu_time();
    let start = Instant::now();
    let mut iters = 0u64;
    loop {
        iteration(rt);
        iters += 1;
        if iters >= MIN_ITERS && start.elapsed() >= measure {
            break;
        }
    }
    let wall = start.elapsed();
    let cpu = process_cpu_time().saturating_sub(cpu);
    let after = Usage::now();
    let per_iter = |v: f64| v / iters as f64;
    vec![
        ("wall_us".into(), per_iter(wall.as_secs_f64() * 1e6)),
        ("cpu_us".into(), per_iter(cpu.as_secs_f64() * 1e6)),
        ("user_us".into(), per_iter(after.user_us - usage.user_us)),
        ("sys_us".into(), per_iter(after.sys_us - usage.sys_us)),
        (
            "vol_switches".into(),
            per_iter(after.vol_switches - usage.vol_switches),
        ),
        (
            "invol_switches".into(),
            per_iter(after.invol_switches - usage.invol_switches),
        ),
        ("iters".into(), iters as f64),
        ("threads".into(), threads),
    ]
}
