#!/usr/bin/env python3
"""Turn benchmark results (criterion; timer, I/O, HTTP, scheduler figures) into docs/benchmarks.md + .svg.

Reads every `<criterion dir>/**/new/{benchmark,estimates}.json` written by
`cargo bench -p magpie-benches --bench runtimes --bench sync --bench timers --bench io --bench fs
--bench one_thread` (groups `<workload>` for wall time and `<workload>/cpu` for process CPU time;
functions `magpie`, `tokio`, `tokio_b`, `smol`, `magpie_1wheel` on
`timer_churn`, and `tokio_spawn` on the one-thread workloads), takes the median point estimate of each, and reads the JSON
written by `cargo bench -p magpie-benches --bench timer_figures`
(`<criterion dir>/../magpie-timer-figures.json`: sleep lateness percentiles and
the memory of 1,000,000 pending sleeps) and by `cargo bench -p magpie-benches
--bench io_figures` (`<criterion dir>/../magpie-io-figures.json`: the CPU an
idle runtime with registered sockets uses) and by `cargo bench -p
magpie-benches --bench http_figures` (`<criterion dir>/../magpie-http-figures.json`:
hyper serving a small response on each runtime, driven by one load client:
requests per second and latency percentiles per connection count) and by `cargo
bench -p magpie-benches --bench sched_figures`
(`<criterion dir>/../magpie-sched-figures.json`: the scheduler workloads on
runtimes with 2, 8 and 32 workers, wall and CPU time per iteration) and by `cargo
bench -p magpie-benches --bench conn_figures` (`<criterion dir>/../magpie-conn-figures.json`:
10,000 keep-alive connections under an open-loop load from a client process, the
server's memory per connection and the latency percentiles). It writes:

* docs/benchmarks.md: date, machine, and per section the command that produced
  its numbers: one table per measurement with the ratios magpie/tokio and
  magpie/smol (per-workload targets, marked met/missed; a workload's targets
  may apply to one measurement only, e.g. `tcp_echo`'s to wall time) and
  tokio_b/tokio (two identical tokio runtimes: the run's noise band); magpie
  with one timer wheel per worker vs one wheel (`magpie_1wheel`); tokio's
  current-thread runtime with and without a LocalSet (`tokio_spawn`); sleep
  lateness (target: magpie's p50 <= 0.2 ms); memory of pending sleeps (target:
  magpie <= tokio); idle CPU (no target); HTTP (targets: magpie's requests per
  second >= 1.1x tokio's, magpie's p99 latency <= tokio's); oversubscription
  (target: magpie's CPU time per iteration <= tokio's at every worker count);
  connection scale (targets: magpie's memory per connection and p99 <= tokio's);
* docs/benchmarks.svg: a bar chart of the ratios, with each workload's targets
  and 1.0 marked, embedded in the markdown.

Python 3 standard library only. Nothing is hard-coded: every number comes
from the JSON files.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import math
import os
import platform
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

RUNTIMES = ["magpie", "tokio", "tokio_b", "smol"]
# magpie with one timer wheel for all workers (`Builder::timer_shards(1)`),
# measured beside `magpie` on the timer workloads that have it.
ONE_WHEEL = "magpie_1wheel"
# tokio's current-thread runtime with `tokio::spawn` and no LocalSet, measured
# beside `tokio` (local tasks in a LocalSet) on the one-thread workloads.
TOKIO_SPAWN = "tokio_spawn"
FUNCTIONS = RUNTIMES + [ONE_WHEEL, TOKIO_SPAWN]
# Workloads in the order runtimes.rs, sync.rs, timers.rs, io.rs, fs.rs then
# one_thread.rs run them; unknown ones follow, sorted.
WORKLOAD_ORDER = [
    "spawn_many_local",
    "spawn_many_remote",
    "yield_many",
    "chained_spawn",
    "chained_spawn_remote",
    "spawn_blocking",
    "ping_pong",
    "mpsc",
    "mpsc_unbounded",
    "timer_churn",
    "timer_fire",
    "tcp_echo",
    "fs_read_small",
    "fs_read_large",
    "spawn_many_local_1t",
    "yield_many_1t",
    "ping_pong_1t",
    "timer_fire_1t",
    "tcp_echo_1t",
]
# The one-thread workloads (benches/one_thread.rs): magpie's current-thread runtime vs
# tokio's current-thread runtime (local tasks in a LocalSet) and smol's LocalExecutor.
ONE_THREAD = [
    "spawn_many_local_1t",
    "yield_many_1t",
    "ping_pong_1t",
    "timer_fire_1t",
    "tcp_echo_1t",
]
MEASUREMENTS = [
    ("wall", "Wall-clock time", ""),
    ("cpu", "Process CPU time (all threads)", "/cpu"),
]
# (column title, numerator, denominator)
RATIOS = [
    ("magpie/tokio", "magpie", "tokio"),
    ("magpie/smol", "magpie", "smol"),
    ("tokio_b/tokio (noise)", "tokio_b", "tokio"),
]
# Targets (ratio must be <= target), per workload and ratio column. The
# scheduler and channel workloads (and unknown ones) get DEFAULT_TARGETS; a
# column missing from a workload's targets is shown without a verdict.
DEFAULT_TARGETS = {"magpie/tokio": 0.8, "magpie/smol": 0.8}
WORKLOAD_TARGETS = {
    "timer_churn": {"magpie/tokio": 0.8},
    "timer_fire": {"magpie/tokio": 1.0},
    # issue 4: on wall time (see TARGET_MEASUREMENTS)
    "tcp_echo": {"magpie/tokio": 0.83, "magpie/smol": 0.8},
    # issue 17: magpie::fs at most 0.8 of tokio::fs's time (wall, see TARGET_MEASUREMENTS)
    "fs_read_small": {"magpie/tokio": 0.8},
    "fs_read_large": {"magpie/tokio": 0.8},
    # issue 18: at most 0.8 of both tokio current-thread and smol LocalExecutor (wall)
    **{w: {"magpie/tokio": 0.8, "magpie/smol": 0.8} for w in ONE_THREAD},
}
# The measurements (MEASUREMENTS keys) in which a workload's targets are
# judged; a workload not listed is judged in every measurement. In the others
# its ratios are shown without a verdict.
TARGET_MEASUREMENTS = {
    "tcp_echo": ("wall",),
    "fs_read_small": ("wall",),
    "fs_read_large": ("wall",),
    **{w: ("wall",) for w in ONE_THREAD},
}
# The figures written by benches/timer_figures.rs.
FIGURES_FILE = "magpie-timer-figures.json"
FIGURE_RUNTIMES = ["magpie", "tokio", "smol"]
LATENESS_TARGET_MS = 0.2  # magpie's p50 lateness of sleep(1 ms)
WORKLOAD_TEXT = {
    "spawn_many_local": "10,000 empty tasks spawned from a task and joined",
    "spawn_many_remote": "the same spawned from outside the runtime (from the benchmark "
    "thread, inside criterion's `b.to_async(&runtime)`)",
    "yield_many": "200 tasks × 1,000 `yield_now`, spawned from the benchmark thread and "
    "joined there (criterion's async API: `b.to_async(&runtime)`)",
    "chained_spawn": "a chain of 1,000 tasks each spawning the next",
    "chained_spawn_remote": "the same chain started from the benchmark thread's `block_on` "
    "(a remote spawn) and answering it over a channel",
    "spawn_blocking": "1,000 trivial `spawn_blocking` calls (smol: `blocking::unblock`), "
    "joined",
    "ping_pong": "1,000 task pairs exchanging messages over oneshot and bounded(1) "
    "channels: 20 round trips per pair, each a ping carrying a fresh oneshot sender over the "
    "pair's bounded(1) mpsc channel and the pong back over that oneshot (smol: "
    "`async_channel::bounded(1)` for both)",
    "mpsc": "mpsc throughput: 5 sender tasks × 1,000 `u64`s over one bounded channel of "
    "capacity 1,024, one receiver task summing all 5,000 (smol: `async_channel::bounded`)",
    "mpsc_unbounded": "the same over an unbounded channel (smol: `async_channel::unbounded`)",
    "timer_churn": "100,000 timeouts registered and cancelled before they fire: 100 tasks "
    "× 1,000 `timeout(1 s, f)` where `f` is pending on its first poll and ready on its "
    "second (smol: `future::or(f, Timer::after(1 s))`)",
    "timer_fire": "10,000 tasks each sleeping 1 ms five times in a row, joined (smol: "
    "`async_io::Timer::after`)",
    "tcp_echo": "50 connections × 2,000 round trips of 64 bytes on loopback, echo server "
    "(an accept loop, a task per connection) and 50 client tasks (connect, `set_nodelay`, "
    "2,000 × {write 64 bytes, `read_exact` 64 bytes}) on the same runtime, listener bound "
    "per iteration (smol: async-io's `Async<TcpStream>`)",
    "fs_read_small": "2,000 files of 4 KiB (in the page cache), each read whole by its own "
    "task, all spawned at once and joined: `magpie::fs::read`, `tokio::fs::read` (smol: "
    "`blocking::unblock(std::fs::read)`)",
    "fs_read_large": "one 256 MiB file (in the page cache) read whole with `fs::read` "
    "(magpie reads files of 8 MiB or more in parallel parts, one per core up to 4)",
    "spawn_many_local_1t": "on one thread (magpie: a current-thread runtime and "
    "`task::spawn_local`; tokio: a current-thread runtime and `task::spawn_local` in a "
    "`LocalSet`; smol: a `LocalExecutor` under `async_io::block_on`): 10,000 empty tasks "
    "spawned from the `block_on` future and joined there",
    "yield_many_1t": "on one thread: 200 tasks × 1,000 `yield_now`, joined",
    "ping_pong_1t": "on one thread: `ping_pong`'s 1,000 pairs × 20 round trips over each "
    "runtime's own channels",
    "timer_fire_1t": "on one thread: 10,000 tasks each sleeping 1 ms five times in a row, "
    "joined",
    "tcp_echo_1t": "on one thread: `tcp_echo`'s 50 connections × 2,000 round trips of 64 "
    "bytes, echo server and clients on the same thread",
}
BENCH_FILES = {
    "ping_pong": "benches/sync.rs",
    "mpsc": "benches/sync.rs",
    "mpsc_unbounded": "benches/sync.rs",
    "timer_churn": "benches/timers.rs",
    "timer_fire": "benches/timers.rs",
    "tcp_echo": "benches/io.rs",
    "fs_read_small": "benches/fs.rs",
    "fs_read_large": "benches/fs.rs",
    **{w: "benches/one_thread.rs" for w in ONE_THREAD},
}
# The figures written by benches/io_figures.rs.
IO_FIGURES_FILE = "magpie-io-figures.json"
# The figures written by benches/http_figures.rs, and their targets (issue 6):
# magpie's requests per second >= 1.1x tokio's, magpie's p99 <= tokio's.
HTTP_FIGURES_FILE = "magpie-http-figures.json"
HTTP_RPS_TARGET = 1.1
HTTP_P99_TARGET = 1.0
# axum on each runtime (issue 19): requests/s >= 1.0x tokio's, p99 <= tokio's.
HTTP_AXUM_RPS_TARGET = 1.0
# magpie's server CPU per request / tokio's, for the figures driven by an outside load
# generator (issue 20).
HTTP_EXTERNAL_CPU_TARGET = 0.9
HTTP_CPU_TARGETS = {
    "http_hello_wrk": HTTP_EXTERNAL_CPU_TARGET,
    "http2_hello_h2load": HTTP_EXTERNAL_CPU_TARGET,
}
# The connection scale figure of benches/conn_figures.rs (issue 20): magpie's memory per
# connection <= tokio's, magpie's p99 <= tokio's.
CONN_FIGURES_FILE = "magpie-conn-figures.json"
CONN_MEM_TARGET = 1.0
CONN_P99_TARGET = 1.0
# The oversubscription figure of benches/sched_figures.rs (issue 20): magpie's CPU time per
# iteration <= tokio's, judged per workload and worker count.
SCHED_FIGURES_FILE = "magpie-sched-figures.json"
OVERSUB_CPU_TARGET = 1.0


def fmt_target(t: float) -> str:
    """0.8 -> "0.8", 1 -> "1.0"."""
    text = f"{t:g}"
    return text if "." in text or "e" in text else text + ".0"


def targets_for(workload: str, measurement: str | None = None) -> dict[str, float]:
    """The workload's targets; with `measurement`, none where they are not judged in it."""
    if measurement is not None and measurement not in TARGET_MEASUREMENTS.get(
        workload, (measurement,)
    ):
        return {}
    return WORKLOAD_TARGETS.get(workload, DEFAULT_TARGETS)


