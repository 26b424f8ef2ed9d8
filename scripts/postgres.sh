#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for magpie's database example and test (examples/database.rs,
# examples/tests/database.rs) and for CI (.ci/run).
#
#   scripts/postgres.sh start   installs PostgreSQL from Debian's packages when absent, then
#                               starts a cluster (or reuses the one already running) and prints
#                               its connection settings
#   scripts/postgres.sh env     prints the settings of the running cluster (fails if none)
#   scripts/postgres.sh status  says whether the cluster runs (exit 0) or not (exit 1)
#   scripts/postgres.sh stop    stops the cluster and deletes its directory
#   scripts/postgres.sh kill    stops the server at once (pg_ctl stop -m immediate: sessions
#                               are cut, no clean shutdown), keeping the cluster; `start`
#                               starts it again (the database test's server-gone case)
#
# The settings are KEY=VALUE lines on stdout, nothing else (messages go to stderr), so that
#   eval "$(scripts/postgres.sh start)"      (or: set -a; eval ...; set +a to export them)
# works in a shell and a program can parse them:
#   MAGPIE_PG_HOST=127.0.0.1
#   MAGPIE_PG_PORT=54329
#   MAGPIE_PG_USER=magpie
#   MAGPIE_PG_DBNAME=magpie
#   MAGPIE_PG_SOCKET_DIR=/tmp/magpie-postgres-0/socket
#   MAGPIE_PG_STATE_DIR=/tmp/magpie-postgres-0
#
# The cluster: a data directory under the state directory, trust authentication, listening on
# 127.0.0.1 only (a free port from 54329 up) and on a unix socket inside the state directory;
# durability off (fsync, synchronous_commit, full_page_writes), as nothing in it is worth
# keeping. As root (initdb refuses root) the server runs as the `postgres` user of Debian's
# package, or as a `magpie-pg` system user created for it when there is none.
#
# Settings read from the environment:
#   MAGPIE_PG_STATE_DIR   the cluster's directory (default /tmp/magpie-postgres-$UID); one
#                         cluster per directory, so a test that needs a cluster of its own
#                         (one it may kill) passes a directory of its own
#   MAGPIE_PG_FIRST_PORT  the first port tried (default 54329)
#   MAGPIE_PG_BIN         the directory holding initdb and pg_ctl (default: the newest
#                         /usr/lib/postgresql/*/bin, else PATH)
#   MAGPIE_PG_TIMEOUT     seconds to wait for the server to start or stop (default 60)
#
# Every wait is bounded: the script either prints the settings or fails with a message saying
# what went wrong (and the end of the server's log), it never hangs.
set -euo pipefail

STATE_DIR=${MAGPIE_PG_STATE_DIR:-/tmp/magpie-postgres-$(id -u)}
STATE_DIR=${STATE_DIR%/}
FIRST_PORT=${MAGPIE_PG_FIRST_PORT:-54329}
TIMEOUT=${MAGPIE_PG_TIMEOUT:-60}
DB_USER=magpie
DB_NAME=magpie

DATA_DIR=$STATE_DIR/data
SOCKET_DIR=$STATE_DIR/socket
LOG_FILE=$STATE_DIR/postgres.log
ENV_FILE=$STATE_DIR/env
# Marks a directory as one this script made, so `stop` never deletes anything else.
MARKER=$STATE_DIR/.magpie-postgres

say() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}

