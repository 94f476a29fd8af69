#!/usr/bin/env bash
# ctest's fixture `postgres`: a real PostgreSQL 16 + pgvector (the pinned
# wheel, scripts/setup/postgres.sh) for the tests that use the PostgreSQL
# store, on a free port with its data in a fresh /tmp folder.
#   pg_fixture.sh start BUILD_DIR   writes BUILD_DIR/pg-test/url
#   pg_fixture.sh stop BUILD_DIR    stops it and removes its data
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cmd="$1"; state="$2/pg-test"
mkdir -p "$state"
case "$cmd" in
  start)
    if [[ -f "$state/datadir" ]]; then  # a run that was cut off
      "$ROOT/scripts/pg.sh" stop "$(cat "$state/datadir")" || true
      rm -rf "$(cat "$state/datadir")"
    fi
    data="$(mktemp -d /tmp/ragd-pg-XXXXXX)"
    chmod 755 "$data"
    echo "$data" > "$state/datadir"
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    "$ROOT/scripts/pg.sh" start "$data/pg" "$port" > "$state/url"
    echo "PostgreSQL for the tests: $(cat "$state/url")"
    ;;
  stop)
    [[ -f "$state/datadir" ]] || exit 0
    data="$(cat "$state/datadir")"
    "$ROOT/scripts/pg.sh" stop "$data/pg" || true
    rm -rf "$data" "$state/datadir" "$state/url"
    ;;
esac
