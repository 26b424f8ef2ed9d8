#!/usr/bin/env bash
# Runs the runtime comparison benchmarks and regenerates docs/benchmarks.md and
# docs/benchmarks.svg from their results:
#   1. criterion: benches/runtimes.rs (scheduler workloads), benches/sync.rs
#      (ping_pong, mpsc, mpsc_unbounded: each runtime's own channels),
#      benches/timers.rs (timer_churn, timer_fire), benches/io.rs (tcp_echo) and
#      benches/fs.rs (fs_read_small, fs_read_large) and benches/one_thread.rs
#      (spawn_many_local_1t, yield_many_1t, ping_pong_1t, timer_fire_1t,
#      tcp_echo_1t: magpie's and tokio's current-thread runtimes and smol's
#      LocalExecutor), wall and CPU time;
#   2. benches/timer_figures.rs (not criterion): sleep lateness percentiles and
#      the memory of 1,000,000 pending sleeps, into target/magpie-timer-figures.json;
#   3. benches/io_figures.rs (not criterion): the CPU an idle runtime with
#      registered sockets uses over 2 s, into target/magpie-io-figures.json;
#   4. benches/http_figures.rs (not criterion): http_hello, hyper serving a small
#      response on each runtime under one load client (requests/s, p50/p99);
#      http_hello_wrk, the same server driven by Debian's wrk; http2_hello_h2load,
#      the service over HTTP/2 driven by nghttp2's h2load (16 connections x 16
#      streams); http_axum, an axum Router as the service; http_axum_wrk, the
#      axum server driven by wrk (wrk and h2load installed below when missing);
#      5 alternating rounds of 0.5 + 2 s per runtime each (~6 min), into
#      target/magpie-http-figures.json;
#   5. benches/sched_figures.rs (not criterion): oversubscription, the scheduler
#      workloads of benches/runtimes.rs on runtimes with 2, 8 and 32 workers,
#      wall and CPU time per iteration, a process per cell, 3 alternating rounds
#      of 0.2 + 0.5 s (~2.5 min), into target/magpie-sched-figures.json;
#   6. benches/conn_figures.rs (not criterion): conn_scale, 10,000 keep-alive
#      connections to hyper on each runtime, each sending a request every 100 ms
#      from a client process of its own (open loop): the server's memory per
#      connection and latency percentiles; 3 alternating rounds of 2 + 3 s
#      (~1 min), into target/magpie-conn-figures.json.
#
# Usage: scripts/bench.sh [criterion args...]
#   scripts/bench.sh                          # everything, ~25-30 min on 2 cores
#                                             # (tcp_echo and tcp_echo_1t ~4 min each:
#                                             # ~1 s iterations)
#   scripts/bench.sh '^yield_many/'           # one workload (wall + cpu; a bare
#                                             # yield_many also matches yield_many_1t)
#   scripts/bench.sh 'ping_pong|mpsc'         # the channel workloads (and ping_pong_1t)
#   scripts/bench.sh timer_                   # the timer workloads (no figure matches)
#   scripts/bench.sh tcp_echo                 # the I/O workloads (no figure matches)
#   scripts/bench.sh fs_read                  # the file workloads (no figure matches)
#   scripts/bench.sh _1t                      # the one-thread workloads (no figure matches)
#   scripts/bench.sh sleep_lateness           # one figure (no criterion group matches)
#   scripts/bench.sh idle_cpu                 # the idle CPU figure
#   scripts/bench.sh http_                    # the HTTP figures (no criterion group matches)
#   scripts/bench.sh http_axum                # axum's two (in-repo client, wrk)
#   scripts/bench.sh '_wrk|h2load'            # the figures under outside load generators
#   scripts/bench.sh oversubscription         # the oversubscription figure
#   scripts/bench.sh conn_scale               # the connection scale figure
#   scripts/bench.sh --sample-size 30 --measurement-time 5
#   MAGPIE_BENCH_WORKERS=4 scripts/bench.sh   # workers per runtime (default 2)
# Other knobs: MAGPIE_BENCH_SAMPLE_SIZE, MAGPIE_BENCH_WARM_UP_SECS,
# MAGPIE_BENCH_MEASUREMENT_SECS (criterion's CLI flags win over them);
# MAGPIE_BENCH_LATENESS_SLEEPS (default 1000), MAGPIE_BENCH_MEMORY_SLEEPS
# (default 1000000) for the timer figures; MAGPIE_BENCH_IDLE_SECS (default 2)
# for the idle CPU figure; MAGPIE_BENCH_HTTP_CONNECTIONS (default 64; a list
# such as 16,64 measures each), MAGPIE_BENCH_HTTP_SECS (default 2),
# MAGPIE_BENCH_HTTP_WARMUP_SECS (default 0.5), MAGPIE_BENCH_HTTP_ROUNDS
# (default 5) for the HTTP figures; MAGPIE_BENCH_OVERSUB_WORKERS (default
# 2,8,32), MAGPIE_BENCH_OVERSUB_WORKLOADS (default all six),
# MAGPIE_BENCH_OVERSUB_SECS (default 0.5), MAGPIE_BENCH_OVERSUB_WARMUP_SECS
# (default 0.2), MAGPIE_BENCH_OVERSUB_ROUNDS (default 3) for the oversubscription
# figure; MAGPIE_BENCH_CONN_COUNT (default 10000), MAGPIE_BENCH_CONN_INTERVAL_MS
# (default 100), MAGPIE_BENCH_CONN_SECS (default 3), MAGPIE_BENCH_CONN_WARMUP_SECS
# (default 2), MAGPIE_BENCH_CONN_ROUNDS (default 3) for the connection scale figure.
#
# All arguments go to the criterion benches. The figures binaries get only the
# filters among them (arguments that are neither options nor option values),
# which they match like a simple criterion regex (`a|b` alternatives, each a
# substring, `^`/`$` anchors) against their figure names (timer_figures:
# sleep_lateness, sleep_memory; io_figures: idle_cpu; http_figures: http_hello,
# http_hello_wrk, http2_hello_h2load, http_axum, http_axum_wrk; sched_figures:
# oversubscription; conn_figures: conn_scale);
# no filter runs them all, a filter that matches none of a binary's figures
# skips them.
#
# The report only uses results written by this run, so a filtered run gives a
# report of just those workloads and figures.
set -euo pipefail
cd "$(dirname "$0")/.."

