#!/usr/bin/env bash
# Load on ragd serve (make load): wrk, 2 threads, 16 connections, SECONDS per
# route, on the example knowledge base: hybrid search, then kb: chats answered
# without generation (bench/load.lua). Before each route a 10 s warm-up;
# ragd's resident memory is sampled every 5 s. Prints wrk's report, one JSON
# line per route (req/s, p50, p99, errors, RSS after warm-up and at the end),
# and fails when a route saw an error or RSS grew by more than 10%.
#   bash bench/load.sh RAGD [SECONDS]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RAGD="$(realpath "${1:-$ROOT/build/ragd}")"
SECONDS_PER_ROUTE="${2:-60}"
export RAGD_DATA_DIR="$(mktemp -d)"
export RAGD_KEY="load-key"
trap 'kill $SERVER 2>/dev/null; rm -rf "$RAGD_DATA_DIR"' EXIT
"$RAGD" -q ingest "$ROOT/examples/bank-kb" --kb bank >/dev/null
"$RAGD" --no-trace serve --port 0 --api-key "$RAGD_KEY" 2> "$RAGD_DATA_DIR/serve.log" &
SERVER=$!
for _ in $(seq 100); do grep -q "serving on" "$RAGD_DATA_DIR/serve.log" && break; sleep 0.1; done
PORT="$(grep -o '127.0.0.1:[0-9]*' "$RAGD_DATA_DIR/serve.log" | cut -d: -f2)"
rss_mib() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$SERVER/status"; }
status=0
for route in search chat; do
  LOAD_ROUTE=$route wrk -t 2 -c 16 -d 10s -s "$ROOT/bench/load.lua" "http://127.0.0.1:$PORT" >/dev/null
  before=$(rss_mib)
  ( while sleep 5; do rss_mib; echo; done ) > "$RAGD_DATA_DIR/rss-$route" &
  SAMPLER=$!
  LOAD_ROUTE=$route wrk -t 2 -c 16 -d "${SECONDS_PER_ROUTE}s" --latency -s "$ROOT/bench/load.lua" \
    "http://127.0.0.1:$PORT" | tee "$RAGD_DATA_DIR/wrk-$route"
  kill $SAMPLER 2>/dev/null || true
  after=$(rss_mib)
  peak=$(sort -n "$RAGD_DATA_DIR/rss-$route" | tail -1)
  line=$(grep '^{"route"' "$RAGD_DATA_DIR/wrk-$route")
  echo "${line%\}}, \"rss_after_warmup_mib\": $before, \"rss_peak_mib\": ${peak:-$after}, \"rss_end_mib\": $after}"
  python3 - "$line" "$before" "$after" <<'PY' || status=1
import json, sys
r, before, after = json.loads(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
bad = []
if r["errors"] or r["non_2xx"]:
    bad.append(f"{r['errors']} errors and {r['non_2xx']} non-2xx answers")
if after > before * 1.10:
    bad.append(f"RSS grew from {before} to {after} MiB")
if bad:
    print(f"load on {r['route']}: " + "; ".join(bad))
    sys.exit(1)
PY
done
exit $status
