#!/usr/bin/env bash
# Issue 3's "done when": with both emulators started by `ingestd emulate` (billing logs on),
# OPENAI_BASE_URL / LLAMA_CLOUD_BASE_URL pointing at them and the real providers selected
# (INGESTD_PARSER=llamaparse, INGESTD_EMBEDDER=openai), `ingestd ingest` completes a folder of
# real documents (R manuals from Debian's r-doc-pdf, Markdown, text) and `ingestd costs --json`
# equals both emulators' billing exactly: OpenAI requests and tokens, LlamaParse jobs, pages and
# credits, and the USD of each (recomputed from the billing logs with the default prices:
# text-embedding-3-small $0.02 / 1M tokens rounded up once per ledger row, LlamaParse $1.25 per
# 1,000 credits), and total_usd. Then the same with seeded fault injection on both emulators
# (429, 500, 503, dropped connections, malformed bodies): every job still completes and the
# ledger still equals the billing (injected faults are not billed, retries are not double
# counted). Then INGESTD_MODE=mock runs the same remote path on in-process emulators, and
# INGESTD_MODE=hybrid with LlamaParse answering 503 to everything falls back to the local parser
# and says so in `jobs show` (document.parse_note).
# Usage: providers_costs_test.sh INGESTD SOURCE_DIR BINARY_DIR
source "$(dirname "$0")/../lib/common.sh"
need_file "$R_MANUALS/R-FAQ.pdf"
need_file "$R_MANUALS/R-data.pdf"

trap 'emulators_stop; rm -rf "$WORK"' EXIT
unset OPENAI_API_KEY OPENAI_BASE_URL LLAMA_CLOUD_API_KEY LLAMA_CLOUD_BASE_URL || true

# Fake keys built at run time (nothing key-shaped is committed).
OPENAI_KEY="emu-openai-$RANDOM$RANDOM"
LLAMA_KEY="emu-llama-$RANDOM$RANDOM"

# start_emulator NAME OUTFILE ARGS... : starts `ingestd emulate NAME` on port 0, sets PORT.
start_emulator() { emulator_start "$@"; }

docs="$WORK/docs"
mkdir -p "$docs"
cp "$R_MANUALS/R-FAQ.pdf" "$R_MANUALS/R-data.pdf" "$docs/"
printf '# Costs\n\nEvery unit of usage is recorded: tokens from usage, pages and credits from job metadata.\n' \
  > "$docs/costs.md"
printf 'Plain text about ledgers, budgets and rate limits.\n' > "$docs/notes.txt"
ndocs=$(find "$docs" -type f | wc -l)

