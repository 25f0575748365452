#!/usr/bin/env bash
# Stops exactly what deploy/staging/up.sh started — the processes named by its pid files, never
# anything found by name — and removes the stack's data (the PostgreSQL cluster, blobs,
# Prometheus and Alertmanager storage, the env file). Each process gets SIGTERM (ingestd
# processes drain: stop leasing, finish or release their jobs) and up to 30 s to exit, then
# SIGKILL. Exit 0 when nothing of the stack is left running.
#
# Usage: deploy/staging/down.sh      (env: INGESTD_STAGING_DIR; STAGING_KEEP_LOGS=1 keeps logs/)
set -uo pipefail
source "$(dirname "$0")/lib.sh"

if [ ! -d "$STAGING_DIR/pids" ]; then
  echo "down: no stack in $STAGING_DIR"
  exit 0
fi

# PostgreSQL last (the ingestd processes release their leases through it), and by pg_ctl.
names=()
for f in "$STAGING_DIR"/pids/*.pid; do
  [ -e "$f" ] || continue
  n="$(basename "$f" .pid)"
  [ "$n" = postgres ] || names+=("$n")
done

for n in "${names[@]}"; do
  pid="$(cat "$STAGING_DIR/pids/$n.pid")"
  if pid_alive "$pid"; then kill -TERM "$pid" 2> /dev/null || true; fi
done
left=0
for n in "${names[@]}"; do
  pid="$(cat "$STAGING_DIR/pids/$n.pid")"
  for _ in $(seq 300); do pid_alive "$pid" || break; sleep 0.1; done
  if pid_alive "$pid"; then
    echo "down: $n (pid $pid) still running after 30 s; SIGKILL" >&2
    kill -KILL "$pid" 2> /dev/null || true
    sleep 0.2
  fi
  if pid_alive "$pid"; then
    echo "down: $n (pid $pid) could not be stopped" >&2
    left=1
  else
    echo "stopped $n (pid $pid)"
    rm -f "$STAGING_DIR/pids/$n.pid"
  fi
done

if [ -f "$STAGING_DIR/pg_dir" ]; then
  pg_dir="$(cat "$STAGING_DIR/pg_dir")"
  pg_bindir="$(cat "$STAGING_DIR/pg_bindir" 2> /dev/null || true)"
  if [ -f "$STAGING_DIR/pids/postgres.pid" ]; then
    pid="$(cat "$STAGING_DIR/pids/postgres.pid")"
    if [ -n "$pg_bindir" ] && [ -d "$pg_dir/data" ] && pid_alive "$pid"; then
      (cd "$pg_dir" && staging_pg_as_owner "$pg_bindir/pg_ctl" -D "$pg_dir/data" -m fast -w -t 60 stop > /dev/null 2>&1) || true
    fi
    if pid_alive "$pid"; then kill -KILL "$pid" 2> /dev/null || true; sleep 0.5; fi
    if pid_alive "$pid"; then
      echo "down: postgres (pid $pid) could not be stopped" >&2
      left=1
    else
      echo "stopped postgres (pid $pid)"
      rm -f "$STAGING_DIR/pids/postgres.pid"
    fi
  fi
  [ "$left" = 0 ] && case "$pg_dir" in */ingestd-staging-pg-*) rm -rf "$pg_dir" ;; esac
fi

if [ "$left" != 0 ]; then
  echo "down: some processes are still running; their pid files are kept in $STAGING_DIR/pids" >&2
  exit 1
fi
if [ "${STAGING_KEEP_LOGS:-}" = 1 ]; then
  find "$STAGING_DIR" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} +
  echo "down: stack removed (logs kept in $STAGING_DIR/logs)"
else
  rm -rf "$STAGING_DIR"
  echo "down: stack stopped and removed"
fi
