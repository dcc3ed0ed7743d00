#!/usr/bin/env bash
# Program health and the forecast at scale: `bench/health.sh` (make bench-health). Builds a
# release kith, loads one program into a fresh SQLite database with the generator of
# bench/run.sh's scale section (participants, codes, clicks, click_hours, participants.clicks,
# program_counts), extended with what health counts: referrals (one participant in ten was
# referred; statuses rewarded, pending, review, rejected), purchases and refunds, and the
# rewards of the rewarded referrals, spread over the two years before today so that a month is
# a month of a program's life. Then kith starts on it, builds its health rollups from those raw
# tables (the way a database that predates them gets them; timed), and the figures are
# measured over loopback:
#   GET /v1/metrics/health  all time, one calendar month, one ISO week    (best and median of 7)
#   GET /v1/forecast        months=6
#   GET /v1/metrics         all time and the same month, for reference
# Prints one line per figure. Environment: SCALE_PARTICIPANTS (1000000), SCALE_CLICKS
# (10000000), RUNS (7), KEEP_DB (a path: keep the database there), REUSE_DB (a database kept
# before: measure on it again, loading nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=${SCALE_PARTICIPANTS:-1000000}
CLICKS=${SCALE_CLICKS:-10000000}
RUNS=${RUNS:-7}

command -v sqlite3 >/dev/null || { echo "bench: needs sqlite3 (apt-get install sqlite3)" >&2; exit 1; }
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j "$(nproc)" --target kith >/dev/null
KITH=$ROOT/build-bench/kith

WORK=$(mktemp -d /tmp/kith-health-bench.XXXXXX)
KPID=""
cleanup() {
    [ -n "$KPID" ] && kill "$KPID" 2>/dev/null || true
    sleep 0.3
    rm -rf "$WORK"
}
trap cleanup EXIT
KEY=sk_bench_$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
PORT=18431
DB=${REUSE_DB:-$WORK/health.db}

start_kith() {
    KITH_LOG_LEVEL=${KITH_LOG_LEVEL:-debug} KITH_SECRET_KEY=$KEY "$KITH" serve --listen 127.0.0.1:$PORT --db "$DB" 2>>"$WORK/kith.log" &
    KPID=$!
    for _ in $(seq 1 6000); do
        curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && return 0
        kill -0 "$KPID" 2>/dev/null || { tail -20 "$WORK/kith.log" >&2; exit 1; }
        sleep 0.1
    done
    echo "bench: kith did not start" >&2
    exit 1
}
stop_kith() {
    kill -TERM "$KPID"
    wait "$KPID" 2>/dev/null || true
    KPID=""
}
api() { # method path [body]
    curl -sf -X "$1" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
        ${3:+-d "$3"} "http://127.0.0.1:$PORT$2"
}

# Two years (104 ISO weeks) ending at the start of this week; times in ms.
WEEK=604800000
NOW_MS=$(($(date +%s) * 1000))
END=$(( (NOW_MS + 259200000) / WEEK * WEEK - 259200000 ))
START=$(( END - 104 * WEEK ))
STEP=$(( (END - START) / N ))
DAYMS=86400000

echo "bench: machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
echo "bench: $N participants and $CLICKS clicks over 104 weeks from $(date -u -d @$((START / 1000)) +%F)"
if [ -z "${REUSE_DB:-}" ]; then
start_kith
api POST /v1/programs '{"id":"bench","name":"Bench","destination_url":"https://example.com/join","currency":"USD","average_customer_value":120000}' >/dev/null
stop_kith

T0=$(date +%s)
sqlite3 -bail "$DB" <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -1000000;
BEGIN;
-- participants and codes, as bench/run.sh, joining evenly over the two years; one in ten
-- (from the twentieth on) came through a referral
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N)
INSERT INTO participants (id, program, external_id, email, email_norm, first_name, code,
  referred_by, status, leaderboard_opt_in, created_at, updated_at)
SELECT 'par_s' || i, 'bench', 'u' || i, 'p' || i || '@example.org', 'p' || i || '@example.org',
  'P', 'P' || i, CASE WHEN i % 10 = 0 AND i >= 20 THEN 'ref_s' || i END, 'active', i % 10 = 0,
  $START + i * $STEP, $START + i * $STEP FROM n;
