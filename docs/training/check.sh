#!/usr/bin/env bash
# Training exercises for ingestd operators, on-call engineers and developers (docs/training/README.md).
#
#   docs/training/check.sh EXERCISE start   set up the broken situation in $TRAINING_DIR (default
#                                           ./training-run) and print the symptom; writes
#                                           $TRAINING_DIR/env for the trainee to source
#   docs/training/check.sh EXERCISE heal    play the provider's side when the exercise says so
#                                           (the account fixed, the outage over)
#   docs/training/check.sh EXERCISE check   exit 0 when the goal is reached, else say what is not
#   docs/training/check.sh EXERCISE stop    stop what start/heal started; keep the data
#   docs/training/check.sh list             the exercises
#
# Faults come from the emulators (`ingestd emulate openai` with fault flags), started on a free
# port; `heal` restarts the emulator without faults on the same port. Needs ingestd on PATH (or
# INGESTD=path), jq and python3.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
INGESTD="${INGESTD:-ingestd}"
dir="${TRAINING_DIR:-$PWD/training-run}"
exercises="queue-stuck provider-stopped dead-letter cost-overrun slow-provider data-error"

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ $# -ge 1 ] || usage
ex="$1"; action="${2:-}"
if [ "$ex" = list ]; then echo "$exercises" | tr ' ' '\n'; exit 0; fi
case " $exercises " in *" $ex "*) ;; *) echo "unknown exercise: $ex (try: list)"; exit 2 ;; esac

# --- helpers ---------------------------------------------------------------------------------
emu_start() {  # emu_start PORT FLAGS...: an OpenAI emulator in the background, pid in $dir
  local port="$1"; shift
  rm -f "$dir/emulator.out"
  setsid "$INGESTD" emulate openai --port "$port" --api-key training-key "$@" \
    > "$dir/emulator.out" 2> "$dir/emulator.log" < /dev/null &
  echo $! > "$dir/emulator.pid"
  for _ in $(seq 100); do
    if grep -q '^listening on' "$dir/emulator.out" 2>/dev/null; then
      sed -n 's/^listening on //p' "$dir/emulator.out" > "$dir/emulator.url"; return 0
    fi
    sleep 0.1
  done
  echo "emulator did not start: $(cat "$dir/emulator.log")"; exit 1
}
emu_stop() {
  if [ -f "$dir/emulator.pid" ]; then
    local pid; pid=$(cat "$dir/emulator.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$dir/emulator.pid"
  fi
}
emu_heal() {  # the same address, no faults
  local url; url=$(cat "$dir/emulator.url")
  emu_stop
  emu_start "${url##*:}"
}
write_env() {  # the trainee's environment
  cat > "$dir/env" <<ENV
export INGESTD_DATA_DIR="$dir/data"
export INGESTD_EMBEDDER=openai OPENAI_API_KEY=training-key OPENAI_BASE_URL="$(cat "$dir/emulator.url")/v1"
export INGESTD_LOG_LEVEL=error
$*
ENV
}
corpus() {  # corpus N WORDS: N Markdown documents of about WORDS words each in $dir/corpus
  mkdir -p "$dir/corpus"
  python3 - "$dir/corpus" "$1" "$2" <<'PY'
import random, sys
random.seed(16)
words = [f"term{i}" for i in range(3000)]
for d in range(int(sys.argv[2])):
    with open(f"{sys.argv[1]}/doc{d:02}.md", "w") as f:
        f.write(f"# Document {d}\n\n")
        for p in range(max(1, int(sys.argv[3]) // 50)):
            f.write(" ".join(random.choice(words) for _ in range(50)) + ".\n\n")
PY
}
in_env() { ( set +u; . "$dir/env"; "$@" ); }
jobs_json() { in_env "$INGESTD" jobs list --json; }
ok=1
need() {  # need "what" command...: one goal condition
  if "${@:2}"; then echo "ok   - $1"; else echo "not yet - $1"; ok=0; fi
}
count_state() { jobs_json | jq --arg s "$1" '[.[] | select(.state == $s)] | length'; }
all_complete() { [ "$(jobs_json | jq '[.[] | select(.state != "complete")] | length')" = 0 ] &&
                 [ "$(jobs_json | jq length)" = "$1" ]; }

# --- actions -----------------------------------------------------------------------------------
case "$action" in
  stop) emu_stop; echo "stopped; data kept in $dir"; exit 0 ;;
  heal) emu_heal; echo "provider side healed at $(cat "$dir/emulator.url")"; exit 0 ;;
  start)
    if [ -f "$dir/emulator.pid" ]; then emu_stop; fi
    rm -rf "$dir"; mkdir -p "$dir"
    ;;
  check) [ -f "$dir/env" ] || { echo "not started: run '$0 $ex start' first"; exit 1; } ;;
  *) usage ;;
esac

