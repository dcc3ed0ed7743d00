#!/usr/bin/env bash
# The benchmark on PostgreSQL (`make bench-pg`). In one run, interleaved over ROUNDS rounds:
#   anchor    pgbench against the same PostgreSQL, a signup-shaped transaction of five statements
#             (find the referrer's code, look for the person, insert them, count the referrer's
#             recent referrals, insert the referral), 4 clients, prepared statements,
#             synchronous_commit on: what this database does with such a transaction;
#   kith      durable POST /v1/signups (attribution + fraud scoring), 64 connections in all,
#             signups spread over 300 referrers and, beside it, every signup to one referrer;
#             one kith instance, then two sharing the database (each driven by its own wrk with
#             half the connections; their rates are added).
# Each figure is the median of its rounds, with its ratio to the anchor's median (the anchor
# ran between them). Also per case: p50/p99 latency, non-2xx answers, every 201 checked against
# the database, transactions per signup, and CPU per signup of kith and of PostgreSQL's
# processes. Then one redirect figure per instance count. Writes the "## PostgreSQL" section of
# docs/PERFORMANCE.md (only that section). Uses a throwaway cluster from scripts/pg-cluster.sh on
# 127.0.0.1 only; every loop is bounded. Environment: ROUNDS (3), DURATION (8s), KITH_PG_PORT.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8s}
REFERRERS=300
export KITH_PG_PORT=${KITH_PG_PORT:-54500}
for t in wrk pgbench psql; do
    command -v $t >/dev/null || { echo "bench-pg: needs $t (scripts/deps.sh installs it)" >&2; exit 1; }
done
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j "$(nproc)" --target kith >/dev/null
KITH=$ROOT/build-bench/kith
scripts/pg-cluster.sh start >/dev/null
URL=$(scripts/pg-cluster.sh url)
# Statistics as a database that has been running has them: autovacuum analyzes a table once 50
# rows and a tenth of it changed, but by default looks only once a minute, longer than a round;
# checked every second here, so plans follow tables that grow within a round.
psql -tAq "$URL/postgres" -c "ALTER SYSTEM SET autovacuum_naptime = '1s'" -c "SELECT pg_reload_conf()" >/dev/null
WORK=$(mktemp -d /tmp/kith-bench-pg.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    sleep 0.5
    scripts/pg-cluster.sh stop >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
KEY=sk_bench_pg
LOG=$WORK/kith.log
PGPID=$(head -1 "${KITH_PG_DIR:-/tmp/kith-pg-$KITH_PG_PORT}/data/postmaster.pid")

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
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
    PIDS=()
}
api() { # port method path [body]
    curl -sf -X "$2" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
        ${4:+-d "$4"} "http://127.0.0.1:$1$3"
}
q() { psql -tAq "$URL/$1" -c "$2"; }
# utime+stime in clock ticks of the given pids (those gone meanwhile count 0)
# CPU ticks of the processes named; one that exits meanwhile counts 0 (its read may fail)
ticks() {
    local t=0 p v
    for p in "$@"; do
        v=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null) || v=0
        t=$((t + ${v:-0}))
    done
    echo $t
}
pg_pids() { echo "$PGPID" $(pgrep -P "$PGPID" || true); }
median() { python3 -c 'import sys,statistics; v=[float(x) for x in sys.argv[1:]]; print(round(statistics.median(v), 1) if v else 0)' "$@"; }
HZ=$(getconf CLK_TCK)

echo "bench-pg: machine: $(nproc) cores, $(uname -r), $(psql -tAq "$URL/postgres" -c 'SHOW server_version'), load $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- the databases: kith's (300 referrers, one referrer) and the anchor's
setup_db() { # db referrers -> codes file
    q postgres "DROP DATABASE IF EXISTS $1" >/dev/null
    q postgres "CREATE DATABASE $1" >/dev/null
    start 18511 "$1"
    api 18511 POST /v1/programs '{"id":"bench","name":"Bench","destination_url":"https://example.com/join"}' >/dev/null
    seq 1 "$2" | xargs -P 4 -I{} curl -sf -X POST -H "Authorization: Bearer $KEY" \
        -H 'Content-Type: application/json' -d '{"external_id":"referrer-{}","first_name":"Robin"}' \
        http://127.0.0.1:18511/v1/participants >/dev/null
    stop_all
    q "$1" "SELECT code FROM participants ORDER BY seq" > "$WORK/$1.codes"
    [ "$(wc -l < "$WORK/$1.codes")" = "$2" ] || { echo "bench-pg: could not create $2 referrers" >&2; exit 1; }
}
setup_db kb_many $REFERRERS
setup_db kb_one 1
q postgres "DROP DATABASE IF EXISTS kb_anchor" >/dev/null
q postgres "CREATE DATABASE kb_anchor" >/dev/null
psql -q "$URL/kb_anchor" <<'SQL'
CREATE TABLE a_participants (id BIGSERIAL PRIMARY KEY, external_id TEXT NOT NULL UNIQUE,
  email TEXT, first_name TEXT, code TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL);
