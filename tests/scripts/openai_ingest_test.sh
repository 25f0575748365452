#!/usr/bin/env bash
# End-to-end: `ingestd ingest` with the OpenAI embedder against `ingestd emulate openai` on a free
# port. Checks the run completes every document, the tokens ingestd reports equal what the
# emulator billed, the searches work in the OpenAI vector space, and a wrong key fails clearly.
# Usage: openai_ingest_test.sh INGESTD SOURCE_DIR BINARY_DIR
set -euo pipefail
BIN="$(readlink -f "$1")"
SRC="$(readlink -f "$2")"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ingestd-openai.XXXXXX")"
EMU_PID=""
cleanup() {
  if [ -n "$EMU_PID" ]; then kill "$EMU_PID" 2>/dev/null || true; wait "$EMU_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
unset INGESTD_CONFIG INGESTD_PROFILE INGESTD_STORE INGESTD_MODE INGESTD_PARSER INGESTD_EMBEDDER \
  OPENAI_API_KEY OPENAI_BASE_URL || true
export INGESTD_LOG_FORMAT=json INGESTD_LOG_LEVEL=warn

failures=0
pass() { echo "ok   - $*"; }
fail() { echo "FAIL - $*"; failures=$((failures + 1)); }
check() { local what="$1"; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }

KEY="sk-emu-script-1"
"$BIN" emulate openai --port 0 --api-key "$KEY" --billing-log "$WORK/billing.jsonl" \
  > "$WORK/emu.out" 2> "$WORK/emu.err" &
EMU_PID=$!
PORT=""
for _ in $(seq 1 100); do
  line="$(head -n 1 "$WORK/emu.out" 2>/dev/null || true)"
  if [[ "$line" =~ ^listening\ on\ http://127\.0\.0\.1:([0-9]+)$ ]]; then PORT="${BASH_REMATCH[1]}"; break; fi
  sleep 0.1
done
if [ -z "$PORT" ]; then echo "FAIL - emulator did not print its port"; cat "$WORK/emu.err"; exit 1; fi
pass "emulator listening on port $PORT"

docs="$WORK/docs"
mkdir -p "$docs"
cp -r "$SRC/examples/." "$docs/" 2>/dev/null || true
printf '# Notes\n\nThe quick brown fox jumps over the lazy dog.\n\nEmbeddings map text to vectors.\n' \
  > "$docs/notes.md"
printf 'Plain text about retrieval augmented generation and vector search.\n' > "$docs/plain.txt"
ndocs=$(find "$docs" -type f | wc -l)

export INGESTD_DATA_DIR="$WORK/data"
export INGESTD_EMBEDDER=openai OPENAI_API_KEY="$KEY" OPENAI_BASE_URL="http://127.0.0.1:$PORT/v1"
set +e
"$BIN" ingest "$docs" --json > "$WORK/run.json" 2> "$WORK/run.log"
rc=$?
set -e
if [ "$rc" -eq 0 ]; then pass "ingest completed (rc=0)"; else fail "ingest rc=$rc"; tail -20 "$WORK/run.log"; fi

stats="$(curl -sf "http://127.0.0.1:$PORT/_emulator/stats" || echo '{}')"
python3 - "$WORK/run.json" "$ndocs" "$stats" <<'PY' && pass "every document complete; tokens embedded equal the emulator's billed tokens" || fail "summary vs emulator stats"
import json, sys
s = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
stats = json.loads(sys.argv[3])
assert s["documents"] == n and s["completed"] == n and s["failed"] == 0, s
assert s["chunks"] > 0, s
assert s["embedder"] == "openai text-embedding-3-small (1536 dims)", s["embedder"]
assert stats["billed_tokens"] > 0 and stats["billed_requests"] >= 1, stats
assert s["tokens_embedded"] == stats["billed_tokens"], (s["tokens_embedded"], stats)
assert stats["requests"] == stats["billed_requests"], stats   # no failed calls, no retries
PY

# Costs (docs/costs.md): one ledger row per Embed call, whose tokens are the provider-reported
# tokens of that call's HTTP requests (provider_request_id lists their ids) and whose cost is
# exactly tokens * 20 nano-dollars ($0.02 per 1M tokens), no rounding. The expected total is
# recomputed from the emulator's billing log grouped by those request ids.
if "$BIN" costs --json > "$WORK/costs.json" 2> "$WORK/costs.log"; then
  python3 - "$WORK/costs.json" "$stats" "$WORK/billing.jsonl" "$WORK/data/ingestd.db" <<'PY' \
    && pass "costs: openai tokens/requests equal the emulator's billing; nanos exact per ledger row" \
    || fail "costs vs emulator billing"
import json, sqlite3, sys
c = json.load(open(sys.argv[1]))
stats = json.loads(sys.argv[2])
billed = {}
for line in open(sys.argv[3]):
    if line.strip():
        r = json.loads(line)
        billed[r["request_id"]] = r["tokens"]
o = c["services"]["openai"]
assert o["tokens"] == stats["billed_tokens"] == sum(billed.values()), (o, stats)
assert o["requests"] == stats["billed_requests"] == len(billed), (o, stats)
rows = sqlite3.connect(sys.argv[4]).execute(
    "SELECT provider_request_id, tokens, cost_nanos FROM ledger WHERE service = 'openai'").fetchall()
assert rows, "no openai ledger rows"
expected = 0
seen = set()
for ids, tokens, nanos in rows:
    ids = ids.split(",")
    assert not seen.intersection(ids), ids
    seen.update(ids)
    row_tokens = sum(billed[i] for i in ids)
    assert tokens == row_tokens, (ids, tokens, row_tokens)
    assert nanos == row_tokens * 20, (ids, nanos, row_tokens)  # exact, no rounding
    expected += nanos
assert seen == set(billed), "ledger request ids differ from the billing log"
assert expected == sum(billed.values()) * 20, (expected, sum(billed.values()))
assert o["nanos"] == expected and c["total_nanos"] == expected, (o, c["total_nanos"], expected)
assert abs(o["usd"] - expected / 1e9) < 1e-12 and abs(c["total_usd"] - expected / 1e9) < 1e-12, c
assert c["reserved_nanos"] == 0 and c["services"]["llamaparse"]["jobs"] == 0, c
PY
else
  fail "costs failed: $(tail -3 "$WORK/costs.log")"
fi
"$BIN" costs --by document --json > "$WORK/costs_by.json" 2>> "$WORK/costs.log" \
  && python3 - "$WORK/costs_by.json" <<'PY' && pass "costs --by document: groups sum to the total" || fail "costs --by document"
import json, sys
c = json.load(open(sys.argv[1]))
g = c["groups"]
assert g and all(x["key"] for x in g), g
assert sum(x["nanos"] for x in g) == c["total_nanos"], c
assert sum(x["tokens"] for x in g) == c["services"]["openai"]["tokens"], c
PY

if "$BIN" search "quick brown fox" -k 3 --json > "$WORK/search.json" 2> "$WORK/search.log"; then
  python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert r" "$WORK/search.json" \
    && pass "search in the openai space returns results" || fail "search results"
else
  fail "search failed: $(tail -3 "$WORK/search.log")"
fi

# A wrong key: the call is refused once (401, not retried) and the job is deferred as a
# configuration problem with reason invalid_api_key (an operator must act); `ingest` stops
# waiting for it by itself, lists it under "deferred" and exits 75.
export INGESTD_DATA_DIR="$WORK/data-badkey" OPENAI_API_KEY="sk-wrong-key-00"
export INGESTD_STOPPED_PROVIDER_WAIT_S=1  # how long ingest waits for a stopped provider
before="$(curl -sf "http://127.0.0.1:$PORT/_emulator/stats")"
set +e
timeout 30 "$BIN" ingest "$docs/notes.md" --json > "$WORK/bad.json" 2> "$WORK/bad.log"
bad_rc=$?
"$BIN" jobs list --json > "$WORK/badjobs.json" 2>> "$WORK/bad.log"
set -e
check "wrong key: ingest returns 75 on its own (rc=$bad_rc)" test "$bad_rc" -eq 75
python3 - "$WORK/bad.json" <<'PY' && pass "wrong key: summary lists the deferred document" || fail "deferred summary"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["failed"] == 0 and s["unfinished"] == 1, s
assert s["deferred"][0]["code"] == "invalid_api_key" and s["deferred"][0]["path"].endswith("notes.md"), s
PY
after="$(curl -sf "http://127.0.0.1:$PORT/_emulator/stats")"
python3 - "$WORK/badjobs.json" "$before" "$after" <<'PY' && pass "wrong key: one 401, job deferred with invalid_api_key" || { fail "wrong key"; tail -5 "$WORK/bad.log"; }
import json, sys
jobs = json.load(open(sys.argv[1]))
before, after = json.loads(sys.argv[2]), json.loads(sys.argv[3])
assert len(jobs) == 1, jobs
j = jobs[0]
assert j["state"] == "deferred" and j["last_error_code"] == "invalid_api_key", j
assert j["last_error_stage"] == "embed", j
assert "wrong-key" not in json.dumps(j), "key leaked into the job row"
new_401 = after["by_status"].get("401", 0) - before["by_status"].get("401", 0)
assert new_401 == 1, (before, after)
assert after["billed_tokens"] == before["billed_tokens"], (before, after)
PY

unset OPENAI_API_KEY
export INGESTD_DATA_DIR="$WORK/data-nokey"
set +e
timeout 60 "$BIN" ingest "$docs/notes.md" > /dev/null 2> "$WORK/nokey.log"
rc=$?
set -e
if [ "$rc" -ne 0 ] && grep -q "OPENAI_API_KEY" "$WORK/nokey.log"; then
  pass "missing key refused, naming OPENAI_API_KEY"
else
  fail "missing key: rc=$rc"
fi

if [ "$failures" -ne 0 ]; then echo "$failures check(s) failed"; exit 1; fi
echo "all checks passed"