INSERT INTO codes (norm, code, participant, kind, created_at)
SELECT code, code, id, 'primary', created_at FROM participants WHERE program = 'bench';
-- their referrals: the referrer, any who joined earlier; 1 in 2 rewarded (qualified 3 days later),
-- 1 in 10 in review, 1 in 10 rejected, the rest pending
WITH RECURSIVE n(i) AS (SELECT 20 UNION ALL SELECT i + 10 FROM n WHERE i + 10 <= $N)
INSERT INTO referrals (id, program, referrer, referred, code, source, status, fraud_score,
  fraud_flags, created_at, qualified_at, rewarded_at, expires_at, updated_at)
SELECT 'ref_s' || i, 'bench', 'par_s' || (1 + ((i * 2654435761) % 4294967291) % (i - 1)),
  'par_s' || i, 'P1', 'url',
  CASE WHEN i % 20 = 0 THEN 'rewarded' WHEN i % 100 = 10 THEN 'review'
       WHEN i % 100 = 30 THEN 'rejected' ELSE 'pending' END, 0, '[]',
  $START + i * $STEP,
  CASE WHEN i % 20 = 0 THEN $START + i * $STEP + 3 * $DAYMS END,
  CASE WHEN i % 20 = 0 THEN $START + i * $STEP + 3 * $DAYMS END,
  4102444800000, $START + i * $STEP FROM n;
-- purchases: the rewarded friends (their qualifying purchase), and one organic person in five
INSERT INTO events (id, program, participant, type, amount, currency, occurred_at, created_at,
  referral)
SELECT 'evt_q' || substr(id, 6), 'bench', referred, 'purchase', 12000, 'USD', qualified_at,
  qualified_at, id FROM referrals WHERE program = 'bench' AND status = 'rewarded';
INSERT INTO events (id, program, participant, type, amount, currency, occurred_at, created_at)
SELECT 'evt_o' || substr(id, 6), 'bench', id, 'purchase', 9000, 'USD',
  created_at + 2 * $DAYMS, created_at + 2 * $DAYMS FROM participants
WHERE program = 'bench' AND referred_by IS NULL AND CAST(substr(id, 6) AS INTEGER) % 5 = 1;
-- refunds: one rewarded friend in ten gets 3000 back five days after buying
INSERT INTO events (id, program, participant, type, amount, currency, occurred_at, created_at)
SELECT 'evt_r' || substr(id, 6), 'bench', referred, 'refund', 3000, 'USD',
  qualified_at + 5 * $DAYMS, qualified_at + 5 * $DAYMS FROM referrals
WHERE program = 'bench' AND status = 'rewarded' AND CAST(substr(id, 6) AS INTEGER) % 200 = 0;
-- the rewarded referrals' rewards, both sides, issued when they qualified
INSERT INTO rewards (id, program, participant, referral, side, kind, amount, currency, status,
  created_at, issued_at, updated_at)
SELECT 'rwd_a' || substr(id, 6), 'bench', referrer, id, 'referrer', 'credit', 2500, 'USD',
  'issued', qualified_at, qualified_at, qualified_at FROM referrals
WHERE program = 'bench' AND status = 'rewarded';
INSERT INTO rewards (id, program, participant, referral, side, kind, amount, currency, status,
  created_at, issued_at, updated_at)
SELECT 'rwd_b' || substr(id, 6), 'bench', referred, id, 'referred', 'credit', 1000, 'USD',
  'issued', qualified_at, qualified_at, qualified_at FROM referrals
WHERE program = 'bench' AND status = 'rewarded';
-- clicks, as bench/run.sh, each after its participant joined (uniformly until the end)
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $CLICKS),
c(i, p) AS (SELECT i, 1 + (i * 7919) % $N FROM n)
INSERT INTO clicks (id, program, participant, code, created_at, channel)
SELECT 'clk_s' || i, 'bench', 'par_s' || p, 'P1',
  ($START + p * $STEP) + (i * 2654435761) % ($END - ($START + p * $STEP) + 1),
  CASE i % 4 WHEN 0 THEN 'email' WHEN 1 THEN 'sms' ELSE NULL END FROM c;
-- the rollups kith keeps as it records clicks, built here in one go (bench/run.sh)
INSERT INTO click_hours (program, hour, channel, clicks)
SELECT program, created_at / 3600000, coalesce(channel, 'none'), count(*) FROM clicks
GROUP BY 1, 2, 3;
CREATE TEMP TABLE pc AS SELECT participant, count(*) AS n FROM clicks GROUP BY participant;
UPDATE participants SET clicks = pc.n FROM pc WHERE pc.participant = participants.id;
INSERT INTO program_counts (program, participants_active, sharers)
SELECT 'bench', count(*), sum(clicks > 0) FROM participants WHERE program = 'bench'
ON CONFLICT (program) DO UPDATE SET participants_active = excluded.participants_active,
  sharers = excluded.sharers;
