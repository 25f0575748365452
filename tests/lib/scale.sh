# Helpers for the scale-out tests and benchmarks: emulators, a fresh PostgreSQL database per
# run, `ingestd worker` processes, waiting for a run to finish. Source after tests/lib/common.sh
# (needs BIN, SRC, WORK). Every process started here is recorded and stopped by scale_cleanup.

SCALE_PIDS=()

# scale_cleanup: stops everything this file started (by pid).
scale_cleanup() {
  local p
  for p in "${SCALE_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for p in "${SCALE_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  SCALE_PIDS=()
}

# start_emulator KIND NAME [FLAGS...]: runs `ingestd emulate KIND --port 0 FLAGS` with its billing
# log at $WORK/NAME.billing.jsonl; sets EMU_URL (http://127.0.0.1:PORT) and EMU_PID.
start_emulator() {
  local kind="$1" name="$2"
  shift 2
  : > "$WORK/$name.billing.jsonl"
  emulator_start "$kind" "$WORK/$name.out" --billing-log "$WORK/$name.billing.jsonl" "$@"
  SCALE_PIDS+=("$EMU_PID")
}

# pg_url_with_db URL DB: URL with its database replaced by DB (query string kept).
pg_url_with_db() {
  local url="$1" db="$2" query=""
  if [[ "$url" == *"?"* ]]; then query="?${url#*\?}"; url="${url%%\?*}"; fi
  echo "${url%/*}/$db$query"
}

# fresh_database ADMIN_URL NAME: creates database NAME (dropping an old one) and prints its URL.
fresh_database() {
  local admin="$1" name="$2"
  psql "$admin" -XAtq -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
    -c "DROP DATABASE IF EXISTS $name" \
    -c "CREATE DATABASE $name" > /dev/null
  pg_url_with_db "$admin" "$name"
}

# start_worker N: starts `ingestd worker` number N (env as exported), log $WORK/worker-N.log.
WORKER_PIDS=()
start_worker() {
  local n="$1"
  "$BIN" worker >> "$WORK/worker-$n.log" 2>&1 &
  WORKER_PIDS[$n]=$!
  SCALE_PIDS+=("$!")
}

# stop_workers: SIGTERM to every worker; sets WORKERS_STOPPED_OK=1 when all exit with 0.
stop_workers() {
  local p rc
  WORKERS_STOPPED_OK=1
  for p in "${WORKER_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${WORKER_PIDS[@]}"; do
    rc=0
    wait "$p" 2>/dev/null || rc=$?
    [ "$rc" -eq 0 ] || WORKERS_STOPPED_OK=0
  done
  WORKER_PIDS=()
}

# jobs_open: number of jobs not yet complete/failed/dead/cancelled (via `ingestd jobs list`).
jobs_open() {
  "$BIN" jobs list --json --limit 100000 2>/dev/null | python3 -c '
import json, sys
jobs = json.load(sys.stdin)
print(sum(1 for j in jobs if j["state"] not in ("complete", "failed", "dead", "cancelled")))'
}

# wait_all_terminal TIMEOUT_S: waits until every job is terminal; returns 1 on timeout.
wait_all_terminal() {
  local deadline=$((SECONDS + $1)) open
  while [ "$SECONDS" -lt "$deadline" ]; do
    open="$(jobs_open || echo unknown)"
    [ "$open" = "0" ] && return 0
    sleep 0.5
  done
  return 1
}
