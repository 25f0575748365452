#!/usr/bin/env bash
# Scale-out on PostgreSQL (docs/scaling.md): 4 `ingestd worker` processes, both emulators
# (LlamaParse through `auto` routing for the thin PDFs, OpenAI embeddings for everything) and
# more than 300 documents (generated text, thin PDFs, real R manuals and Debian refcards),
# submitted with `ingestd ingest --no-wait` and watched with `ingestd jobs list --json`.
# Three runs, each on a fresh database with fresh emulators:
#   clean    nothing goes wrong: every document completes, each file is parsed once and each
#            distinct chunk text embedded once (billing logs, events table), ledger == billing;
#   kill     kill -9 of a random worker ten times during the run (restarted each time);
#   restart  PostgreSQL restarted (pg_ctl restart) in the middle of the run.
# After kill and restart: everything completes, the store holds the same chunk set as the clean
# run with nothing duplicated, and the ledger equals the emulators' billing.
# The restart run uses its own throwaway cluster (restarting the shared one would break the
# other PostgreSQL suites running at the same time).
source "$(dirname "$0")/../lib/common.sh"
source "$SRC/tests/lib/scale.sh"
need_file "$R_MANUALS/R-intro.pdf"
need_file "$REFCARDS/refcard-en-a4.pdf.gz"

# A worker killed while a paid call is in flight, or whose settle meets the database
# restarting, leaves its ledger reservation behind; the governor settles such orphans at their
# estimate (exact tokens) when the job reaches its account stage, so the ledger equals the bill
# in every run. LEDGER_EXACT_UNDER_FAULTS=0 only reports the difference (for bisecting).
LEDGER_EXACT_UNDER_FAULTS="${LEDGER_EXACT_UNDER_FAULTS:-1}"

cleanup() {
  scale_cleanup
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ -z "${INGESTD_TEST_PG_URL:-}" ]; then
  if [ "${CI:-}" = "true" ]; then echo "FAIL - INGESTD_TEST_PG_URL is not set (CI requires PostgreSQL)"; exit 1; fi
  echo "skip - INGESTD_TEST_PG_URL not set (source scripts/start-test-services.sh)"; exit 0
fi
SHARED_PG_URL="$INGESTD_TEST_PG_URL"

# --- the corpus ---------------------------------------------------------------------------------
docs="$WORK/docs"
N_THIN=12
python3 "$SRC/tests/lib/make_scale_corpus.py" "$docs" 280 "$N_THIN"
for f in R-intro R-data R-lang R-FAQ; do cp "$R_MANUALS/$f.pdf" "$docs/"; done
for l in en de fr es it; do
  gunzip -c "$REFCARDS/refcard-$l-a4.pdf.gz" > "$docs/refcard-$l-a4.pdf"
done
N_DOCS=$(find "$docs" -type f | wc -l)
check "corpus of $N_DOCS documents (at least 300)" test "$N_DOCS" -ge 300

OPENAI_KEY="sk-scale-$RANDOM"
LLAMA_KEY="llx-scale-$RANDOM"
export INGESTD_PARSER=auto INGESTD_EMBEDDER=openai INGESTD_WORKERS=2 INGESTD_LEASE_TTL_S=2
export INGESTD_LOG_LEVEL=info OPENAI_API_KEY="$OPENAI_KEY" LLAMA_CLOUD_API_KEY="$LLAMA_KEY"