def load_results(criterion_dir: Path, since: float | None):
    """{measurement: {workload: {runtime: median_ns}}}, plus result mtimes."""
    results: dict[str, dict[str, dict[str, float]]] = {m[0]: {} for m in MEASUREMENTS}
    mtimes: list[float] = []
    skipped_old = 0
    for est_path in sorted(criterion_dir.glob("**/new/estimates.json")):
        bench_path = est_path.with_name("benchmark.json")
        try:
            est = json.loads(est_path.read_text())
            bench = json.loads(bench_path.read_text()) if bench_path.exists() else None
        except (OSError, json.JSONDecodeError) as e:
            print(f"bench_report: skipping {est_path}: {e}", file=sys.stderr)
            continue
        mtime = est_path.stat().st_mtime
        if since is not None and mtime < since:
            skipped_old += 1
            continue
        if bench is not None:
            group, function = bench["group_id"], bench["function_id"]
        else:  # fall back to the directory layout: <group>/<function>/new/
            group, function = est_path.parent.parent.parent.name, est_path.parent.parent.name
            if group.endswith("_cpu"):
                group = group[: -len("_cpu")] + "/cpu"
        if function not in FUNCTIONS:
            continue
        if group.endswith("/cpu"):
            measurement, workload = "cpu", group[: -len("/cpu")]
        else:
            measurement, workload = "wall", group
        median = est.get("median", {}).get("point_estimate")
        if median is None:
            continue
        results[measurement].setdefault(workload, {})[function] = float(median)
        mtimes.append(mtime)
    return results, mtimes, skipped_old


def ordered_workloads(results) -> list[str]:
    seen = set()
    for per_workload in results.values():
        seen.update(per_workload)
    known = [w for w in WORKLOAD_ORDER if w in seen]
    return known + sorted(seen - set(known))


def fmt_ns(ns: float | None, digits: int = 3) -> str:
    """A duration in nanoseconds with `digits` significant digits and a unit that fits."""
    if ns is None:
        return "—"
    for limit, factor, unit in ((1e3, 1.0, "ns"), (1e6, 1e3, "µs"), (1e9, 1e6, "ms"), (None, 1e9, "s")):
        if limit is None or ns < limit:
            x = ns / factor
            decimals = max(digits - (1 if x < 10 else 2 if x < 100 else 3), 0)
            return f"{x:.{decimals}f} {unit}"
    raise AssertionError("unreachable")


def ratio(row: dict[str, float], num: str, den: str) -> float | None:
    a, b = row.get(num), row.get(den)
    if a is None or b is None or b == 0:
        return None
    return a / b


