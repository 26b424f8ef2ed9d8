#!/usr/bin/env python3
"""The arithmetic and bookkeeping of scripts/metrics_cost.sh.

Subcommands:

* `executables JSON`: the bench executables in cargo's `--message-format=json`
  output (file JSON), one `name<TAB>path` line per criterion bench target
  (runtimes, sync, timers, io).
* `workloads`: reads a criterion `--list` output on stdin and prints the
  workloads that have a `<workload>/cpu/magpie` benchmark, one a line.
* `estimate DIR GROUP FUNCTION`: the median point estimate (ns per iteration)
  of the one benchmark criterion wrote under DIR (a run's `CRITERION_HOME`),
  after checking that it is GROUP/FUNCTION.
* `report RESULTS OUT`: turns the runs (RESULTS: lines of `workload<TAB>build
  <TAB>round<TAB>median_ns`, build `A` = metrics on, `B` = metrics off) into
  the markdown report, written to OUT and to stdout. The header lines come
  from the environment (COST_* variables, set by the script).

Python 3 standard library only.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import statistics
import sys
from pathlib import Path

BENCH_TARGETS = ("runtimes", "sync", "timers", "io")
# with/without at or below this is "within 2%".
THRESHOLD = 1.02


def cmd_executables(json_path: str) -> int:
    found: dict[str, str] = {}
    for line in Path(json_path).read_text().splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            continue
        if msg.get("reason") != "compiler-artifact" or not msg.get("executable"):
            continue
        target = msg.get("target", {})
        if "bench" in target.get("kind", []) and target.get("name") in BENCH_TARGETS:
            found[target["name"]] = msg["executable"]
    missing = [t for t in BENCH_TARGETS if t not in found]
    if missing:
        print(f"metrics_cost: no executable for bench(es) {', '.join(missing)} in {json_path}",
              file=sys.stderr)
        return 1
    for name in BENCH_TARGETS:
        print(f"{name}\t{found[name]}")
    return 0


def cmd_workloads() -> int:
    suffix = "/cpu/magpie: benchmark"
    for line in sys.stdin:
        line = line.strip()
        if line.endswith(suffix):
            print(line[: -len(suffix)])
    return 0


def cmd_estimate(home: str, group: str, function: str) -> int:
    found = sorted(Path(home).glob("**/new/estimates.json"))
    if len(found) != 1:
        print(f"metrics_cost: expected one new/estimates.json under {home}, found {len(found)}",
              file=sys.stderr)
        return 1
    est_path = found[0]
    bench_path = est_path.with_name("benchmark.json")
    if bench_path.exists():
        bench = json.loads(bench_path.read_text())
        got = (bench.get("group_id"), bench.get("function_id"))
        if got != (group, function):
            print(f"metrics_cost: {bench_path} is {got[0]}/{got[1]}, not {group}/{function}",
                  file=sys.stderr)
            return 1
    est = json.loads(est_path.read_text())
    print(repr(float(est["median"]["point_estimate"])))
    return 0


def fmt_ns(ns: float | None) -> str:
    """Four significant digits: 2% differences stay visible."""
    if ns is None:
        return "—"
    for limit, factor, unit in ((1e3, 1.0, "ns"), (1e6, 1e3, "µs"), (1e9, 1e6, "ms"), (None, 1e9, "s")):
        if limit is None or ns < limit:
            x = ns / factor
            decimals = 3 if x < 10 else 2 if x < 100 else 1
            return f"{x:.{decimals}f} {unit}"
    raise AssertionError("unreachable")


def spread(values: list[float]) -> float | None:
    return max(values) / min(values) if values and min(values) > 0 else None


def judge(r: float, noise: float) -> str:
    """The verdict on a with/without ratio, given the larger noise figure (>= 1)."""
    if r <= THRESHOLD:
        return "within 2%"
    if r <= noise:
        return "within noise"
    return f"over 2% (+{(r - 1) * 100:.1f}%)"


def fmt_ratio(r: float | None) -> str:
    return "—" if r is None else f"{r:.3f}"


def cmd_report(results_path: str, out_path: str) -> int:
    # {workload: {build: {round: ns}}}, workloads in the order they ran.
    runs: dict[str, dict[str, dict[int, float]]] = {}
    for line in Path(results_path).read_text().splitlines():
        if not line.strip():
            continue
        workload, build, rnd, ns = line.split("\t")
        runs.setdefault(workload, {"A": {}, "B": {}})[build][int(rnd)] = float(ns)
    if not runs:
        print(f"metrics_cost: no runs in {results_path}", file=sys.stderr)
        return 1
    env = os.environ.get
    rounds = int(env("COST_ROUNDS", "0")) or max(
        r for w in runs.values() for b in w.values() for r in b
    )

    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    secs = int(float(env("COST_ELAPSED_SECS", "0")))
    md = [
        "# Cost of magpie's runtime metrics (process CPU time)",
        "",
        "<!-- Generated by scripts/metrics_cost.sh; do not edit by hand. -->",
        "",
        f"- **Date:** {now}",
        f"- **Command:** `{env('COST_COMMAND', 'scripts/metrics_cost.sh')}`",
        f"- **Build A (metrics on):** `{env('COST_BUILD_A', '?')}`",
        f"- **Build B (metrics off):** `{env('COST_BUILD_B', '?')}`",
        f"- **Executables:** {env('COST_IDENTICAL', '?')}",
        f"- **Each run:** `{env('COST_RUN', '?')}`, one process per run; each workload "
        f"{rounds} round(s), the order alternating (round 1: A then B, round 2: B then A, ...)",
        f"- **CPUs (nproc):** {env('COST_NPROC', '?')}; worker threads per runtime "
        f"(`MAGPIE_BENCH_WORKERS`): {env('MAGPIE_BENCH_WORKERS') or '2 (default)'}",
        f"- **Load average (1/5/15 min):** {env('COST_LOAD_START', '?')} at the start, "
        f"{env('COST_LOAD_END', '?')} at the end",
        f"- **Duration:** {secs // 60} min {secs % 60} s (builds included)",
        "",
        "Each cell is the median over the rounds of criterion's median estimate of the "
        "process CPU time (all threads) per iteration of the `magpie` function of the "
        "workload's `/cpu` group. *with/without* = A / B: above 1 is what the metrics cost. "
        f"Verdict: ≤ {THRESHOLD:.2f} is *within 2%*; above it, *within noise* when the "
        "ratio is no larger than the larger noise figure, else *over 2%* (the geometric "
        "mean: against the largest noise figure of all). Noise: the spread (max / min) "
        "of one build's rounds. *with/without (minima)*: the fastest round of A over the "
        "fastest of B, for information: a run that a neighbour slowed down (or that "
        "landed in a slow mode: some workloads are bimodal per process) counts less in "
        "it than in the median when there are few rounds.",
        "",
        "| workload | CPU/iter with metrics (A) | without (B) | with/without | verdict "
        "| noise A (max/min) | noise B (max/min) | with/without (minima) |",
        "|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    ratios, noises = [], []
    for workload, builds in runs.items():
        a = list(builds["A"].values())
        b = list(builds["B"].values())
        med_a = statistics.median(a) if a else None
        med_b = statistics.median(b) if b else None
        r = med_a / med_b if med_a and med_b else None
        min_r = min(a) / min(b) if a and b and min(b) > 0 else None
        noise_a, noise_b = spread(a), spread(b)
        noise = max(n for n in (noise_a, noise_b, 1.0) if n is not None)
        if r is None:
            verdict = "—"
        else:
            ratios.append(r)
            noises.append(noise)
            verdict = judge(r, noise)
        md.append(
            f"| `{workload}` | {fmt_ns(med_a)} | {fmt_ns(med_b)} | {fmt_ratio(r)} | {verdict} "
            f"| {fmt_ratio(noise_a)} | {fmt_ratio(noise_b)} | {fmt_ratio(min_r)} |"
        )
    if len(ratios) > 1:
        gmean = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        md.append(f"| *geometric mean* | | | {fmt_ratio(gmean)} | {judge(gmean, max(noises))} "
                  "| | | |")
    md += [
        "",
        "## Every run",
        "",
        "Criterion's median estimate per run (CPU time per iteration).",
        "",
        "| workload | build | " + " | ".join(f"round {i}" for i in range(1, rounds + 1)) + " |",
        "|---|---|" + "---:|" * rounds,
    ]
    for workload, builds in runs.items():
        for build, title in (("A", "A (on)"), ("B", "B (off)")):
            cells = [fmt_ns(builds[build].get(i)) for i in range(1, rounds + 1)]
            md.append(f"| `{workload}` | {title} | " + " | ".join(cells) + " |")
    md.append("")
    text = "\n".join(md)
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    Path(out_path).write_text(text)
    print(text)
    return 0


def main(argv: list[str]) -> int:
    usage = (
        "usage: metrics_cost.py executables JSON | workloads < LIST | "
        "estimate DIR GROUP FUNCTION | report RESULTS OUT"
    )
    if len(argv) < 2:
        print(usage, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "executables" and len(args) == 1:
        return cmd_executables(*args)
    if cmd == "workloads" and not args:
        return cmd_workloads()
    if cmd == "estimate" and len(args) == 3:
        return cmd_estimate(*args)
    if cmd == "report" and len(args) == 2:
        return cmd_report(*args)
    print(usage, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
