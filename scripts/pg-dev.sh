#!/usr/bin/env bash
# A local PostgreSQL for development: one cluster that persists between runs.
# Usage: scripts/pg-dev.sh start|stop|url|status
#   eval "$(scripts/pg-dev.sh start)"   # exports INGESTD_TEST_PG_URL and prints it
#   INGESTD_STORE="$(scripts/pg-dev.sh url)" ingestd migrate up
# Data lives in $INGESTD_PG_DEV_DIR (default /tmp/ingestd-pg-dev); port $INGESTD_PG_DEV_PORT
# (default 55432). Trust authentication on 127.0.0.1 only: never use this for real data.
set -euo pipefail

dir="${INGESTD_PG_DEV_DIR:-/tmp/ingestd-pg-dev}"
port="${INGESTD_PG_DEV_PORT:-55432}"
db="ingestd_dev"
url="postgresql://postgres@127.0.0.1:$port/$db"

bindir="${INGESTD_PG_BINDIR:-}"
if [ -z "$bindir" ]; then
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
    [ -x "$d/initdb" ] && bindir="$d"
  done
fi
[ -n "$bindir" ] || { echo "pg-dev: no PostgreSQL server binaries (set INGESTD_PG_BINDIR)" >&2; exit 1; }

# initdb and postgres refuse to run as root.
as_owner() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
ctl() { (cd "$dir" && as_owner "$bindir/pg_ctl" -D "$dir/data" "$@"); }
running() { [ -f "$dir/data/postmaster.pid" ] && ctl status >/dev/null 2>&1; }

case "${1:-}" in
  start)
    if [ ! -d "$dir/data" ]; then
      mkdir -p "$dir"
      [ "$(id -u)" = "0" ] && chown postgres: "$dir"
      (cd "$dir" && as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust \
        --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1) ||
        { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    if ! running; then
      ctl -l "$dir/server.log" -w -t 60 -o "-h 127.0.0.1 -p $port -k $dir" start >/dev/null
    fi
    if ! psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
      psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "CREATE DATABASE $db"
    fi
    echo "export INGESTD_TEST_PG_URL=$url"
    ;;
  stop)
    if running; then ctl -m fast -w stop >/dev/null; fi
    ;;
  url)
    echo "$url"
    ;;
  status)
    if running; then echo "running: $url (data in $dir)"; else echo "stopped"; exit 3; fi
    ;;
  *)
    echo "usage: $0 start|stop|url|status" >&2
    exit 2
    ;;
esac