# run_and_compare LABEL DATA_DIR OPENAI_PORT LLAMA_PORT OPENAI_LOG LLAMA_LOG
run_and_compare() {
  local label="$1" data="$2" oport="$3" lport="$4" olog="$5" llog="$6"
  export INGESTD_DATA_DIR="$data"
  export INGESTD_PARSER=llamaparse INGESTD_EMBEDDER=openai
  export OPENAI_API_KEY="$OPENAI_KEY" OPENAI_BASE_URL="http://127.0.0.1:$oport/v1"
  export LLAMA_CLOUD_API_KEY="$LLAMA_KEY" LLAMA_CLOUD_BASE_URL="http://127.0.0.1:$lport"
  # Fast stage retries so the fault run stays short (full jitter up to 0.5 s).
  export INGESTD_BACKOFF_BASE_MS=50 INGESTD_BACKOFF_CAP_MS=500
  # Small embedding calls: many requests (and ledger rows), so faults hit several of them.
  export INGESTD_EMBED_BATCH_SIZE=8
  set +e
  timeout 600 "$BIN" ingest "$docs" --json > "$WORK/$label.run.json" 2> "$WORK/$label.run.log"
  local rc=$?
  set -e
  if [ "$rc" -eq 0 ]; then pass "$label: ingest completed (rc=0)"; else fail "$label: ingest rc=$rc"; tail -20 "$WORK/$label.run.log"; fi
  "$BIN" costs --json > "$WORK/$label.costs.json" 2> "$WORK/$label.costs.log" || fail "$label: costs failed"
  local ostats lstats
  ostats="$(curl -sf "http://127.0.0.1:$oport/_emulator/stats")"
  lstats="$(curl -sf "http://127.0.0.1:$lport/_emulator/stats")"
  echo "$ostats" > "$WORK/$label.openai-stats.json"
  echo "$lstats" > "$WORK/$label.llama-stats.json"
  python3 - "$label" "$ndocs" "$WORK/$label.run.json" "$WORK/$label.costs.json" \
    "$WORK/$label.openai-stats.json" "$WORK/$label.llama-stats.json" "$olog" "$llog" \
    "$data/ingestd.db" <<'PY' \
    && pass "$label: costs --json equals both emulators' billing (requests, tokens, jobs, pages, credits, usd)" \
    || fail "$label: costs vs billing"
import json, sqlite3, sys
from decimal import Decimal
label, n, run, costs, ostats, lstats, olog, llog, db = sys.argv[1:]
run = json.load(open(run)); c = json.load(open(costs))
ostats = json.load(open(ostats)); lstats = json.load(open(lstats))
obill = [json.loads(l) for l in open(olog) if l.strip()]
lbill = [json.loads(l) for l in open(llog) if l.strip()]
assert run["documents"] == int(n) and run["completed"] == int(n) and run["failed"] == 0, run

# OpenAI: requests and tokens equal the billing log and the stats endpoint.
o = c["services"]["openai"]
assert o["requests"] == len(obill) == ostats["billed_requests"], (o, len(obill), ostats)
assert o["tokens"] == sum(r["tokens"] for r in obill) == ostats["billed_tokens"], (o, ostats)
# USD: tokens * 20 nano-dollars exactly, per ledger row (one row per Embed call, whose
# provider_request_id lists the billed requests): recomputed from the billing log. Released
# rows (calls the governor reserved that billed nothing: refused, failed, retried) cost 0.
tokens_by_id = {r["request_id"]: r["tokens"] for r in obill}
rows = sqlite3.connect(db).execute(
    "SELECT provider_request_id, tokens, cost_nanos FROM ledger WHERE service = 'openai' AND state = 'settled'").fetchall()
seen = []
onanos = 0
for ids, tokens, nanos in rows:
    ids = ids.split(",")
    seen += ids
    t = sum(tokens_by_id[i] for i in ids)
    assert tokens == t, (ids, tokens, t)
    assert nanos == t * 20, (ids, nanos, t)
    onanos += nanos
assert sorted(seen) == sorted(tokens_by_id), "ledger request ids differ from the billing log"
# Rows are exact, so their sum is the bill priced once: $0.02 per 1M billed tokens.
assert o["nanos"] == onanos == sum(r["tokens"] for r in obill) * 20, (o, onanos)

# LlamaParse: one ledger row per billed job; pages and credits equal the billing.
l = c["services"]["llamaparse"]
assert l["jobs"] == len(lbill) == lstats["billed_jobs"], (l, len(lbill), lstats)
assert l["pages"] == sum(r["pages"] for r in lbill) == lstats["pages_billed"], (l, lstats)
credits = sum(Decimal(str(r["credits"])) for r in lbill)
assert credits == int(credits) and l["credits"] == int(credits), (l, credits)
assert Decimal(str(lstats["credits_billed"])) == credits, (lstats, credits)
lnanos = int(credits) * 1250000  # $1.25 per 1,000 credits
assert l["nanos"] == lnanos, (l, lnanos)
assert sum(r["pages"] for r in lbill) > 50, "the R manuals were not parsed remotely"
jobs = {r["job_id"] for r in lbill}
got = {r[0] for r in sqlite3.connect(db).execute(
    "SELECT provider_request_id FROM ledger WHERE service = 'llamaparse' AND state = 'settled'")}
assert jobs == got, (jobs ^ got)

# Totals, exact in nanos; usd (the nearest double) within 1e-9 of the bill.
assert c["total_nanos"] == onanos + lnanos, (c["total_nanos"], onanos, lnanos)
assert abs(Decimal(str(c["total_usd"])) - Decimal(onanos + lnanos) / 10**9) < Decimal("1e-9"), c
assert abs(o["usd"] - onanos / 1e9) < 1e-12 and abs(l["usd"] - lnanos / 1e9) < 1e-12, c
assert c["reserved_nanos"] == 0, c
print(f"{label}: openai {o['requests']} requests {o['tokens']} tokens {onanos} nanos; "
      f"llamaparse {l['jobs']} jobs {l['pages']} pages {l['credits']} credits {lnanos} nanos; "
      f"total {c['total_usd']} USD; emulator requests openai={ostats['requests']} "
      f"llamaparse={lstats['requests']} faults={ostats['faults_injected']}+{lstats['faults_injected']}")
PY
}

