#!/usr/bin/env bash
# The peers of `make bench` in their own venv under the build folder
# (build/bench-venv), pinned in bench/requirements.txt. Not needed by
# `make test`. The ragd wheel of dist/ is installed fresh each time. torch
# arrives with its CUDA libraries (~4 GB; PyPI has no CPU-only build) and
# runs on the CPU. Idempotent.
set -euo pipefail
source "$(dirname "$0")/common.sh"
VENV="${1:-$ROOT/build/bench-venv}"
REQ="$ROOT/bench/requirements.txt"
CONSTRAINTS="$ROOT/bench/constraints.txt"  # the full resolved set, so transitive versions are pinned too
STAMP="$VENV/.installed-$(cat "$REQ" "$CONSTRAINTS" | sha256sum | cut -c1-16)"
if [[ ! -f "$STAMP" ]]; then
  log "installing the benchmark peers into $VENV (LangChain, sentence-transformers, torch, FAISS; a few GB)"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ" -c "$CONSTRAINTS"
  touch "$STAMP"
fi
# The Python package of this checkout (make wheel), for section 8.
whl=$(ls "$ROOT"/dist/ragd-*.whl 2>/dev/null | head -1)
if [[ -n "$whl" ]]; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$whl"
fi
