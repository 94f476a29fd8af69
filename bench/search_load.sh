#!/usr/bin/env bash
# Load on the search route of ragd serve: wrk, 16 connections, DURATION
# seconds, hybrid searches of the example questions on the example
# knowledge base. Prints wrk's report and a JSON line (req/s, p50, p99, errors).
#   bash bench/search_load.sh [DURATION] [THREADS]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DURATION="${1:-30}"
THREADS="${2:-2}"
export RAGD_DATA_DIR="$(mktemp -d)"
export RAGD_KEY="bench-key"
trap 'kill $SERVER 2>/dev/null; rm -rf "$RAGD_DATA_DIR"' EXIT
"$ROOT/build/ragd" -q ingest "$ROOT/examples/bank-kb" --kb bank >/dev/null
"$ROOT/build/ragd" --no-trace serve --port 0 --api-key "$RAGD_KEY" 2> "$RAGD_DATA_DIR/serve.log" &
SERVER=$!
for _ in $(seq 100); do grep -q "serving on" "$RAGD_DATA_DIR/serve.log" && break; sleep 0.1; done
PORT="$(grep -o '127.0.0.1:[0-9]*' "$RAGD_DATA_DIR/serve.log" | cut -d: -f2)"
wrk -t "$THREADS" -c 16 -d "${DURATION}s" --latency -s "$ROOT/bench/search_load.lua" "http://127.0.0.1:$PORT/api/kbs/bank/search"
echo "RSS of ragd serve after the run: $(( $(awk '/VmRSS/ {print $2}' /proc/$SERVER/status) / 1024 )) MiB"
