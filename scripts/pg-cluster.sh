#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for kith's tests: start | stop | url | status.
#
#   KITH_PG_PORT   TCP port on 127.0.0.1 (default 25432: below Linux's ephemeral range
#                  32768-60999, so no client socket or `--listen 127.0.0.1:0` server of a test
#                  running alongside can be holding it when the cluster starts)
#   KITH_PG_DIR    where the cluster lives (default /tmp/kith-pg-<port>): data/, the unix socket,
#                  the server log (postgres.log)
#
# `start` runs initdb (trust authentication, superuser `postgres`) into the directory and starts
# the server listening on 127.0.0.1 only, waiting until it accepts connections. Starting a
# cluster that is already running is fine; a leftover directory whose server is gone is wiped
# and made again. `stop` stops the server and removes the directory. `url` prints the URL tests
# pass to kith (postgres://postgres@127.0.0.1:<port>; append /<database>).
#
# PostgreSQL refuses to run as root: as root (CI) the cluster is owned by and runs as the
# `postgres` user Debian's package creates; as anyone else it runs as that user. Durability is
# left at PostgreSQL's defaults (fsync, synchronous_commit and full_page_writes stay on): the
# kill -9 tests must mean something.
set -euo pipefail

port="${KITH_PG_PORT:-25432}"
case "$port" in
'' | *[!0-9]*) echo "pg-cluster: KITH_PG_PORT must be a number, not '$port'" >&2; exit 2 ;;
esac
dir="${KITH_PG_DIR:-/tmp/kith-pg-$port}"
data="$dir/data"
logf="$dir/postgres.log"

find_bin() {
    local d
    # Newest major version first: /usr/lib/postgresql/<major>/bin (Debian), then PATH.
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4,4 -rn); do
        if [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ]; then
            echo "$d"
            return 0
        fi
    done
    if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"
        return 0
    fi
    return 1
}

# Runs a command as the cluster's owner, from a directory that owner can read, without the lock
# descriptor (the server pg_ctl starts must not hold the lock forever).
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        if command -v runuser >/dev/null 2>&1; then
            (cd / && runuser -u postgres -- "$@" 9>&-)
        else
            local q
            q=$(printf '%q ' "$@")
            (cd / && su postgres -s /bin/sh -c "$q" 9>&-)
        fi
    else
        (cd / && "$@" 9>&-)
    fi
}

url() { echo "postgres://postgres@127.0.0.1:$port"; }

ready() { "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres -U postgres >/dev/null 2>&1; }

running() { [ -f "$data/PG_VERSION" ] && as_owner "$bin/pg_ctl" status -D "$data" >/dev/null 2>&1; }

log_tail() {
    [ -f "$logf" ] && { echo "--- $logf (tail) ---" >&2; tail -n 40 "$logf" >&2; }
    return 0
}

do_stop() {
    if running; then
        as_owner "$bin/pg_ctl" stop -D "$data" -m fast -w -t 60 >/dev/null ||
            as_owner "$bin/pg_ctl" stop -D "$data" -m immediate -w -t 30 >/dev/null || true
    fi
    rm -rf "$dir"
}

do_start() {
    if running && ready; then
        return 0
    fi
    if running; then
        # Started but not answering yet (another `start` in progress, or a slow recovery).
        wait_ready && return 0
    fi
    # Nothing usable there: start from a clean directory.
    if [ -d "$dir" ]; then
        as_owner "$bin/pg_ctl" stop -D "$data" -m immediate -w -t 30 >/dev/null 2>&1 || true
        rm -rf "$dir"
    fi
    if ready; then
        echo "pg-cluster: something else already answers on 127.0.0.1:$port; pick another KITH_PG_PORT" >&2
        exit 1
    fi
    mkdir -p "$dir"
    chmod 700 "$dir"
    if [ "$(id -u)" = 0 ]; then
        if ! id postgres >/dev/null 2>&1; then
            echo "pg-cluster: running as root but there is no 'postgres' user (apt-get install postgresql)" >&2
            exit 1
        fi
        chown postgres: "$dir"
    fi
    if ! as_owner "$bin/initdb" -D "$data" -A trust -U postgres -E UTF8 --no-locale \
        >"$dir/initdb.log" 2>&1; then
        echo "pg-cluster: initdb failed:" >&2
        cat "$dir/initdb.log" >&2
        exit 1
    fi
    # Settings go into the cluster's own configuration so any restart keeps them.
    as_owner sh -c "cat >> '$data/postgresql.conf'" <<EOF

# ---- kith test cluster (scripts/pg-cluster.sh) ----
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
shared_buffers = 64MB
logging_collector = off
log_min_messages = warning
log_line_prefix = '%m [%p] %d '
EOF
    local attempt
    for attempt in 1 2 3 4 5; do
        as_owner "$bin/pg_ctl" start -D "$data" -l "$logf" -w -t 60 >/dev/null && break
        if [ "$attempt" = 5 ] || ! grep -q "could not bind\|could not create any TCP/IP sockets" "$logf"; then
            echo "pg-cluster: pg_ctl start failed" >&2
            log_tail
            exit 1
        fi
        echo "pg-cluster: port $port busy, retrying" >&2
        sleep 2
    done
    wait_ready || { echo "pg-cluster: server did not become ready" >&2; log_tail; exit 1; }
}

wait_ready() {
    local i
    for i in $(seq 1 120); do
        ready && return 0
        sleep 0.5
    done
    return 1
}

cmd="${1:-}"
case "$cmd" in
url) url; exit 0 ;;
start | stop | status) ;;
*) echo "usage: $0 start|stop|url|status   (KITH_PG_PORT=$port)" >&2; exit 2 ;;
esac

if ! bin=$(find_bin); then
    echo "pg-cluster: PostgreSQL server binaries not found (expected /usr/lib/postgresql/*/bin);" \
        "run scripts/deps.sh as root or apt-get install postgresql" >&2
    exit 1
fi

# One start/stop at a time per port (best effort: a lock file another user made may be closed
# to us).
lock="/tmp/kith-pg-$port.lock"
if { exec 9>>"$lock"; } 2>/dev/null; then
    chmod 666 "$lock" 2>/dev/null || true
    if command -v flock >/dev/null 2>&1; then
        flock -w 180 9 || { echo "pg-cluster: could not lock $lock" >&2; exit 1; }
    fi
fi

case "$cmd" in
start)
    do_start
    echo "pg-cluster: running on $(url) (data in $dir)" >&2
    ;;
stop)
    do_stop
    echo "pg-cluster: stopped (port $port)" >&2
    ;;
status)
    if running && ready; then
        echo "running: $(url) ($dir)"
    else
        echo "not running (port $port)"
        exit 1
    fi
    ;;
esac