-- rollups built by kith itself at its next start: forget the empty ones of the first start
DELETE FROM meta WHERE key = 'health_rollups';
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
T1=$(date +%s)
echo "bench: loaded in $((T1 - T0)) s: $(sqlite3 "$DB" 'SELECT count(*) FROM referrals') referrals, $(sqlite3 "$DB" 'SELECT count(*) FROM events') events, $(sqlite3 "$DB" 'SELECT count(*) FROM rewards') rewards"

fi
T0=$(date +%s)
start_kith
T1=$(date +%s)
echo "bench: start with the health rollups rebuilt from the raw tables: $((T1 - T0)) s"
grep -E 'rebuild step|rollups rebuilt' "$WORK/kith.log" | sed -E 's/^.*step=health\.([a-z_]+).* ms=([0-9]+).*$/bench:   rebuild \1: \2 ms/; s/^.*rollups rebuilt.* ms=([0-9]+).*$/bench:   rebuild total: \1 ms/'  || true

ms() { # path -> milliseconds of one request
    curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $KEY" \
        "http://127.0.0.1:$PORT$1" | python3 -c 'import sys; print(round(float(sys.stdin.read())*1000, 1))'
}
measure() { # label path -> "best median"
    local all=()
    for _ in $(seq 1 "$RUNS"); do all+=("$(ms "$2")"); done
    printf '%s\n' "${all[@]}" | sort -g | awk -v l="$1" '{a[NR]=$1} END {printf "%s: best %s ms, median %s ms\n", l, a[1], a[int((NR+1)/2)]}'
}
# A month inside the data: the calendar month two months back.
MONTH_FROM=$(date -u -d "$(date -u +%Y-%m-01) -2 month" +%Y-%m-01T00:00:00Z)
MONTH_TO=$(date -u -d "$(date -u +%Y-%m-01) -1 month" +%Y-%m-01T00:00:00Z)
WEEK_FROM=$(date -u -d @$(( (END - 5 * WEEK) / 1000 )) +%Y-%m-%dT%H:%M:%SZ)
WEEK_TO=$(date -u -d @$(( (END - 4 * WEEK) / 1000 )) +%Y-%m-%dT%H:%M:%SZ)
api GET "/v1/metrics/health?program=bench" >"$WORK/all.json"
python3 - "$WORK/all.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
print("bench: all time: activation %.3f, time to first share %.1f d, cycle %.1f d, gini %.3f, "
      "top 5%% %.3f, review %.3f, reject %.3f, cost/value %.4f, %d weeks" % (
    b["activation"], b["time_to_first_share_days"], b["cycle_time_days"],
    b["concentration"]["gini"], b["concentration"]["top_5pct_share"],
    b["fraud_pressure"]["review_rate"], b["fraud_pressure"]["reject_rate"],
    b["reward_cost_to_value"], len(b["series"])))
PY
measure "GET /v1/metrics/health all time" "/v1/metrics/health?program=bench"
measure "GET /v1/metrics/health $MONTH_FROM .. $MONTH_TO" "/v1/metrics/health?program=bench&from=$MONTH_FROM&to=$MONTH_TO"
measure "GET /v1/metrics/health one ISO week" "/v1/metrics/health?program=bench&from=$WEEK_FROM&to=$WEEK_TO"
measure "GET /v1/forecast months=6" "/v1/forecast?program=bench&months=6"
measure "GET /v1/metrics all time (reference)" "/v1/metrics?program=bench"
measure "GET /v1/metrics the same month (reference)" "/v1/metrics?program=bench&from=$MONTH_FROM&to=$MONTH_TO"
echo "bench: resident memory: $(( $(awk '/VmRSS/ {print $2}' "/proc/$KPID/status") / 1024 )) MB"
echo "bench: database: $(du -m "$DB" | cut -f1) MB"
stop_kith
if [ -n "${KEEP_DB:-}" ] && [ -z "${REUSE_DB:-}" ]; then
    mv "$DB" "$KEEP_DB"
    echo "bench: kept the database at $KEEP_DB"
fi
