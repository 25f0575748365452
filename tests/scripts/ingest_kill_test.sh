#!/usr/bin/env bash
# kill -9 in the middle of `ingestd ingest`, then ingest again: every document completes, and
# the store holds exactly what an uninterrupted run stores (no chunk twice, none missing).
source "$(dirname "$0")/../lib/common.sh"
need_file "$R_MANUALS/R-intro.pdf"

docs="$WORK/docs"
mkdir -p "$docs"
for f in R-intro R-data R-admin R-lang R-exts R-ints R-FAQ; do
  [ -f "$R_MANUALS/$f.pdf" ] && cp "$R_MANUALS/$f.pdf" "$docs/"
done
cp -r "$SRC/examples" "$docs/"
export INGESTD_LEASE_TTL_S=3

# Reference: an uninterrupted run.
INGESTD_DATA_DIR="$WORK/clean" "$BIN" ingest "$docs" --json > "$WORK/clean.json" 2>/dev/null
ref_chunks=$(sqlite3 "$WORK/clean/ingestd.db" "SELECT count(*) FROM chunks")

export INGESTD_DATA_DIR="$WORK/killed"
for delay in 0.7 1.5; do
  "$BIN" ingest "$docs" --json > /dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
done
running=$(sqlite3 "$INGESTD_DATA_DIR/ingestd.db" "SELECT count(*) FROM jobs WHERE state != 'complete'" 2>/dev/null || echo 0)
echo "after two kill -9: $running jobs not complete"

"$BIN" ingest "$docs" --json > "$WORK/resumed.json" 2> "$WORK/resumed.log"
python3 - "$WORK/clean.json" "$WORK/resumed.json" <<'PY' && pass "resumed run completes every document" || fail "resume"
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert b["failed"] == 0 and b["completed"] == a["completed"] == a["documents"], (a, b)
PY
chunks=$(sqlite3 "$INGESTD_DATA_DIR/ingestd.db" "SELECT count(*) FROM chunks")
distinct=$(sqlite3 "$INGESTD_DATA_DIR/ingestd.db" "SELECT count(*) FROM (SELECT DISTINCT document_id, ordinal FROM chunks)")
check "same chunk count as an uninterrupted run ($chunks vs $ref_chunks)" test "$chunks" -eq "$ref_chunks"
check "no chunk stored twice" test "$chunks" -eq "$distinct"
vecs=$(sqlite3 "$INGESTD_DATA_DIR/ingestd.db" "SELECT count(*) FROM vectors")
ref_vecs=$(sqlite3 "$WORK/clean/ingestd.db" "SELECT count(*) FROM vectors")
check "same vector count ($vecs vs $ref_vecs)" test "$vecs" -eq "$ref_vecs"
finish
