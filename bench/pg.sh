#!/usr/bin/env bash
# The benchmark on PostgreSQL (`make bench-pg`): durable signups and redirects against one kith
# instance and against two instances sharing one database, each driven by its own wrk (the two
# rates are added). Uses a throwaway cluster from scripts/pg-cluster.sh on 127.0.0.1 only.
# Prints one line per figure and appends them to docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION=${DURATION:-8s}
export KITH_PG_PORT=${KITH_PG_PORT:-54500}
command -v wrk >/dev/null || { echo "bench-pg: needs wrk (make bench installs it)" >&2; exit 1; }
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j "$(nproc)" --target kith >/dev/null
KITH=$ROOT/build-bench/kith
scripts/pg-cluster.sh start >/dev/null
URL=$(scripts/pg-cluster.sh url)
PIDS=()
cleanup() {
    for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done
    sleep 0.5
    scripts/pg-cluster.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
KEY=sk_bench_pg
LOG=$(mktemp /tmp/kith-bench-pg.XXXXXX)

start() { # port db
    KITH_SECRET_KEY=$KEY "$KITH" serve --listen 127.0.0.1:$1 --db "$URL/$2" 2>>"$LOG" &
    PIDS+=("$!")
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$1/healthz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "bench-pg: kith did not start" >&2
    tail -20 "$LOG" >&2
    exit 1
}
stop_all() {
    for p in "${PIDS[@]:-}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]:-}"; do wait "$p" 2>/dev/null || true; done
    PIDS=()
}
api() { # port method path [body]
    curl -sf -X "$2" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
        ${4:+-d "$4"} "http://127.0.0.1:$1$3"
}
rps() { awk '/Requests\/sec/ {print $2}'; }

run_case() { # db instances
    psql -q "$URL/postgres" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"
    start 18511 "$1"
    [ "$2" = 2 ] && start 18512 "$1"
    api 18511 POST /v1/programs '{"id":"bench","name":"Bench","destination_url":"https://example.com/join"}' >/dev/null
    CODE=$(api 18511 POST /v1/participants '{"external_id":"jane","first_name":"Jane"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
    if [ "$2" = 1 ]; then
        S=$(KITH_BENCH_CODE=$CODE KITH_BENCH_KEY=$KEY KITH_BENCH_PREFIX=a wrk -t2 -c64 -d"$DURATION" -s bench/signup.lua http://127.0.0.1:18511 | rps)
        R=$(wrk -t1 -c64 -d"$DURATION" "http://127.0.0.1:18511/r/$CODE" | rps)
    else
        KITH_BENCH_CODE=$CODE KITH_BENCH_KEY=$KEY KITH_BENCH_PREFIX=a wrk -t1 -c32 -d"$DURATION" -s bench/signup.lua http://127.0.0.1:18511 > "$LOG.a" &
        W=$!
        KITH_BENCH_CODE=$CODE KITH_BENCH_KEY=$KEY KITH_BENCH_PREFIX=b wrk -t1 -c32 -d"$DURATION" -s bench/signup.lua http://127.0.0.1:18512 > "$LOG.b"
        wait "$W"
        S=$(python3 -c "print(round($(rps < "$LOG.a") + $(rps < "$LOG.b"), 2))")
        wrk -t1 -c32 -d"$DURATION" "http://127.0.0.1:18511/r/$CODE" > "$LOG.a" &
        W=$!
        wrk -t1 -c32 -d"$DURATION" "http://127.0.0.1:18512/r/$CODE" > "$LOG.b"
        wait "$W"
        R=$(python3 -c "print(round($(rps < "$LOG.a") + $(rps < "$LOG.b"), 2))")
    fi
    stop_all # a graceful stop writes every buffered click first
    STORED=$(psql -tA "$URL/$1" -c "SELECT count(*) FROM referrals")
    CLICKS=$(psql -tA "$URL/$1" -c "SELECT count(*) FROM clicks")
    echo "pg $2 instance(s): signups ${S}/s (${STORED} stored), redirects ${R}/s (${CLICKS} clicks stored)"
    printf '| PostgreSQL, %s instance(s) | signups %s/s (%s stored) | redirects %s/s (%s clicks stored) |\n' "$2" "$S" "$STORED" "$R" "$CLICKS" >> "$LOG.md"
}

: > "$LOG.md"
run_case kith_bench_one 1
run_case kith_bench_two 2
if [ -f docs/PERFORMANCE.md ]; then
    {
        echo
        echo "## PostgreSQL (\`make bench-pg\`, $(date -u +%Y-%m-%dT%H:%M:%SZ), $DURATION per figure, 64 connections in all)"
        echo
        echo "| setup | signups (durable, scored) | redirects |"
        echo "|---|---|---|"
        cat "$LOG.md"
    } >> docs/PERFORMANCE.md
fi
rm -f "$LOG" "$LOG.a" "$LOG.b" "$LOG.md"
