#!/usr/bin/env bash
# `ingestd gc` through the real binary on the embedded store (docs/operations/maintenance.md):
# leftovers are made the way a crash leaves them (a tombstone still holding its blob, a cached
# parse and vectors nobody holds, written straight into the SQLite file), then:
#   - the dry run counts them, deletes nothing, and says so;
#   - --apply deletes exactly them (the blob file too) and a second run finds nothing;
#   - everything live is untouched: documents, chunks, search results.
#   - a folder without a store is an error, not a new empty store.
# Usage: gc_test.sh INGESTD SOURCE_DIR BINARY_DIR
source "$(dirname "$0")/../lib/common.sh"
jqe() { jq -e "$@" > /dev/null; }  # a jq condition as a check, without echoing its value

export INGESTD_DATA_DIR="$WORK/data"
mkdir -p "$WORK/in"
cp "$SRC"/examples/*.md "$WORK/in/"
"$BIN" ingest "$WORK/in" --json > "$WORK/ingest.json"
check "ingest of the examples completes" jqe '.failed == 0 and .completed >= 3' "$WORK/ingest.json"
"$BIN" search "hard budget" -k 5 --json > "$WORK/before.json"
"$BIN" documents list --json > "$WORK/docs-before.json"

# Leftovers as a crash leaves them: one extra document row that is a tombstone still holding a
# blob file, a cached parse of bytes no document has, and two vectors no chunk holds.
python3 - "$INGESTD_DATA_DIR" <<'PY'
import hashlib, os, sqlite3, sys, time
data = sys.argv[1]
now = int(time.time() * 1000)
content = b"bytes of a document deleted while its blob removal crashed\n"
sha = hashlib.sha256(content).hexdigest()
blob_dir = os.path.join(data, "blobs", sha[:2], sha[2:4])
os.makedirs(blob_dir, exist_ok=True)
with open(os.path.join(blob_dir, sha), "wb") as f:
    f.write(content)
db = sqlite3.connect(os.path.join(data, "ingestd.db"), timeout=10)
with db:
    db.execute("INSERT INTO documents (id, tenant, filename, sha256, blob_key, created_at,"
               " updated_at, deleted_at, deleted_reason) VALUES (?, 'default', '', ?, ?, ?, ?, ?,"
               " 'deleted')", ("gc-test-tombstone", sha, sha, now, now, now))
    db.execute("INSERT INTO parses (file_sha256, parser, config_hash, pages_json, created_at)"
               " VALUES (?, 'local', 'h', '[{\"page\":1,\"text\":\"nobody\"}]', ?)",
               (hashlib.sha256(b"no document has these bytes").hexdigest(), now))
    for text in (b"stray one", b"stray two"):
        db.execute("INSERT INTO vectors (model, dimensions, text_sha256, provider, vector,"
                   " created_at) VALUES ('lexical-v1', 4, ?, 'local', ?, ?)",
                   (hashlib.sha256(text).hexdigest(), bytes(16), now))
db.close()
PY
blob_sha=$(python3 -c 'import hashlib; print(hashlib.sha256(b"bytes of a document deleted while its blob removal crashed\n").hexdigest())')
blob_file="$INGESTD_DATA_DIR/blobs/${blob_sha:0:2}/${blob_sha:2:2}/$blob_sha"
check "the leftover blob file exists" test -f "$blob_file"

"$BIN" gc --json > "$WORK/dry.json"
check "dry run counts the leftovers" \
  jqe '.dry_run == true and .blobs.count == 1 and .parses.count == 1 and .vectors.count == 2 and .vectors.bytes == 32 and .parses.bytes > 0' "$WORK/dry.json"
"$BIN" gc > "$WORK/dry.txt"
check "dry run says it is one and how to delete" grep -q 'dry run; --apply deletes' "$WORK/dry.txt"
check "dry run warns that deleted caches are paid again" grep -q 'paid for again' "$WORK/dry.txt"
"$BIN" gc --json > "$WORK/dry2.json"
check "a dry run deletes nothing (same counts again)" \
  jqe '.blobs.count == 1 and .parses.count == 1 and .vectors.count == 2' "$WORK/dry2.json"
check "the blob file is still there after the dry runs" test -f "$blob_file"

"$BIN" gc --apply --json > "$WORK/apply.json"
check "--apply deletes exactly the leftovers" \
  jqe '.dry_run == false and .blobs.count == 1 and .parses.count == 1 and .vectors.count == 2 and .vectors.bytes == 32' "$WORK/apply.json"
check "the orphan blob file is gone" test ! -e "$blob_file"
"$BIN" audit --json > "$WORK/audit.json"
check "gc --apply is in the audit log with the acting user and what it deleted" \
  jqe '[.[] | select(.action == "gc.apply")] | length == 1 and .[0].result == "ok" and (.[0].actor | startswith("cli:")) and .[0].detail.vectors == 2' "$WORK/audit.json"
"$BIN" gc --json > "$WORK/after.json"
check "a second run finds nothing" \
  jqe '.blobs.count == 0 and .parses.count == 0 and .vectors.count == 0' "$WORK/after.json"

"$BIN" search "hard budget" -k 5 --json > "$WORK/after-search.json"
check "search answers exactly as before gc" \
  bash -c "diff <(jq -c '[.[] | {chunk_id, score}]' '$WORK/before.json') <(jq -c '[.[] | {chunk_id, score}]' '$WORK/after-search.json')"
"$BIN" documents list --json > "$WORK/docs-after.json"
check "every live document is still listed" \
  bash -c "diff <(jq -c '[.documents[].document_id] | sort' '$WORK/docs-before.json') <(jq -c '[.documents[].document_id] | sort' '$WORK/docs-after.json')"
for f in "$WORK"/in/*.md; do
  sha=$(sha256sum "$f" | cut -d' ' -f1)
  [ -f "$INGESTD_DATA_DIR/blobs/${sha:0:2}/${sha:2:2}/$sha" ] || fail "blob of live $(basename "$f") removed"
done
pass "the blobs of live documents are kept"

mkdir -p "$WORK/empty"
set +e
(cd "$WORK/empty" && INGESTD_DATA_DIR="$WORK/empty/.ingestd" "$BIN" gc > "$WORK/nostore.out" 2>&1)
rc=$?
set -e
check "gc where no store exists exits non-zero (rc=$rc)" test "$rc" -ne 0
check "and creates no store" test ! -e "$WORK/empty/.ingestd/ingestd.db"
finish
