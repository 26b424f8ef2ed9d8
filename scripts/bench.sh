#!/usr/bin/env bash
# Runs the runtime comparison benchmarks (benches/runtimes.rs) and regenerates
# docs/benchmarks.md and docs/benchmarks.svg from criterion's results.
#
# Usage: scripts/bench.sh [criterion args...]
#   scripts/bench.sh                          # everything, ~3-5 min on 2 cores
#   scripts/bench.sh yield_many               # one workload (wall + cpu)
#   scripts/bench.sh --sample-size 30 --measurement-time 5
#   MAGPIE_BENCH_WORKERS=4 scripts/bench.sh   # workers per runtime (default 2)
# Other knobs: MAGPIE_BENCH_SAMPLE_SIZE, MAGPIE_BENCH_WARM_UP_SECS,
# MAGPIE_BENCH_MEASUREMENT_SECS (criterion's CLI flags win over them).
#
# The report only uses results written by this run, so a filtered run gives a
# report of just those workloads.
set -euo pipefail
cd "$(dirname "$0")/.."

cmd=(cargo bench -p magpie-benches --bench runtimes -- "$@")

# The command as it would be typed, with the env knobs that were set.
shown=""
for var in MAGPIE_BENCH_WORKERS MAGPIE_BENCH_SAMPLE_SIZE MAGPIE_BENCH_WARM_UP_SECS \
    MAGPIE_BENCH_MEASUREMENT_SECS; do
    if [[ -n "${!var:-}" ]]; then
        shown+="$var=$(printf '%q' "${!var}") "
    fi
done
shown+="$(printf '%q ' "${cmd[@]}")"
shown="${shown% }"
echo "+ $shown" >&2

start=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || true)
"${cmd[@]}"
BENCH_LOAD_START="$load_start" BENCH_COMMAND="$shown" BENCH_WRAPPER="scripts/bench.sh${*:+$(printf ' %q' "$@")}" \
    python3 scripts/bench_report.py --since "$start"
