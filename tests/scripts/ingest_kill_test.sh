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

# SIGINT: stop taking work, let running stages finish and release their jobs (no job is left
# leased), report the run as interrupted; the next run completes the rest.
export INGESTD_DATA_DIR="$WORK/sigint"
"$BIN" ingest "$docs" --json > "$WORK/int.json" 2>/dev/null &
pid=$!
sleep 0.6
kill -INT "$pid" 2>/dev/null || true
set +e
wait "$pid"
int_rc=$?
set -e
check "SIGINT: exit 130 (rc=$int_rc)" test "$int_rc" -eq 130
python3 - "$WORK/int.json" <<'PY' && pass "SIGINT: summary says interrupted, work left unfinished" || fail "SIGINT summary"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["interrupted"] is True and s["unfinished"] > 0 and s["failed"] == 0, s
PY
leased=$(sqlite3 "$INGESTD_DATA_DIR/ingestd.db" "SELECT count(*) FROM jobs WHERE state = 'running'")
check "SIGINT: running stages released their jobs ($leased still running)" test "$leased" -eq 0
"$BIN" ingest "$docs" --json > "$WORK/int2.json" 2>/dev/null
int_chunks=$(sqlite3 "$INGESTD_DATA_DIR/ingestd.db" "SELECT count(*) FROM chunks")
check "SIGINT: the next run completes with the same chunks ($int_chunks vs $ref_chunks)" test "$int_chunks" -eq "$ref_chunks"

export INGESTD_DATA_DIR="$WORK/killed"
# Long leases: a resumed run must not wait for the dead process's leases to expire; it sees that
# their owner (same host) is gone and takes the jobs over at once.
export INGESTD_LEASE_TTL_S=600
for delay in 0.3 0.8; do
  "$BIN" ingest "$docs" --json > /dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
done
running=$(sqlite3 "$INGESTD_DATA_DIR/ingestd.db" "SELECT count(*) FROM jobs WHERE state != 'complete'" 2>/dev/null || echo 0)
check "kill -9 left work unfinished ($running jobs not complete)" test "$running" -gt 0

left_leased=$(sqlite3 "$INGESTD_DATA_DIR/ingestd.db" "SELECT count(*) FROM jobs WHERE state = 'running'" 2>/dev/null || echo 0)
timeout 300 "$BIN" ingest "$docs" --json > "$WORK/resumed.json" 2> "$WORK/resumed.log" || true
if [ "$left_leased" -gt 0 ]; then
  check "resumed run reclaims the $left_leased lease(s) of the dead process and says so" \
    grep -q "resuming $left_leased job(s) left running by a process that is gone" "$WORK/resumed.log"
fi
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
