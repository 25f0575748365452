#!/usr/bin/env bash
# Rolling restarts with nothing lost (issue 15) on the staging stack (deploy/staging/): during a
# 200-document run through both replicas, every ingestd process (two workers, two replicas) is
# restarted one at a time, twice over, with SIGTERM and deploy/staging/restart.sh (drain, start
# again on the same address). With INGESTD_PREVIOUS_BIN set, the stack starts on that binary
# and the restarts put the binary under test in its place (a rolling upgrade).
# Afterwards:
#   - the client (tests/lib/rolling_client.py: next replica on a refused connection, Retry-After
#     on 503) saw every upload accepted and every job complete, and no 5xx other than 503;
#   - every document completed exactly once: each job is complete and each of its stages
#     succeeded exactly once (stage_timings);
#   - no paid call was repeated: the OpenAI emulator billed as many inputs as there are distinct
#     vectors (each distinct chunk text paid once), and the ledger equals both emulators' bill;
#   - each restarted process drained (workers logged `worker stopped`) and down.sh leaves nothing.
source "$(dirname "$0")/../lib/common.sh"
missing=""
for tool in prometheus prometheus-alertmanager psql; do command -v "$tool" > /dev/null || missing="$missing $tool"; done
if [ -n "$missing" ]; then
  if [ "${CI:-}" = "true" ]; then echo "FAIL - missing:$missing"; exit 1; fi
  echo "skip - missing:$missing"; exit 0
fi
export INGESTD_STAGING_DIR="$WORK/stack"
NEW_BIN="$BIN"
if [ -n "${INGESTD_PREVIOUS_BIN:-}" ]; then
  export INGESTD_BIN="$INGESTD_PREVIOUS_BIN"
  # The previous release may predate database blobs: the stack starts with the shared blob
  # folder such a deployment had, which the new binary keeps while it exists.
  export STAGING_SHARED_DATA_DIR=1
  echo "# rolling upgrade: $("$INGESTD_PREVIOUS_BIN" --version) -> $("$BIN" --version)"
else
  export INGESTD_BIN="$BIN"
  echo "# rolling restart (set INGESTD_PREVIOUS_BIN for a rolling upgrade from an older build)"
