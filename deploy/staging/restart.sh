#!/usr/bin/env bash
# Restarts one ingestd process of the staging stack the way a rolling restart or upgrade does in
# production: SIGTERM (the process drains: stops leasing, lets running stages finish and release
# their jobs; a replica stops accepting and finishes its requests), wait for it to exit, start
# it again — with BIN instead of its binary for an upgrade — on the same address, and wait until
# it serves (/readyz 200 for a replica, /healthz for a worker).
#
# Usage: deploy/staging/restart.sh NAME [BIN]      NAME: worker-1|worker-2|serve-1|serve-2
# Prints `restarted NAME (pid OLD -> NEW, drained in S s)`; exit 1 if it did not come back.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
name="${1:?usage: restart.sh NAME [BIN]}"
new_bin="${2:-}"
[ -f "$STAGING_ENV" ] || { echo "restart: no stack in $STAGING_DIR" >&2; exit 2; }
[ -f "$STAGING_DIR/addrs/$name" ] || { echo "restart: $name is not a restartable ingestd process" >&2; exit 2; }
set -a
source "$STAGING_ENV"
set +a
# The process's own data directory (up.sh start_node): nothing on disk is shared.
if [ -f "$STAGING_DIR/datadirs/$name" ]; then
  INGESTD_DATA_DIR="$(cat "$STAGING_DIR/datadirs/$name")"
  export INGESTD_DATA_DIR
fi
addr="$(cat "$STAGING_DIR/addrs/$name")"
old="$(cat "$STAGING_DIR/pids/$name.pid")"
eval "cmd=($(cat "$STAGING_DIR/cmds/$name"))"
[ -n "$new_bin" ] && cmd[0]="$new_bin"
for i in "${!cmd[@]}"; do [ "${cmd[$i]}" = 127.0.0.1:0 ] && cmd[$i]="$addr"; done

t0=$SECONDS
kill -TERM "$old" 2> /dev/null || true
for _ in $(seq 1200); do pid_alive "$old" || break; sleep 0.05; done
if pid_alive "$old"; then
  echo "restart: $name (pid $old) did not drain within 60 s; SIGKILL" >&2
  kill -KILL "$old" 2> /dev/null || true
  sleep 0.2
fi
drained=$((SECONDS - t0))

printf '%q ' "${cmd[@]}" > "$STAGING_DIR/cmds/$name"
nohup "${cmd[@]}" >> "$STAGING_DIR/logs/$name.out" 2>> "$STAGING_DIR/logs/$name.log" < /dev/null &
new=$!
echo "$new" > "$STAGING_DIR/pids/$name.pid"
disown "$new" 2> /dev/null || true
case "$name" in
  serve-*) probe="http://$addr/readyz" ;;
  *) probe="http://$addr/healthz" ;;
esac
for _ in $(seq 600); do
  if curl -fsS -o /dev/null "$probe" 2> /dev/null; then
    echo "restarted $name (pid $old -> $new, drained in $drained s)"
    exit 0
  fi
  pid_alive "$new" || break
  sleep 0.05
done
echo "restart: $name did not come back at $probe; last lines of its log:" >&2
tail -n 20 "$STAGING_DIR/logs/$name.log" >&2
exit 1
