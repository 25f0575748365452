#!/usr/bin/env bash
# Documents as a living collection through the real binary (issue 18, docs/guide/documents.md):
# `ingest --meta/--meta-json/--external-id`, `search --filter`, `documents list|show|chunks|
# delete`, versions under one external_id, and `sync DIR [--delete] [--dry-run]` on a folder
# mutated between runs (idempotent when nothing changed). Also with PostgreSQL when
# INGESTD_TEST_PG_URL is set (scripts/start-test-services.sh).
# Usage: documents_lifecycle_test.sh INGESTD SOURCE_DIR BINARY_DIR
source "$(dirname "$0")/../lib/common.sh"
cleanup() {
  [ -n "${PGDB:-}" ] && psql "$INGESTD_TEST_PG_URL" -XAtq -c "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" > /dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

run_suite() {  # run_suite LABEL
  local label="$1" d="$WORK/$1"
  mkdir -p "$d/in"
  export INGESTD_DATA_DIR="$d/data"

  # Metadata: --meta-json then --meta (wins); the chunks inherit it; filters are exact.
  printf '# Claim 1042\n\nWater damage in the basement, reported in March.\n' > "$d/in/claim.md"
  printf '# Contract\n\nThe supplier contract renews in March.\n' > "$d/in/contract.md"
  printf '{"team": "legal", "year": 2023, "tags": ["a", "b"]}' > "$d/meta.json"
  "$BIN" ingest --meta-json "$d/meta.json" --meta team=claims --meta year=2024 "$d/in/claim.md" > /dev/null
  "$BIN" ingest --meta team=legal --meta 'year="2024"' "$d/in/contract.md" > /dev/null
  "$BIN" search March -k 10 --filter team=claims --json > "$d/s1.json"
  check "$label: --filter team=claims returns only claim.md, with its metadata" \
    jq -e 'length >= 1 and all(.[]; (.filename | endswith("claim.md")) and .metadata.team == "claims" and .metadata.year == 2024 and .metadata.tags == ["a","b"])' "$d/s1.json"
  "$BIN" search March -k 10 --filter 'year="2024"' --json > "$d/s2.json"
  check "$label: a quoted value is a string: year=\"2024\" matches contract.md only" \
    jq -e 'length >= 1 and all(.[]; .filename | endswith("contract.md"))' "$d/s2.json"
  check "$label: invalid metadata is refused before anything is stored" \
    bash -c "! '$BIN' ingest --meta 'bad\"key=1' '$d/in/claim.md' 2> '$d/err' && grep -q 'metadata key' '$d/err'"
  check "$label: --external-id with several files is refused" \
    bash -c "! '$BIN' ingest --external-id x '$d/in' 2> /dev/null"

  # Versions: the same external_id with new bytes replaces the old version in search.
  printf '# Hours\n\nWe open at nine.\n' > "$d/hours.md"
  "$BIN" ingest --external-id site/hours "$d/hours.md" > /dev/null
  printf '# Hours\n\nWe open at eight from June.\n' > "$d/hours.md"
  "$BIN" ingest --external-id site/hours "$d/hours.md" > /dev/null
  "$BIN" search "we open" -k 20 --json > "$d/s3.json"
  check "$label: only the new version is searchable" \
    jq -e '[.[] | select(.external_id == "site/hours")] | length == 1 and .[0].text != null' "$d/s3.json"
  check "$label: its text is the new one" \
    jq -e '[.[] | select(.external_id == "site/hours")][0].text | test("eight")' "$d/s3.json"
  "$BIN" documents list --external-id site/hours --json > "$d/l1.json"
  check "$label: documents list shows version 2 only" \
    jq -e '.documents | length == 1 and .[0].version == 2 and .[0].state == "complete"' "$d/l1.json"
  doc=$(jq -r '.documents[0].document_id' "$d/l1.json")
  "$BIN" documents chunks "$doc" --json > "$d/c1.json"
  check "$label: documents chunks lists the chunks" jq -e '.total >= 1 and (.chunks[0].text | test("eight"))' "$d/c1.json"

  # Deletion: gone from search and listings at once; a second delete fails.
  "$BIN" documents delete "$doc" --json > "$d/del.json"
  check "$label: delete reports what it removed" jq -e '.chunks >= 1 and .blobs_removed == 1' "$d/del.json"
  "$BIN" search "we open" -k 20 --json > "$d/s4.json" || true
  check "$label: search never returns the deleted document" \
    jq -e '[.[] | select(.document_id == "'"$doc"'")] | length == 0' "$d/s4.json"
  check "$label: a second delete fails" bash -c "! '$BIN' documents delete '$doc' 2> /dev/null"
  check "$label: show of a deleted document fails" \
    bash -c "! '$BIN' documents show --external-id site/hours 2> /dev/null"

  # Sync a folder mutated between runs.
  mkdir -p "$d/folder/sub"
  printf '# A\n\nAlpha text.\n' > "$d/folder/a.md"
  printf '# B\n\nBravo text.\n' > "$d/folder/sub/b.md"
  printf '# C\n\nCharlie text.\n' > "$d/folder/c.md"
  "$BIN" sync "$d/folder" --json > "$d/y1.json"
  check "$label: first sync adds every file" \
    jq -e '.added == 3 and .updated == 0 and .deleted == 0 and .unchanged == 0 and .failed == 0' "$d/y1.json"
  "$BIN" sync "$d/folder" --delete --json > "$d/y2.json"
  check "$label: second sync is a no-op" \
    jq -e '.added == 0 and .updated == 0 and .deleted == 0 and .unchanged == 3' "$d/y2.json"
  printf '# A\n\nAlpha text, edited.\n' > "$d/folder/a.md"
  rm "$d/folder/c.md"
  printf '# D\n\nDelta text.\n' > "$d/folder/d.md"
  "$BIN" sync "$d/folder" --delete --dry-run --json > "$d/y3.json"
  check "$label: --dry-run says what would happen" \
    jq -e '.dry_run and .added == 1 and .updated == 1 and .deleted == 1 and .unchanged == 1' "$d/y3.json"
  "$BIN" sync "$d/folder" --json > "$d/y4.json"
  check "$label: without --delete a removed file is kept and listed" \
    jq -e '.added == 1 and .updated == 1 and .deleted == 0 and (.files.gone_not_deleted | length == 1)' "$d/y4.json"
  "$BIN" sync "$d/folder" --delete --json > "$d/y5.json"
  check "$label: --delete deletes the removed file's document" \
    jq -e '.added == 0 and .updated == 0 and .deleted == 1 and .unchanged == 3' "$d/y5.json"
  "$BIN" search "Charlie text" -k 20 --json > "$d/s5.json" || true
  check "$label: the removed file is not searchable" \
    jq -e '[.[] | select(.external_id | endswith("/c.md"))] | length == 0' "$d/s5.json"
  "$BIN" search "Alpha text" -k 20 --json > "$d/s6.json"
  check "$label: the edited file is searchable in its new version only" \
    jq -e '[.[] | select(.external_id | endswith("/a.md"))] | length == 1 and (.[0].text | test("edited"))' "$d/s6.json"
  "$BIN" documents list --external-id-prefix "$(readlink -f "$d/folder")/" --json > "$d/l2.json"
  check "$label: the folder's documents are listed by external_id prefix" \
    jq -e '.documents | length == 3' "$d/l2.json"
}

run_suite sqlite
if [ -n "${INGESTD_TEST_PG_URL:-}" ]; then
  PGDB="ingestd_documents_$$"
  psql "$INGESTD_TEST_PG_URL" -XAtq -c "CREATE DATABASE $PGDB" > /dev/null
  base="${INGESTD_TEST_PG_URL%%\?*}"
  export INGESTD_STORE="${base%/*}/$PGDB"
  "$BIN" migrate up > /dev/null
  run_suite postgres
  unset INGESTD_STORE
elif [ "${CI:-}" = "true" ]; then
  fail "INGESTD_TEST_PG_URL is not set (CI must run the PostgreSQL half)"
fi
finish