CREATE TABLE a_referrals (id BIGSERIAL PRIMARY KEY, referrer BIGINT NOT NULL,
  referred BIGINT NOT NULL UNIQUE, status TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE INDEX a_referrals_recent ON a_referrals (referrer, created_at);
INSERT INTO a_participants (external_id, code, created_at)
  SELECT 'referrer-' || g, 'REF-' || g, 0 FROM generate_series(1, 300) g;
SQL
anchor_script() { # referrers
    cat <<EOF
\set r random(1, $1)
BEGIN;
SELECT id, first_name FROM a_participants WHERE code = 'REF-' || :r;
SELECT id FROM a_participants WHERE external_id = 'p-' || :client_id || '-' || :r || '-' || random();
INSERT INTO a_participants (external_id, email, first_name, code, created_at) VALUES (gen_random_uuid()::text, 'p@example.org', 'Sam', gen_random_uuid()::text, 0);
SELECT count(*) FROM a_referrals WHERE referrer = :r AND created_at > extract(epoch FROM now())::bigint - 86400;
INSERT INTO a_referrals (referrer, referred, status, created_at) VALUES (:r, currval('a_participants_id_seq'), 'pending', extract(epoch FROM now())::bigint);
END;
EOF
}
anchor_script $REFERRERS > "$WORK/anchor_many.sql"
anchor_script 1 > "$WORK/anchor_one.sql"

declare -A FIG
add() { FIG[$1]="${FIG[$1]:-} $2"; }

anchor() { # many|one
    local tps
    tps=$(pgbench -n -M prepared -c 4 -j 2 -T "${DURATION%s}" -f "$WORK/anchor_$1.sql" "$URL/kb_anchor" 2>/dev/null |
        awk '/^tps/ {print $3; exit}')
    add "anchor_$1" "${tps:-0}"
    echo "  anchor ($1 referrer(s)): ${tps:-0} tx/s"
}

run_case() { # db instances round
    local db=$1 n=$2 r=$3 case="${1#kb_}_$2" c=$((64 / $2)) i before_k before_p txa txb stored0
    start 18511 "$db"
    [ "$n" = 2 ] && start 18512 "$db"
    stored0=$(q "$db" "SELECT count(*) FROM referrals")
    txa=$(q "$db" "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
    before_k=$(ticks "${PIDS[@]}")
    before_p=$(ticks $(pg_pids))
    local W=()
    for i in $(seq 1 "$n"); do
        KITH_BENCH_CODES="$WORK/$db.codes" KITH_BENCH_KEY=$KEY KITH_BENCH_PREFIX="r$r-$n-$i" \
            wrk -t$((3 - n)) -c$c -d"$DURATION" -s bench/pg_signup.lua "http://127.0.0.1:1851$i" \
            > "$WORK/wrk.$i" &
        W+=("$!")
    done
    for w in "${W[@]}"; do wait "$w"; done
    local cpu_k=$(($(ticks "${PIDS[@]}") - before_k)) cpu_p=$(($(ticks $(pg_pids)) - before_p))
    stop_all
    txb=$(q "$db" "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
    local stored=$(($(q "$db" "SELECT count(*) FROM referrals") - stored0))
    local rps=0 p50=0 p99=0 bad=0 created=0
    for i in $(seq 1 "$n"); do
        rps=$(python3 -c "print(round($rps + $(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.$i"), 1))")
        p50=$(python3 -c "print(max($p50, $(awk '/^p50_us/ {print $2}' "$WORK/wrk.$i") / 1000))")
        p99=$(python3 -c "print(max($p99, $(awk '/^p99_us/ {print $2}' "$WORK/wrk.$i") / 1000))")
        bad=$((bad + $(awk '/Non-2xx/ {n=$5} END {print n+0}' "$WORK/wrk.$i")))
        created=$((created + $(awk '/^created/ {print $2}' "$WORK/wrk.$i")))
    done
    add "rps_$case" "$rps"
    add "p50_$case" "$p50"
    add "p99_$case" "$p99"
    add "bad_$case" "$bad"
    add "extra_$case" "$((stored - created))"
    local per=$(python3 -c "s=max($stored,1); print(round(1e6*$cpu_k/$HZ/s), round(1e6*$cpu_p/$HZ/s), round(($txb-$txa)/s, 2))")
    add "cpuk_$case" "${per%% *}"
    per=${per#* }
    add "cpup_$case" "${per%% *}"
    add "tx_$case" "${per#* }"
    echo "  kith $db, $n instance(s): $rps signups/s, p50 ${p50} ms, p99 ${p99} ms, $bad non-2xx, $created answered 201 / $stored stored"
}

for r in $(seq 1 "$ROUNDS"); do
    echo "bench-pg: round $r of $ROUNDS"
    anchor many
    run_case kb_many 1 "$r"
    run_case kb_many 2 "$r"
    anchor one
    run_case kb_one 1 "$r"
    run_case kb_one 2 "$r"
done

# ---- redirects, once per instance count (clicks are buffered and written by the pool)
redirects() { # instances
    local n=$1 code rps=0 i W=()
    start 18511 kb_one
    [ "$n" = 2 ] && start 18512 kb_one
    code=$(head -1 "$WORK/kb_one.codes")
    for i in $(seq 1 "$n"); do
        wrk -t1 -c$((64 / n)) -d"$DURATION" "http://127.0.0.1:1851$i/r/$code" > "$WORK/wrk.$i" &
        W+=("$!")
    done
    for w in "${W[@]}"; do wait "$w"; done
    stop_all
    for i in $(seq 1 "$n"); do
        rps=$(python3 -c "print(round($rps + $(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.$i"), 1))")
    done
    echo "$rps"
}
R1=$(redirects 1)
R2=$(redirects 2)
CLICKS=$(q kb_one "SELECT count(*) FROM clicks")

