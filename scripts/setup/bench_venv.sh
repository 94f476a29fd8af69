#!/usr/bin/env bash
# The peers of `make bench` in their own venv under the build folder
# (build/bench-venv), pinned in bench/requirements.txt. Not needed by
# `make test`. torch arrives with its CUDA libraries (~4 GB; PyPI has no
# CPU-only build) and runs on the CPU. Idempotent.
set -euo pipefail
source "$(dirname "$0")/common.sh"
VENV="${1:-$ROOT/build/bench-venv}"
REQ="$ROOT/bench/requirements.txt"
CONSTRAINTS="$ROOT/bench/constraints.txt"  # the full resolved set, so transitive versions are pinned too
STAMP="$VENV/.installed-$(cat "$REQ" "$CONSTRAINTS" | sha256sum | cut -c1-16)"
if [[ -f "$STAMP" ]]; then exit 0; fi
log "installing the benchmark peers into $VENV (LangChain, sentence-transformers, torch, FAISS; a few GB)"
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ" -c "$CONSTRAINTS"
touch "$STAMP"
