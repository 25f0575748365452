#!/usr/bin/env bash
# The staging stack in one command (deploy/staging/, docs/operations/staging.md): up.sh brings
# it up (PostgreSQL 15, migrate, 2 workers, 2 replicas, both emulators, Prometheus with the
# shipped rules, Alertmanager with the shipped routing, the webhook sink), smoke.sh passes every
# check (an alert fires and resolves end to end), down.sh stops exactly what up.sh started and
# nothing of it is left running or on disk.
source "$(dirname "$0")/../lib/common.sh"

missing=""
for tool in prometheus prometheus-alertmanager amtool promtool psql; do
  command -v "$tool" > /dev/null || missing="$missing $tool"
done
ls /usr/lib/postgresql/*/bin/initdb > /dev/null 2>&1 || missing="$missing postgresql-server"
if [ -n "$missing" ]; then
  if [ "${CI:-}" = "true" ]; then echo "FAIL - missing:$missing (scripts/setup-deps.sh --test)"; exit 1; fi
  echo "skip - missing:$missing"; exit 0
fi

export INGESTD_BIN="$BIN" INGESTD_STAGING_DIR="$WORK/stack"
STACK="$WORK/stack"
cleanup() {
  if [ -d "$STACK/pids" ]; then "$SRC/deploy/staging/down.sh" > /dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- up -------------------------------------------------------------------------------------------
rc=0
"$SRC/deploy/staging/up.sh" > "$WORK/up.out" 2> "$WORK/up.err" || rc=$?
check "up.sh exits 0 (rc=$rc)" test "$rc" -eq 0
if [ "$rc" -ne 0 ]; then
  tail -n 30 "$WORK/up.err"
  for f in "$STACK"/logs/*.log; do echo "== $f"; tail -n 5 "$f"; done 2> /dev/null
  finish
fi
check "up.sh prints the dashboard URL" grep -Eq '^dashboard: http://127\.0\.0\.1:[0-9]+$' "$WORK/up.out"
dashboard="$(sed -n 's/^dashboard: //p' "$WORK/up.out")"
check "the dashboard answers at that URL" bash -c "curl -fsS '$dashboard/' | grep -i '<html' > /dev/null"
check "up.sh wrote the env file with the URLs" grep -q '^export STAGING_PROMETHEUS_URL=http://127.0.0.1:' "$STACK/staging.env"

declare -A PIDS
for f in "$STACK"/pids/*.pid; do PIDS[$(basename "$f" .pid)]="$(cat "$f")"; done
expected="alert-sink alertmanager emulate-llamaparse emulate-openai postgres prometheus serve-1 serve-2 worker-1 worker-2"
check "one pid file per process ($(echo "${!PIDS[@]}" | tr ' ' '\n' | sort | xargs))" \
  test "$(echo "${!PIDS[@]}" | tr ' ' '\n' | sort | xargs)" = "$expected"
alive=0
for n in "${!PIDS[@]}"; do kill -0 "${PIDS[$n]}" 2> /dev/null && alive=$((alive + 1)); done
check "all ${#PIDS[@]} processes running" test "$alive" -eq "${#PIDS[@]}"

again=0
"$SRC/deploy/staging/up.sh" > /dev/null 2>&1 || again=$?
check "a second up.sh refuses while the stack is up" test "$again" -ne 0

# Alertmanager runs the shipped routing: the same tree, only receiver URLs and timers differ.
routes() { amtool config routes show --config.file="$1" 2> /dev/null; }
check "Alertmanager's routing tree is the shipped one" \
  diff <(routes "$SRC/deploy/alertmanager/alertmanager.yml") <(routes "$STACK/alertmanager/alertmanager.yml")
# Worker metrics endpoint (ingestd worker --metrics-listen) is well-formed.
source "$STACK/staging.env"
w1="${STAGING_WORKER_METRICS_URLS%% *}"
check "a worker's /metrics passes promtool check metrics" \
  bash -c "curl -fsS '$w1/metrics' | promtool check metrics"
check "a worker's /metrics carries the store-mirroring gauges" \
  bash -c "curl -fsS '$w1/metrics' | grep '^ingestd_jobs{state=\"queued\"}' > /dev/null"

# --- smoke ----------------------------------------------------------------------------------------
rc=0
"$SRC/deploy/staging/smoke.sh" > "$WORK/smoke.out" 2>&1 || rc=$?
sed 's/^/    /' "$WORK/smoke.out"
last="$(tail -n 1 "$WORK/smoke.out")"
check "smoke.sh exits 0 (rc=$rc)" test "$rc" -eq 0
check "smoke.sh last line is 'smoke: N/N checks passed' ($last)" \
  bash -c "[[ '$last' =~ ^smoke:\ ([0-9]+)/([0-9]+)\ checks\ passed$ ]] && [ \"\${BASH_REMATCH[1]}\" = \"\${BASH_REMATCH[2]}\" ] && [ \"\${BASH_REMATCH[1]}\" -ge 15 ]"
rc=0
"$SRC/deploy/staging/smoke.sh" > "$WORK/smoke2.out" 2>&1 || rc=$?
check "smoke.sh passes again on the same stack ($(tail -n 1 "$WORK/smoke2.out"))" test "$rc" -eq 0
[ "$rc" -eq 0 ] || grep -v '^ok' "$WORK/smoke2.out"
pg_dir="$(cat "$STACK/pg_dir")"

# --- down -----------------------------------------------------------------------------------------
rc=0
"$SRC/deploy/staging/down.sh" > "$WORK/down.out" 2>&1 || rc=$?
check "down.sh exits 0 (rc=$rc)" test "$rc" -eq 0
left=""
for n in "${!PIDS[@]}"; do
  st="$(ps -o stat= -p "${PIDS[$n]}" 2> /dev/null || true)"
  [ -n "$st" ] && [[ "$st" != Z* ]] && left="$left $n(${PIDS[$n]})"
done
check "no process of the stack is left running${left:+:$left}" test -z "$left"
stray="$(ps -eo pid=,args= | grep -F "$STACK" | grep -v grep || true)"
check "no process refers to the stack's folder" test -z "$stray"
check "the stack's folder is removed" test ! -e "$STACK"
check "the PostgreSQL cluster's folder is removed" test ! -e "$pg_dir"
port="${dashboard##*:}"
check "the dashboard port is closed" bash -c "! curl -fsS -m 2 '$dashboard/healthz' > /dev/null 2>&1"
finish