# 1. Healthy emulators.
start_emulator openai "$WORK/o1.out" --api-key "$OPENAI_KEY" --billing-log "$WORK/o1.jsonl"
O1=$PORT
start_emulator llamaparse "$WORK/l1.out" --api-key "$LLAMA_KEY" --billing-log "$WORK/l1.jsonl" \
  --latency-ms 200 --latency-ms-per-page 2
L1=$PORT
run_and_compare clean "$WORK/data-clean" "$O1" "$L1" "$WORK/o1.jsonl" "$WORK/l1.jsonl"

# 2. Seeded faults on both: 429, 500, 503, dropped connections (and malformed JSON on OpenAI).
start_emulator openai "$WORK/o2.out" --api-key "$OPENAI_KEY" --billing-log "$WORK/o2.jsonl" \
  --seed 11 --fault-rate-429 0.08 --fault-rate-500 0.08 --fault-rate-503 0.06 \
  --fault-rate-drop 0.05 --fault-rate-malformed 0.05
O2=$PORT
start_emulator llamaparse "$WORK/l2.out" --api-key "$LLAMA_KEY" --billing-log "$WORK/l2.jsonl" \
  --latency-ms 200 --latency-ms-per-page 2 \
  --seed 11 --fault-rate-429 0.08 --fault-rate-500 0.08 --fault-rate-503 0.06 --fault-rate-drop 0.05
L2=$PORT
run_and_compare faults "$WORK/data-faults" "$O2" "$L2" "$WORK/o2.jsonl" "$WORK/l2.jsonl"
python3 - "$WORK/faults.openai-stats.json" "$WORK/faults.llama-stats.json" <<'PY' \
  && pass "faults: both emulators injected faults (so retries were exercised)" || fail "no faults injected"
import json, sys
o, l = (json.load(open(p)) for p in sys.argv[1:])
assert o["faults_injected"] > 0 and l["faults_injected"] > 0, (o, l)
assert o["requests"] > o["billed_requests"], o
PY

# 3. INGESTD_MODE=mock: no base URLs, no keys; in-process emulators on loopback. The remote path
# runs (LlamaParse uploads, OpenAI requests) and is recorded under mock services at no cost.
unset OPENAI_API_KEY OPENAI_BASE_URL LLAMA_CLOUD_API_KEY LLAMA_CLOUD_BASE_URL INGESTD_EMBEDDER
export INGESTD_MODE=mock INGESTD_PARSER=llamaparse INGESTD_DATA_DIR="$WORK/data-mock"
set +e
timeout 600 "$BIN" ingest "$docs" --json > "$WORK/mock.run.json" 2> "$WORK/mock.run.log"
rc=$?
set -e
check "mock: ingest completed without network or keys (rc=$rc)" test "$rc" -eq 0
"$BIN" costs --json > "$WORK/mock.costs.json" 2>> "$WORK/mock.run.log"
python3 - "$WORK/mock.run.json" "$WORK/mock.costs.json" "$ndocs" "$WORK/data-mock/ingestd.db" <<'PY' \
  && pass "mock: remote path ran on emulators; labelled mock:, zero cost, mock vector space" \
  || { fail "mock run"; tail -5 "$WORK/mock.run.log"; }
