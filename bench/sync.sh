#!/usr/bin/env bash
# Durable signups with KITH_DB_SYNC=full (synchronous=FULL: each commit fsyncs its log inline)
# against KITH_DB_SYNC=pipelined (the log's fdatasync overlapped with the next batch's work; no
# answer before its fsync either way), alternating over rounds: `make bench-sync`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8s}
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j "$(nproc)" --target kith >/dev/null
KITH=$PWD/build-bench/kith
WORK=$(mktemp -d /tmp/kith-bench-sync.XXXXXX)
KPID=
trap '[ -n "$KPID" ] && kill "$KPID" 2>/dev/null; rm -rf "$WORK"' EXIT
KEY=sk_bench_sync
PORT=18421
fdatasync_ms=$(python3 - "$WORK" <<'PY'
import os, sys, time
fd = os.open(os.path.join(sys.argv[1], "probe"), os.O_WRONLY | os.O_CREAT)
ts = []
for _ in range(50):
    os.write(fd, b"x" * 4096)
    t = time.perf_counter(); os.fdatasync(fd); ts.append(time.perf_counter() - t)
ts.sort(); print("%.2f" % (ts[len(ts) // 2] * 1000))
PY
)
echo "sync: fdatasync on this disk: median ${fdatasync_ms} ms"
declare -A RES
for r in $(seq 1 "$ROUNDS"); do
    order="full pipelined"
    [ $((r % 2)) = 0 ] && order="pipelined full"
    for mode in $order; do
        rm -f "$WORK"/k.db*
        KITH_DB_SYNC=$mode KITH_SECRET_KEY=$KEY "$KITH" serve --listen 127.0.0.1:$PORT --db "$WORK/k.db" 2>>"$WORK/log" &
        KPID=$!
        for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
        H="Authorization: Bearer $KEY"
        curl -sf -H "$H" "http://127.0.0.1:$PORT/v1/programs" -d '{"id":"b","name":"B","destination_url":"https://example.com/join"}' >/dev/null
        CODE=$(curl -sf -H "$H" "http://127.0.0.1:$PORT/v1/participants" -d '{"external_id":"jane","first_name":"Jane"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
        rps=$(KITH_BENCH_CODE=$CODE KITH_BENCH_KEY=$KEY KITH_BENCH_PREFIX="s$r" wrk -t2 -c64 -d"$DURATION" -s bench/signup.lua "http://127.0.0.1:$PORT" | awk '/Requests\/sec/ {print $2}')
        kill -TERM "$KPID"; wait "$KPID" 2>/dev/null || true; KPID=
        echo "sync round $r $mode: $rps signups/s"
        RES[$mode]="${RES[$mode]:-} $rps"
    done
done
median() { printf '%s\n' $@ | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
F=$(median ${RES[full]}); P=$(median ${RES[pipelined]})
echo "sync: durable signups full ${F}/s, pipelined ${P}/s ($(python3 -c "print(f'{$P/$F:.2f}')")x)"
