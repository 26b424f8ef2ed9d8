#!/usr/bin/env python3
"""Render a Chrome Trace Event JSON file (a magpie timeline) as an SVG picture.

Input: the JSON that Perfetto and chrome://tracing open, as magpie's timeline
writer produces it: an object `{"traceEvents": [...], "displayTimeUnit": "ms",
"otherData": {...}}`, or a bare array of events (a bare array cut short, with
no closing `]`, is accepted with a warning). Each event has `pid`, `tid`, `ts`
(microseconds), `ph`, `name` and optional `args`. Phases read:

* `M` metadata: `thread_name` (`args.name` labels the lane), `process_name`,
  `thread_sort_index` (`args.sort_index` orders the lanes);
* `B` / `E`: a span on one tid; an `E` closes the most recent open `B` on that
  tid, and its args are merged into the span's. An `E` with no open `B` is
  dropped with a warning; a `B` never closed runs to the end of the trace;
* `X`: a complete span, `ts` .. `ts + dur`;
* `i` / `I`: an instant (e.g. `steal`, `spawn`, `unpark`); scope `s` = `g`
  (global) or `p` (process) draws a line across all lanes (of that pid).

Other phases are ignored.

Output: an SVG with a white background: a title line, a time axis in
milliseconds since the start of the trace (at the top and the bottom), one lane
per tid (ordered by sort_index, then pid and tid, labelled with the thread
name), spans as rectangles colored by kind -- `poll` by task (`args.name`, or
`args.task` when there is no name; one color per task name, hashed into a
fixed palette), `park` light grey, `driver turn` / `turn` purple, `blocking`
brown, anything else blue-grey -- nested spans inset so the nesting shows,
instants as small triangles at the top of the lane (`steal` red), a `<title>`
tooltip on each shape, and a legend (span kinds, the most frequent task names,
instants).

Large traces stay small and fast: when the window holds more than 20,000
events, spans narrower than 0.3 px are not drawn one by one but summed into a
per-lane "busy" density bar under the lane (opacity = share of the bar's time
covered by spans other than park, color = the task or kind that covered most
of it); at most 8,000 spans are drawn one by one (the narrowest beyond that go
to the density bar too); more than 3,000 instants are merged per 6 px (or
wider) of each lane and kind.

Usage:
    python3 scripts/timeline_svg.py timeline.json -o docs/timeline.svg \
        [--width 1400] [--start-ms A --end-ms B]

--start-ms/--end-ms zoom into part of the trace; both are milliseconds since
the earliest timestamp in the trace (the axis shows the same numbers). Exits
with status 1 and a message on stderr when the file cannot be read, is not
JSON, or holds no trace events.

Python 3 standard library only.
"""

import argparse
import json
import math
import os
import re
import sys
import zlib
from collections import Counter, defaultdict

# Layout (pixels).
TITLE_Y = 22
INST_H = 8          # instant row at the top of each lane
SPAN_H = 24         # span area of a lane
DENS_H = 12         # busy density strip (only when some spans were merged)
LANE_GAP = 6
INSET = 3           # per nesting level, on each side
MIN_SPAN_H = 3
RIGHT_PAD = 24

DENSE_EVENTS = 20_000   # above this many events in the window...
DENSE_MIN_PX = 0.3      # ...spans narrower than this are merged
MAX_RECTS = 8_000       # never draw more spans than this one by one
DENS_BINS = 8_000       # density bins in all lanes together (bins widen past it)
MAX_INSTANTS = 3_000    # above this many instants, merge them per INST_BUCKET px
INST_BUCKET = 6
LEGEND_TASKS = 10

# Colors.
PARK = "#d9d9d9"
TURN = "#6a3d9a"
BLOCKING = "#8c564b"
OTHER_SPAN = "#8da0b6"
TASK_PALETTE = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#17becf", "#bcbd22",
    "#e377c2", "#aec7e8", "#98df8a", "#ffbb78", "#9edae5", "#f7b6d2",
]
INSTANT_COLORS = {"steal": "#e31a1c", "spawn": "#238b45", "unpark": "#2171b5"}
OTHER_INSTANT = "#525252"

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def fail(msg):
    print(f"timeline_svg: error: {msg}", file=sys.stderr)
    sys.exit(1)


def warn(msg):
    print(f"timeline_svg: warning: {msg}", file=sys.stderr)