import json, sqlite3, sys
run, c = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
n, db = int(sys.argv[3]), sqlite3.connect(sys.argv[4])
assert run["completed"] == n and run["failed"] == 0, run
assert run["embedder"].startswith("mock:openai mock:text-embedding-3-small"), run["embedder"]
s = c["services"]
assert s["mock:llamaparse"]["jobs"] == n and s["mock:llamaparse"]["pages"] > 50, s
assert s["mock:openai"]["tokens"] > 0 and s["mock:openai"]["requests"] > 0, s
assert c["total_nanos"] == 0 and s["openai"]["requests"] == 0 and s["llamaparse"]["jobs"] == 0, c
parsers = {r[0] for r in db.execute("SELECT DISTINCT parser FROM documents")}
assert parsers == {"mock:llamaparse"}, parsers
models = {r[0] for r in db.execute("SELECT DISTINCT model FROM vectors")}
assert models == {"mock:text-embedding-3-small"}, models
PY

# 4. INGESTD_MODE=hybrid, LlamaParse down (every request 503): the documents fall back to the
# local parser on the configured attempt, nothing is billed, and `jobs show` carries the note.
unset INGESTD_MODE INGESTD_PARSER
start_emulator llamaparse "$WORK/l4.out" --api-key "$LLAMA_KEY" --billing-log "$WORK/l4.jsonl" \
  --fault-every 503:1
L4=$PORT
start_emulator openai "$WORK/o4.out" --api-key "$OPENAI_KEY"
O4=$PORT
export INGESTD_MODE=hybrid INGESTD_PARSER=llamaparse INGESTD_DATA_DIR="$WORK/data-hybrid"
export INGESTD_PARSE_FALLBACK_AFTER_ATTEMPTS=2
export OPENAI_API_KEY="$OPENAI_KEY" OPENAI_BASE_URL="http://127.0.0.1:$O4/v1"
export LLAMA_CLOUD_API_KEY="$LLAMA_KEY" LLAMA_CLOUD_BASE_URL="http://127.0.0.1:$L4"
set +e
timeout 300 "$BIN" ingest "$docs/costs.md" "$docs/R-data.pdf" --json > "$WORK/hybrid.run.json" \
  2> "$WORK/hybrid.run.log"
rc=$?
set -e
check "hybrid: ingest completed with LlamaParse down (rc=$rc)" test "$rc" -eq 0
"$BIN" jobs list --json > "$WORK/hybrid.jobs.json" 2>> "$WORK/hybrid.run.log"
for id in $(python3 -c "import json,sys; print(' '.join(j['job_id'] for j in json.load(open(sys.argv[1]))))" "$WORK/hybrid.jobs.json"); do
  "$BIN" jobs show "$id" --json > "$WORK/hybrid.show.$id.json" 2>> "$WORK/hybrid.run.log"
done
lstats="$(curl -sf "http://127.0.0.1:$L4/_emulator/stats")"
python3 - "$WORK/hybrid.run.json" "$lstats" "$WORK"/hybrid.show.*.json <<'PY' \
  && pass "hybrid: both documents fell back to the local parser, noted in jobs show, nothing billed" \
  || { fail "hybrid fallback"; tail -5 "$WORK/hybrid.run.log"; }
import json, sys
run, stats = json.load(open(sys.argv[1])), json.loads(sys.argv[2])
shows = [json.load(open(p)) for p in sys.argv[3:]]
assert run["completed"] == 2 and run["failed"] == 0, run
assert len(shows) == 2, len(shows)
for s in shows:
    d = s["document"]
    assert d["parser"].startswith("local:"), d
    assert d["parse_note"].startswith(
        "fell back to local parser: llamaparse unavailable (unavailable[server_error], attempt 2: "), d
assert stats["billed_jobs"] == 0 and stats["uploads"] == 0, stats
assert stats["by_status"]["503"] == 4, stats  # two attempts per document
PY
finish