# The outside load generators of the HTTP figures, from Debian's packages when missing (as
# root, or through sudo): wrk (http_hello_wrk, http_axum_wrk) and nghttp2-client's h2load
# (http2_hello_h2load). Without one, its figures say they are skipped and the rest runs.
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v h2load >/dev/null || missing+=(nghttp2-client)
if ((${#missing[@]})); then
    echo "bench.sh: installing ${missing[*]} (apt-get) for the HTTP figures" >&2
    sudo=()
    if [[ $(id -u) != 0 ]] && command -v sudo >/dev/null; then sudo=(sudo); fi
    if ! { "${sudo[@]}" apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
        echo "bench.sh: could not install ${missing[*]}; the figures they drive will be skipped" >&2
    fi
fi

# The command as it would be typed, with those of the given env knobs that are set.
shown_command() {
    local -n knobs=$1
    shift
    local shown="" var
    for var in "${knobs[@]}"; do
        if [[ -n "${!var:-}" ]]; then
            shown+="$var=$(printf '%q' "${!var}") "
        fi
    done
    shown+="$(printf '%q ' "$@")"
    echo "${shown% }"
}

criterion_knobs=(MAGPIE_BENCH_WORKERS MAGPIE_BENCH_SAMPLE_SIZE MAGPIE_BENCH_WARM_UP_SECS
    MAGPIE_BENCH_MEASUREMENT_SECS)
figure_knobs=(MAGPIE_BENCH_WORKERS MAGPIE_BENCH_LATENESS_SLEEPS MAGPIE_BENCH_MEMORY_SLEEPS)
io_figure_knobs=(MAGPIE_BENCH_WORKERS MAGPIE_BENCH_IDLE_SECS)
http_figure_knobs=(MAGPIE_BENCH_WORKERS MAGPIE_BENCH_HTTP_CONNECTIONS MAGPIE_BENCH_HTTP_SECS
    MAGPIE_BENCH_HTTP_WARMUP_SECS MAGPIE_BENCH_HTTP_ROUNDS)
sched_figure_knobs=(MAGPIE_BENCH_OVERSUB_WORKERS MAGPIE_BENCH_OVERSUB_WORKLOADS
    MAGPIE_BENCH_OVERSUB_SECS MAGPIE_BENCH_OVERSUB_WARMUP_SECS MAGPIE_BENCH_OVERSUB_ROUNDS)
conn_figure_knobs=(MAGPIE_BENCH_WORKERS MAGPIE_BENCH_CONN_COUNT MAGPIE_BENCH_CONN_INTERVAL_MS
    MAGPIE_BENCH_CONN_SECS MAGPIE_BENCH_CONN_WARMUP_SECS MAGPIE_BENCH_CONN_ROUNDS)

# Criterion's options that take a value (criterion 0.5's command line).
takes_value=" --color -c --save-baseline -s --baseline -b --baseline-lenient --load-baseline
    --profile-time --sample-size --warm-up-time --measurement-time --nresamples
    --noise-threshold --confidence-level --significance-level --plotting-backend
    --output-format --format "
figure_args=()
skip_value=0
for arg in "$@"; do
    if ((skip_value)); then
        skip_value=0
        continue
    fi
    case "$arg" in
    --test | --list) figure_args+=("$arg") ;;
    -*=*) ;;
    -*) [[ "$takes_value" == *" $arg "* ]] && skip_value=1 ;;
    *) figure_args+=("$arg") ;;
    esac
