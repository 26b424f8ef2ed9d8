#!/usr/bin/env python3
"""Turn criterion's results for the `runtimes` bench into docs/benchmarks.md + .svg.

Reads every `<criterion dir>/**/new/{benchmark,estimates}.json` written by
`cargo bench -p magpie-benches --bench runtimes` (groups `<workload>` for wall
time and `<workload>/cpu` for process CPU time; functions `magpie`, `tokio`,
`tokio_b`, `smol`), takes the median point estimate of each, and writes:

* docs/benchmarks.md: date, machine, the command that produced the numbers,
  and one table per measurement with the ratios magpie/tokio and magpie/smol
  (targets: <= 0.8, marked met/missed) and tokio_b/tokio (two identical tokio
  runtimes: the run's noise band);
* docs/benchmarks.svg: a bar chart of those ratios, with lines at 0.8 and 1.0,
  embedded in the markdown.

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
# Workloads in the order runtimes.rs runs them; unknown ones follow, sorted.
WORKLOAD_ORDER = [
    "spawn_many_local",
    "spawn_many_remote",
    "yield_many",
    "chained_spawn",
    "spawn_blocking",
]
MEASUREMENTS = [
    ("wall", "Wall-clock time", ""),
    ("cpu", "Process CPU time (all threads)", "/cpu"),
]
TARGET = 0.8
# (column title, numerator, denominator, is a target)
RATIOS = [
    ("magpie/tokio", "magpie", "tokio", True),
    ("magpie/smol", "magpie", "smol", True),
    ("tokio_b/tokio (noise)", "tokio_b", "tokio", False),
]


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
        if function not in RUNTIMES:
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


def fmt_ns(ns: float | None) -> str:
    if ns is None:
        return "—"
    for limit, factor, unit in ((1e3, 1.0, "ns"), (1e6, 1e3, "µs"), (1e9, 1e6, "ms"), (None, 1e9, "s")):
        if limit is None or ns < limit:
            x = ns / factor
            decimals = 2 if x < 10 else 1 if x < 100 else 0
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


def verdict(value: float | None, noise: float | None) -> str:
    if value is None:
        return "—"
    mark = "met ✅" if value <= TARGET else "missed ❌"
    text = f"{value:.2f} {mark}"
    # A ratio closer to the target than the run's own tokio/tokio spread
    # could have landed on the other side by chance.
    if noise is not None and abs(value - TARGET) < value * abs(noise - 1.0):
        text += " (within noise)"
    return text


def table(results_m, workloads) -> tuple[list[str], dict[str, int]]:
    header = ["workload"] + RUNTIMES + [r[0] for r in RATIOS]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|",
    ]
    counts = {"met": 0, "missed": 0}
    for w in workloads:
        row = results_m.get(w, {})
        if not row:
            continue
        noise = ratio(row, "tokio_b", "tokio")
        cells = [f"`{w}`"] + [fmt_ns(row.get(rt)) for rt in RUNTIMES]
        for _, num, den, is_target in RATIOS:
            value = ratio(row, num, den)
            if is_target:
                cells.append(verdict(value, noise))
                if value is not None:
                    counts["met" if value <= TARGET else "missed"] += 1
            else:
                cells.append("—" if value is None else f"{value:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return lines, counts


# --------------------------------------------------------------------------- SVG


def svg_chart(results, workloads) -> str:
    """Grouped bars of the ratios, on a log scale with bars growing from 1.0
    (up: magpie slower, down: magpie faster), one panel per measurement."""
    series = [(title, num, den) for title, num, den, _ in RATIOS]
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
    ticks = sorted({2.0**e for e in range(log_lo, log_hi + 1)} | {TARGET})

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
    out.append(f'<text x="{lx + 26}" y="44">target {TARGET}</text>')

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
            out.append(f'<text x="{left - 6}" y="{y(t) + 4:.1f}" text-anchor="end">{t:g}</text>')
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
        out.append(
            f'<line x1="{left}" y1="{y(TARGET):.1f}" x2="{left + plot_w}" '
            f'y2="{y(TARGET):.1f}" stroke="#1b9e77" stroke-width="1.5" '
            'stroke-dasharray="5,3"/>'
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
    args = ap.parse_args()
    svg_path = args.svg or args.out.with_suffix(".svg")

    if not args.criterion_dir.is_dir():
        print(f"bench_report: {args.criterion_dir} does not exist; run the benches first",
              file=sys.stderr)
        return 1
    results, mtimes, skipped_old = load_results(args.criterion_dir, args.since)
    if not mtimes:
        print(f"bench_report: no results under {args.criterion_dir}", file=sys.stderr)
        return 1
    workloads = ordered_workloads(results)

    now = dt.datetime.now(dt.timezone.utc)
    first = dt.datetime.fromtimestamp(min(mtimes), dt.timezone.utc)
    last = dt.datetime.fromtimestamp(max(mtimes), dt.timezone.utc)
    ts = "%Y-%m-%d %H:%M UTC"

    md = [
        "# Benchmarks: magpie vs tokio vs smol",
        "",
        "<!-- Generated by scripts/bench_report.py from target/criterion; do not edit by hand. -->",
        "",
        f"- **Date:** {now.strftime(ts)} (results written {first.strftime(ts)} – "
        f"{last.strftime(ts)})",
    ]
    for name, value in machine_info():
        md.append(f"- **{name}:** {value}")
    md.append("- **Command:** " + (f"`{args.command}`" if args.command else "unknown (not passed)"))
    if args.wrapper:
        md.append(f"- **Run through:** `{args.wrapper}`")
    if skipped_old:
        md.append(f"- {skipped_old} older result(s) in target/criterion were ignored (`--since`).")
    md += [
        "",
        "Each cell is criterion's **median** estimate for one iteration of the workload. "
        "`tokio_b` is a second, identical tokio runtime measured last in each group, so "
        "`tokio_b/tokio` shows how far two identical runtimes drift apart in this run: "
        "ratios closer to a target than that are marked *within noise*. "
        f"Targets: magpie/tokio ≤ {TARGET} and magpie/smol ≤ {TARGET}.",
        "",
        "Workloads (`benches/runtimes.rs`): `spawn_many_local` 10,000 empty tasks spawned "
        "from a task and joined; `spawn_many_remote` the same spawned from outside the "
        "runtime; `yield_many` 200 tasks × 1,000 `yield_now`; `chained_spawn` a chain of "
        "1,000 tasks each spawning the next; `spawn_blocking` 1,000 trivial "
        "`spawn_blocking` calls (smol: `blocking::unblock`), joined.",
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
        if key == "cpu":
            md += [
                "Process CPU time (`CLOCK_PROCESS_CPUTIME_ID`, all threads) per iteration: "
                "steadier than wall time on a shared VM whose host steals CPU, and it also "
                "charges a runtime for spinning while idle.",
                "",
            ]
        lines, counts = table(results[key], workloads)
        md += lines
        md.append("")
        md.append(f"Targets met: {counts['met']} of {counts['met'] + counts['missed']}.")
        md.append("")
        for k in totals:
            totals[k] += counts[k]
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


if __name__ == "__main__":
    sys.exit(main())
