#!/usr/bin/env bash
# make wheel: dist/ragd-<version>-<tag>.whl from this checkout, built by
# scikit-build-core from the same CMakeLists.txt as the program
# (pyproject.toml), in build-wheel/. The build tools are pinned in
# python/build-requirements.txt and live in .deps/wheel-venv. ccache makes
# the library's objects the program's own (same flags, same folder depth).
set -euo pipefail
source "$(dirname "$0")/common.sh"
VENV="$DEPS/wheel-venv"
REQ="$ROOT/python/build-requirements.txt"
STAMP="$VENV/.ragd-req-$(sha256sum "$REQ" | cut -c1-16)"
if [[ ! -f "$STAMP" ]]; then
  log "creating the wheel build environment in $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ"
  touch "$STAMP"
fi
LAUNCHER=""
if command -v ccache >/dev/null; then
  LAUNCHER="-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
fi
mkdir -p "$ROOT/dist"
rm -f "$ROOT"/dist/ragd-*.whl
log "building the Python wheel (scikit-build-core, nanobind) into dist/"
start=$(date +%s)
CMAKE_ARGS="$LAUNCHER" "$VENV/bin/python" -m pip wheel --quiet --disable-pip-version-check --no-deps \
  --no-build-isolation --wheel-dir "$ROOT/dist" "$ROOT"
whl=$(ls "$ROOT"/dist/ragd-*.whl)
log "built $(basename "$whl") ($(du -h "$whl" | cut -f1)) in $(( $(date +%s) - start )) s"