m() { median ${FIG[$1]}; }
ratio() { python3 -c "print(round($1 / $2, 2) if $2 else 0)"; }
A_MANY=$(m anchor_many)
A_ONE=$(m anchor_one)
row() { # case label anchor
    local v
    v=$(m "rps_$1")
    local extra=${FIG[extra_$1]} all=yes x
    for x in $extra; do [ "$x" -ge 0 ] || all=NO; done
    printf '| %s | %s/s | %sx | p50 %s ms, p99 %s ms | %s | %s (stored - 201s: %s) | %s µs + %s µs | %s |\n' \
        "$2" "$v" "$(ratio "$v" "$3")" "$(m "p50_$1")" "$(m "p99_$1")" \
        "$(echo ${FIG[bad_$1]} | tr ' ' '+')" "$all" "$(echo $extra | tr ' ' '+')" \
        "$(m "cpuk_$1")" "$(m "cpup_$1")" "$(m "tx_$1")"
}
TABLE=$WORK/table.md
{
    echo "| setup | signups (median) | to anchor | latency (median) | non-2xx (per round) | every 201 stored | CPU per signup: kith + PostgreSQL | transactions per signup |"
    echo "|---|---|---|---|---|---|---|---|"
    row many_1 "1 instance, $REFERRERS referrers" "$A_MANY"
    row many_2 "2 instances, $REFERRERS referrers" "$A_MANY"
    row one_1 "1 instance, 1 referrer" "$A_ONE"
    row one_2 "2 instances, 1 referrer" "$A_ONE"
    echo "| anchor: pgbench, 5 statements, 4 clients, $REFERRERS referrers | $A_MANY tx/s | 1x | | | | | 1 |"
    echo "| anchor: pgbench, 5 statements, 4 clients, 1 referrer | $A_ONE tx/s | 1x | | | | | 1 |"
} > "$TABLE"
SCALE_MANY=$(ratio "$(m rps_many_2)" "$(m rps_many_1)")
SCALE_ONE=$(ratio "$(m rps_one_2)" "$(m rps_one_1)")
cat "$TABLE"
echo "two instances / one: ${SCALE_MANY}x ($REFERRERS referrers), ${SCALE_ONE}x (1 referrer)"
echo "redirects: ${R1}/s (1 instance), ${R2}/s (2 instances), $CLICKS clicks stored"

SECTION=$WORK/section.md
{
    echo "## PostgreSQL"
    echo
    echo "Measured by \`make bench-pg\` (bench/pg.sh) on $(date -u +%Y-%m-%dT%H:%M:%SZ): $(nproc) cores,"
    echo "PostgreSQL $(psql -tAq "$URL/postgres" -c 'SHOW server_version') (scripts/pg-cluster.sh: fsync and"
    echo "\`synchronous_commit\` on), load average at the end $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared)."
    echo "Medians of $ROUNDS interleaved rounds of $DURATION; 64 client connections in all; each ratio is to"
    echo "the anchor measured in the same rounds. Two instances / one: **${SCALE_MANY}x** with $REFERRERS"
    echo "referrers, ${SCALE_ONE}x with one."
    echo
    cat "$TABLE"
    echo
    echo "Redirects (one round): ${R1}/s on one instance, ${R2}/s on two; $CLICKS clicks stored."
    echo
    if [ -f "$ROOT/bench/pg_notes.md" ]; then cat "$ROOT/bench/pg_notes.md"; echo; fi
} > "$SECTION"
if [ -f docs/PERFORMANCE.md ]; then
    python3 - "$SECTION" <<'PY'
import re, sys
doc = open("docs/PERFORMANCE.md").read()
section = open(sys.argv[1]).read()
m = re.search(r"^## PostgreSQL.*?(?=^## |\Z)", doc, flags=re.S | re.M)
doc = doc[:m.start()] + section + doc[m.end():] if m else doc.rstrip("\n") + "\n\n" + section
open("docs/PERFORMANCE.md", "w").write(doc)
PY
fi
