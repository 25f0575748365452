#!/usr/bin/env bash
# ingestd backup / restore on the embedded store (docs/operations/runbooks/backup-restore.md):
#   - a backup taken while two `ingestd worker` processes ingest is a consistent snapshot: its
#     manifest matches its database, every blob its documents name is in it and hashes to its
#     name; restored into a fresh data folder, workers finish the open jobs and the restored
#     store answers every search exactly as the original;
#   - a backup of the finished store, restored, answers the same searches with the same results
#     and the same ledger totals (`ingestd costs --json`), byte for byte;
#   - restore refuses an existing store (and --force keeps it aside) and a damaged backup;
#     backup refuses a non-empty folder;
#   - on PostgreSQL (INGESTD_TEST_PG_URL): backup = pg_dump + blobs + configuration, restored
#     into an empty database it answers the same searches with the same ledger totals.
source "$(dirname "$0")/../lib/common.sh"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -9 "$p" 2> /dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2> /dev/null || true; done
  emulators_stop
  rm -rf "$WORK"
}
trap cleanup EXIT

emulator_start openai "$WORK/openai.out" --api-key sk-backup --latency-ms 20
export INGESTD_PARSER=local INGESTD_EMBEDDER=openai OPENAI_BASE_URL="$EMU_URL/v1" OPENAI_API_KEY=sk-backup
export INGESTD_DATA_DIR="$WORK/live" INGESTD_WORKERS=2

mkdir -p "$WORK/docs"
python3 - "$WORK/docs" <<'PY'
import random, sys
rng = random.Random(15)
words = ("ledger backup restore snapshot blob worker lease budget vector chunk token parser "
         "replica migration rollback tenant invoice provider queue cache").split()
for i in range(80):
    with open(f"{sys.argv[1]}/doc-{i:03d}.md", "w") as f:
        f.write(f"# Document {i}\n\n")
        for p in range(3):
            f.write(" ".join(rng.choice(words) for _ in range(60)) + f" marker{i}x{p}.\n\n")
PY
"$BIN" migrate up > /dev/null
"$BIN" ingest --no-wait "$WORK/docs" > /dev/null
for i in 1 2; do "$BIN" worker > "$WORK/worker-$i.log" 2>&1 & PIDS+=($!); done

open_jobs() { "$BIN" jobs list --json --limit 1000 | jq '[.[] | select(.state != "complete")] | length'; }
# Take the first backup while work is in flight.
for _ in $(seq 300); do n="$(open_jobs)"; [ "$n" -lt 70 ] && break; sleep 0.1; done
"$BIN" backup "$WORK/b-running" > "$WORK/b-running.out"
open_at_backup="$(open_jobs)"
check "backup while 2 workers ingest ($(cat "$WORK/b-running.out"))" test -f "$WORK/b-running/manifest.json"
echo "    jobs open just after the backup: $open_at_backup"

for _ in $(seq 600); do [ "$(open_jobs)" = 0 ] && break; sleep 0.2; done
check "the live run completes all 80 documents" test "$(open_jobs)" = 0
for p in "${PIDS[@]}"; do kill -TERM "$p"; wait "$p" || true; done
PIDS=()

# The snapshot: manifest == database, every named blob present and intact.
check "mid-run backup: manifest, database and blobs agree" python3 - "$WORK/b-running" <<'PY'
import hashlib, json, os, sqlite3, sys
d = sys.argv[1]
m = json.load(open(f"{d}/manifest.json"))
db = sqlite3.connect(f"{d}/ingestd.db")
q = lambda s: db.execute(s).fetchone()[0]
assert q("PRAGMA integrity_check") == "ok"
assert hashlib.sha256(open(f"{d}/ingestd.db", "rb").read()).hexdigest() == m["database_sha256"]
for k, t in (("documents", "documents"), ("chunks", "chunks"), ("vectors", "vectors"), ("ledger_rows", "ledger")):
    assert m[k] == q(f"SELECT count(*) FROM {t}"), (k, m[k])
keys = [r[0] for r in db.execute("SELECT DISTINCT blob_key FROM documents")]
assert len(keys) == m["blobs"] > 0, (len(keys), m["blobs"])
for k in keys:
    p = f"{d}/blobs/{k[:2]}/{k[2:4]}/{k}"
    assert hashlib.sha256(open(p, "rb").read()).hexdigest() == k, p
# Chunks only ever belong to stored documents, vectors to stored chunk texts.
assert q("SELECT count(*) FROM chunks WHERE document_id NOT IN (SELECT id FROM documents)") == 0
print(m["documents"], "documents", m["blobs"], "blobs")
PY

queries=("ledger backup marker3x1" "worker lease budget" "replica migration rollback marker42x0" "invoice provider queue" "snapshot blob marker77x2")
search_all() { local q; for q in "${queries[@]}"; do "$BIN" search "$q" -k 5 --json | jq -c '[.[] | [.filename, .score, .text]]'; done; }
search_all > "$WORK/search-live.txt"
"$BIN" costs --json > "$WORK/costs-live.json"
"$BIN" backup "$WORK/b-final" > /dev/null

# Restore the mid-run backup elsewhere; workers finish what was open; the answers match.
export INGESTD_DATA_DIR="$WORK/restored-running"
"$BIN" restore "$WORK/b-running" > "$WORK/restore1.out"
check "restore of the mid-run backup ($(cat "$WORK/restore1.out"))" grep -q '^restored ' "$WORK/restore1.out"
"$BIN" worker > "$WORK/worker-r.log" 2>&1 & PIDS+=($!)
for _ in $(seq 600); do [ "$(open_jobs)" = 0 ] && break; sleep 0.2; done
kill -TERM "${PIDS[0]}"; wait "${PIDS[0]}" || true
PIDS=()
check "restored mid-run store: workers finish every job (80 complete)" \
  test "$("$BIN" jobs list --json --limit 1000 | jq '[.[] | select(.state == "complete")] | length')" = 80
