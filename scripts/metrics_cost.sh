#!/usr/bin/env bash
# Measures what magpie's always-on runtime metrics cost: the process CPU time
# per iteration of magpie on the criterion workloads, built as usual (A,
# metrics on) against a build with the rustc cfg `magpie_no_metrics` (B,
# metrics compiled out), and writes the comparison to
# target/magpie-metrics-cost.md (and stdout):
#   1. builds the criterion bench binaries (benches/runtimes.rs, sync.rs,
#      timers.rs, io.rs) twice with `cargo bench -p magpie-benches --bench
#      runtimes --bench sync --bench timers --bench io --no-run`: A in the
#      default target dir, B with RUSTFLAGS="--cfg magpie_no_metrics" and
#      CARGO_TARGET_DIR=target/no-metrics (so that neither build invalidates
#      the other; B rebuilds every dependency the first time, a few minutes on
#      2 cores);
#   2. for each workload that has a `<workload>/cpu/magpie` benchmark (every one
#      of the suite, 11), runs that one benchmark (`--exact`, the CPU-time
#      measurement, the default `magpie` runtime only) in its own process,
#      MAGPIE_COST_ROUNDS rounds of A then B, the order swapped every round
#      (A B, B A, A B, ...), each run with its own CRITERION_HOME under
#      target/magpie-metrics-cost/, and takes criterion's median estimate of
#      each run;
#   3. reports per workload the median over the rounds of A and of B, their
#      ratio A/B (verdict: <= 1.02 is "within 2%"; above, "within noise" when
#      the ratio is no larger than the noise figure), the spread (max/min) of
#      each build's rounds as the noise figure, and the ratio of the two
#      builds' fastest rounds, plus every run's number, the command, date,
#      nproc and load average at the start and end.
#
# On a shared 2-core VM the noise is far above 2%: some workloads are bimodal
# per process (chained_spawn's CPU per iteration is ~130 or ~310 µs from one
# run to the next of the same binary), so a 2% verdict needs a quiet machine
# and more rounds (MAGPIE_COST_ROUNDS=5 or more on the workloads concerned).
# With one worker (MAGPIE_BENCH_WORKERS=1) the rounds of one build agree within
# a few percent on most workloads; docs/observability.md's figures use it.
# Measured here: MAGPIE_COST_ROUNDS=4, every workload, 11 min 16 s with the
# builds; MAGPIE_BENCH_WORKERS=1 MAGPIE_COST_ROUNDS=5, 14 min 44 s.
#
# Usage: scripts/metrics_cost.sh [WORKLOAD-REGEX]
#   scripts/metrics_cost.sh                                # every workload: ~8 min on 2 cores
#                                                          # with the defaults once both builds
#                                                          # are there (each build adds a few min)
#   scripts/metrics_cost.sh 'spawn_many|chained_spawn'     # workloads whose name matches
#                                                          # (an extended regex, unanchored)
#   scripts/metrics_cost.sh '^(ping_pong|mpsc)$'           # exactly these two
#   MAGPIE_COST_ROUNDS=5 scripts/metrics_cost.sh yield_many
#   MAGPIE_COST_ROUNDS=2 MAGPIE_COST_SAMPLE_SIZE=10 MAGPIE_COST_MEASUREMENT_SECS=1 \
#       MAGPIE_COST_WARM_UP_SECS=0.5 scripts/metrics_cost.sh chained_spawn   # a quick check, ~20 s
# Knobs: MAGPIE_COST_ROUNDS (default 3), MAGPIE_COST_SAMPLE_SIZE (criterion's
# --sample-size, at least 10; default 20), MAGPIE_COST_MEASUREMENT_SECS
# (--measurement-time, default 5), MAGPIE_COST_WARM_UP_SECS (--warm-up-time,
# default 1); MAGPIE_BENCH_WORKERS (worker threads per runtime, default 2) is
# passed on to the benchmarks as scripts/bench.sh does.
#
# Time with the defaults (3 rounds, 20 samples, 1 s warm-up, 5 s measurement):
# 11 workloads x 3 rounds x 2 builds = 66 runs, each about 1 + 5 s plus ~0.2 s
# of process start and analysis, except tcp_echo, whose ~0.6 s iterations make
# each of its runs last 1 s + 20 samples x ~0.6 s: 60 x 6.2 s + 6 x 13 s,
# about 8 min on 2 cores, plus a few minutes for each build that is not there
# yet (B's first build recompiles every dependency).
#
# A is built with the environment's RUSTFLAGS (if any), B with the same plus
# `--cfg magpie_no_metrics`; CARGO_ENCODED_RUSTFLAGS, which would override
# both, is refused. Rustflags from a cargo config file (build.rustflags) apply
# to A only, since RUSTFLAGS replaces them: don't use any here. The script only
# relies on the name of the cfg, not on what it changes; the report says
# whether the two builds' executables are byte-identical (then the cfg changed
# nothing and the ratios are the noise of the method).
set -euo pipefail
cd "$(dirname "$0")/.."