# run_phase NAME ADMIN_URL ACTION: one run on a fresh database; ACTION is none|kill|restart.
run_phase() {
  local name="$1" admin="$2" action="$3" t0=$SECONDS
  echo "# run '$name'"
  export INGESTD_STORE
  INGESTD_STORE="$(fresh_database "$admin" "ingestd_scale_$name")"
  export INGESTD_DATA_DIR="$WORK/data-$name"   # the blob folder every worker shares
  start_emulator openai "$name-openai" --api-key "$OPENAI_KEY" --latency-ms 20
  export OPENAI_BASE_URL="$EMU_URL/v1"
  start_emulator llamaparse "$name-llama" --api-key "$LLAMA_KEY" --latency-ms 300 \
    --latency-ms-per-page 50 --upload-rate 0
  export LLAMA_CLOUD_BASE_URL="$EMU_URL"
  "$BIN" migrate up > /dev/null

  local i
  for i in 1 2 3 4; do start_worker "$i"; done
  "$BIN" ingest --no-wait "$docs" > "$WORK/$name-submitted.json"
  python3 - "$WORK/$name-submitted.json" "$N_DOCS" <<'PY' \
    && pass "$name: ingest --no-wait submitted $N_DOCS new documents and returned" || fail "$name: submit"
import json, sys
s = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
assert s["new"] == n and s["existing"] == 0 and not s["errors"], s
assert len(s["submitted"]) == n and all(x["job_id"] and x["document_id"] and x["new"] for x in s["submitted"])
PY

  local live
  live="$("$BIN" workers --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["live"])')"
  check "$name: ingestd workers lists 4 live workers ($live)" test "$live" -eq 4

  if [ "$action" = "kill" ]; then
    # Kill k comes once k/14 of the documents are done, so the ten kills are spread over the
    # first 70% of the run whatever the machine's speed.
    local k victim open hit=0 killed="" deadline
    for k in $(seq 1 10); do
      deadline=$((SECONDS + 60))
      while open="$(jobs_open)"; [ "$open" -gt $((N_DOCS - k * N_DOCS / 14)) ] \
          && [ "$SECONDS" -lt "$deadline" ]; do
        sleep 0.2
      done
      victim=$((RANDOM % 4 + 1))
      # Only a process that has registered (its row is live) is killed, so every killed process
      # has a row that must then show dead. A worker killed while it was still opening the store
      # never had one: under load (scripts/test.sh --stress) that left fewer rows than kills.
      for _ in $(seq 1 100); do
        "$BIN" workers --json > "$WORK/$name-registered.json" 2> /dev/null || true
        python3 - "$WORK/$name-registered.json" "${WORKER_PIDS[$victim]}" <<'PY' && break
import json, sys
w = json.load(open(sys.argv[1]))
pid = int(sys.argv[2])
sys.exit(0 if any(r["pid"] == pid and r["status"] == "live" for r in w["workers"]) else 1)
PY
        sleep 0.2
      done
      [ "$open" -gt 0 ] && hit=$((hit + 1))
      killed="$killed ${WORKER_PIDS[$victim]}"
      kill -9 "${WORKER_PIDS[$victim]}" 2>/dev/null || true
      wait "${WORKER_PIDS[$victim]}" 2>/dev/null || true
      start_worker "$victim"
    done
    check "$name: ten kill -9s, all while work was open ($hit of 10)" test "$hit" -eq 10
    # Heartbeats run every lease_ttl / 3 (0.67 s here): once the restarted processes have
    # started (opening the store takes longer on a loaded machine), every killed process is dead
    # and the four running ones are live. Wait for that state (up to 20 s), then assert on it.
    local tries=0
    until sleep 1.2
      "$BIN" workers --json --dead-after 1 > "$WORK/$name-workers.json"
      python3 - "$WORK/$name-workers.json" $killed <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))
killed = {int(p) for p in sys.argv[2:]}
rows = [r for r in w["workers"] if r["pid"] in killed]
assert len(rows) == len(killed) and all(r["status"] == "dead" for r in rows), rows
assert w["live"] == 4, w["live"]
PY
    do
      tries=$((tries + 1))
      [ "$tries" -ge 16 ] && break
    done
    if [ "$tries" -lt 16 ]; then
      pass "$name: ingestd workers shows the killed processes dead and 4 live"
    else
      fail "$name: workers after kills"
    fi
  elif [ "$action" = "restart" ]; then
    # Restart once about a third of the documents are done.
    local open_before deadline=$((SECONDS + 60))
    while open_before="$(jobs_open)"; [ "$open_before" -gt $((N_DOCS * 2 / 3)) ] \
        && [ "$SECONDS" -lt "$deadline" ]; do
      sleep 0.2
    done
    (cd "$_INGEST_PG_DIR" && _ingest_pg_as_owner "$_INGEST_PG_BINDIR/pg_ctl" -D "$_INGEST_PG_DIR/data" \
      -m fast -w -t 60 restart > "$WORK/pg-restart.log" 2>&1)
    check "$name: PostgreSQL restarted with $open_before jobs open" test "$open_before" -gt 0
  fi

  if wait_all_terminal 240; then
    pass "$name: every job reached a terminal state ($((SECONDS - t0)) s)"
  else
    fail "$name: jobs still open after 240 s: $(jobs_open)"
    "$BIN" jobs list | grep -v complete | head -20
  fi
  if [ "$action" = "restart" ]; then
    local seen
    seen="$(cat "$WORK"/worker-*.log | grep -c 'database_unavailable' || true)"
    check "$name: workers saw the outage ($seen database_unavailable log lines) and carried on" \
      test "$seen" -gt 0
  fi
  "$BIN" jobs list --json --limit 100000 > "$WORK/$name-jobs.json"
  python3 - "$WORK/$name-jobs.json" "$N_DOCS" <<'PY' \
    && pass "$name: jobs list --json has every job with the documented keys" || fail "$name: jobs list --json"