check "restored mid-run store answers every search as the live one" \
  diff "$WORK/search-live.txt" <(search_all)

# Restore the final backup: same searches, same ledger.
export INGESTD_DATA_DIR="$WORK/restored-final"
"$BIN" restore "$WORK/b-final" > /dev/null
check "restored final store answers every search as the live one" diff "$WORK/search-live.txt" <(search_all)
check "restored final store has the same ledger totals" diff "$WORK/costs-live.json" <("$BIN" costs --json)

# Refusals.
rc=0; "$BIN" restore "$WORK/b-final" > /dev/null 2> "$WORK/refuse.err" || rc=$?
check "restore onto an existing store is refused (rc=$rc)" bash -c "[ $rc = 1 ] && grep -q store_exists '$WORK/refuse.err'"
rc=0; "$BIN" restore --force "$WORK/b-final" > /dev/null 2> "$WORK/force.err" || rc=$?
check "restore --force keeps the previous store aside (rc=$rc)" \
  bash -c "[ $rc = 0 ] && ls '$WORK/restored-final'/ingestd.db.before-restore-* > /dev/null"
rc=0; "$BIN" backup "$WORK/b-final" > /dev/null 2>&1 || rc=$?
check "backup into a non-empty folder is refused (rc=$rc)" test "$rc" -eq 1
cp -a "$WORK/b-final" "$WORK/b-damaged"
mapfile -t damaged_blobs < <(find "$WORK/b-damaged/blobs" -type f)
rm "${damaged_blobs[0]}"
rc=0; INGESTD_DATA_DIR="$WORK/restored-damaged" "$BIN" restore "$WORK/b-damaged" > /dev/null 2> "$WORK/damaged.err" || rc=$?
check "a backup missing a blob is refused before anything is written (rc=$rc)" \
  bash -c "[ $rc = 1 ] && grep -q backup_incomplete '$WORK/damaged.err' && [ ! -e '$WORK/restored-damaged/ingestd.db' ]"
printf 'x' >> "$WORK/b-damaged/ingestd.db"
rc=0; INGESTD_DATA_DIR="$WORK/restored-damaged" "$BIN" restore "$WORK/b-damaged" > /dev/null 2> "$WORK/damaged2.err" || rc=$?
check "a backup whose database does not match its manifest is refused (rc=$rc)" \
  bash -c "[ $rc = 1 ] && grep -q backup_corrupt '$WORK/damaged2.err'"

# PostgreSQL: backup = pg_dump + the blob folder + configuration; restore into an empty database.
if [ -n "${INGESTD_TEST_PG_URL:-}" ]; then
  base="${INGESTD_TEST_PG_URL%%\?*}"
  for db in ingestd_backup_src_$$ ingestd_backup_dst_$$; do
    psql -XAtq "$INGESTD_TEST_PG_URL" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" > /dev/null
  done
  export INGESTD_STORE="${base%/*}/ingestd_backup_src_$$" INGESTD_DATA_DIR="$WORK/pg-live"
  "$BIN" migrate up > /dev/null
  "$BIN" ingest "$WORK/docs" > /dev/null 2>&1
  search_all > "$WORK/pg-search.txt"
  "$BIN" costs --json > "$WORK/pg-costs.json"
  rc=0; "$BIN" backup "$WORK/b-pg" > "$WORK/b-pg.out" 2>&1 || rc=$?
  check "PostgreSQL backup: pg_dump, blobs, manifest (rc=$rc: $(head -c 200 "$WORK/b-pg.out"))" \
    bash -c "[ $rc = 0 ] && [ -s '$WORK/b-pg/database.dump' ] && [ \"\$(jq .blobs '$WORK/b-pg/manifest.json')\" = 80 ]"
  export INGESTD_STORE="${base%/*}/ingestd_backup_dst_$$" INGESTD_DATA_DIR="$WORK/pg-restored"
  rc=0; "$BIN" restore "$WORK/b-pg" > "$WORK/r-pg.out" 2>&1 || rc=$?
  check "PostgreSQL restore into an empty database (rc=$rc: $(head -c 200 "$WORK/r-pg.out"))" test "$rc" -eq 0
  check "restored PostgreSQL store answers every search as the original" diff "$WORK/pg-search.txt" <(search_all)
  check "restored PostgreSQL store has the same ledger totals" diff "$WORK/pg-costs.json" <("$BIN" costs --json)
  rc=0; "$BIN" restore "$WORK/b-pg" > /dev/null 2> "$WORK/r-pg2.err" || rc=$?
  check "PostgreSQL restore into a database that has a schema is refused (rc=$rc)" \
    bash -c "[ $rc = 1 ] && grep -q store_exists '$WORK/r-pg2.err'"
  unset INGESTD_STORE
  for db in ingestd_backup_src_$$ ingestd_backup_dst_$$; do
    psql -XAtq "$INGESTD_TEST_PG_URL" -c "DROP DATABASE IF EXISTS $db" > /dev/null 2>&1 || true
  done
elif [ "${CI:-}" = "true" ]; then
  fail "INGESTD_TEST_PG_URL is not set (CI requires PostgreSQL)"
else
  echo "skip - PostgreSQL: INGESTD_TEST_PG_URL not set"
fi
finish
