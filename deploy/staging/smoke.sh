#!/usr/bin/env bash
# The post-deployment smoke test of the staging stack (deploy/staging/up.sh), one line per check:
#   doctor --online passes for every ingestd process (with the environment it runs with);
#   both replicas answer /readyz; an upload through each replica completes and a search through
#   the other replica finds it; Prometheus has every target up; a forced fault (the OpenAI
#   emulator's quota exhausted) stops the provider and raises IngestdProviderStopped at the
#   webhook sink (through Prometheus and Alertmanager), and clearing it (quota back, `ingestd
#   providers resume openai`) resolves the alert and lets the held document complete; the ledger
#   equals both emulators' bill (`ingestd costs reconcile`).
# Exit 0 only when every check passed; the last line is `smoke: N/M checks passed`.
#
# Usage: deploy/staging/smoke.sh     (env: INGESTD_STAGING_DIR, SMOKE_ALERT_TIMEOUT_S=120)
set -uo pipefail
source "$(dirname "$0")/lib.sh"
[ -f "$STAGING_ENV" ] || { echo "smoke: no stack in $STAGING_DIR (run deploy/staging/up.sh)" >&2; exit 2; }
set -a
source "$STAGING_ENV"
set +a
BIN="$STAGING_BIN"
ALERT_TIMEOUT="${SMOKE_ALERT_TIMEOUT_S:-120}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
AUTH="Authorization: Bearer $INGESTD_ADMIN_TOKEN"
read -r -a SERVE <<< "$STAGING_SERVE_URLS"
RUN="$(date -u +%Y%m%dT%H%M%S)-$RANDOM"

passed=0
total=0
check() {  # check DESCRIPTION COMMAND...: runs COMMAND, prints one line
  local what="$1"
  shift
  total=$((total + 1))
  if "$@" > "$TMP/last.out" 2>&1; then
    passed=$((passed + 1))
    echo "ok   $what"
  else
    echo "FAIL $what"
    sed 's/^/       /' "$TMP/last.out" | tail -n 8
  fi
}

# json_get FILE EXPR: prints a Python expression over the parsed JSON `j`.
json_get() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }

# wait_job URL JOB: waits (180 s) for the job to complete; fails on failed/dead/cancelled.
wait_job() {
  local url="$1" job="$2" state=""
  for _ in $(seq 900); do
    curl -fsS -H "$AUTH" "$url/v1/jobs/$job" > "$TMP/job.json" || return 1
    state="$(json_get "$TMP/job.json" 'j["state"]')"
    case "$state" in
      complete) return 0 ;;
      failed | dead | cancelled) cat "$TMP/job.json"; return 1 ;;
    esac
    sleep 0.2
  done
  echo "job $job still $state"
  return 1
}

# upload URL NAME TEXT: uploads through URL; prints the job id.
upload() {
  printf '%s' "$3" > "$TMP/$2"
  curl -fsS -H "$AUTH" -F "file=@$TMP/$2" "$1/v1/documents" > "$TMP/upload.json" || return 1
  json_get "$TMP/upload.json" 'j["job_id"]'
}

# search_finds URL QUERY FILENAME: the first result of a search through URL is FILENAME.
search_finds() {
  curl -fsS -H "$AUTH" -H 'Content-Type: application/json' \
    -d "{\"query\": \"$2\", \"k\": 3}" "$1/v1/search" > "$TMP/search.json" || return 1
  local top
  top="$(json_get "$TMP/search.json" 'j["results"][0]["filename"] if j["results"] else ""')"
  [ "$top" = "$3" ] || { echo "top result '$top', expected '$3'"; return 1; }
}

# sink_has STATUS: the webhook sink recorded IngestdProviderStopped{provider=openai} with STATUS
# (firing|resolved) on the page receiver, after line $SINK_FROM of its log.
sink_has() {
  curl -fsS "$STAGING_ALERT_SINK_URL/alerts" > "$TMP/alerts.json" || return 1
  python3 - "$TMP/alerts.json" "$1" "${SINK_FROM:-0}" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))[int(sys.argv[3]):]
want = sys.argv[2]
for r in rows:
    for a in r["payload"].get("alerts", []):
        l = a.get("labels", {})
        if (r["receiver"] == "page" and l.get("alertname") == "IngestdProviderStopped"
                and l.get("provider") == "openai" and a.get("status") == want):
            sys.exit(0)
sys.exit(1)
PY
}

wait_for() {  # wait_for TIMEOUT_S COMMAND...: retries COMMAND every second
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 1
  done
}

# --- every process passes the doctor -----------------------------------------------------------
# Each with its own data directory (up.sh start_node), as the process runs.
node_dir() { cat "$STAGING_DIR/datadirs/$1" 2> /dev/null || echo "$INGESTD_DATA_DIR"; }
for n in worker-1 worker-2; do
  check "doctor --online --worker passes for $n" \
    env INGESTD_DATA_DIR="$(node_dir "$n")" "$BIN" doctor --online --worker