fi
CLIENT_PID=""
cleanup() {
  [ -n "$CLIENT_PID" ] && kill "$CLIENT_PID" 2> /dev/null || true
  [ -d "$WORK/stack/pids" ] && "$SRC/deploy/staging/down.sh" > /dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"$SRC/deploy/staging/up.sh" > "$WORK/up.out" 2>&1 || { cat "$WORK/up.out"; fail "up.sh"; finish; }
set -a; source "$WORK/stack/staging.env"; set +a

mkdir -p "$WORK/docs"
python3 - "$WORK/docs" <<'PY'
import random, sys
rng = random.Random(1515)
words = ("drain lease replica worker restart upgrade schema ledger bill vector chunk queue "
         "retry budget token parser emulator snapshot rollback migration").split()
for i in range(200):
    with open(f"{sys.argv[1]}/roll-{i:03d}.md", "w") as f:
        f.write(f"# Rolling {i}\n\n")
        for p in range(4):
            f.write(" ".join(rng.choice(words) for _ in range(80)) + f" r{i}p{p}.\n\n")
PY

read -r -a urls <<< "$STAGING_SERVE_URLS"
# The client holds back its last uploads until the restarts are done (rolling_client.py), so
# every restart happens during the run even when the machine is fast.
export ROLLING_HOLD_FILE="$WORK/restarts.done"
python3 "$SRC/tests/lib/rolling_client.py" "$INGESTD_ADMIN_TOKEN" "$WORK/docs" "$WORK/client.json" \
  "${urls[@]}" > "$WORK/client.log" 2>&1 &
CLIENT_PID=$!

if [ -n "${INGESTD_PREVIOUS_BIN:-}" ]; then
  # The upgrade's first step (runbooks/deploy-upgrade.md): the new binary migrates, the old
  # processes go on serving on the expanded schema, then they are replaced one by one.
  "$NEW_BIN" migrate up > "$WORK/migrate.log" 2>&1 || { cat "$WORK/migrate.log"; fail "migrate up with the new binary"; }
fi
restarts=0
restart_failures=0
for round in 1 2; do
  for name in worker-1 serve-1 worker-2 serve-2; do
    kill -0 "$CLIENT_PID" 2> /dev/null || break 2
    if "$SRC/deploy/staging/restart.sh" "$name" "$NEW_BIN" >> "$WORK/restarts.log" 2>&1; then
      restarts=$((restarts + 1))
    else
      restart_failures=$((restart_failures + 1))
    fi
    sleep 1
  done
done
touch "$ROLLING_HOLD_FILE"
sed 's/^/    /' "$WORK/restarts.log"
check "restarted $restarts processes one at a time while the run was going (no failure: $restart_failures)" \
  bash -c "[ $restarts = 8 ] && [ $restart_failures = 0 ]"
rc=0
wait "$CLIENT_PID" || rc=$?
CLIENT_PID=""
check "the client finished (rc=$rc)" test "$rc" -eq 0
[ -f "$WORK/client.json" ] || { cat "$WORK/client.log"; finish; }
check "client: 200 uploaded, 200 complete, no 5xx but 503 ($(jq -c '{uploaded, complete, retried_503, refused, errors: (.errors_5xx | length)}' "$WORK/client.json"))" \
  jq -e '.uploaded == 200 and .complete == 200 and (.errors_5xx | length) == 0' "$WORK/client.json" > /dev/null
jq -r '.errors_5xx[]' "$WORK/client.json" | head -5

q() { psql -XAtq "$INGESTD_STORE" -c "$1"; }
check "every job complete ($(q "SELECT count(*) FROM jobs WHERE state = 'complete'") of $(q 'SELECT count(*) FROM jobs'))" \
  test "$(q "SELECT count(*) FROM jobs WHERE state <> 'complete'")" = 0
twice="$(q "SELECT count(*) FROM (SELECT job_id, stage FROM stage_timings WHERE outcome = 'ok' GROUP BY job_id, stage HAVING count(*) > 1) t")"
check "every stage of every document succeeded exactly once ($twice stage(s) ran to success twice)" test "$twice" = 0
inputs="$(jq -s 'map(.inputs) | add // 0' "$STAGING_DIR/data/openai-billing.jsonl")"
vectors="$(q 'SELECT count(*) FROM vectors')"
check "no paid call repeated: $inputs inputs billed by the OpenAI emulator = $vectors distinct vectors" \
  test "$inputs" = "$vectors"
curl -fsS "$STAGING_OPENAI_URL/_emulator/usage" > "$WORK/openai-usage.json"
curl -fsS "$STAGING_LLAMAPARSE_URL/_emulator/usage" > "$WORK/llama-usage.json"
check "ledger equals both emulators' bill" \
  "$BIN" costs reconcile --usage "$WORK/openai-usage.json" --usage "$WORK/llama-usage.json"
stopped="$(cat "$STAGING_DIR"/logs/worker-*.log | grep -c '"worker stopped"' || true)"
check "each worker restart drained ($stopped 'worker stopped' lines)" test "$stopped" -ge 2
if [ -n "${INGESTD_PREVIOUS_BIN:-}" ]; then
  check "every process now runs the new binary" \
    bash -c "grep -l -- '$NEW_BIN' '$STAGING_DIR'/cmds/{worker,serve}-* | wc -l | grep -qx 4"
fi
rc=0
"$SRC/deploy/staging/down.sh" > "$WORK/down.out" 2>&1 || rc=$?
check "down.sh stops everything (rc=$rc)" test "$rc" -eq 0
finish