case "$ex:$action" in
  queue-stuck:start)
    emu_start 0; write_env; corpus 30 150
    in_env "$INGESTD" ingest --no-wait "$dir/corpus" > /dev/null
    echo "SYMPTOM: IngestdQueueStuck: 30 documents were uploaded 20 minutes ago and none is searchable."
    echo "GOAL:    every document complete; stop whatever you start cleanly. Time limit: 10 minutes."
    ;;
  queue-stuck:check)
    need "30 documents complete" all_complete 30 ;;

  provider-stopped:start)
    emu_start 0 --fault-invalid-key; write_env; corpus 5 200
    in_env "$INGESTD" ingest "$dir/corpus" > /dev/null 2>&1 || true
    echo "SYMPTOM: IngestdProviderStopped (openai); users say new documents never become searchable."
    echo "GOAL:    the provider running and every document complete. The account is fixed once"
    echo "         you run '$0 $ex heal' (in real life: a new key or credit). Time limit: 15 minutes."
    ;;
  provider-stopped:check)
    need "openai is not stopped" bash -c "[ \"\$(cd / && ( . '$dir/env'; '$INGESTD' providers --json ) | jq '[.providers[] | select(.stopped)] | length')\" = 0 ]"
    need "5 documents complete" all_complete 5 ;;

  dead-letter:start)
    emu_start 0 --fault-rate-malformed 1
    write_env "export INGESTD_MAX_ATTEMPTS=2 INGESTD_BACKOFF_BASE_MS=10 INGESTD_BACKOFF_CAP_MS=20"
    corpus 6 150
    in_env "$INGESTD" ingest "$dir/corpus" > /dev/null 2>&1 || true
    echo "SYMPTOM: IngestdDeadJobs: 6 jobs in the dead-letter queue after a provider incident."
    echo "GOAL:    the provider is fine again ('$0 $ex heal'); the dead-lettered documents complete,"
    echo "         none is cancelled. Time limit: 15 minutes."
    ;;
  dead-letter:check)
    need "no dead job" bash -c "[ \"\$(cd / && ( . '$dir/env'; '$INGESTD' jobs list --state dead --json ) | jq length)\" = 0 ]"
    need "6 documents complete" all_complete 6 ;;

  cost-overrun:start)
    emu_start 0
    write_env "export INGESTD_PRICING_EMBEDDING_PER_1M_USD=text-embedding-3-small=20"
    corpus 12 250
    in_env "$INGESTD" budget set --period day --hard 0.02 --soft 0.5 > /dev/null
    in_env "$INGESTD" ingest "$dir/corpus" > /dev/null 2>&1 || true
    echo "SYMPTOM: IngestdBudgetExhausted (global, day); part of a batch is stuck in 'deferred'."
    echo "GOAL:    finance approved up to \$1 a day for this batch: raise the cap (keep a hard cap of"
    echo "         at most \$1) and get every document complete. Time limit: 10 minutes."
    ;;
  cost-overrun:check)
    need "a global daily hard cap between \$0.02 and \$1" bash -c "cd / && ( . '$dir/env'; '$INGESTD' budget show --json ) | jq -e '[.[] | select(.scope == \"global\" and .period == \"day\" and .hard_usd > 0.02 and .hard_usd <= 1)] | length == 1' > /dev/null"
    need "12 documents complete" all_complete 12 ;;

  slow-provider:start)
    emu_start 0 --latency-ms 1500
    write_env "export INGESTD_EMBED_BATCH_SIZE=1"
    corpus 24 120
    in_env "$INGESTD" ingest --no-wait "$dir/corpus" > /dev/null
    echo "SYMPTOM: IngestdFreshnessFastBurn: the provider answers in 1.5 s per call and a backlog of"
    echo "         24 documents is growing old. The provider will not get faster."
    echo "GOAL:    the backlog done within 60 seconds of starting workers: one worker thread takes"
    echo "         about 40 s, so scale. Time limit: 10 minutes."
    ;;
  slow-provider:check)
    need "24 documents complete" all_complete 24 ;;

  data-error:start)
    emu_start 0
    write_env; corpus 8 400
    # A bad deploy chunked everything with a 16-token limit.
    in_env env INGESTD_CHUNK_MAX_TOKENS=16 "$INGESTD" ingest "$dir/corpus" > /dev/null
    echo "SYMPTOM: users say search returns fragments of a few words; it started with yesterday's"
    echo "         deploy (chunk.max_tokens was 16 instead of the default 512; the config is fixed now)."
    echo "GOAL:    every document re-chunked with the default settings and complete; nothing"
    echo "         re-uploaded. Time limit: 20 minutes."
    ;;
  data-error:check)
    expected=$(d=$(mktemp -d) && INGESTD_DATA_DIR="$d" INGESTD_LOG_LEVEL=error "$INGESTD" ingest "$dir/corpus" --json 2> /dev/null | jq .chunks; rm -rf "$d")
    have=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM chunks').fetchone()[0])" "$dir/data/ingestd.db")
    need "chunks as with the default settings ($have, expected $expected)" test "$have" = "$expected"
    need "8 documents complete" all_complete 8 ;;
esac

if [ "$action" = check ]; then
  if [ "$ok" = 1 ]; then echo "PASS: $ex"; exit 0; fi
  echo "NOT YET: $ex"; exit 1
fi
echo
echo "Work with: . $dir/env    (then ingestd ..., see docs/operations/)"
echo "Check with: $0 $ex check"
