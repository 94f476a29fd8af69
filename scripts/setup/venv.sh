#!/usr/bin/env bash
# The set-up's own Python environment (model conversion, example documents,
# the official openai client the server tests use).
# Pinned by scripts/setup/requirements.txt; rebuilt when that file changes.
set -euo pipefail
source "$(dirname "$0")/common.sh"
REQ="$ROOT/scripts/setup/requirements.txt"
STAMP="$DEPS/venv/.ragd-req-$(sha256sum "$REQ" | cut -c1-16)"
if [[ -f "$STAMP" ]]; then exit 0; fi
log "creating the set-up virtual environment in $DEPS/venv"
rm -rf "$DEPS/venv"
python3 -m venv "$DEPS/venv"
"$DEPS/venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ"
touch "$STAMP"