usage() {
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# --- the PostgreSQL binaries -------------------------------------------------------------------

# Sets BIN to the directory holding initdb and pg_ctl; returns 1 when there is none (not
# installed). Not to be called in a subshell: a bad MAGPIE_PG_BIN must end the script.
BIN=
find_bin() {
    if [[ -n ${MAGPIE_PG_BIN:-} ]]; then
        [[ -x $MAGPIE_PG_BIN/initdb && -x $MAGPIE_PG_BIN/pg_ctl ]] ||
            die "MAGPIE_PG_BIN=$MAGPIE_PG_BIN holds no initdb and pg_ctl"
        BIN=$MAGPIE_PG_BIN
        return 0
    fi
    local dir
    # Debian's layout, the newest version first.
    while IFS= read -r dir; do
        if [[ -x $dir/initdb && -x $dir/pg_ctl ]]; then
            BIN=$dir
            return 0
        fi
    done < <(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV)
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        BIN=$(dirname "$(command -v initdb)")
        return 0
    fi
    return 1
}

install_postgres() {
    say "PostgreSQL is not installed; installing Debian's package 'postgresql'"
    command -v apt-get >/dev/null 2>&1 ||
        die "PostgreSQL is not installed and there is no apt-get; install PostgreSQL (initdb, pg_ctl) or set MAGPIE_PG_BIN"
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null ||
            die "PostgreSQL is not installed; run 'sudo apt-get install -y postgresql' (this script is not root and cannot sudo without a password)"
        sudo=(sudo -n)
    fi
    # Debian's package starts a cluster of its own on 5432 where it can; that one is not ours
    # and is left alone. Bounded: a held dpkg lock or a dead mirror fails rather than hangs.
    local apt=(timeout 900 "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get
        -y -q -o DPkg::Lock::Timeout=120 install --no-install-recommends postgresql)
    if ! "${apt[@]}" >&2; then
        say "apt-get install failed; updating the package lists and trying again"
        timeout 600 "${sudo[@]}" apt-get -q -o DPkg::Lock::Timeout=120 update >&2 ||
            die "apt-get update failed"
        "${apt[@]}" >&2 || die "apt-get install postgresql failed"
    fi
}

# --- running as the cluster's owner ------------------------------------------------------------

# The OS user the server runs as: ourselves, or (as root) an unprivileged one.
RUN_USER=
pick_run_user() {
    if [[ $(id -u) -ne 0 ]]; then
        RUN_USER=$(id -un)
        return
    fi
    if id -u postgres >/dev/null 2>&1; then
        RUN_USER=postgres
    else
        RUN_USER=magpie-pg
        if ! id -u "$RUN_USER" >/dev/null 2>&1; then
            say "creating the system user $RUN_USER to run the server (initdb refuses root)"
            useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
                "$RUN_USER" >&2 || die "could not create the user $RUN_USER"
        fi
    fi
}

# Runs a command as RUN_USER, from / (the caller's directory may be closed to that user),
# without the lock files' descriptors: a server started here must not hold the locks.
as_owner() {
    if [[ $(id -u) -ne 0 ]]; then
        (cd / && "$@") 8>&- 9>&-
    elif command -v runuser >/dev/null 2>&1; then
        (cd / && runuser -u "$RUN_USER" -- "$@") 8>&- 9>&-
    else
        local quoted
        quoted=$(printf '%q ' "$@")
        (cd / && su -s /bin/sh "$RUN_USER" -c "$quoted") 8>&- 9>&-
    fi
}

# --- ports, state ------------------------------------------------------------------------------

port_in_use() {
    # A connection that succeeds means something listens there.
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

is_running() {
    [[ -f $ENV_FILE && -f $DATA_DIR/PG_VERSION ]] || return 1
    as_owner "$BIN/pg_ctl" status -D "$DATA_DIR" >/dev/null 2>&1 || return 1
    local port
    port=$(sed -n 's/^MAGPIE_PG_PORT=//p' "$ENV_FILE")
    [[ -n $port ]] || return 1
    "$BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -t 5 >/dev/null 2>&1
}

write_env() {
    local port=$1 tmp=$ENV_FILE.tmp
    {
        echo "MAGPIE_PG_HOST=127.0.0.1"
        echo "MAGPIE_PG_PORT=$port"
        echo "MAGPIE_PG_USER=$DB_USER"
        echo "MAGPIE_PG_DBNAME=$DB_NAME"
        echo "MAGPIE_PG_SOCKET_DIR=$SOCKET_DIR"
        echo "MAGPIE_PG_STATE_DIR=$STATE_DIR"
    } >"$tmp"
    mv "$tmp" "$ENV_FILE"
}

show_log() {
    if [[ -f $LOG_FILE ]]; then
        say "the end of $LOG_FILE:"
        tail -n 20 "$LOG_FILE" >&2 || true
    fi
}

init_cluster() {
    mkdir -p "$STATE_DIR"
    touch "$MARKER"
    # The server's user must reach the directory (mktemp -d makes it 0700).
    chmod 0755 "$STATE_DIR"
    rm -rf "$DATA_DIR" "$SOCKET_DIR"
    mkdir -p "$DATA_DIR" "$SOCKET_DIR"
    : >"$LOG_FILE"
    if [[ $(id -u) -eq 0 ]]; then
        chown "$RUN_USER" "$DATA_DIR" "$SOCKET_DIR" "$LOG_FILE"
    fi
    chmod 0700 "$DATA_DIR"
    say "initdb in $DATA_DIR (as $RUN_USER)"
    if ! as_owner timeout "$TIMEOUT" "$BIN/initdb" -D "$DATA_DIR" -U "$DB_USER" --auth=trust \
        --encoding=UTF8 --no-locale --no-sync >"$STATE_DIR/initdb.log" 2>&1; then
        tail -n 20 "$STATE_DIR/initdb.log" >&2 || true
        rm -rf "$DATA_DIR"
        die "initdb failed (its output: $STATE_DIR/initdb.log)"
    fi
    cat >>"$DATA_DIR/postgresql.conf" <<EOF

# scripts/postgres.sh: a throwaway cluster for tests.
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SOCKET_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
EOF
}

# Starts the server on a free port; retries on the next port when another process took it
# between the check and the bind.
start_server() {
    local port=$FIRST_PORT tries=0
    while ((tries < 20)); do
        while port_in_use "$port"; do
            port=$((port + 1))
            ((port < 65536)) || die "no free port from $FIRST_PORT up"
        done
        say "starting the server on 127.0.0.1:$port"
        if as_owner "$BIN/pg_ctl" start -D "$DATA_DIR" -l "$LOG_FILE" -w -t "$TIMEOUT" \
            -o "-p $port" >/dev/null 2>&1; then
            # pg_ctl -w waits for the postmaster to accept connections; check it over TCP too.
            local waited=0
            until "$BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -t 2 >/dev/null 2>&1; do
                ((waited < TIMEOUT)) || {
                    show_log
                    die "the server started but does not answer on 127.0.0.1:$port"
                }
                sleep 1
                waited=$((waited + 1))
            done
            write_env "$port"
            return 0
        fi
        # Not started. Stop a half-started one, then try the next port if the port was the
        # problem, else give up with the log.
        as_owner "$BIN/pg_ctl" stop -D "$DATA_DIR" -m immediate -w -t 10 >/dev/null 2>&1 || true
        if grep -q -i -e 'could not bind' -e 'address already in use' "$LOG_FILE" 2>/dev/null; then
            say "port $port was taken; trying the next one"
            port=$((port + 1))
            tries=$((tries + 1))
            continue
        fi
        show_log
        die "the server did not start (log: $LOG_FILE)"
    done
    show_log
    die "the server did not start after $tries ports"
}

create_database() {
    local port
    port=$(sed -n 's/^MAGPIE_PG_PORT=//p' "$ENV_FILE")
    if ! "$BIN/psql" -h 127.0.0.1 -p "$port" -U "$DB_USER" -d postgres -X -q -t -A \
        -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" 2>/dev/null | grep -q 1; then
        timeout "$TIMEOUT" "$BIN/createdb" -h 127.0.0.1 -p "$port" -U "$DB_USER" "$DB_NAME" ||
            die "createdb $DB_NAME failed"
    fi
}

# --- subcommands -------------------------------------------------------------------------------

cmd_start() {
    if ! find_bin; then
        install_postgres
        find_bin || die "PostgreSQL was installed but initdb and pg_ctl are not in /usr/lib/postgresql/*/bin"
    fi
    pick_run_user
    mkdir -p "$(dirname "$STATE_DIR")"
    # One start at a time per state directory (two tests starting the same cluster) and per
    # user (two clusters picking the same free port).
    command -v flock >/dev/null 2>&1 || die "flock (util-linux) is missing"
    exec 8>"$STATE_DIR.lock"
    flock -w 120 8 || die "another postgres.sh holds $STATE_DIR.lock for over 120 s"
    exec 9>"/tmp/magpie-postgres-$(id -u).ports.lock"
    flock -w 120 9 || die "another postgres.sh holds the port lock for over 120 s"

    if is_running; then
        say "reusing the cluster running in $STATE_DIR"
    else
        if [[ -e $STATE_DIR && ! -e $MARKER && -n $(ls -A "$STATE_DIR" 2>/dev/null) ]]; then
            die "$STATE_DIR exists, is not empty and was not made by this script; set MAGPIE_PG_STATE_DIR to another directory"
        fi
        if [[ -f $DATA_DIR/PG_VERSION && -f $DATA_DIR/postgresql.conf ]]; then
            # A cluster from before (stopped, or its server killed): start it again.
            as_owner "$BIN/pg_ctl" stop -D "$DATA_DIR" -m immediate -w -t 10 >/dev/null 2>&1 || true
            rm -f "$DATA_DIR/postmaster.pid"
        else
            init_cluster
        fi
        start_server
        create_database
        local port
        port=$(sed -n 's/^MAGPIE_PG_PORT=//p' "$ENV_FILE")
        say "PostgreSQL runs on 127.0.0.1:$port (user $DB_USER, database $DB_NAME, state $STATE_DIR)"
    fi
    cat "$ENV_FILE"
}

cmd_env() {
    [[ -f $ENV_FILE ]] || die "no cluster in $STATE_DIR; run 'scripts/postgres.sh start'"
    find_bin || die "PostgreSQL is not installed"
    pick_run_user
    is_running || die "the cluster in $STATE_DIR is not running; run 'scripts/postgres.sh start'"
    cat "$ENV_FILE"
}

cmd_status() {
    if find_bin && pick_run_user && is_running; then
        say "running: $(tr '\n' ' ' <"$ENV_FILE")"
        return 0
    fi
    say "not running ($STATE_DIR)"
    return 1
}

cmd_stop() {
    if [[ ! -e $STATE_DIR ]]; then
        say "nothing to stop in $STATE_DIR"
        return 0
    fi
    [[ -e $MARKER ]] || die "$STATE_DIR was not made by this script; not touching it"
    if find_bin; then
        pick_run_user
        if [[ -f $DATA_DIR/postmaster.pid ]]; then
            say "stopping the server in $DATA_DIR"
            as_owner "$BIN/pg_ctl" stop -D "$DATA_DIR" -m fast -w -t "$TIMEOUT" >/dev/null 2>&1 ||
                as_owner "$BIN/pg_ctl" stop -D "$DATA_DIR" -m immediate -w -t 10 >/dev/null 2>&1 ||
                true
        fi
        if [[ -f $DATA_DIR/postmaster.pid ]]; then
            # Still there: a server pg_ctl could not stop; kill it by its pid from the file.
            local pid
            pid=$(head -n 1 "$DATA_DIR/postmaster.pid" 2>/dev/null || true)
            if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
                say "killing the postmaster $pid"
                kill -KILL "$pid" 2>/dev/null || true
            fi
        fi
    fi
    rm -rf "$STATE_DIR"
    rm -f "$STATE_DIR.lock"
    say "stopped and deleted $STATE_DIR"
}

cmd_kill() {
    [[ -e $MARKER ]] || die "no cluster made by this script in $STATE_DIR"
    find_bin || die "PostgreSQL is not installed"
    pick_run_user
    if [[ ! -f $DATA_DIR/postmaster.pid ]]; then
        say "the server in $STATE_DIR is not running"
        return 0
    fi
    say "stopping the server in $DATA_DIR at once (-m immediate)"
    as_owner "$BIN/pg_ctl" stop -D "$DATA_DIR" -m immediate -w -t "$TIMEOUT" >/dev/null 2>&1 || {
        show_log
        die "pg_ctl stop -m immediate failed"
    }
}

case ${1:-} in
    start) cmd_start ;;
    kill) cmd_kill ;;
    env) cmd_env ;;
    status) cmd_status ;;
    stop) cmd_stop ;;
    *) usage ;;
esac