done
for i in 1 2; do
  # The replica holds its listen address, so the doctor checks an ephemeral one (its /readyz
  # below is the check that the replica itself serves).
  check "doctor --online passes for serve-$i" \
    env INGESTD_DATA_DIR="$(node_dir "serve-$i")" "$BIN" doctor --online --listen 127.0.0.1:0
done

# --- replicas -----------------------------------------------------------------------------------
for i in 0 1; do
  check "serve-$((i + 1)) answers /readyz (${SERVE[$i]})" curl -fsS "${SERVE[$i]}/readyz"
done

# --- an upload through each replica completes -----------------------------------------------------
# One line each: the document is one chunk with exactly this text. The emulator's vectors are
# seeded by the text, not semantic, so the search below asks for the same text (a real
# embedder would find it by meaning too).
marker() { echo "Staging smoke $RUN: uploaded through replica $(($1 + 1)), marker zyx${RUN//[^0-9]/}q$1."; }
upload_and_wait() {
  local job
  job="$(upload "${SERVE[$1]}" "$2" "$3")" || return 1
  wait_job "${SERVE[$1]}" "$job"
}
for i in 0 1; do
  check "upload through serve-$((i + 1)) completes (smoke-$RUN-$i.txt)" upload_and_wait "$i" \
    "smoke-$RUN-$i.txt" "$(marker "$i")"
done

# --- Prometheus scrapes every ingestd process ---------------------------------------------------
targets_up() {
  curl -fsS "$STAGING_PROMETHEUS_URL/api/v1/targets" > "$TMP/targets.json" || return 1
  python3 - "$TMP/targets.json" <<'PY'
import json, sys
t = [x for x in json.load(open(sys.argv[1]))["data"]["activeTargets"] if x["labels"]["job"] == "ingestd"]
down = [x["scrapeUrl"] + ": " + x["health"] + " " + x["lastError"] for x in t if x["health"] != "up"]
print(f"{len(t)} targets, {len(t) - len(down)} up", *down, sep="\n")
sys.exit(0 if len(t) == 4 and not down else 1)
PY
}
check "Prometheus has all 4 ingestd targets up" wait_for 30 targets_up

# --- a forced fault raises the alert; clearing it resolves --------------------------------------
SINK_FROM="$(curl -fsS "$STAGING_ALERT_SINK_URL/alerts" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
fault_job=""
force_quota() {
  # The emulator refuses every further call with insufficient_quota (its quota = what it has
  # billed so far).
  local billed
  billed="$(curl -fsS "$STAGING_OPENAI_URL/_emulator/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["billed_tokens"])')"
  curl -fsS -H 'Content-Type: application/json' -d "{\"quota_tokens\": $((billed > 0 ? billed : 1))}" \
    "$STAGING_OPENAI_URL/_emulator/quota" > /dev/null || return 1
  fault_job="$(upload "${SERVE[0]}" "smoke-$RUN-quota.md" "# Quota

Uploaded while the provider's quota is exhausted ($RUN); it waits, deferred, and completes once resumed.
")"
}
check "forced fault: OpenAI emulator quota exhausted, a document uploaded" force_quota
check "IngestdProviderStopped (openai) fired at the webhook sink (page receiver)" \
  wait_for "$ALERT_TIMEOUT" sink_has firing
clear_quota() {
  curl -fsS -H 'Content-Type: application/json' -d '{"quota_tokens": 0}' \
    "$STAGING_OPENAI_URL/_emulator/quota" > /dev/null && "$BIN" providers resume openai
}
check "fault cleared: quota restored, ingestd providers resume openai" clear_quota
check "IngestdProviderStopped resolved at the webhook sink" wait_for "$ALERT_TIMEOUT" sink_has resolved
check "the document held by the fault completes" wait_job "${SERVE[1]}" "$fault_job"

# --- a search through the other replica finds each upload ------------------------------------------
for i in 0 1; do
  other=$(((i + 1) % 2))
  check "search through serve-$((other + 1)) finds smoke-$RUN-$i.txt" \
    search_finds "${SERVE[$other]}" "$(marker "$i")" "smoke-$RUN-$i.txt"
done

# --- the ledger equals the emulators' bill --------------------------------------------------------
reconcile() {
  curl -fsS "$STAGING_OPENAI_URL/_emulator/usage" > "$TMP/openai-usage.json" &&
    curl -fsS "$STAGING_LLAMAPARSE_URL/_emulator/usage" > "$TMP/llamaparse-usage.json" &&
    "$BIN" costs reconcile --usage "$TMP/openai-usage.json" --usage "$TMP/llamaparse-usage.json"
}
check "ledger equals both emulators' bill (ingestd costs reconcile)" reconcile

echo "smoke: $passed/$total checks passed"
[ "$passed" = "$total" ]
