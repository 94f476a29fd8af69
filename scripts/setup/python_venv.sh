#!/usr/bin/env bash
# The Python suite's virtual environment (make test): build/py-venv with the
# pinned frameworks of tests/python/requirements.txt, and the wheel of
# dist/ installed into it fresh each time. Idempotent.
#   python_venv.sh [VENV]
set -euo pipefail
source "$(dirname "$0")/common.sh"
VENV="${1:-$ROOT/build/py-venv}"
REQ="$ROOT/tests/python/requirements.txt"
CONSTRAINTS="$ROOT/tests/python/constraints.txt"
STAMP="$VENV/.installed-$(cat "$REQ" "$CONSTRAINTS" | sha256sum | cut -c1-16)"
if [[ ! -f "$STAMP" ]]; then
  log "creating the Python test environment in $VENV (LangChain, LlamaIndex, their standard tests)"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ" -c "$CONSTRAINTS"
  touch "$STAMP"
fi
whl=$(ls "$ROOT"/dist/ragd-*.whl 2>/dev/null | head -1)
[[ -n "$whl" ]] || die "no wheel in dist/: run make wheel"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$whl"
