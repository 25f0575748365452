#!/usr/bin/env bash
# Starts the services the test suites need and exports their addresses. Sourced by
# scripts/test.sh (which defines `cleanup`, run on EXIT); can also be sourced by hand:
#   source scripts/start-test-services.sh && ctest --test-dir build/ci -L conformance
#
# PostgreSQL: when server binaries exist (/usr/lib/postgresql/*/bin, or INGESTD_PG_BINDIR), a
# throwaway cluster is created in a temporary directory, started on 127.0.0.1 on a free port
# with trust authentication, and INGESTD_TEST_PG_URL points at its `ingestd_test` database.
# The cluster is stopped and deleted by `cleanup`. An INGESTD_TEST_PG_URL already set is used
# as is (nothing is started). With CI=true, failing to provide PostgreSQL is fatal: CI must run
# the PostgreSQL suites rather than skip them silently.

_ingest_pg_fail() {
  echo "start-test-services: $*" >&2
  if [ "${CI:-}" = "true" ]; then
    echo "start-test-services: CI=true requires PostgreSQL for the store suites; failing" >&2
    exit 1
  fi
  echo "start-test-services: PostgreSQL tests will be skipped" >&2
  return 0
}

# Runs a PostgreSQL server binary as the `postgres` user when we are root (initdb and postgres
# refuse to run as root), as ourselves otherwise.
_ingest_pg_as_owner() {
  if [ "$(id -u)" = "0" ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

_ingest_pg_port_busy() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

_ingest_pg_start() {
  local bindir="${INGESTD_PG_BINDIR:-}"
  if [ -z "$bindir" ]; then
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
      [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && bindir="$d"
    done
  fi
  if [ -z "$bindir" ]; then
    _ingest_pg_fail "no PostgreSQL server binaries found (set INGESTD_PG_BINDIR)"
    return 0
  fi

  local dir
  dir="$(mktemp -d "${TMPDIR:-/tmp}/ingestd-pg-XXXXXX")"
  chmod 755 "$dir"
  if [ "$(id -u)" = "0" ]; then chown postgres: "$dir"; fi
  _INGEST_PG_DIR="$dir"
  _INGEST_PG_BINDIR="$bindir"

  # cd: the server user may not be allowed into the caller's working directory.
  if ! (cd "$dir" && _ingest_pg_as_owner "$bindir/initdb" -D "$dir/data" -U postgres \
      --auth=trust --encoding=UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1); then
    cat "$dir/initdb.log" >&2
    _ingest_pg_fail "initdb failed"
    return 0
  fi

  local port="${INGESTD_TEST_PG_PORT:-54329}" tries=0 started=""
  while [ "$tries" -lt 20 ]; do
    if ! _ingest_pg_port_busy "$port"; then
      # fsync off and a small shared_buffers: a throwaway cluster, speed over durability.
      if (cd "$dir" && _ingest_pg_as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" \
          -w -t 60 -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off \
          -c full_page_writes=off -c max_connections=200" start >/dev/null 2>&1); then
        started=1
        break
      fi
    fi
    port=$((port + 1))
    tries=$((tries + 1))
  done
  if [ -z "$started" ]; then
    [ -f "$dir/server.log" ] && tail -n 20 "$dir/server.log" >&2
    _ingest_pg_fail "could not start PostgreSQL ($bindir)"
    return 0
  fi
  _INGEST_PG_STARTED=1

  if ! (cd "$dir" && _ingest_pg_as_owner "$bindir/psql" -X -q -h 127.0.0.1 -p "$port" \
      -U postgres -d postgres -c "CREATE DATABASE ingestd_test" >/dev/null); then
    _ingest_pg_fail "could not create database ingestd_test"
    return 0
  fi
  export INGESTD_TEST_PG_URL="postgresql://postgres@127.0.0.1:$port/ingestd_test"
  echo "start-test-services: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}')" \
    "at $INGESTD_TEST_PG_URL (data in $dir)" >&2
}

_ingest_pg_stop() {
  if [ -n "${_INGEST_PG_STARTED:-}" ]; then
    (cd "$_INGEST_PG_DIR" && _ingest_pg_as_owner "$_INGEST_PG_BINDIR/pg_ctl" -D \
      "$_INGEST_PG_DIR/data" -m immediate -w stop >/dev/null 2>&1) || true
    _INGEST_PG_STARTED=""
  fi
  if [ -n "${_INGEST_PG_DIR:-}" ]; then
    rm -rf "$_INGEST_PG_DIR"
    _INGEST_PG_DIR=""
  fi
}

# Chain onto the caller's cleanup (scripts/test.sh runs `cleanup` on EXIT).
if declare -F cleanup >/dev/null; then
  eval "_ingest_cleanup_before_pg() $(declare -f cleanup | tail -n +2)"
else
  _ingest_cleanup_before_pg() { :; }
  trap 'cleanup' EXIT
fi
cleanup() {
  _ingest_pg_stop
  _ingest_cleanup_before_pg
}

if [ -n "${INGESTD_TEST_PG_URL:-}" ]; then
  echo "start-test-services: using INGESTD_TEST_PG_URL=$INGESTD_TEST_PG_URL" >&2
else
  _ingest_pg_start
fi