done

criterion_cmd=(cargo bench -p magpie-benches --bench runtimes --bench sync --bench timers --bench io --bench fs --bench one_thread -- "$@")
figures_cmd=(cargo bench -p magpie-benches --bench timer_figures)
io_figures_cmd=(cargo bench -p magpie-benches --bench io_figures)
http_figures_cmd=(cargo bench -p magpie-benches --bench http_figures)
sched_figures_cmd=(cargo bench -p magpie-benches --bench sched_figures)
conn_figures_cmd=(cargo bench -p magpie-benches --bench conn_figures)
if ((${#figure_args[@]})); then
    figures_cmd+=(-- "${figure_args[@]}")
    io_figures_cmd+=(-- "${figure_args[@]}")
    http_figures_cmd+=(-- "${figure_args[@]}")
    sched_figures_cmd+=(-- "${figure_args[@]}")
    conn_figures_cmd+=(-- "${figure_args[@]}")
fi
criterion_shown=$(shown_command criterion_knobs "${criterion_cmd[@]}")
figures_shown=$(shown_command figure_knobs "${figures_cmd[@]}")
io_figures_shown=$(shown_command io_figure_knobs "${io_figures_cmd[@]}")
http_figures_shown=$(shown_command http_figure_knobs "${http_figures_cmd[@]}")
sched_figures_shown=$(shown_command sched_figure_knobs "${sched_figures_cmd[@]}")
conn_figures_shown=$(shown_command conn_figure_knobs "${conn_figures_cmd[@]}")

start=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || true)
echo "+ $criterion_shown" >&2
"${criterion_cmd[@]}"
echo "+ $figures_shown" >&2
BENCH_FIGURES_COMMAND="$figures_shown" "${figures_cmd[@]}"
echo "+ $io_figures_shown" >&2
BENCH_IO_FIGURES_COMMAND="$io_figures_shown" "${io_figures_cmd[@]}"
echo "+ $http_figures_shown" >&2
BENCH_HTTP_FIGURES_COMMAND="$http_figures_shown" "${http_figures_cmd[@]}"
echo "+ $sched_figures_shown" >&2
BENCH_SCHED_FIGURES_COMMAND="$sched_figures_shown" "${sched_figures_cmd[@]}"
echo "+ $conn_figures_shown" >&2
BENCH_CONN_FIGURES_COMMAND="$conn_figures_shown" "${conn_figures_cmd[@]}"
BENCH_LOAD_START="$load_start" BENCH_COMMAND="$criterion_shown" \
    BENCH_WRAPPER="scripts/bench.sh${*:+$(printf ' %q' "$@")}" \
    python3 scripts/bench_report.py --since "$start"