import json, sys
jobs = json.load(open(sys.argv[1]))
keys = {"job_id", "document_id", "filename", "stage", "state", "defer_reason", "attempts",
        "last_error_code", "cost_usd"}
assert len(jobs) == int(sys.argv[2]), len(jobs)
assert all(keys <= set(j) for j in jobs), [sorted(keys - set(j)) for j in jobs][:1]
assert sum(j["cost_usd"] for j in jobs) > 0
PY
  stop_workers
  check "$name: workers stop on SIGTERM with status 0" test "$WORKERS_STOPPED_OK" -eq 1
  if [ "$action" = "none" ]; then
    # `ingestd serve` on the same database sees the same jobs.
    local token="adm-$RANDOM$RANDOM" url="" line
    INGESTD_ADMIN_TOKEN="$token" "$BIN" serve --listen 127.0.0.1:0 --workers 1 \
      > "$WORK/serve.out" 2> "$WORK/serve.err" &
    local serve_pid=$!
    SCALE_PIDS+=("$serve_pid")
    for _ in $(seq 1 100); do
      line="$(head -n 1 "$WORK/serve.out" 2>/dev/null || true)"
      if [[ "$line" == "listening on http://"* ]]; then url="${line#listening on }"; break; fi
      sleep 0.1
    done
    curl -sf -H "Authorization: Bearer $token" "$url/v1/jobs?state=complete&limit=1000" \
      > "$WORK/serve-jobs.json" || true
    python3 - "$WORK/serve-jobs.json" "$N_DOCS" <<'PY' \
      && pass "$name: ingestd serve on PostgreSQL lists every job complete" || fail "$name: serve on PostgreSQL"
import json, sys
jobs = json.load(open(sys.argv[1]))["jobs"]
assert len(jobs) == int(sys.argv[2]) and all(j["state"] == "complete" for j in jobs), len(jobs)
PY
    kill -TERM "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
  fi
  "$BIN" costs --json > "$WORK/$name-costs.json"
  local mode=faults exact="$LEDGER_EXACT_UNDER_FAULTS"
  if [ "$action" = "none" ]; then mode=clean; exact=1; fi
  if python3 "$SRC/tests/lib/check_scale_run.py" "$INGESTD_STORE" \
      "$WORK/$name-openai.billing.jsonl" "$WORK/$name-llama.billing.jsonl" \
      "$WORK/$name-costs.json" "$N_DOCS" "$N_THIN" "$mode" "$exact" "$WORK/chunks.ref" \
      > "$WORK/$name-check.txt"; then :; else failures=$((failures + 1)); fi
  sed "s/^/$name: /" "$WORK/$name-check.txt"
  if grep -q "^FAIL" "$WORK/$name-check.txt"; then
    grep -h '"level":"\(warn\|error\)"' "$WORK"/worker-*.log | tail -5
  fi
  scale_cleanup
  rm -f "$WORK"/worker-*.log
  psql "$admin" -XAtq -c "DROP DATABASE IF EXISTS ingestd_scale_$name WITH (FORCE)" > /dev/null || true
  echo "# run '$name' took $((SECONDS - t0)) s"
}

run_phase clean "$SHARED_PG_URL" none
run_phase kill "$SHARED_PG_URL" kill

# A private cluster for the restart run (start-test-services.sh starts it when
# INGESTD_TEST_PG_URL is unset, and stops it in `cleanup`).
unset INGESTD_TEST_PG_URL
export INGESTD_TEST_PG_PORT=$((56000 + RANDOM % 4000))
source "$SRC/scripts/start-test-services.sh"
if [ -n "${INGESTD_TEST_PG_URL:-}" ] && [ -n "${_INGEST_PG_DIR:-}" ]; then
  run_phase restart "$INGESTD_TEST_PG_URL" restart
elif [ "${CI:-}" = "true" ]; then
  fail "restart: could not start a private PostgreSQL cluster"
else
  echo "skip - restart: no PostgreSQL server binaries for a private cluster"
fi
finish
