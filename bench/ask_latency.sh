#!/usr/bin/env bash
# Where the time of `ragd ask` goes: retrieval, prompt building, generation
# (and the whole process, model loading included), median over the example
# questions asked ROUNDS times on the example knowledge base.
#   bash bench/ask_latency.sh [ROUNDS]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ROUNDS="${1:-3}"
RAGD="$ROOT/build/ragd"
export RAGD_DATA_DIR="$(mktemp -d)"
trap 'rm -rf "$RAGD_DATA_DIR"' EXIT
"$RAGD" -q ingest "$ROOT/examples/bank-kb" --kb bank >/dev/null
QUESTIONS=("What is the annual fee for the Platinum credit card?" "How long does an international wire transfer take?"
           "如何挂失银行卡？" "Can I take money out of a fixed deposit early?")
: > "$RAGD_DATA_DIR/runs.jsonl"
for r in $(seq "$ROUNDS"); do
  for q in "${QUESTIONS[@]}"; do
    start=$(date +%s.%N)
    "$RAGD" --no-trace ask "$q" --kb bank --seed 1 --json > "$RAGD_DATA_DIR/one.json"
    end=$(date +%s.%N)
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); r["process_seconds"]=float(sys.argv[3])-float(sys.argv[2]); print(json.dumps(r))' \
      "$RAGD_DATA_DIR/one.json" "$start" "$end" >> "$RAGD_DATA_DIR/runs.jsonl"
  done
done
python3 - "$RAGD_DATA_DIR/runs.jsonl" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
med = lambda k: statistics.median(r["timings"][k] for r in runs) * 1000
proc = statistics.median(r["process_seconds"] for r in runs) * 1000
toks = statistics.median(r["usage"]["completion_tokens"] for r in runs)
print(f"ragd ask, {len(runs)} runs, median ms: retrieval {med('retrieval_seconds'):.1f} | prompt {med('prompt_seconds'):.1f} | "
      f"generation {med('generation_seconds'):.0f} (first token {med('first_token_seconds'):.0f}, {toks:.0f} tokens) | "
      f"whole process {proc:.0f}")
PY