def machine_info() -> list[tuple[str, str]]:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 0
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        rustc = subprocess.run(
            ["rustc", "--version"], capture_output=True, text=True, check=True, cwd=REPO
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        rustc = "unknown"
    workers = os.environ.get("MAGPIE_BENCH_WORKERS", "2 (default)")
    try:
        load_now = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        load_now = "unknown"
    load_start = os.environ.get("BENCH_LOAD_START")
    load = (f"{load_start} at the start, " if load_start else "") + f"{load_now} at the end"
    load += (
        f" (1/5/15-min; the benchmarks alone keep it near {cpus}–{cpus + 1}, "
        "much more means other work competed with them)"
        if cpus
        else ""
    )
    return [
        ("CPUs (nproc)", str(cpus)),
        ("CPU model", model),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("rustc", rustc),
        ("worker threads per runtime", workers),
        ("load average", load),
    ]


def verdict(value: float | None, noise: float | None, target: float) -> str:
    if value is None:
        return "—"
    mark = "met ✅" if value <= target else "missed ❌"
    text = f"{value:.2f} {mark}"
    if target != DEFAULT_TARGETS["magpie/tokio"]:
        text += f" (≤ {fmt_target(target)})"
    # A ratio closer to the target than the run's own tokio/tokio spread
    # could have landed on the other side by chance.
    if noise is not None and abs(value - target) < value * abs(noise - 1.0):
        text += " (within noise)"
    return text


def table(results_m, workloads, measurement: str) -> tuple[list[str], dict[str, int]]:
    header = ["workload"] + RUNTIMES + [r[0] for r in RATIOS]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|",
    ]
    counts = {"met": 0, "missed": 0}
    for w in workloads:
        row = results_m.get(w, {})
        if not any(row.get(rt) is not None for rt in RUNTIMES):
            continue
        noise = ratio(row, "tokio_b", "tokio")
        targets = targets_for(w, measurement)
        cells = [f"`{w}`"] + [fmt_ns(row.get(rt)) for rt in RUNTIMES]
        for title, num, den in RATIOS:
            value = ratio(row, num, den)
            target = targets.get(title)
            if target is not None:
                cells.append(verdict(value, noise, target))
                if value is not None:
                    counts["met" if value <= target else "missed"] += 1
            else:
                cells.append("—" if value is None else f"{value:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return lines, counts


def shards_table(results, workloads) -> list[str]:
    """magpie (one timer wheel per worker) vs magpie_1wheel (one wheel, one
    lock), per workload that has both, in every measurement."""
    lines = [
        "| workload | measurement | magpie (a wheel per worker) | "
        f"{ONE_WHEEL} (one wheel) | magpie/{ONE_WHEEL} | tokio_b/tokio (noise) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    rows = 0
    for w in workloads:
        for key, title, _ in MEASUREMENTS:
            row = results.get(key, {}).get(w, {})
            if row.get(ONE_WHEEL) is None:
                continue
            value = ratio(row, "magpie", ONE_WHEEL)
            noise = ratio(row, "tokio_b", "tokio")
            lines.append(
                f"| `{w}` | {'wall' if key == 'wall' else 'CPU'} | {fmt_ns(row.get('magpie'))} | "
                f"{fmt_ns(row.get(ONE_WHEEL))} | {'—' if value is None else f'{value:.2f}'} | "
                f"{'—' if noise is None else f'{noise:.2f}'} |"
            )
            rows += 1
    return lines if rows else []


def tokio_spawn_table(results, workloads) -> list[str]:
    """magpie and tokio's two ways to run tasks on one thread (local tasks in a
    LocalSet, `tokio::spawn` without one), per workload that has both, in every
    measurement."""
    lines = [
        "| workload | measurement | magpie | tokio (LocalSet) | "
        f"{TOKIO_SPAWN} | magpie/{TOKIO_SPAWN} | {TOKIO_SPAWN}/tokio | tokio_b/tokio (noise) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    rows = 0
    for w in workloads:
        for key, _, _ in MEASUREMENTS:
            row = results.get(key, {}).get(w, {})
            if row.get(TOKIO_SPAWN) is None:
                continue

            def r(v):
                return "—" if v is None else f"{v:.2f}"

            lines.append(
                f"| `{w}` | {'wall' if key == 'wall' else 'CPU'} | {fmt_ns(row.get('magpie'))} | "
                f"{fmt_ns(row.get('tokio'))} | {fmt_ns(row.get(TOKIO_SPAWN))} | "
                f"{r(ratio(row, 'magpie', TOKIO_SPAWN))} | {r(ratio(row, TOKIO_SPAWN, 'tokio'))} | "
                f"{r(ratio(row, 'tokio_b', 'tokio'))} |"
            )
            rows += 1
    return lines if rows else []


# --------------------------------------------------------------------------- figures


def load_figures(path: Path, since: float | None):
    """A figures JSON (timer or I/O), or None when absent, unreadable or older than `since`."""
    if not path.is_file():
        return None, False
    if since is not None and path.stat().st_mtime < since:
        return None, True
    try:
        return json.loads(path.read_text()), False
    except (OSError, json.JSONDecodeError) as e:
        print(f"bench_report: skipping {path}: {e}", file=sys.stderr)
        return None, False


def fmt_ms(ms: float | None) -> str:
    return "—" if ms is None else f"{ms:.3f} ms"


def fmt_ms_as_ns(ms: float | None) -> str:
    return fmt_ns(None if ms is None else ms * 1e6)


def fmt_count(n) -> str:
    return f"{int(n):,}" if isinstance(n, (int, float)) else "?"


def lateness_section(fig, command: str) -> tuple[list[str], dict[str, int]]:
    counts = {"met": 0, "missed": 0}
    per_rt = fig.get("runtimes", {})
    md = [
        "## Sleep lateness",
        "",
        f"Command: `{command}`",
        "",
        f"How late `sleep({fig.get('sleep_ms', 1):g} ms)` wakes: one task on an otherwise idle "
        f"runtime awaits {fmt_count(fig.get('sleeps'))} such sleeps in a row (after "
        f"{fmt_count(fig.get('warmup', 0))} unrecorded ones); lateness is the time measured with "
        "`std::time::Instant` around each `.await`, minus the duration. Each runtime in a "
        "process of its own (`benches/timer_figures.rs`). Not a throughput figure, so not "
        "criterion. tokio's timer wheel counts whole milliseconds and rounds a deadline up "
        "to the next one, so its 1 ms sleeps wake about 1 ms late by design. Target: "
        f"magpie's p50 ≤ {LATENESS_TARGET_MS:g} ms.",
        "",
        "| runtime | p50 | p99 | mean | max | target |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for rt in FIGURE_RUNTIMES + sorted(set(per_rt) - set(FIGURE_RUNTIMES)):
        st = per_rt.get(rt)
        if st is None:
            continue
        p50 = st.get("p50_ms")
        target = "—"
        if rt == "magpie" and p50 is not None:
            met = p50 <= LATENESS_TARGET_MS
            counts["met" if met else "missed"] += 1
            target = f"p50 ≤ {LATENESS_TARGET_MS:g} ms: " + ("met ✅" if met else "missed ❌")
        md.append(
            f"| {rt} | {fmt_ms(p50)} | {fmt_ms(st.get('p99_ms'))} | "
            f"{fmt_ms(st.get('mean_ms'))} | {fmt_ms(st.get('max_ms'))} | {target} |"
        )
    md.append("")
    return md, counts


def memory_section(fig, command: str) -> tuple[list[str], dict[str, int]]:
    counts = {"met": 0, "missed": 0}
    per_rt = fig.get("runtimes", {})
    n = fig.get("sleeps")
    secs = fig.get("sleep_secs")
    hours = f"{secs / 3600:g}-hour" if isinstance(secs, (int, float)) else "long"
    md = [
        f"## Memory: {fmt_count(n)} pending sleeps",
        "",
        f"Command: `{command}`",
        "",
        f"One task creates {fmt_count(n)} {hours} sleeps, each boxed (`Box::pin`, as a task "
        "would hold it), and polls each once so that every timer is registered; the growth "
        "of the process's resident set (`VmRSS`) over that, divided by the count, is what a "
        "pending sleep costs: the future itself, rounded up by the allocator, plus what the "
        "runtime keeps per timer. The `Vec` holding the boxes is allocated and touched before "
        "the first reading, so it is not counted. Each runtime in a process of its own, so no "
        "allocator reuses another runtime's freed memory (`benches/timer_figures.rs`). Also "
        "shown: the size of the sleep future, and how long creating + registering and "
        "dropping (cancelling) them all took. Target: magpie ≤ tokio.",
        "",
        "| runtime | RSS before | RSS after | growth | bytes/sleep | future size | "
        "register all | cancel all | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    tokio_bps = (per_rt.get("tokio") or {}).get("bytes_per_sleep")
    for rt in FIGURE_RUNTIMES + sorted(set(per_rt) - set(FIGURE_RUNTIMES)):
        st = per_rt.get(rt)
        if st is None:
            continue
        before, after = st.get("rss_before_bytes"), st.get("rss_after_bytes")
        bps = st.get("bytes_per_sleep")

        def mb(b):
            return "—" if b is None else f"{b / 1e6:.1f} MB"

        target = "—"
        if rt == "magpie" and bps is not None and tokio_bps is not None:
            met = bps <= tokio_bps
            counts["met" if met else "missed"] += 1
            target = f"≤ tokio ({bps / tokio_bps:.2f}×): " + ("met ✅" if met else "missed ❌")
        size = st.get("size_of_sleep")
        md.append(
            f"| {rt} | {mb(before)} | {mb(after)} | "
            f"{mb(None if before is None or after is None else after - before)} | "
            f"{'—' if bps is None else f'{bps:.1f}'} | "
            f"{'—' if size is None else f'{int(size)} B'} | "
            f"{fmt_ms_as_ns(st.get('register_ms'))} | "
            f"{fmt_ms_as_ns(st.get('cancel_ms'))} | {target} |"
        )
    md.append("")
    return md, counts


def idle_cpu_section(fig, command: str) -> tuple[list[str], dict[str, int]]:
    """The CPU an idle runtime with registered sockets uses (no target)."""
    per_rt = fig.get("runtimes", {})
    idle, settle = fig.get("idle_secs"), fig.get("settle_secs")

    def secs(x, default: str) -> str:
        return f"{x:g} s" if isinstance(x, (int, float)) else default

    def num(x, decimals: int = 1) -> str:
        return "—" if not isinstance(x, (int, float)) else f"{x:,.{decimals}f}"

    md = [
        "## Idle CPU",
        "",
        f"Command: `{command}`",
        "",
        "The CPU a runtime uses while nothing happens. Each runtime, in a process of its own "
        "(`benches/io_figures.rs`), is built, given a TCP listener on loopback whose accept "
        "loop is pending in a task and one connection whose two ends are each pending in a "
        "`read` in a task (three sockets registered with its reactor), and left to settle "
        f"for {secs(settle, 'a moment')}; then the process's CPU time "
        "(`getrusage(RUSAGE_SELF)`: user + system, all threads) is read before and after "
        f"{secs(idle, 'a while')} of wall time during which nothing is sent. Shown per idle "
        "second, with the context switches of all threads per idle second (about how often "
        "a thread woke; the measuring thread's own sleep, one switch per measurement, is "
        "included, as is its wake-up's CPU). No target: it should be about zero.",
        "",
        "| runtime | CPU per idle second | user | system | context switches / s | threads |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for rt in FIGURE_RUNTIMES + sorted(set(per_rt) - set(FIGURE_RUNTIMES)):
        st = per_rt.get(rt)
        if st is None:
            continue
        threads = st.get("threads")

        def us(key, st=st) -> str:
            v = st.get(key)
            return "—" if v is None else f"{num(v)} µs"

        md.append(
            f"| {rt} | {us('cpu_us_per_s')} | {us('user_us_per_s')} | "
            f"{us('sys_us_per_s')} | {num(st.get('ctx_switches_per_s'))} | "
            f"{num(threads, 0)} |"
        )
    md.append("")
    return md, {"met": 0, "missed": 0}


# The HTTP figures of benches/http_figures.rs, in report order: (name, requests/s target vs
# tokio, what the section says about the service and the load).
HTTP_FIGURES = [
    ("http_hello", HTTP_RPS_TARGET, None),
    (
        "http_hello_wrk",
        HTTP_RPS_TARGET,
        "`http_hello_wrk`: the same hyper server, driven by an outside load generator instead "
        "of the in-repo client (issue 20): Debian's `wrk` (`wrk -t1 -c<connections> -d<s>s "
        "--latency`, a process of its own; `scripts/bench.sh` installs it when missing), after "
        "a warm-up run of its own. wrk does not check bodies (a non-2xx status or a socket "
        "error fails the round), reports no p99.9, and counts whole seconds; the client's CPU "
        "is wrk's (`RUSAGE_CHILDREN`), the server's the process's own.",
    ),
    (
        "http2_hello_h2load",
        HTTP_RPS_TARGET,
        "`http2_hello_h2load`: the same service over HTTP/2 (`hyper::server::conn::http2`, "
        "cleartext with prior knowledge; each stream a task through the runtime's executor: "
        "`magpie::hyper::HyperExecutor`, hyper-util's `TokioExecutor`, a spawn on smol's "
        "executor), driven by nghttp2's `h2load` (`h2load -t1 -c16 -m16 -D<ms>ms "
        "--log-file=…`: 16 connections of 16 concurrent streams; Debian's `nghttp2-client`, "
        "installed by `scripts/bench.sh` when missing), after a warm-up run of its own. A "
        "failed or non-200 request fails the round. The percentiles come from h2load's "
        "per-request log (which costs h2load a `write` per request, the same for every "
        "runtime); the client's CPU is h2load's (`RUSAGE_CHILDREN`).",
    ),
    (
        "http_axum",
        HTTP_AXUM_RPS_TARGET,
        "`http_axum`: the same server, load client and rounds, with an axum 0.8 `Router` as "
        "the service (one route, `GET /` answering the same 13 bytes; the router cloned and "
        "called with `oneshot` per request, as hyper-util's `TowerToHyperService` does): "
        "axum on magpie against axum on tokio and smol (issue 19).",
    ),
    (
        "http_axum_wrk",
        HTTP_AXUM_RPS_TARGET,
        "`http_axum_wrk`: the axum server again, driven by an outside load generator instead "
        "of the in-repo client: Debian's `wrk` (`wrk -t1 -c<connections> -d<s>s --latency`, "
        "a process of its own; `scripts/bench.sh` installs it when missing), after a warm-up "
        "run of its own. wrk does not check bodies (a non-2xx status or a socket error fails "
        "the round), reports no p99.9, and counts whole seconds; the client's CPU is wrk's "
        "(`RUSAGE_CHILDREN`), the server's the process's own.",
    ),
]


def http_section(
    fig, command: str, name: str = "http_hello", rps_target: float = HTTP_RPS_TARGET,
    intro: str | None = None,
) -> tuple[list[str], dict[str, int]]:
    """hyper on each runtime under one load client: requests/s and latency."""
    counts = {"met": 0, "missed": 0}
    cpus, workers = fig.get("cpus"), fig.get("workers")

    def secs(x) -> str:
        return f"{x:g} s" if isinstance(x, (int, float)) else "?"

    def us(x) -> str:
        if not isinstance(x, (int, float)):
            return "—"
        return f"{x / 1e3:.2f} ms" if x >= 1e3 else f"{x:.0f} µs"

    def num(x, decimals: int = 0) -> str:
        return "—" if not isinstance(x, (int, float)) else f"{x:,.{decimals}f}"

    if intro is not None:
        md = [f"### {name}", "", intro, ""]
    else:
        md = [
        "## HTTP",
        "",
        f"Command: `{command}`",
        "",
        "### http_hello",
        "",
        "`http_hello`: hyper 1.x (`hyper::server::conn::http1`, keep-alive) serving the same "
        "service, `200 OK` with the 13-byte body `Hello, world!`, on each runtime: an accept "
        "loop task and one task per connection; magpie through `magpie::hyper::{HyperIo, "
        "HyperTimer}`, tokio (multi-thread) through hyper-util's `TokioIo`/`TokioTimer`, smol "
        "(async-executor + async-io) through `Async<TcpStream>` in the same futures-io adapter "
        "and an async-io timer; each with "
        f"{workers if workers is not None else 'the same number of'} worker threads. One load "
        "client drives them all the same way on loopback: a thread of its own running raw "
        "`epoll` over non-blocking sockets, one closed loop per keep-alive connection (send "
        "`GET /`, read and check the whole response: status 200, `Content-Length`, body; then "
        "send the next), latency measured from send to the last byte read "
        "(`benches/http_figures.rs`). Each runtime runs in a process of its own per round, "
        f"{secs(fig.get('warmup_secs'))} of warm-up then {secs(fig.get('measure_secs'))} "
        f"measured; {fig.get('rounds', '?')} rounds alternate the runtimes' order, and each "
        "cell is the median over the rounds (the requests/s range shows the spread). "
        + (
            f"This machine has {cpus} CPU(s): the client thread shares them with the server's "
            "workers, so the rates are those of client and server together; every server gets "
            "the same client on the same CPUs. "
            if cpus
            else ""
        )
        + "Server CPU per request is the process's CPU time over the window minus the client "
        "thread's, divided by the requests: steadier than the rates on a VM whose host steals "
        f"CPU. Targets: magpie's requests/s ≥ {fmt_target(HTTP_RPS_TARGET)}× tokio's, and "
        "magpie's p99 ≤ tokio's. Not in the chart above (there, lower is better).",
        "",
    ]
    cpu_target = HTTP_CPU_TARGETS.get(name)
    if intro is not None:
        md += [
            f"Targets: magpie's requests/s ≥ {fmt_target(rps_target)}× tokio's, "
            + (
                f"magpie's server CPU per request ≤ {fmt_target(cpu_target)}× tokio's, "
                if cpu_target is not None
                else ""
            )
            + "and magpie's p99 ≤ tokio's.",
            "",
        ]
    per_conns = fig.get("connections", {})
    for conns in sorted(per_conns, key=lambda c: int(c) if str(c).isdigit() else 0):
        entry = per_conns[conns] or {}
        per_rt = entry.get("runtimes", {})
        md += [
            f"#### {name}, {conns} connections",
            "",
            "| runtime | requests/s | range over rounds | p50 | p99 | p99.9 | "
            "server CPU / request | client's share of CPU |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for rt in FIGURE_RUNTIMES + sorted(set(per_rt) - set(FIGURE_RUNTIMES)):
            st = per_rt.get(rt)
            if st is None:
                continue
            rounds = [
                r.get("rps")
                for r in st.get("per_round", [])
                if isinstance(r.get("rps"), (int, float))
            ]
            spread = f"{num(min(rounds))} – {num(max(rounds))}" if rounds else "—"
            share = st.get("client_cpu_share")
            md.append(
                f"| {rt} | {num(st.get('rps'))} | {spread} | {us(st.get('p50_us'))} | "
                f"{us(st.get('p99_us'))} | {us(st.get('p999_us'))} | "
                f"{num(st.get('server_cpu_us_per_req'), 1)} µs | "
                f"{'—' if not isinstance(share, (int, float)) else f'{share * 100:.0f}%'} |"
            )
        md += [
            "",
            "| ratio | requests/s | p99 | server CPU / request | target |",
            "|---|---:|---:|---:|---|",
        ]
        ratios = entry.get("ratios", {})

        def med(rt: str, key: str, per_rt=per_rt):
            v = (per_rt.get(rt) or {}).get(key)
            return v if isinstance(v, (int, float)) else None

        def rat(a, b):
            return None if a is None or b is None or b == 0 else a / b

        for other in ("tokio", "smol"):
            if other not in per_rt or "magpie" not in per_rt:
                continue
            rps = rat(med("magpie", "rps"), med(other, "rps"))
            p99 = rat(med("magpie", "p99_us"), med(other, "p99_us"))
            cpu = rat(med("magpie", "server_cpu_us_per_req"), med(other, "server_cpu_us_per_req"))
            target = "—"
            if other == "tokio":
                verdicts = []
                for value, rule, ok in (
                    (
                        rps,
                        f"requests/s ≥ {fmt_target(rps_target)}",
                        lambda v: v >= rps_target,
                    ),
                    (
                        p99,
                        f"p99 ≤ {fmt_target(HTTP_P99_TARGET)}",
                        lambda v: v <= HTTP_P99_TARGET,
                    ),
                    (
                        cpu if cpu_target is not None else None,
                        f"CPU/request ≤ {fmt_target(cpu_target or 0)}",
                        lambda v: v <= (cpu_target or 0),
                    ),
                ):
                    if value is None:
                        continue
                    met = ok(value)
                    counts["met" if met else "missed"] += 1
                    verdicts.append(f"{rule}: " + ("met ✅" if met else "missed ❌"))
                target = "; ".join(verdicts) or "—"

            def r(v):
                return "—" if v is None else f"{v:.2f}"

            def with_rounds(v, key: str) -> str:
                rounds = [x for x in ratios.get(key) or [] if isinstance(x, (int, float))]
                if v is None or other != "tokio" or len(rounds) < 2:
                    return r(v)
                return f"{r(v)} (rounds {min(rounds):.2f}–{max(rounds):.2f})"

            md.append(
                f"| magpie/{other} | {with_rounds(rps, 'rps_magpie_tokio_per_round')} | "
                f"{with_rounds(p99, 'p99_magpie_tokio_per_round')} | {r(cpu)} | {target} |"
            )
        md += [
            "",
            "The ratios are those of the medians; for magpie/tokio, *rounds* gives the range of "
            "the same ratio within each round, where the two ran one after the other.",
            "",
        ]
    return md, counts


def oversubscription_section(fig, command: str) -> tuple[list[str], dict[str, int]]:
    """The scheduler workloads at several worker counts (issue 20): per workload, a row per
    count with each runtime's wall and CPU time per iteration and magpie's ratios; target:
    magpie's CPU <= tokio's, counted per workload and count."""
    counts = {"met": 0, "missed": 0}
    cpus = fig.get("cpus")
    worker_counts = [str(n) for n in fig.get("worker_counts") or []]
    results = fig.get("results") or {}
    worker_counts += sorted(
        (c for c in results if c not in worker_counts), key=lambda c: int(c) if c.isdigit() else 0
    )
    workloads = list(fig.get("workloads") or [])
    for per_count in results.values():
        workloads += [w for w in per_count or {} if w not in workloads]

    def secs(x) -> str:
        return f"{x:g} s" if isinstance(x, (int, float)) else "?"

    def us(x) -> str:
        return fmt_ns(x * 1e3) if isinstance(x, (int, float)) else "—"

    def r(v) -> str:
        return "—" if v is None else f"{v:.2f}"

    def med(entry, rt: str, key: str):
        v = ((entry.get("runtimes") or {}).get(rt) or {}).get(key)
        return v if isinstance(v, (int, float)) else None

    def rat(a, b):
        return None if a is None or b is None or b == 0 else a / b

    def switches(entry, rt: str):
        vol, invol = med(entry, rt, "vol_switches"), med(entry, rt, "invol_switches")
        return None if vol is None or invol is None else vol + invol

    md = [
        "## Oversubscription",
        "",
        f"Command: `{command}`",
        "",
        "The scheduler workloads of `benches/runtimes.rs` (the same code, "
        "`benches/scheduler.rs`) on runtimes built with "
        + ", ".join(worker_counts[:-1])
        + (" and " if len(worker_counts) > 1 else "")
        + (worker_counts[-1] if worker_counts else "?")
        + " worker threads"
        + (f" on this {cpus}-CPU machine" if cpus else "")
        + ": how throughput and CPU change as the workers outnumber the cores. A runtime that "
        "wakes idle workers to look for work one worker could do alone pays for each wake-up, "
        "futile steal and park in CPU time, and in wall time when those threads take the cores "
        "from the ones with work; throttling the searching workers and keeping the surplus "
        "parked is what keeps both flat. Each (worker count, workload, runtime) runs in a "
        "process of its own per round (`benches/sched_figures.rs`): "
        f"{secs(fig.get('warmup_secs'))} of warm-up, then iterations for "
        f"{secs(fig.get('measure_secs'))} (at least {fig.get('min_iters', '?')}); wall time "
        "and process CPU time (`CLOCK_PROCESS_CPUTIME_ID`, all threads) per iteration over "
        f"that window; {fig.get('rounds', '?')} rounds alternate the runtimes' order, and each "
        "cell is the median over the rounds. *Switches* are the context switches of all "
        "threads per iteration (`getrusage`: voluntary ones are mostly parks, involuntary ones "
        "preemptions). `spawn_many_remote` and `yield_many` run each iteration inside the "
        "runtime's `block_on`, as criterion's `to_async` does. Target (issue 20): magpie's "
        "CPU per iteration ≤ tokio's at every worker count, counted per workload and count.",
        "",
    ]

    # Summary: the CPU ratio per workload and count.
    md += [
        "| CPU magpie/tokio | "
        + " | ".join(f"{c} workers" for c in worker_counts)
        + " | at every count |",
        "|---|" + "---:|" * len(worker_counts) + "---|",
    ]
    verdicts: dict[tuple[str, str], bool] = {}
    for w in workloads:
        cells, every = [], True
        for c in worker_counts:
            entry = (results.get(c) or {}).get(w)
            v = None if entry is None else rat(med(entry, "magpie", "cpu_us"), med(entry, "tokio", "cpu_us"))
            if v is None:
                cells.append("—")
                continue
            met = v <= OVERSUB_CPU_TARGET
            verdicts[(w, c)] = met
            every &= met
            cells.append(f"{v:.2f} " + ("✅" if met else "❌"))
        if all(cell == "—" for cell in cells):
            continue
        md.append(
            f"| `{w}` | " + " | ".join(cells) + " | " + ("met ✅" if every else "missed ❌") + " |"
        )
    md.append("")

    for w in workloads:
        rows = []
        for c in worker_counts:
            entry = (results.get(c) or {}).get(w)
            if entry is None:
                continue
            wall = {rt: med(entry, rt, "wall_us") for rt in FIGURE_RUNTIMES}
            cpu = {rt: med(entry, rt, "cpu_us") for rt in FIGURE_RUNTIMES}
            cpu_mt = rat(cpu["magpie"], cpu["tokio"])
            rounds = [
                x
                for x in (entry.get("ratios") or {}).get("cpu_magpie_tokio_per_round") or []
                if isinstance(x, (int, float))
            ]
            cpu_cell = r(cpu_mt)
            if cpu_mt is not None and len(rounds) >= 2:
                cpu_cell += f" (rounds {min(rounds):.2f}–{max(rounds):.2f})"
            target = "—"
            if (w, c) in verdicts:
                met = verdicts[(w, c)]
                counts["met" if met else "missed"] += 1
                target = "met ✅" if met else "missed ❌"
            sw = " / ".join(
                "—" if switches(entry, rt) is None else f"{switches(entry, rt):,.0f}"
                for rt in FIGURE_RUNTIMES
            )
            rows.append(
                f"| {c} | {us(wall['magpie'])} | {us(wall['tokio'])} | {us(wall['smol'])} | "
                f"{r(rat(wall['magpie'], wall['tokio']))} | "
                f"{r(rat(wall['magpie'], wall['smol']))} | "
                f"{us(cpu['magpie'])} | {us(cpu['tokio'])} | {us(cpu['smol'])} | "
                f"{cpu_cell} | {r(rat(cpu['magpie'], cpu['smol']))} | {sw} | {target} |"
            )
        if not rows:
            continue
        md += [
            f"### {w}",
            "",
            *([WORKLOAD_TEXT[w][0].upper() + WORKLOAD_TEXT[w][1:] + ".", ""] if w in WORKLOAD_TEXT else []),
            "| workers | wall magpie | wall tokio | wall smol | wall magpie/tokio | "
            "wall magpie/smol | CPU magpie | CPU tokio | CPU smol | CPU magpie/tokio | "
            "CPU magpie/smol | switches / iteration (magpie / tokio / smol) | target: CPU ≤ tokio |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
            *rows,
            "",
        ]
    md += [
        "The ratios are those of the medians; for CPU magpie/tokio, *rounds* gives the range of "
        "the same ratio within each round, where the two ran one after the other.",
        "",
    ]
    return md, counts


def conn_section(fig, command: str) -> tuple[list[str], dict[str, int]]:
    """Many keep-alive connections under an open-loop load (issue 20): memory per
    connection and latency; targets: magpie's memory per connection and p99 <= tokio's."""
    counts = {"met": 0, "missed": 0}
    per_rt = fig.get("runtimes", {})
    cpus, workers = fig.get("cpus"), fig.get("workers")

    def secs(x) -> str:
        return f"{x:g} s" if isinstance(x, (int, float)) else "?"

    def us(x) -> str:
        if not isinstance(x, (int, float)):
            return "—"
        if x >= 1e6:
            return f"{x / 1e6:.2f} s"
        return f"{x / 1e3:.2f} ms" if x >= 1e3 else f"{x:.0f} µs"

    def num(x, decimals: int = 0) -> str:
        return "—" if not isinstance(x, (int, float)) else f"{x:,.{decimals}f}"

    def kib(x) -> str:
        return "—" if not isinstance(x, (int, float)) else f"{x:.2f} KiB"

    md = [
        "## Connection scale",
        "",
        f"Command: `{command}`",
        "",
        f"`conn_scale`: {num(fig.get('connections'))} concurrent keep-alive connections to the "
        "hyper http1 server of the HTTP figures (`Hello, world!`, one task per connection, the "
        "runtime's timer given to hyper) on each runtime, with "
        f"{workers if workers is not None else 'the same number of'} worker threads, each "
        f"connection sending `GET /` every {num(fig.get('interval_ms'))} ms "
        f"({num(fig.get('offered_rps'))} requests/s offered, spread evenly over the interval) "
        "from a client process of its own: one thread of raw `epoll` over non-blocking "
        "sockets, which checks every response (`benches/conn_figures.rs`). The connections open "
        "in batches of 64 (the runtimes listen with std's backlog of 128), each answering one "
        "request before the next batch, so every one holds hyper's state after a request. The "
        "load is open-loop: a request is due at a fixed time whether or not its connection's "
        "previous response is in (then it goes as soon as it is), and its latency runs from "
        "that scheduled time to the last byte of the response, so a server that falls behind "
        "pays for the requests it delayed (no coordinated omission). When the machine cannot "
        "keep up with the offered rate, the achieved rate is lower and the latencies are those "
        "of the growing backlog (seconds); every runtime gets the same client. "
        "*RSS / connection* is (the server's largest `VmRSS` during the measured window − its "
        "`VmRSS` before the first connection) / connections; *idle* is the same once every "
        "connection has answered its first request, before the load; *heap / connection* is "
        "the growth of the heap in use (glibc's `mallinfo2`: allocated, touched or not) over "
        "the same span. The RSS under load also holds memory glibc keeps after a free: each "
        "thread has an arena of its own, and a connection whose task moves between workers "
        "frees into one and allocates from another; the idle and heap columns leave that out. "
        "Server CPU per request is the server process's CPU time over the window "
        "divided by the responses. Each runtime runs in a process of its own per round, "
        f"{secs(fig.get('warmup_secs'))} of load before {secs(fig.get('measure_secs'))} "
        f"measured; {fig.get('rounds', '?')} rounds alternate the runtimes' order, and each "
        "cell is the median over the rounds. "
        + (
            f"This machine has {cpus} CPU(s), shared by the client process and the server's "
            "workers. "
            if cpus
            else ""
        )
        + "Targets (issue 20): magpie's memory per connection ≤ tokio's, and magpie's p99 ≤ "
        "tokio's.",
        "",
        "| runtime | connections | offered requests/s | achieved requests/s | p50 | p99 | p99.9 | "
        "RSS / connection | idle RSS / connection | heap / connection | server CPU / request | "
        "client's share of CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for rt in FIGURE_RUNTIMES + sorted(set(per_rt) - set(FIGURE_RUNTIMES)):
        st = per_rt.get(rt)
        if st is None:
            continue
        share = st.get("client_cpu_share")
        md.append(
            f"| {rt} | {num(st.get('connections'))} | {num(st.get('offered_rps'))} | "
            f"{num(st.get('rps'))} | {us(st.get('p50_us'))} | {us(st.get('p99_us'))} | "
            f"{us(st.get('p999_us'))} | {kib(st.get('mem_per_conn_kib'))} | "
            f"{kib(st.get('mem_per_conn_connected_kib'))} | {kib(st.get('heap_per_conn_kib'))} | "
            f"{num(st.get('server_cpu_us_per_req'), 1)} µs | "
            f"{'—' if not isinstance(share, (int, float)) else f'{share * 100:.0f}%'} |"
        )
    md += [
        "",
        "| ratio | RSS / connection | p99 | heap / connection | achieved requests/s | "
        "server CPU / request | target |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    ratios = fig.get("ratios", {})

    def med(rt: str, key: str):
        v = (per_rt.get(rt) or {}).get(key)
        return v if isinstance(v, (int, float)) else None

    def rat(a, b):
        return None if a is None or b is None or b == 0 else a / b

    def r(v):
        return "—" if v is None else f"{v:.2f}"

    for other in ("tokio", "smol"):
        if other not in per_rt or "magpie" not in per_rt:
            continue
        mem = rat(med("magpie", "mem_per_conn_kib"), med(other, "mem_per_conn_kib"))
        p99 = rat(med("magpie", "p99_us"), med(other, "p99_us"))
        heap = rat(med("magpie", "heap_per_conn_kib"), med(other, "heap_per_conn_kib"))
        rps = rat(med("magpie", "rps"), med(other, "rps"))
        cpu = rat(med("magpie", "server_cpu_us_per_req"), med(other, "server_cpu_us_per_req"))
        target = "—"
        if other == "tokio":
            verdicts = []
            for value, rule, limit in (
                (mem, "memory / connection", CONN_MEM_TARGET),
                (p99, "p99", CONN_P99_TARGET),
            ):
                if value is None:
                    continue
                met = value <= limit
                counts["met" if met else "missed"] += 1
                verdicts.append(
                    f"{rule} ≤ {fmt_target(limit)}: " + ("met ✅" if met else "missed ❌")
                )
            target = "; ".join(verdicts) or "—"

        def with_rounds(v, key: str, other=other) -> str:
            rounds = [x for x in ratios.get(key) or [] if isinstance(x, (int, float))]
            if v is None or other != "tokio" or len(rounds) < 2:
                return r(v)
            return f"{r(v)} (rounds {min(rounds):.2f}–{max(rounds):.2f})"

        md.append(
            f"| magpie/{other} | {with_rounds(mem, 'mem_per_conn_magpie_tokio_per_round')} | "
            f"{with_rounds(p99, 'p99_magpie_tokio_per_round')} | {r(heap)} | {r(rps)} | "
            f"{r(cpu)} | {target} |"
        )
    md += [
        "",
        "The ratios are those of the medians; for magpie/tokio, *rounds* gives the range of "
        "the same ratio within each round, where the two ran one after the other.",
        "",
    ]
    return md, counts


# --------------------------------------------------------------------------- SVG


def svg_chart(results, workloads) -> str:
    """Grouped bars of the ratios, on a log scale with bars growing from 1.0
    (up: magpie slower, down: magpie faster), one panel per measurement."""
    series = list(RATIOS)
    colors = ["#d95f02", "#7570b3", "#9e9e9e"]
    panels = [(key, title) for key, title, _ in MEASUREMENTS if results.get(key)]
    if not panels or not workloads:
        return (
            '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="60">'
            '<text x="10" y="35" font-family="sans-serif" font-size="14">'
            "no benchmark results found</text></svg>\n"
        )

    values = [
        v
        for key, _ in panels
        for w in workloads
        for _, num, den in series
        if (v := ratio(results[key].get(w, {}), num, den)) is not None and v > 0
    ]
    lo = min([0.5] + [v / 1.25 for v in values])
    hi = max([2.0] + [v * 1.25 for v in values])
    log_lo, log_hi = math.floor(math.log2(lo)), math.ceil(math.log2(hi))
    target_values = {t for w in workloads for t in targets_for(w).values()}
    ticks = sorted({2.0**e for e in range(log_lo, log_hi + 1)} | target_values)

    bar_w, gap_bars, slot_w = 22, 4, 140
    group_w = len(series) * bar_w + (len(series) - 1) * gap_bars
    left, right, panel_h, panel_gap, top_margin = 56, 20, 240, 60, 70
    plot_w = len(workloads) * slot_w
    width = max(left + plot_w + right, 640)
    height = top_margin + len(panels) * (panel_h + panel_gap)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="20" font-size="14" font-weight="bold">'
        "magpie benchmark ratios (medians; log scale; below 1.0 = first is faster)</text>",
    ]
    lx = left
    for (title, _, _), color in zip(series, colors):
        out.append(f'<rect x="{lx}" y="34" width="11" height="11" fill="{color}"/>')
        out.append(f'<text x="{lx + 15}" y="44">{html.escape(title)}</text>')
        lx += 15 + 6 * len(title) + 22
    out.append(
        f'<line x1="{lx}" y1="39" x2="{lx + 22}" y2="39" stroke="#1b9e77" '
        'stroke-width="2" stroke-dasharray="5,3"/>'
    )
    out.append(f'<text x="{lx + 26}" y="44">target (per workload and ratio)</text>')

    for p, (key, title) in enumerate(panels):
        y0 = top_margin + p * (panel_h + panel_gap) + 16  # top of the plot area

        def y(v: float, y0: float = y0) -> float:
            frac = (math.log2(v) - log_lo) / (log_hi - log_lo)
            return y0 + panel_h * (1 - frac)

        out.append(
            f'<text x="{left}" y="{y0 - 6}" font-size="12" font-weight="bold">'
            f"{html.escape(title)}</text>"
        )
        for t in ticks:
            out.append(
                f'<line x1="{left}" y1="{y(t):.1f}" x2="{left + plot_w}" y2="{y(t):.1f}" '
                'stroke="#eeeeee"/>'
            )
        # Labels: powers of two first, then targets, skipping one that would
        # overlap a label already placed (e.g. 0.83 next to 0.8).
        labelled: list[float] = []
        for t in sorted(ticks, key=lambda t: (not math.log2(t).is_integer(), t)):
            if all(abs(y(t) - y(u)) >= 10 for u in labelled):
                labelled.append(t)
                out.append(
                    f'<text x="{left - 6}" y="{y(t) + 4:.1f}" text-anchor="end">{t:g}</text>'
                )
        out.append(
            f'<line x1="{left}" y1="{y0}" x2="{left}" y2="{y0 + panel_h}" stroke="#333"/>'
        )
        for gi, w in enumerate(workloads):
            gx = left + gi * slot_w + (slot_w - group_w) / 2
            row = results[key].get(w, {})
            for si, ((_, num, den), color) in enumerate(zip(series, colors)):
                v = ratio(row, num, den)
                bx = gx + si * (bar_w + gap_bars)
                if v is None or v <= 0:
                    out.append(
                        f'<text x="{bx + bar_w / 2}" y="{y(1.0) - 4:.1f}" '
                        'text-anchor="middle" fill="#999">n/a</text>'
                    )
                    continue
                top_y, bottom_y = sorted((y(v), y(1.0)))
                out.append(
                    f'<rect x="{bx}" y="{top_y:.1f}" width="{bar_w}" '
                    f'height="{max(bottom_y - top_y, 1):.1f}" fill="{color}">'
                    f"<title>{html.escape(w)} {html.escape(num)}/{html.escape(den)}: "
                    f"{v:.3f}</title></rect>"
                )
                label_y = y(v) - 4 if v >= 1.0 else y(v) + 11
                out.append(
                    f'<text x="{bx + bar_w / 2}" y="{label_y:.1f}" text-anchor="middle" '
                    f'font-size="9">{v:.2f}</text>'
                )
            out.append(
                f'<text x="{left + gi * slot_w + slot_w / 2}" y="{y0 + panel_h + 16}" '
                f'text-anchor="middle" font-size="11">{html.escape(w)}</text>'
            )
        out.append(
            f'<line x1="{left}" y1="{y(1.0):.1f}" x2="{left + plot_w}" y2="{y(1.0):.1f}" '
            'stroke="#333333" stroke-width="1.5"/>'
        )
        # Each workload's targets judged in this measurement: one line across
        # its slot when they are all the same value, else one over each bar.
        for gi, w in enumerate(workloads):
            targets = targets_for(w, key)
            if not targets:
                continue
            marks = []
            if len(set(targets.values())) == 1:
                target = next(iter(targets.values()))
                x1, x2 = left + gi * slot_w + 4, left + (gi + 1) * slot_w - 4
                marks.append((x1, x2, " and ".join(targets), target))
            else:
                gx = left + gi * slot_w + (slot_w - group_w) / 2
                for si, (title, _, _) in enumerate(series):
                    if title in targets:
                        bx = gx + si * (bar_w + gap_bars)
                        marks.append((bx - 2, bx + bar_w + 2, title, targets[title]))
            for x1, x2, what, target in marks:
                out.append(
                    f'<line x1="{x1}" y1="{y(target):.1f}" x2="{x2}" '
                    f'y2="{y(target):.1f}" stroke="#1b9e77" stroke-width="1.5" '
                    f'stroke-dasharray="5,3"><title>{html.escape(w)} target: '
                    f"{html.escape(what)} ≤ {fmt_target(target)}</title></line>"
                )
    out.append("</svg>")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--criterion-dir", type=Path, default=REPO / "target" / "criterion")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    ap.add_argument("--svg", type=Path, default=None, help="default: --out with .svg")
    ap.add_argument(
        "--command",
        default=os.environ.get("BENCH_COMMAND"),
        help="the command that produced the results (default: $BENCH_COMMAND)",
    )
    ap.add_argument(
        "--wrapper",
        default=os.environ.get("BENCH_WRAPPER"),
        help="the script invocation that ran --command (default: $BENCH_WRAPPER)",
    )
    ap.add_argument(
        "--since",
        type=float,
        default=None,
        help="ignore results older than this Unix time (scripts/bench.sh passes its start)",
    )
    ap.add_argument(
        "--figures",
        type=Path,
        default=None,
        help=f"the timer figures JSON (default: <criterion dir>/../{FIGURES_FILE})",
    )
    ap.add_argument(
        "--io-figures",
        type=Path,
        default=None,
        help=f"the I/O figures JSON (default: <criterion dir>/../{IO_FIGURES_FILE})",
    )
    ap.add_argument(
        "--http-figures",
        type=Path,
        default=None,
        help=f"the HTTP figures JSON (default: <criterion dir>/../{HTTP_FIGURES_FILE})",
    )
    ap.add_argument(
        "--conn-figures",
        type=Path,
        default=None,
        help=f"the connection scale JSON (default: <criterion dir>/../{CONN_FIGURES_FILE})",
    )
    ap.add_argument(
        "--sched-figures",
        type=Path,
        default=None,
        help=f"the scheduler figures JSON (default: <criterion dir>/../{SCHED_FIGURES_FILE})",
    )
    args = ap.parse_args()
    svg_path = args.svg or args.out.with_suffix(".svg")
    figures_path = args.figures or args.criterion_dir.parent / FIGURES_FILE
    io_figures_path = args.io_figures or args.criterion_dir.parent / IO_FIGURES_FILE
    http_figures_path = args.http_figures or args.criterion_dir.parent / HTTP_FIGURES_FILE
    conn_figures_path = args.conn_figures or args.criterion_dir.parent / CONN_FIGURES_FILE
    sched_figures_path = args.sched_figures or args.criterion_dir.parent / SCHED_FIGURES_FILE

    if args.criterion_dir.is_dir():
        results, mtimes, skipped_old = load_results(args.criterion_dir, args.since)
    else:
        results, mtimes, skipped_old = {m[0]: {} for m in MEASUREMENTS}, [], 0
    figures, figures_old = load_figures(figures_path, args.since)
    if figures is not None:
        mtimes.append(figures_path.stat().st_mtime)
    io_figures, io_figures_old = load_figures(io_figures_path, args.since)
    if io_figures is not None:
        mtimes.append(io_figures_path.stat().st_mtime)
    http_figures, http_figures_old = load_figures(http_figures_path, args.since)
    if http_figures is not None:
        mtimes.append(http_figures_path.stat().st_mtime)
    conn_figures, conn_figures_old = load_figures(conn_figures_path, args.since)
    if conn_figures is not None:
        mtimes.append(conn_figures_path.stat().st_mtime)
    sched_figures, sched_figures_old = load_figures(sched_figures_path, args.since)
    if sched_figures is not None:
        mtimes.append(sched_figures_path.stat().st_mtime)
    if not mtimes:
        print(
            f"bench_report: no results under {args.criterion_dir}, no {figures_path}, "
            f"no {io_figures_path}, no {http_figures_path}, no {sched_figures_path} and no "
            f"{conn_figures_path}; "
            "run the benches first",
            file=sys.stderr,
        )
        return 1
    workloads = ordered_workloads(results)
    criterion_command = f"`{args.command}`" if args.command else "unknown (not passed)"
    figures_command = (figures or {}).get("command") or "unknown"
    io_figures_command = (io_figures or {}).get("command") or "unknown"
    http_figures_command = (http_figures or {}).get("command") or "unknown"
    conn_figures_command = (conn_figures or {}).get("command") or "unknown"
    sched_figures_command = (sched_figures or {}).get("command") or "unknown"

    now = dt.datetime.now(dt.timezone.utc)
    first = dt.datetime.fromtimestamp(min(mtimes), dt.timezone.utc)
    last = dt.datetime.fromtimestamp(max(mtimes), dt.timezone.utc)
    ts = "%Y-%m-%d %H:%M UTC"

    md = [
        "# Benchmarks: magpie vs tokio vs smol",
        "",
        "<!-- Generated by scripts/bench_report.py from target/criterion, "
        f"target/{FIGURES_FILE}, target/{IO_FIGURES_FILE}, target/{HTTP_FIGURES_FILE}, "
        f"target/{SCHED_FIGURES_FILE} and target/{CONN_FIGURES_FILE}; "
        "do not edit by hand. -->",
        "",
        f"- **Date:** {now.strftime(ts)} (results written {first.strftime(ts)} – "
        f"{last.strftime(ts)})",
    ]
    for name, value in machine_info():
        md.append(f"- **{name}:** {value}")
    if workloads:
        md.append(f"- **Command (criterion):** {criterion_command}")
    if figures is not None:
        md.append(f"- **Command (timer figures):** `{figures_command}`")
    if io_figures is not None:
        md.append(f"- **Command (I/O figures):** `{io_figures_command}`")
    if http_figures is not None:
        md.append(f"- **Command (HTTP figures):** `{http_figures_command}`")
    if conn_figures is not None:
        md.append(f"- **Command (connection scale figure):** `{conn_figures_command}`")
    if sched_figures is not None:
        md.append(f"- **Command (oversubscription figure):** `{sched_figures_command}`")
    if args.wrapper:
        md.append(f"- **Run through:** `{args.wrapper}`")
    if skipped_old:
        md.append(f"- {skipped_old} older result(s) in target/criterion were ignored (`--since`).")
    if figures_old:
        md.append(f"- An older {figures_path.name} was ignored (`--since`).")
    if io_figures_old:
        md.append(f"- An older {io_figures_path.name} was ignored (`--since`).")
    if http_figures_old:
        md.append(f"- An older {http_figures_path.name} was ignored (`--since`).")
    if conn_figures_old:
        md.append(f"- An older {conn_figures_path.name} was ignored (`--since`).")
    if sched_figures_old:
        md.append(f"- An older {sched_figures_path.name} was ignored (`--since`).")
    md.append("")

    if workloads:
        md += [
            "Each cell is criterion's **median** estimate for one iteration of the workload. "
            "`tokio_b` is a second, identical tokio runtime measured last in each group, so "
            "`tokio_b/tokio` shows how far two identical runtimes drift apart in this run: "
            "ratios closer to a target than that are marked *within noise*. "
            + targets_text(workloads),
            "",
            workloads_text(workloads),
            "",
            f"![ratios per workload]({os.path.relpath(svg_path, args.out.parent)})",
            "",
        ]
    totals = {"met": 0, "missed": 0}
    for key, title, suffix in MEASUREMENTS:
        if not results.get(key):
            continue
        md.append(f"## {title}")
        md.append("")
        md.append(f"Command: {criterion_command}")
        md.append("")
        if key == "cpu":
            md += [
                "Process CPU time (`CLOCK_PROCESS_CPUTIME_ID`, all threads) per iteration: "
                "steadier than wall time on a shared VM whose host steals CPU, and it also "
                "charges a runtime for spinning while idle.",
                "",
            ]
        lines, counts = table(results[key], workloads, key)
        md += lines
        md.append("")
        md.append(f"Targets met: {counts['met']} of {counts['met'] + counts['missed']}.")
        md.append("")
        for k in totals:
            totals[k] += counts[k]

    shards = shards_table(results, workloads)
    if shards:
        md += [
            "## Timer shards",
            "",
            f"Command: {criterion_command}",
            "",
            "magpie keeps one timer wheel per worker, each behind its own lock, so that "
            "registering and cancelling a timer only takes a lock no other worker wants. "
            f"`{ONE_WHEEL}` is the same runtime with a single wheel behind a single lock "
            "(`Builder::timer_shards(1)`), measured in the same group: "
            f"magpie/{ONE_WHEEL} below 1.0 is what the per-worker wheels save. No target.",
            "",
            *shards,
            "",
        ]

    tokio_spawn = tokio_spawn_table(results, workloads)
    if tokio_spawn:
        md += [
            "## One thread: tokio with and without a LocalSet",
            "",
            f"Command: {criterion_command}",
            "",
            "On the one-thread workloads, `tokio` runs local tasks (`task::spawn_local` in a "
            "`LocalSet`), the counterpart of magpie's `spawn_local`, and the targets are "
            f"judged against it. `{TOKIO_SPAWN}` is the same current-thread runtime running "
            "the same (`Send`) futures with `tokio::spawn` and no `LocalSet`, measured in the "
            f"same group: {TOKIO_SPAWN}/tokio below 1.0 is what the `LocalSet` costs tokio. "
            "No target.",
            "",
            *tokio_spawn,
            "",
        ]

    if figures is not None:
        for key, section in (("sleep_lateness", lateness_section), ("sleep_memory", memory_section)):
            fig = figures.get(key)
            if not fig:
                continue
            lines, counts = section(fig, figures_command)
            md += lines
            md.append(f"Targets met: {counts['met']} of {counts['met'] + counts['missed']}.")
            md.append("")
            for k in totals:
                totals[k] += counts[k]

    if io_figures is not None:
        fig = io_figures.get("idle_cpu")
        if fig:
            lines, _ = idle_cpu_section(fig, io_figures_command)
            md += lines

    if http_figures is not None:
        for name, rps_target, intro in HTTP_FIGURES:
            fig = http_figures.get(name)
            if not fig:
                continue
            fig = dict(fig, workers=http_figures.get("workers"))
            if intro is not None and not any(
                http_figures.get(n) for n, _, i in HTTP_FIGURES if i is None
            ):
                # No http_hello section to open the chapter: open it here.
                md += ["## HTTP", "", f"Command: `{http_figures_command}`", ""]
            lines, counts = http_section(fig, http_figures_command, name, rps_target, intro)
            md += lines
            md.append(f"Targets met: {counts['met']} of {counts['met'] + counts['missed']}.")
            md.append("")
            for k in totals:
                totals[k] += counts[k]

    if conn_figures is not None:
        fig = conn_figures.get("conn_scale")
        if fig:
            fig = dict(fig, workers=conn_figures.get("workers"))
            lines, counts = conn_section(fig, conn_figures_command)
            md += lines
            md.append(f"Targets met: {counts['met']} of {counts['met'] + counts['missed']}.")
            md.append("")
            for k in totals:
                totals[k] += counts[k]

    if sched_figures is not None:
        fig = sched_figures.get("oversubscription")
        if fig:
            lines, counts = oversubscription_section(fig, sched_figures_command)
            md += lines
            md.append(f"Targets met: {counts['met']} of {counts['met'] + counts['missed']}.")
            md.append("")
            for k in totals:
                totals[k] += counts[k]

    # The written scaling analysis (issue 20), verbatim; skipped when the file is missing.
    scaling = REPO / "benches" / "scaling.md"
    if scaling.is_file():
        md += [scaling.read_text().rstrip("\n"), ""]

    md.append(
        f"**Overall: {totals['met']} of {totals['met'] + totals['missed']} targets met.**"
    )
    md.append("")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(md))
    svg_path.parent.mkdir(parents=True, exist_ok=True)
    svg_path.write_text(svg_chart(results, workloads))
    print(f"bench_report: wrote {args.out} and {svg_path}")
    return 0


def targets_text(workloads) -> str:
    """The targets of the workloads present, grouped by identical target sets."""
    groups: dict[tuple, list[str]] = {}
    for w in workloads:
        targets = targets_for(w)
        key = (
            tuple((title, targets[title]) for title, _, _ in RATIOS if title in targets),
            TARGET_MEASUREMENTS.get(w),
        )
        groups.setdefault(key, []).append(w)
    names_of = {key: title for key, title, _ in MEASUREMENTS}
    parts = []
    for (targets, measurements), names in groups.items():
        rule = " and ".join(f"{col} ≤ {fmt_target(t)}" for col, t in targets) or "none"
        only = ""
        if targets and measurements is not None:
            judged = " and ".join(names_of.get(m, m).lower() for m in measurements)
            only = f", judged on {judged} only (its other ratios are for information)"
        if dict(targets) == DEFAULT_TARGETS and measurements is None:
            where = "the scheduler and channel workloads" if len(groups) > 1 else "every workload"
            parts.append(f"{rule} on {where}")
        else:
            parts.append(f"{rule} on " + ", ".join(f"`{n}`" for n in names) + only)
    text = "Targets: " + "; ".join(parts) + "."
    untargeted: dict[str, list[str]] = {}
    for w in workloads:
        for title, num, _ in RATIOS:
            if num == "magpie" and title not in targets_for(w):
                untargeted.setdefault(title, []).append(w)
    if untargeted:
        listed = "; ".join(
            f"{title} on " + ", ".join(f"`{w}`" for w in names)
            for title, names in untargeted.items()
        )
        text += f" No target, shown for information: {listed}."
    return text


def workloads_text(workloads) -> str:
    by_file: dict[str, list[str]] = {}
    for w in workloads:
        by_file.setdefault(BENCH_FILES.get(w, "benches/runtimes.rs"), []).append(w)
    parts = []
    for file, names in by_file.items():
        items = "; ".join(
            f"`{w}` {WORKLOAD_TEXT[w]}" if w in WORKLOAD_TEXT else f"`{w}`" for w in names
        )
        parts.append(f"Workloads (`{file}`): {items}.")
    return " ".join(parts)


if __name__ == "__main__":
    sys.exit(main())