die() {
    echo "metrics_cost: $*" >&2
    exit 1
}

usage() {
    # The header from "Usage:" to the end of its paragraph.
    awk '/^# Usage:/ { on = 1 } on && /^#$/ { exit } on { sub(/^# ?/, ""); print }' "$0"
}

case "${1:-}" in
-h | --help)
    usage
    exit 0
    ;;
-*) usage >&2; die "unknown option $1" ;;
esac
(($# <= 1)) || { usage >&2; die "at most one argument (a workload regex)"; }
filter="${1:-}"

rounds="${MAGPIE_COST_ROUNDS:-3}"
sample_size="${MAGPIE_COST_SAMPLE_SIZE:-20}"
measurement_secs="${MAGPIE_COST_MEASUREMENT_SECS:-5}"
warm_up_secs="${MAGPIE_COST_WARM_UP_SECS:-1}"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || die "MAGPIE_COST_ROUNDS must be a positive integer, got '$rounds'"
[[ "$sample_size" =~ ^[0-9]+$ ]] && ((sample_size >= 10)) ||
    die "MAGPIE_COST_SAMPLE_SIZE must be an integer >= 10 (criterion's minimum), got '$sample_size'"
positive='^([0-9]+(\.[0-9]*)?|\.[0-9]+)$'
[[ "$measurement_secs" =~ $positive ]] && [[ ! "$measurement_secs" =~ ^[0.]+$ ]] ||
    die "MAGPIE_COST_MEASUREMENT_SECS must be a positive number, got '$measurement_secs'"
[[ "$warm_up_secs" =~ $positive ]] && [[ ! "$warm_up_secs" =~ ^[0.]+$ ]] ||
    die "MAGPIE_COST_WARM_UP_SECS must be a positive number, got '$warm_up_secs'"
[[ -z "${CARGO_ENCODED_RUSTFLAGS:-}" ]] ||
    die "CARGO_ENCODED_RUSTFLAGS is set: it would override the RUSTFLAGS that make build B"

# One word as it would be typed: bare, in double or single quotes, or printf %q's escapes.
quoted() {
    if [[ "$1" =~ ^[A-Za-z0-9_./=:,+@%-]+$ ]]; then
        printf '%s' "$1"
    elif [[ ! "$1" =~ [\"\$\`\\!] ]]; then
        printf '"%s"' "$1"
    elif [[ "$1" != *"'"* ]]; then
        printf "'%s'" "$1"
    else
        printf '%q' "$1"
    fi
}

# The command as it would be typed, with those of the given env knobs that are set.
shown_command() {
    local -n knobs=$1
    shift
    local shown="" var word
    for var in "${knobs[@]}"; do
        if [[ -n "${!var:-}" ]]; then
            shown+="$var=$(quoted "${!var}") "
        fi
    done
    for word in "$@"; do
        shown+="$(quoted "$word") "
    done
    echo "${shown% }"
}

helper=scripts/metrics_cost.py
out_md=target/magpie-metrics-cost.md
work=target/magpie-metrics-cost
benches=(runtimes sync timers io)
cargo_cmd=(cargo bench -p magpie-benches --bench runtimes --bench sync --bench timers --bench io --no-run)
b_rustflags="${RUSTFLAGS:+$RUSTFLAGS }--cfg magpie_no_metrics"
b_target_dir=target/no-metrics

script_knobs=(MAGPIE_COST_ROUNDS MAGPIE_COST_SAMPLE_SIZE MAGPIE_COST_MEASUREMENT_SECS
    MAGPIE_COST_WARM_UP_SECS MAGPIE_BENCH_WORKERS RUSTFLAGS)
a_knobs=(RUSTFLAGS CARGO_TARGET_DIR)
command_shown=$(shown_command script_knobs scripts/metrics_cost.sh ${filter:+"$filter"})
build_a_shown=$(shown_command a_knobs "${cargo_cmd[@]}")
b_knobs=(b_rustflags b_target_dir)
build_b_shown=$(shown_command b_knobs "${cargo_cmd[@]}")
build_b_shown="${build_b_shown/b_rustflags=/RUSTFLAGS=}"
build_b_shown="${build_b_shown/b_target_dir=/CARGO_TARGET_DIR=}"

start=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
rm -rf "$work"
mkdir -p "$work"

# 1. The two builds; cargo's JSON messages give the executables.
echo "+ $build_a_shown" >&2
"${cargo_cmd[@]}" --message-format=json-render-diagnostics >"$work/build-A.json" ||
    die "build A failed"
echo "+ $build_b_shown" >&2
RUSTFLAGS="$b_rustflags" CARGO_TARGET_DIR="$b_target_dir" \
    "${cargo_cmd[@]}" --message-format=json-render-diagnostics >"$work/build-B.json" ||
    die "build B failed"
declare -A exe
for build in A B; do
    while IFS=$'\t' read -r name path; do
        exe[$build.$name]=$path
    done < <(python3 "$helper" executables "$work/build-$build.json")
done
identical=0
for name in "${benches[@]}"; do
    [[ -x "${exe[A.$name]:-}" && -x "${exe[B.$name]:-}" ]] || die "no executable for bench $name"
    [[ "${exe[A.$name]}" != "${exe[B.$name]}" ]] || die "builds A and B share the executable ${exe[A.$name]}"
    if cmp -s "${exe[A.$name]}" "${exe[B.$name]}"; then
        identical=$((identical + 1))
    fi
done
if ((identical == ${#benches[@]})); then
    identical_text="A's and B's are byte-identical: the cfg changed nothing, so the ratios show the method's noise"
elif ((identical == 0)); then
    identical_text="A's and B's differ (all ${#benches[@]} bench binaries)"
else
    identical_text="$identical of ${#benches[@]} bench binaries are byte-identical in A and B"
fi
echo "metrics_cost: executables: $identical_text" >&2

# 2. The workloads (from A's `--list`; B must have the same), filtered.
declare -A bench_of
workloads=()
for name in "${benches[@]}"; do
    for build in A B; do
        CRITERION_HOME="$work/list" "${exe[$build.$name]}" --bench --list >"$work/list-$build-$name.txt" 2>&1 ||
            { cat "$work/list-$build-$name.txt" >&2; die "$build's $name --list failed"; }
        python3 "$helper" workloads <"$work/list-$build-$name.txt" >"$work/workloads-$build-$name.txt"
    done
    cmp -s "$work/workloads-A-$name.txt" "$work/workloads-B-$name.txt" ||
        die "A's and B's $name benches have different workloads (see $work/workloads-*-$name.txt)"
    while read -r w; do
        if [[ -z "$filter" || "$w" =~ $filter ]]; then
            workloads+=("$w")
            bench_of[$w]=$name
        fi
    done <"$work/workloads-A-$name.txt"
done
if ((${#workloads[@]} == 0)); then
    all=$(for name in "${benches[@]}"; do cat "$work/workloads-A-$name.txt"; done | tr '\n' ' ')
    die "no workload matches '$filter'; there are: ${all% }"
fi
echo "metrics_cost: ${#workloads[@]} workload(s): ${workloads[*]}; $rounds round(s) each" >&2

# 3. The runs, alternating A and B.
criterion_args=(--sample-size "$sample_size" --measurement-time "$measurement_secs"
    --warm-up-time "$warm_up_secs")
run_shown="<bench executable> --bench --exact '<workload>/cpu/magpie' ${criterion_args[*]}"
results="$work/results.tsv"
: >"$results"
total=$((${#workloads[@]} * rounds * 2))
n=0
for w in "${workloads[@]}"; do
    for ((r = 1; r <= rounds; r++)); do
        if ((r % 2)); then order=(A B); else order=(B A); fi
        for build in "${order[@]}"; do
            n=$((n + 1))
            home="$work/runs/$w/$build-round$r"
            mkdir -p "$home"
            CRITERION_HOME="$home" "${exe[$build.${bench_of[$w]}]}" --bench --exact "$w/cpu/magpie" \
                "${criterion_args[@]}" >"$home.log" 2>&1 ||
                { cat "$home.log" >&2; die "run $w $build round $r failed (log: $home.log)"; }
            ns=$(python3 "$helper" estimate "$home" "$w/cpu" magpie) ||
                die "no result from run $w $build round $r (log: $home.log)"
            printf '%s\t%s\t%s\t%s\n' "$w" "$build" "$r" "$ns" >>"$results"
            printf 'metrics_cost: [%d/%d] %-18s %s round %d: %s\n' "$n" "$total" "$w" \
                "$([[ $build == A ]] && echo "A (metrics on) " || echo "B (metrics off)")" "$r" \
                "$(awk -v ns="$ns" 'BEGIN { printf "%.4f ms", ns / 1e6 }')" >&2
        done
    done
done

# 4. The report.
COST_COMMAND="$command_shown" COST_BUILD_A="$build_a_shown" COST_BUILD_B="$build_b_shown" \
    COST_IDENTICAL="$identical_text" COST_RUN="$run_shown" COST_ROUNDS="$rounds" \
    COST_NPROC="$(nproc)" COST_LOAD_START="$load_start" \
    COST_LOAD_END="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)" \
    COST_ELAPSED_SECS="$(($(date +%s) - start))" \
    python3 "$helper" report "$results" "$out_md"
echo "metrics_cost: wrote $out_md (runs and logs: $work/)" >&2
