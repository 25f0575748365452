#!/usr/bin/env bash
# Schema rollback without silent loss (issue 15; docs/operations/runbooks/rollback.md), on the
# embedded SQLite store and on PostgreSQL, each on a populated store:
#   - the reversible steps (7 query_vectors with an empty cache, 6 budget_stops, 5 nano_dollars
#     on whole micro-dollar amounts, 4 embed_claims) go down and up again keeping every document, chunk, vector and ledger row,
#     the ledger's amounts and the search results;
#   - a lossy step is refused without --allow-data-loss (exit 1, `data_loss_refused`, the step
#     and what it would drop named), with the steps above it rolled back and nothing of it done:
#     step 5 once the ledger holds amounts that are not whole micro-dollars (OpenAI emulator
#     calls), step 6 while a budget is stopped, step 3 once the ledger holds reservations;
#   - --allow-data-loss runs the lossy step: rows are kept, amounts rounded up as documented.
source "$(dirname "$0")/../lib/common.sh"
cleanup() { emulators_stop; rm -rf "$WORK"; }
trap cleanup EXIT

export INGESTD_PARSER=local
emulator_start openai "$WORK/openai.out" --api-key sk-rollback
OPENAI_URL="$EMU_URL/v1"

# counts: documents chunks vectors ledger-rows ledger-nanos of the current store.
counts() {
  local sql="SELECT (SELECT count(*) FROM documents) || ' ' || (SELECT count(*) FROM chunks) || ' ' ||
    (SELECT count(*) FROM vectors) || ' ' || (SELECT count(*) FROM ledger) || ' ' ||
    (SELECT COALESCE(SUM(cost_${1:-nanos}), 0) FROM ledger)"
  if [[ "$INGESTD_STORE" == postgresql://* ]]; then
    psql -XAtq "$INGESTD_STORE" -c "$sql"
  else
    python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' \
      "${INGESTD_STORE#sqlite:}" "$sql"
  fi
}
version() { "$BIN" migrate status | sed -n 's/^current version: //p'; }
search3() { INGESTD_EMBEDDER=local "$BIN" search "$1" -k 3 --json | jq -c '[.[] | [.filename, .score]]'; }

run_backend() {
  local name="$1" latest before after out rc
  local dir="$WORK/$name"
  mkdir -p "$dir/docs"
  export INGESTD_DATA_DIR="$dir/data"
  echo "# $name"

  # 1. Populated with the local embedder: every amount is 0, so steps 6, 5 and 4 lose nothing.
  for i in 1 2 3; do
    printf '# Rollback %s %s\n\nSection %s keeps its chunks across a schema rollback.\n\n## More\n\nParagraph %s of %s.\n' \
      "$name" "$i" "$i" "$i" "$name" > "$dir/docs/local-$i.md"
  done
  INGESTD_EMBEDDER=local "$BIN" ingest "$dir/docs" > /dev/null 2>&1
  latest="$(version)"
  local search_before
  search_before="$(search3 'Section 2 keeps its chunks')"
  before="$(counts)"
  check "$name: populated ($before: documents chunks vectors ledger nanos)" \
    test "$(echo "$before" | cut -d' ' -f1)" -eq 3
  rc=0
  out="$("$BIN" migrate down --to 3 2>&1)" || rc=$?
  check "$name: migrate down --to 3 (steps $latest..4, nothing to lose) exits 0 ($out)" test "$rc" -eq 0
  check "$name: at version 3 every row is kept" test "$(counts micros)" = "$before"
  "$BIN" migrate up > /dev/null
  check "$name: up again to $latest" test "$(version)" = "$latest"
  check "$name: after down and up every document, chunk, vector and ledger row is kept" \
    test "$(counts)" = "$before"
  check "$name: search answers as before ($search_before)" test "$(search3 'Section 2 keeps its chunks')" = "$search_before"

  # 2. Paid calls (OpenAI emulator): amounts in nano-dollars that are not whole micro-dollars.
  mkdir -p "$dir/paid"
  for i in 1 2; do printf 'Paid document %s of %s, embedded through the emulator.\n' "$i" "$name" > "$dir/paid/paid-$i.txt"; done
  INGESTD_EMBEDDER=openai OPENAI_BASE_URL="$OPENAI_URL" OPENAI_API_KEY=sk-rollback \
    "$BIN" ingest "$dir/paid" > /dev/null 2>&1
  before="$(counts)"
  rc=0
  out="$("$BIN" migrate down --to 4 2>&1)" || rc=$?
  check "$name: down --to 4 over sub-micro-dollar amounts is refused (rc=$rc)" test "$rc" -eq 1
  check "$name: the refusal names step 5, the loss and the flag" \
    bash -c "grep -q 'data_loss_refused' <<< '$out' && grep -q 'nano_dollars' <<< '$out' && grep -q -- '--allow-data-loss' <<< '$out'"
  check "$name: refused at step 5: schema at 5, nothing of step 5 undone" \
    bash -c "[ '$(version)' = 5 ] && [ '$(counts)' = '$before' ]"
  rc=0
  "$BIN" migrate down --to 4 --allow-data-loss > /dev/null 2>&1 || rc=$?
  check "$name: --allow-data-loss runs it (rc=$rc)" test "$rc" -eq 0
  after="$(counts micros)"
  check "$name: rows kept, amounts rounded up to whole micro-dollars ($before -> $after micros)" \
    python3 -c "
import sys
b, a = '$before'.split(), '$after'.split()
assert b[:4] == a[:4], (b, a)
assert int(a[4]) * 1000 >= int(b[4]) and int(a[4]) * 1000 - int(b[4]) < 1000 * int(a[3]), (b, a)"
  "$BIN" migrate up > /dev/null
  check "$name: up again to $latest, rows kept" \
    bash -c "[ '$(version)' = '$latest' ] && [ '$(counts | cut -d' ' -f1-4)' = '$(echo "$before" | cut -d' ' -f1-4)' ]"

  # 3. A stopped budget: step 6 would drop the stop.
  "$BIN" budget set --period day --hard 1.00 > /dev/null
  if [[ "$INGESTD_STORE" == postgresql://* ]]; then
    psql -XAtq "$INGESTD_STORE" -c "UPDATE budgets SET stopped_at = 1, stop_reason = 'test overrun'" > /dev/null
  else
    python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("UPDATE budgets SET stopped_at = 1, stop_reason = '"'"'test overrun'"'"'"); c.commit()' "${INGESTD_STORE#sqlite:}"
  fi
  # `budget set` wrote an audit row: step 9 (access_control) refuses first, naming it.
  rc=0
  out="$("$BIN" migrate down --to 5 2>&1)" || rc=$?
  check "$name: down past step 9 with an audit row is refused at step 9 (rc=$rc)" \
    bash -c "[ '$rc' = 1 ] && grep -q access_control <<< '$out' && [ '$(version)' = 9 ]"
  "$BIN" migrate down --to 8 --allow-data-loss > /dev/null
  rc=0
  out="$("$BIN" migrate down --to 5 2>&1)" || rc=$?
  check "$name: down past step 6 with a stopped budget is refused at step 6 (rc=$rc)" \
    bash -c "[ '$rc' = 1 ] && grep -q budget_stops <<< '$out' && [ '$(version)' = 6 ]"

  # 4. The ledger holds reservations (estimates): down to 0 stops at the first lossy step.
  "$BIN" migrate up > /dev/null
  "$BIN" budget ack --all > /dev/null
  before="$(counts)"
  rc=0
  out="$("$BIN" migrate down --to 0 2>&1)" || rc=$?
  check "$name: migrate down --to 0 on a populated store is refused (rc=$rc)" test "$rc" -eq 1
  check "$name: ... at a lossy step, documents untouched (version $(version))" \
    bash -c "[ '$(version)' -ge 3 ] && [ '$(echo "$(counts micros 2>/dev/null || counts)" | cut -d' ' -f1-4)' = '$(echo "$before" | cut -d' ' -f1-4)' ]"
  "$BIN" migrate up > /dev/null
  check "$name: up again to $latest" test "$(version)" = "$latest"
}

export INGESTD_STORE="sqlite:$WORK/sqlite/data/ingestd.db"
mkdir -p "$WORK/sqlite/data"
run_backend sqlite

if [ -n "${INGESTD_TEST_PG_URL:-}" ]; then
  db="ingestd_rollback_$$"
  psql -XAtq "$INGESTD_TEST_PG_URL" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" > /dev/null
  base="${INGESTD_TEST_PG_URL%%\?*}"
  export INGESTD_STORE="${base%/*}/$db"
  "$BIN" migrate up > /dev/null
  # The guard of each step on its own: blobs in a folder, so the blob tables stay empty and
  # their step loses nothing (blobs in the database are the next check).
  INGESTD_BLOBS_URL="file://$WORK/postgres/blobs" run_backend postgres
  psql -XAtq "$INGESTD_TEST_PG_URL" -c "DROP DATABASE IF EXISTS $db" > /dev/null 2>&1 || true

  # Blobs in the database (the default on PostgreSQL): the step that made their tables refuses
  # to drop them, and nothing below it is touched.
  psql -XAtq "$INGESTD_TEST_PG_URL" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" > /dev/null
  "$BIN" migrate up > /dev/null
  mkdir -p "$WORK/pg-blobs"
  printf 'An original kept in the database.\n' > "$WORK/pg-blobs/kept.txt"
  INGESTD_DATA_DIR="$WORK/pg-blobs/data" INGESTD_EMBEDDER=local "$BIN" ingest "$WORK/pg-blobs/kept.txt" > /dev/null 2>&1
  blob_step="$("$BIN" migrate status | awk '$3 == "blob_chunks" {print $1}')"
  latest="$(version)"
  rc=0
  out="$("$BIN" migrate down --to $((blob_step - 1)) 2>&1)" || rc=$?
  check "postgres: down past blob_chunks with blobs in the database is refused (rc=$rc)" \
    bash -c "[ '$rc' = 1 ] && grep -q blob_chunks <<< '$out' && grep -q -- '--allow-data-loss' <<< '$out'"
  check "postgres: ... the blob is still stored (version $(version))" \
    bash -c "[ '$(version)' -ge '$blob_step' ] && [ \"\$(psql -XAtq '$INGESTD_STORE' -c 'SELECT count(*) FROM blobs')\" = 1 ]"
  psql -XAtq "$INGESTD_TEST_PG_URL" -c "DROP DATABASE IF EXISTS $db" > /dev/null 2>&1 || true
elif [ "${CI:-}" = "true" ]; then
  fail "INGESTD_TEST_PG_URL is not set (CI requires PostgreSQL)"
else
  echo "skip - postgres: INGESTD_TEST_PG_URL not set"
fi
finish
