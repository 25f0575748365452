#!/usr/bin/env bash
# `ingestd ingest --no-wait`, `ingestd worker` and `ingestd workers` on the embedded SQLite store
# (no PostgreSQL needed; the scale-out test covers PostgreSQL): submit-only output and exit
# codes, two worker processes sharing the queue, graceful SIGTERM, the second-signal exit, and
# live/dead worker rows.
source "$(dirname "$0")/../lib/common.sh"
source "$SRC/tests/lib/scale.sh"
cleanup() { scale_cleanup; rm -rf "$WORK"; }
trap cleanup EXIT

export INGESTD_DATA_DIR="$WORK/data" INGESTD_LEASE_TTL_S=3 INGESTD_WORKERS=1 INGESTD_LOG_LEVEL=info
docs="$WORK/docs"
python3 "$SRC/tests/lib/make_scale_corpus.py" "$docs" 12 0 > /dev/null
n=$(find "$docs" -type f | wc -l)

# Submit only: ids printed, nothing processed, a missing path is reported with exit 1.
set +e
"$BIN" ingest --no-wait "$docs" "$WORK/no-such-file.txt" > "$WORK/submit.json" 2> "$WORK/submit.err"
rc=$?
set -e
check "--no-wait with a missing path exits 1 (rc=$rc)" test "$rc" -eq 1
python3 - "$WORK/submit.json" "$n" <<'PY' && pass "--no-wait prints every submitted id as new" || fail "--no-wait output"
import json, sys
s = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
assert s["new"] == n and s["existing"] == 0 and len(s["submitted"]) == n, s
assert all(x["state"] == "queued" and x["new"] and len(x["job_id"]) == 36 for x in s["submitted"]), s
PY
grep -q "no-such-file.txt" "$WORK/submit.err" && pass "the missing path is named on stderr" || fail "missing path not reported"
queued=$("$BIN" jobs list --json | python3 -c 'import json,sys; print(sum(j["state"] == "queued" for j in json.load(sys.stdin)))')
check "nothing ran: $queued of $n jobs queued" test "$queued" -eq "$n"

# Two workers drain the queue.
start_worker 1
start_worker 2
if wait_all_terminal 60; then pass "two ingestd worker processes completed the queue"; else fail "queue not drained"; fi
complete=$("$BIN" jobs list --json | python3 -c 'import json,sys; print(sum(j["state"] == "complete" for j in json.load(sys.stdin)))')
check "all $n jobs complete ($complete)" test "$complete" -eq "$n"
"$BIN" workers --json > "$WORK/workers.json"
python3 - "$WORK/workers.json" "${WORKER_PIDS[1]}" "${WORKER_PIDS[2]}" <<'PY' && pass "ingestd workers: both processes live, with their pids" || fail "workers while running"
import json, sys
w = json.load(open(sys.argv[1]))
pids = {int(p) for p in sys.argv[2:]}
live = {r["pid"] for r in w["workers"] if r["status"] == "live"}
assert w["live"] == 2 and live == pids, w
assert w["dead_after_s"] == 3, w
PY
grep -q '"msg":"worker started"' "$WORK/worker-1.log" && pass "worker logs JSON ('worker started')" || fail "worker log"

# Resubmitting the same files: nothing new, the jobs' current states.
"$BIN" ingest --no-wait "$docs" > "$WORK/again.json"
python3 - "$WORK/again.json" "$n" <<'PY' && pass "--no-wait again: every file already known, complete" || fail "resubmit"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["new"] == 0 and s["existing"] == int(sys.argv[2]), s
assert all(x["state"] == "complete" and not x["new"] for x in s["submitted"]), s
PY

# SIGTERM: orderly stop, exit 0. A worker that gets a second signal exits at once with 130.
kill -TERM "${WORKER_PIDS[1]}"
rc=0; wait "${WORKER_PIDS[1]}" || rc=$?
check "SIGTERM: worker exits 0 (rc=$rc)" test "$rc" -eq 0
grep -q '"msg":"worker stopped"' "$WORK/worker-1.log" && pass "worker logs 'worker stopped'" || fail "no stop log"
python3 "$SRC/tests/lib/make_scale_corpus.py" "$WORK/more" 40 0 9 > /dev/null
"$BIN" ingest --no-wait "$WORK/more" > /dev/null
sleep 0.3
kill -TERM "${WORKER_PIDS[2]}"; kill -INT "${WORKER_PIDS[2]}"
rc=0; wait "${WORKER_PIDS[2]}" || rc=$?
check "second signal: exit 130 or an orderly 0 if it had already stopped (rc=$rc)" \
  test "$rc" -eq 130 -o "$rc" -eq 0
sleep 3.5
"$BIN" workers --json > "$WORK/workers2.json"
python3 - "$WORK/workers2.json" <<'PY' && pass "after a lease TTL without heartbeats both workers are dead" || fail "dead workers"
import json, sys
w = json.load(open(sys.argv[1]))
assert w["live"] == 0 and w["dead"] == 2, w
PY
"$BIN" workers > "$WORK/workers.txt"
grep -q "0 live, 2 dead" "$WORK/workers.txt" && pass "ingestd workers (text) says 0 live, 2 dead" || fail "workers text: $(head -1 "$WORK/workers.txt")"

# The rest is finished by a fresh worker.
WORKER_PIDS=()
start_worker 3
if wait_all_terminal 60; then pass "a new worker takes the remaining jobs over"; else fail "remaining jobs"; fi
stop_workers
finish