def esc(s):
    s = _XML_BAD.sub("?", str(s))
    return (s.replace("&", "&amp;").replace("<", "&lt;")
             .replace(">", "&gt;").replace('"', "&quot;"))


def num(v):
    """Compact coordinate: one decimal, no trailing .0."""
    s = f"{v:.1f}"
    if s.endswith(".0"):
        s = s[:-2]
    return "0" if s == "-0" else s


def fmt_us(us):
    if us >= 1e6:
        return f"{us / 1e6:.3g} s"
    if us >= 1e3:
        return f"{us / 1e3:.3g} ms"
    return f"{us:.3g} µs"


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def ident(v):
    """pid/tid as a hashable, sortable key."""
    if isinstance(v, bool):
        v = int(v)
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, int):
        return (0, v, "")
    return (1, 0, str(v))


def ident_str(k):
    return str(k[1]) if k[0] == 0 else k[2]


# ---------------------------------------------------------------- reading ---

def load(path):
    try:
        with open(path, "r", encoding="utf-8-sig") as f:
            text = f.read()
    except OSError as e:
        fail(f"cannot read {path}: {e.strerror or e}")
    except UnicodeDecodeError as e:
        fail(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        data = None
        s = text.rstrip()
        if s.startswith("["):
            # The array format may lack its closing bracket (writer stopped).
            try:
                data = json.loads(s.rstrip(",") + "]")
                warn(f"{path}: trace array not closed; read it as if it were")
            except json.JSONDecodeError:
                data = None
        if data is None:
            fail(f"{path}: not valid JSON: {e.msg} at line {e.lineno} column {e.colno}")
    other = None
    if isinstance(data, dict):
        events = data.get("traceEvents")
        if not isinstance(events, list):
            fail(f"{path}: JSON object has no \"traceEvents\" array")
        other = data.get("otherData")
    elif isinstance(data, list):
        events = data
    else:
        fail(f"{path}: expected a JSON object with \"traceEvents\" or an array of events")
    return events, other


class Span:
    __slots__ = ("start", "end", "name", "args", "kind", "color", "task",
                 "unclosed", "nev", "depth", "parent")

    def __init__(self, start, end, name, args, nev, unclosed=False):
        self.start = start
        self.end = end
        self.name = name
        self.args = args
        self.nev = nev
        self.unclosed = unclosed
        self.kind = None
        self.color = None
        self.task = None
        self.depth = 0
        self.parent = None


def span_kind(name):
    n = name.lower()
    if n == "poll" or n.startswith("poll "):
        return "poll"
    if n == "park" or n.startswith("park"):
        return "park"
    if n == "turn" or "turn" in n.split():
        return "turn"
    if n.startswith("blocking"):
        return "blocking"
    return "other"


def task_of(args):
    if isinstance(args, dict):
        name = args.get("name")
        if isinstance(name, str) and name:
            return name
        task = args.get("task")
        if task is not None:
            return f"task {task}"
    return "(no task)"


def parse(events):
    """Returns (lanes, names, sort_index, proc_names, instants, n_timed)."""
    thread_names = {}
    proc_names = {}
    sort_index = {}
    per_lane = defaultdict(list)
    bad = 0
    n_timed = 0
    for ev in events:
        if not isinstance(ev, dict):
            bad += 1
            continue
        ph = ev.get("ph")
        pid = ident(ev.get("pid", 0))
        tid = ident(ev.get("tid", 0))
        if ph == "M":
            args = ev.get("args") if isinstance(ev.get("args"), dict) else {}
            what = ev.get("name")
            if what == "thread_name" and "name" in args:
                thread_names[(pid, tid)] = str(args["name"])
            elif what == "process_name" and "name" in args:
                proc_names[pid] = str(args["name"])
            elif what == "thread_sort_index" and is_number(args.get("sort_index")):
                sort_index[(pid, tid)] = args["sort_index"]
            continue
        if ph not in ("B", "E", "X", "i", "I"):
            continue
        ts = ev.get("ts")
        if not is_number(ts):
            bad += 1
            continue
        n_timed += 1
        per_lane[(pid, tid)].append((ts, ph, ev))
    if bad:
        warn(f"skipped {bad} malformed event(s) (not an object, or no numeric ts)")

    lanes = {}
    instants = []   # (ts, name, args, scope, lane key)
    unmatched = 0
    unclosed = 0
    for key, evs in per_lane.items():
        evs.sort(key=lambda e: e[0])   # stable: file order kept at equal ts
        stack = []
        spans = []
        for ts, ph, ev in evs:
            name = ev.get("name")
            name = str(name) if name is not None else "?"
            args = ev.get("args") if isinstance(ev.get("args"), dict) else {}
            if ph == "B":
                stack.append((ts, name, dict(args)))
            elif ph == "E":
                if not stack:
                    unmatched += 1
                    continue
                bts, bname, bargs = stack.pop()
                if args:
                    bargs.update(args)
                spans.append(Span(bts, ts, bname, bargs, 2))
            elif ph == "X":
                dur = ev.get("dur")
                dur = dur if is_number(dur) and dur > 0 else 0
                spans.append(Span(ts, ts + dur, name, dict(args), 1))
            else:
                instants.append((ts, name, args, ev.get("s"), key))
        for bts, bname, bargs in stack:
            unclosed += 1
            spans.append(Span(bts, None, bname, bargs, 1, unclosed=True))
        lanes[key] = spans
    if unmatched:
        warn(f"{unmatched} \"E\" event(s) without an open \"B\" on their thread; ignored")
    if unclosed:
        warn(f"{unclosed} \"B\" event(s) never closed; drawn to the end of the trace")
    for key in thread_names:
        lanes.setdefault(key, [])
    for key in sort_index:
        lanes.setdefault(key, [])
    return lanes, thread_names, sort_index, proc_names, instants, n_timed


def nest(spans):
    """Sets depth and parent of each span (spans must have ends)."""
    spans.sort(key=lambda s: (s.start, -s.end))
    stack = []
    for s in spans:
        while stack and stack[-1].end <= s.start:
            stack.pop()
        s.depth = len(stack)
        s.parent = stack[-1] if stack else None
        stack.append(s)


# --------------------------------------------------------------- coloring ---

def assign_task_colors(task_counts):
    """Hashed palette color per task name; the legend's names get distinct ones."""
    colors = {}
    taken = set()
    top = [t for t, _ in sorted(task_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:LEGEND_TASKS]]
    n = len(TASK_PALETTE)
    for t in top:
        i = zlib.crc32(t.encode("utf-8")) % n
        while i in taken:
            i = (i + 1) % n
        taken.add(i)
        colors[t] = TASK_PALETTE[i]

    def color(t):
        c = colors.get(t)
        if c is None:
            c = TASK_PALETTE[zlib.crc32(t.encode("utf-8")) % n]
            colors[t] = c
        return c

    return top, color


KIND_COLORS = {"park": PARK, "turn": TURN, "blocking": BLOCKING, "other": OTHER_SPAN}
KIND_LABELS = {"park": "park", "turn": "driver turn", "blocking": "blocking", "other": "other spans"}


def instant_color(name):
    return INSTANT_COLORS.get(name.lower(), OTHER_INSTANT)


# ------------------------------------------------------------------- axis ---

def nice_step(span_ms, target_ticks):
    raw = span_ms / max(1, target_ticks)
    if raw <= 0:
        return 1.0
    p = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * p >= raw:
            return m * p
    return 10 * p


def tick_label(v, step):
    dec = max(0, -int(math.floor(math.log10(step) + 1e-9)))
    s = f"{v:.{dec}f}"
    return "0" if s.strip("-0.") == "" else s


def text_w(s, size):
    return len(s) * size * 0.56


# ----------------------------------------------------------------- render ---

def render(path, events, other, width, start_ms, end_ms):
    lanes, thread_names, sort_index, proc_names, instants, n_timed = parse(events)
    if n_timed == 0:
        fail(f"{path}: no timed trace events (B, E, X, i or I) to draw")

    starts = [s.start for sp in lanes.values() for s in sp] + [i[0] for i in instants]
    ends = [s.end for sp in lanes.values() for s in sp if s.end is not None] + starts
    t0 = min(starts)
    tmax = max(ends)
    for spans in lanes.values():
        for s in spans:
            if s.end is None:
                s.end = max(tmax, s.start)
        nest(spans)
    total = tmax - t0

    ws = t0 + start_ms * 1000 if start_ms is not None else t0
    we = t0 + end_ms * 1000 if end_ms is not None else tmax
    if we <= ws:
        if start_ms is None and end_ms is None:
            we = ws + 1.0   # a trace of one instant
        else:
            fail(f"empty window: --start-ms {start_ms} .. --end-ms {end_ms} "
                 f"(the trace covers 0 .. {total / 1000:.3f} ms)")
    windowed = start_ms is not None or end_ms is not None

    # Lanes in order.
    pids = {k[0] for k in lanes}
    multi_pid = len(pids) > 1

    def label(key):
        pid, tid = key
        name = thread_names.get(key, f"tid {ident_str(tid)}")
        if multi_pid:
            pname = proc_names.get(pid, f"pid {ident_str(pid)}")
            name = f"{pname} / {name}"
        return name if len(name) <= 32 else name[:31] + "…"

    order = sorted(lanes, key=lambda k: (sort_index.get(k, 0), k[0], k[1]))

    # Spans and instants in the window.
    vis = {}
    task_counts = Counter()
    n_win = 0
    for key in order:
        v = [s for s in lanes[key] if s.end >= ws and s.start <= we]
        for s in v:
            s.kind = span_kind(s.name)
            n_win += s.nev
            if s.kind == "poll":
                s.task = task_of(s.args)
                task_counts[s.task] += 1
        vis[key] = v
    win_inst = [i for i in instants if ws <= i[0] <= we]
    n_win += len(win_inst)
    if n_win == 0:
        warn(f"the window {(ws - t0) / 1000:g} .. {(we - t0) / 1000:g} ms holds no events "
             f"(the trace covers 0 .. {total / 1000:.3f} ms)")

    legend_tasks, task_color = assign_task_colors(task_counts)
    for v in vis.values():
        for s in v:
            s.color = task_color(s.task) if s.kind == "poll" else KIND_COLORS[s.kind]

    label_w = max([text_w(label(k), 12) for k in order] + [40])
    left = int(min(260, max(80, label_w + 20)))
    pw = width - left - RIGHT_PAD
    if pw < 100:
        fail(f"--width {width} leaves no room to draw (need at least {left + RIGHT_PAD + 100})")
    scale = pw / (we - ws)

    def xpx(t):
        return left + (t - ws) * scale

    # Which spans are drawn one by one.
    min_px = DENSE_MIN_PX if n_win > DENSE_EVENTS else 0.0
    cands = []
    for v in vis.values():
        for s in v:
            w = (min(s.end, we) - max(s.start, ws)) * scale
            if w >= min_px:
                cands.append((w, s))
    if len(cands) > MAX_RECTS:
        cands.sort(key=lambda c: -c[0])   # stable: ties keep time order
        cands = cands[:MAX_RECTS]
    drawn_ids = {id(s) for _, s in cands}
    # Spans not drawn are at most this wide.
    thr = max(min_px, cands[-1][0] if len(cands) == MAX_RECTS else 0)

    def drawn(s):
        return id(s) in drawn_ids

    # Density bins of dens_bw px, so that all lanes hold at most DENS_BINS.
    dens_bw = max(1, math.ceil(pw * len(order) / DENS_BINS))
    merged_any = any(not drawn(s) for v in vis.values() for s in v)
    lane_h = INST_H + SPAN_H + (DENS_H if merged_any else 0)

    n_drawn = sum(1 for v in vis.values() for s in v if drawn(s))
    n_small = sum(len(v) for v in vis.values()) - n_drawn
    win_ms0 = (ws - t0) / 1000
    win_ms1 = (we - t0) / 1000
    sub = []
    if windowed:
        sub.append(f"window {win_ms0:.3f} – {win_ms1:.3f} ms ({n_win} events)")
    if merged_any:
        sub.append(f"{n_drawn} spans drawn; {n_small} others (at most {thr:.2g} px wide) "
                   f"summed into the busy bar under each lane")
    if isinstance(other, dict) and other:
        od = ", ".join(f"{k}={v}" for k, v in other.items()
                       if isinstance(v, (str, int, float, bool)))
        if od:
            sub.append(od if len(od) <= 120 else od[:119] + "…")
    axis_y = 64 if sub else 50
    lanes_top = axis_y + 6
    lanes_bottom = lanes_top + len(order) * (lane_h + LANE_GAP) - LANE_GAP
    baxis_y = lanes_bottom + 6

    out = []
    w = out.append

    # Ticks and grid.
    step = nice_step(win_ms1 - win_ms0, max(2, int(pw / 110)))
    first = math.ceil(win_ms0 / step - 1e-9)
    ticks = []
    k = first
    while k * step <= win_ms1 + step * 1e-9:
        ticks.append(k * step)
        k += 1

    w(f'<g stroke="#e6e6e6" stroke-width="1">')
    for t in ticks:
        x = num(xpx(t0 + t * 1000))
        w(f'<line x1="{x}" y1="{axis_y}" x2="{x}" y2="{baxis_y}"/>')
    w("</g>")
    w(f'<g stroke="#444" stroke-width="1">'
      f'<line x1="{left}" y1="{axis_y}" x2="{left + pw}" y2="{axis_y}"/>'
      f'<line x1="{left}" y1="{baxis_y}" x2="{left + pw}" y2="{baxis_y}"/>')
    for t in ticks:
        x = num(xpx(t0 + t * 1000))
        w(f'<line x1="{x}" y1="{axis_y - 4}" x2="{x}" y2="{axis_y}"/>'
          f'<line x1="{x}" y1="{baxis_y}" x2="{x}" y2="{baxis_y + 4}"/>')
    w("</g>")
    w('<g font-size="11" fill="#333" text-anchor="middle">')
    for t in ticks:
        x = num(xpx(t0 + t * 1000))
        lab = tick_label(t, step)
        w(f'<text x="{x}" y="{axis_y - 7}">{lab}</text>'
          f'<text x="{x}" y="{baxis_y + 15}">{lab}</text>')
    w("</g>")
    w(f'<g font-size="11" fill="#666" text-anchor="end">'
      f'<text x="{left - 22}" y="{axis_y - 7}">ms</text>'
      f'<text x="{left - 22}" y="{baxis_y + 15}">ms</text></g>')

    # Lanes.
    kinds_seen = set()
    inst_seen = Counter()
    merge_inst = len(win_inst) > MAX_INSTANTS
    lane_y = {}
    for li, key in enumerate(order):
        y0 = lanes_top + li * (lane_h + LANE_GAP)
        lane_y[key] = y0
        w(f'<g transform="translate(0,{y0})">')
        w(f'<rect x="{left}" y="0" width="{pw}" height="{INST_H + SPAN_H}" fill="#f5f6f8"/>')
        w(f'<text x="{left - 8}" y="{INST_H + SPAN_H / 2 + 4:.0f}" font-size="12" '
          f'text-anchor="end" fill="#222">{esc(label(key))}</text>')
        spans = vis[key]
        draw = [s for s in spans if drawn(s)]
        draw.sort(key=lambda s: (s.depth, s.start))
        w(f'<g stroke="#000" stroke-opacity="0.22" stroke-width="0.4">')
        for s in draw:
            x0 = xpx(max(s.start, ws))
            sw = max((min(s.end, we) - max(s.start, ws)) * scale, 0.3)
            inset = min(s.depth * INSET, (SPAN_H - MIN_SPAN_H) / 2)
            y = INST_H + inset
            h = SPAN_H - 2 * inset
            kinds_seen.add(s.kind)
            tip = s.name
            if s.kind == "poll":
                a = s.args
                if isinstance(a.get("name"), str) and "task" in a:
                    tip += f" {a['name']} (task {a['task']})"
                elif s.task != "(no task)":
                    tip += f" {s.task}"
            extra = [f"{k}={v}" for k, v in s.args.items()
                     if not (s.kind == "poll" and k in ("name", "task"))][:3]
            if extra:
                tip += " [" + ", ".join(extra) + "]"
            dur = s.end - s.start
            tip += f": {dur:.1f} µs at {(s.start - t0) / 1000:.3f} ms"
            if s.unclosed:
                tip += " (never closed)"
            w(f'<rect x="{num(x0)}" y="{num(y)}" width="{num(sw) if sw >= 1 else f"{sw:.2f}"}" '
              f'height="{num(h)}" fill="{s.color}"><title>{esc(tip)}</title></rect>')
        w("</g>")

        # Busy density of the spans not drawn.
        if merged_any:
            nb = int(math.ceil(pw / dens_bw)) + 1
            cover = [0.0] * nb
            colw = [None] * nb
            cnt = 0
            busy_us = 0.0
            skip = set()
            for s in spans:
                p = s.parent
                # Time already counted through a merged busy ancestor.
                if p is not None and (id(p) in skip):
                    skip.add(id(s))
                    continue
                if drawn(s) or s.kind == "park":
                    continue
                skip.add(id(s))
                cnt += 1
                a = max(s.start, ws)
                b = min(s.end, we)
                busy_us += b - a
                xa = (a - ws) * scale / dens_bw
                xb = (b - ws) * scale / dens_bw
                if xb <= xa:
                    xb = xa + 1e-3
                i = int(xa)
                while i < nb and i < xb:
                    ov = min(xb, i + 1) - max(xa, i)
                    if ov > 0:
                        cover[i] += ov
                        d = colw[i]
                        if d is None:
                            d = colw[i] = {}
                        d[s.color] = d.get(s.color, 0.0) + ov
                    i += 1
            if cnt:
                ytop = INST_H + SPAN_H + 1
                pct = 100 * busy_us / (we - ws)
                w(f'<g><title>{esc(label(key))}: {cnt} span(s) at most {thr:.2g} px wide '
                  f'merged; busy {pct:.1f}% of the window</title>')
                run = None   # [start bin, level, color]
                for i in range(nb + 1):
                    if i < nb and cover[i] > 0:
                        lvl = min(4, max(1, math.ceil(min(cover[i], 1.0) * 4)))
                        col = max(colw[i].items(), key=lambda kv: kv[1])[0]
                        cur = (lvl, col)
                    else:
                        cur = None
                    if run is not None and (cur is None or cur != run[1]):
                        x0 = left + run[0] * dens_bw
                        x1 = min(left + i * dens_bw, left + pw)
                        w(f'<rect x="{x0}" y="{ytop}" width="{max(1, x1 - x0)}" height="{DENS_H - 2}" '
                          f'fill="{run[1][1]}" fill-opacity="{run[1][0] / 4:g}"/>')
                        run = None
                    if run is None and cur is not None:
                        run = [i, cur]
                w("</g>")
        w("</g>")

    # Instants.
    lane_inst = [i for i in win_inst if i[3] not in ("g", "p")]
    glob_inst = [i for i in win_inst if i[3] in ("g", "p")]

    def grouped(items):
        if not merge_inst:
            return [(i, 1) for i in items]
        bucket = INST_BUCKET
        while True:
            groups = {}
            for i in items:
                where = i[4] if i[3] not in ("g", "p") else (i[3], i[4][0] if i[3] == "p" else None)
                g = (where, i[1], int((xpx(i[0]) - left) / bucket))
                if g in groups:
                    groups[g][1] += 1
                else:
                    groups[g] = [i, 1]
            if len(groups) <= MAX_INSTANTS or bucket >= pw:
                return [tuple(v) for v in groups.values()]
            bucket *= 2

    # Rare kinds of instant are drawn last, on top of frequent ones.
    inst_freq = Counter(i[1] for i in win_inst)

    def by_rarity(groups):
        return sorted(groups, key=lambda g: (-inst_freq[g[0][1]], g[0][0]))

    def inst_tip(i, n):
        ts, name, args, scope, _ = i
        tip = name
        if n > 1:
            tip += f" ×{n} (first at {(ts - t0) / 1000:.3f} ms)"
        else:
            extra = [f"{k}={v}" for k, v in (args or {}).items()][:4]
            if extra:
                tip += " [" + ", ".join(extra) + "]"
            tip += f" at {(ts - t0) / 1000:.3f} ms"
        return esc(tip)

    w('<g stroke="#fff" stroke-width="0.5">')
    for i, n in by_rarity(grouped(lane_inst)):
        if i[4] not in lane_y:
            continue
        x = xpx(i[0])
        y = lane_y[i[4]]
        inst_seen[i[1]] += n
        w(f'<path d="M{num(x)} {y + INST_H}l-3.5 -{INST_H - 1}h7z" '
          f'fill="{instant_color(i[1])}"><title>{inst_tip(i, n)}</title></path>')
    w("</g>")
    w('<g stroke-width="1" stroke-dasharray="3 2">')
    for i, n in by_rarity(grouped(glob_inst)):
        x = num(xpx(i[0]))
        if i[3] == "p":
            ys = [lane_y[k] for k in order if k[0] == i[4][0]]
        else:
            ys = list(lane_y.values())
        if not ys:
            continue
        inst_seen[i[1]] += n
        w(f'<line x1="{x}" y1="{min(ys)}" x2="{x}" y2="{max(ys) + lane_h}" '
          f'stroke="{instant_color(i[1])}"><title>{inst_tip(i, n)}</title></line>')
    w("</g>")

    # Legend.
    leg = []
    for kind in ("turn", "blocking", "park", "other"):
        if kind in kinds_seen:
            leg.append(("rect", KIND_COLORS[kind], KIND_LABELS[kind]))
    if "poll" in kinds_seen or legend_tasks:
        for t in legend_tasks:
            leg.append(("rect", task_color(t), f"poll: {t} ({task_counts[t]})"))
        rest = len(task_counts) - len(legend_tasks)
        if rest > 0:
            leg.append(("none", None, f"+{rest} more task name(s), hashed into the same palette"))
    for name, n in sorted(inst_seen.items(), key=lambda kv: (-kv[1], kv[0]))[:8]:
        leg.append(("tri", instant_color(name), f"{name} ({n})"))
    if merged_any:
        leg.append(("dens", "#555", "busy density of merged spans"))
    lx = left
    ly = baxis_y + 38
    row_h = 18
    items = []
    for shape, color, text in leg:
        iw = 16 + text_w(text, 11) + 18
        if lx + iw > width - RIGHT_PAD and lx > left:
            lx = left
            ly += row_h
        items.append((lx, ly, shape, color, text))
        lx += iw
    w('<g font-size="11" fill="#222">')
    for x, y, shape, color, text in items:
        if shape == "rect":
            w(f'<rect x="{num(x)}" y="{y - 9}" width="12" height="10" fill="{color}" '
              f'stroke="#000" stroke-opacity="0.22" stroke-width="0.4"/>')
        elif shape == "tri":
            w(f'<path d="M{num(x + 6)} {y + 1}l-5 -9h10z" fill="{color}"/>')
        elif shape == "dens":
            for j, op in enumerate((0.25, 0.5, 0.75, 1)):
                w(f'<rect x="{num(x + j * 3)}" y="{y - 6}" width="3" height="6" '
                  f'fill="{color}" fill-opacity="{op}"/>')
        tx = x + (16 if shape != "none" else 0)
        w(f'<text x="{num(tx)}" y="{y}">{esc(text)}</text>')
    w("</g>")
    height = ly + 14

    # Header.
    fname = os.path.basename(path)
    title = f"magpie timeline — {fname} — {n_timed} events over {total / 1000:.3f} ms"
    head = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif">',
        f'<title>{esc(title)}</title>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fff"/>',
        f'<text x="{left}" y="{TITLE_Y}" font-size="15" font-weight="bold" fill="#111">{esc(title)}</text>',
    ]
    if sub:
        head.append(f'<text x="{left}" y="{TITLE_Y + 18}" font-size="11" fill="#555">'
                    f'{esc("; ".join(sub))}</text>')
    return "\n".join(head + out + ["</svg>", ""])


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Render a Chrome Trace Event JSON file (magpie timeline) as an SVG.")
    ap.add_argument("trace", help="trace JSON ({\"traceEvents\": [...]} or a bare array)")
    ap.add_argument("-o", "--output", help="SVG to write (default: the trace's name with .svg)")
    ap.add_argument("--width", type=int, default=1400, help="picture width in px (default 1400)")
    ap.add_argument("--start-ms", type=float, help="window start, ms since the trace's first event")
    ap.add_argument("--end-ms", type=float, help="window end, ms since the trace's first event")
    a = ap.parse_args(argv)
    for opt in ("start_ms", "end_ms"):
        v = getattr(a, opt)
        if v is not None and not math.isfinite(v):
            fail(f"--{opt.replace('_', '-')} must be a finite number")
    events, other = load(a.trace)
    svg = render(a.trace, events, other, a.width, a.start_ms, a.end_ms)
    outp = a.output or os.path.splitext(a.trace)[0] + ".svg"
    try:
        d = os.path.dirname(outp)
        if d:
            os.makedirs(d, exist_ok=True)
        with open(outp, "w", encoding="utf-8") as f:
            f.write(svg)
    except OSError as e:
        fail(f"cannot write {outp}: {e.strerror or e}")
    print(f"wrote {outp} ({len(svg.encode('utf-8')) / 1024:.0f} KiB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
