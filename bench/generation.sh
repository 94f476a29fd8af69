#!/usr/bin/env bash
# ragd's local generation against llama-bench of the same pinned llama.cpp
# build, same GGUF, same threads: prompt tokens/s, generated tokens/s (at
# the depth of the RAG prompt) and time to first token. Alternates the two
# programs ROUNDS times and reports medians and ratios.
#   [MODEL=file.gguf] bash bench/generation.sh [THREADS] [ROUNDS] [--json]
# MODEL defaults to the packaged default chat model.
# --json adds a last line with the medians for bench/run.py.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
THREADS="${1:-2}"
ROUNDS="${2:-3}"
MODEL="${MODEL:-$ROOT/.deps/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf}"
BENCH="$ROOT/.deps/llama/bin/llama-bench"
RAGD_BENCH="$ROOT/build/bench/generation_bench"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

for r in $(seq "$ROUNDS"); do
  echo "round $r/$ROUNDS: ragd" >&2
  "$RAGD_BENCH" "$THREADS" 128 3 "$MODEL" > "$OUT/ragd-$r.json"
  P="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["prompt_tokens"])' "$OUT/ragd-$r.json")"
  echo "round $r/$ROUNDS: llama-bench (-p $P, -n 128 at depth $P)" >&2
  "$BENCH" -m "$MODEL" -t "$THREADS" -p "$P" -n 0 -r 3 -o json > "$OUT/pp-$r.json"
  "$BENCH" -m "$MODEL" -t "$THREADS" -p 0 -n 128 -d "$P" -r 3 -o json > "$OUT/tg-$r.json"
done

python3 - "$OUT" "$ROUNDS" "${3:-}" <<'PY'
import json, statistics, sys
out, rounds, as_json = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "--json"
ragd = [json.load(open(f"{out}/ragd-{r}.json")) for r in range(1, rounds + 1)]
pp = [json.load(open(f"{out}/pp-{r}.json"))[0]["avg_ts"] for r in range(1, rounds + 1)]
tg = [json.load(open(f"{out}/tg-{r}.json"))[0]["avg_ts"] for r in range(1, rounds + 1)]
med = statistics.median
r_pp = med(x["prompt_tokens_per_second"] for x in ragd)
r_tg = med(x["generated_tokens_per_second"] for x in ragd)
print(f"prompt of {ragd[0]['prompt_tokens']} tokens, 128 generated, {ragd[0]['threads']} threads, {rounds} rounds (median)")
print(f"{'':28}{'ragd':>10}{'llama-bench':>14}{'ratio':>8}")
print(f"{'prompt tokens/s':28}{r_pp:10.1f}{med(pp):14.1f}{r_pp / med(pp):8.3f}")
print(f"{'generated tokens/s':28}{r_tg:10.1f}{med(tg):14.1f}{r_tg / med(tg):8.3f}")
ttft = med(x["first_token_seconds"] for x in ragd)
cached = med(x["first_token_seconds_cached_prefix"] for x in ragd)
print(f"time to first token: {ttft * 1000:.0f} ms cold, {cached * 1000:.0f} ms with the prompt cached ({cached / ttft:.3f}x)")
if as_json:
    print(json.dumps({"prompt_tokens": ragd[0]["prompt_tokens"], "ragd_pp": r_pp, "bench_pp": med(pp), "ragd_tg": r_tg,
                      "bench_tg": med(tg), "ttft": ttft, "ttft_cached": cached, "rounds": rounds}))
PY
