#!/usr/bin/env bash
# Issue 12's interface, from the command line: `ingestd budget set --period day --hard 0.05`, then
# `ingestd ingest` with INGESTD_PARSER=llamaparse on a mix of a PDF, text, Markdown and HTML
# against emulators that count non-PDF pages their own way (more pages than ingestd's bound,
# --non-pdf-page-bytes): what the servers billed is at most $0.05, `ingestd costs --json` equals
# it to the nano-dollar, the rest is `deferred` with a reason, and it completes once the cap is
# raised (every page parsed once, in order). Then a server that ignores max_pages: the overrun is
# settled as billed, the budget stops (`budget show` says so, jobs deferred `budget_stopped`)
# until `ingestd budget ack`.
# Usage: llamaparse_caps_test.sh INGESTD SOURCE_DIR BINARY_DIR
source "$(dirname "$0")/../lib/common.sh"
need_file "$REFCARDS/refcard-en-a4.pdf.gz"
trap 'emulators_stop; rm -rf "$WORK"' EXIT
unset OPENAI_API_KEY OPENAI_BASE_URL LLAMA_CLOUD_API_KEY LLAMA_CLOUD_BASE_URL || true

OPENAI_KEY="emu-openai-$RANDOM$RANDOM"
LLAMA_KEY="emu-llama-$RANDOM$RANDOM"
docs="$WORK/docs"
mkdir -p "$docs"
zcat "$REFCARDS/refcard-en-a4.pdf.gz" > "$docs/refcard.pdf"
python3 - "$docs" <<'PY'
import sys
d = sys.argv[1]
def words(tag, n):
    return " ".join(f"{tag}{i}" for i in range(n))
for k in range(3):
    with open(f"{d}/notes{k}.txt", "w") as f:
        for line in range(40):
            f.write(f"Line {line} of notes {k}: {words(f'n{k}w', 8)}.\n")
with open(f"{d}/guide.md", "w") as f:
    f.write("# Guide\n\n")
    for s in range(12):
        f.write(f"## Section {s}\n\n{words(f's{s}w', 30)}.\n\n")
with open(f"{d}/page.html", "w") as f:
    f.write("<html><body><h1>Page</h1>")
    for p in range(20):
        f.write(f"<p>{words(f'p{p}w', 25)}</p>")
    f.write("</body></html>")
PY

# run LABEL: ingest the folder; sets RC.
run() {
  set +e
  timeout 600 "$BIN" ingest "$docs" --json > "$WORK/$1.json" 2> "$WORK/$1.log"
  RC=$?
  set -e
}
# bill_check LABEL OPENAI_PORT LLAMA_PORT CAP_NANOS(0 = none): costs --json == the emulators' bill
# to the nano-dollar, and the bill is within the cap.
bill_check() {
  "$BIN" costs --json > "$WORK/$1.costs.json"
  curl -sf "http://127.0.0.1:$2/_emulator/stats" > "$WORK/$1.ostats.json"
  curl -sf "http://127.0.0.1:$3/_emulator/stats" > "$WORK/$1.lstats.json"
  python3 - "$WORK/$1.costs.json" "$WORK/$1.ostats.json" "$WORK/$1.lstats.json" "$4" <<'PY'
import json, sys
from decimal import Decimal
c, o, l = (json.load(open(p)) for p in sys.argv[1:4])
cap = int(sys.argv[4])
# $0.02 per 1M tokens = 20 nanos a token; $1.25 per 1,000 credits = 1,250,000 nanos a credit.
credits = Decimal(str(l["credits_billed"]))
assert credits == int(credits), credits
bill = o["billed_tokens"] * 20 + int(credits) * 1_250_000
assert c["reserved_nanos"] == 0, c
assert c["total_nanos"] == bill, (c["total_nanos"], bill, o, l)
assert abs(Decimal(str(c["total_usd"])) - Decimal(bill) / 10**9) <= Decimal("1e-9"), c
assert cap == 0 or bill <= cap, (bill, cap)
print(f"bill {bill} nanos (cap {cap}): {l['pages_billed']} pages, {o['billed_tokens']} tokens")
PY
}

emulator_start openai "$WORK/o.out" --api-key "$OPENAI_KEY"
OP=$PORT
# The server counts a non-PDF page per 400 bytes: several times ingestd's bound of 1 + 1/KiB.
emulator_start llamaparse "$WORK/l.out" --api-key "$LLAMA_KEY" --latency-ms 100 \
  --latency-ms-per-page 1 --non-pdf-page-bytes 400
LP=$PORT
export INGESTD_DATA_DIR="$WORK/data" INGESTD_PARSER=llamaparse INGESTD_EMBEDDER=openai
export OPENAI_API_KEY="$OPENAI_KEY" OPENAI_BASE_URL="http://127.0.0.1:$OP/v1"
export LLAMA_CLOUD_API_KEY="$LLAMA_KEY" LLAMA_CLOUD_BASE_URL="http://127.0.0.1:$LP"

check "budget set --period day --hard 0.05" "$BIN" budget set --period day --hard 0.05
run capped
check "capped: ingest exits 75 (work deferred by the budget), rc=$RC" test "$RC" -eq 75
bill_check capped "$OP" "$LP" 50000000 && pass "capped: bill <= \$0.05 and costs --json == bill" \
  || fail "capped: bill vs cap/ledger"
"$BIN" jobs list --json > "$WORK/capped.jobs.json"
python3 - "$WORK/capped.jobs.json" <<'PY' && pass "capped: the rest is deferred with reason budget_exceeded" || fail "capped: deferred jobs"
import json, sys
jobs = json.load(open(sys.argv[1]))
deferred = [j for j in jobs if j["state"] == "deferred"]
assert deferred, jobs
for j in deferred:
    assert j["defer_reason"] == "budget_exceeded", j
    assert "hard limit" in j["last_error_message"], j
assert all(j["state"] in ("deferred", "complete") for j in jobs), jobs
PY

check "raise the cap" "$BIN" budget set --period day --hard 5
run raised
check "raised: ingest completes (rc=$RC)" test "$RC" -eq 0
bill_check raised "$OP" "$LP" 0 && pass "raised: costs --json == bill to the nano-dollar" \
  || fail "raised: ledger vs bill"
python3 - "$WORK/data/ingestd.db" "$docs" <<'PY' && pass "every page parsed once, in order (server's own pagination)" || fail "pages"
import math, os, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for name, pages in db.execute("SELECT filename, page_count FROM documents"):
    if name.endswith(".pdf"):
        continue
    size = os.path.getsize(os.path.join(sys.argv[2], name))
    assert pages == math.ceil(size / 400), (name, pages, size)
billed = sum(r[0] for r in db.execute(
    "SELECT pages FROM ledger WHERE service = 'llamaparse' AND state = 'settled'"))
total = sum(r[0] for r in db.execute("SELECT page_count FROM documents"))
assert billed == total, (billed, total)
PY

# Reconciling with the providers' usage exports (per day and model): equal, then a tampered
# export shows the difference and exits 1.
curl -sf "http://127.0.0.1:$OP/_emulator/usage" > "$WORK/openai-usage.json"
curl -sf "http://127.0.0.1:$LP/_emulator/usage" > "$WORK/llama-usage.json"
set +e
"$BIN" costs reconcile --usage "$WORK/openai-usage.json" --usage "$WORK/llama-usage.json" \
  > "$WORK/reconcile.txt" 2>&1
rc=$?
set -e
check "costs reconcile: the ledger equals both usage exports (rc=$rc)" test "$rc" -eq 0
check "costs reconcile says so" grep -q "the ledger equals the usage export" "$WORK/reconcile.txt"
python3 - "$WORK/llama-usage.json" "$WORK/llama-usage-tampered.csv" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))["data"]
with open(sys.argv[2], "w") as f:
    f.write("date,pages,credits\n")
    for i, r in enumerate(rows):
        extra = 1 if i == 0 else 0
        f.write(f"{r['date']},{r['pages'] + extra},{int(r['credits']) + 3 * extra}\n")
PY
set +e
"$BIN" costs reconcile --usage "$WORK/openai-usage.json" --usage "$WORK/llama-usage-tampered.csv" \
  --json > "$WORK/reconcile2.json" 2>&1
rc=$?
set -e
check "costs reconcile: a differing export exits 1 (rc=$rc)" test "$rc" -eq 1
check "costs reconcile names the differing day" python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
assert not r['equal'] and len(r['differences']) == 1, r
d = r['differences'][0]
assert d['service'] == 'llamaparse' and d['provider']['credits'] == d['ledger']['credits'] + 3, d
assert d['provider']['nanos'] - d['ledger']['nanos'] == 3 * 1250000, d
" "$WORK/reconcile2.json"

# A server that ignores max_pages bills more than was reserved: an incident.
emulators_stop
emulator_start openai "$WORK/o2.out" --api-key "$OPENAI_KEY"
OP=$PORT
emulator_start llamaparse "$WORK/l2.out" --api-key "$LLAMA_KEY" --latency-ms 100 \
  --latency-ms-per-page 1 --non-pdf-page-bytes 400 --ignore-max-pages
LP=$PORT
export INGESTD_DATA_DIR="$WORK/data2" OPENAI_BASE_URL="http://127.0.0.1:$OP/v1" \
  LLAMA_CLOUD_BASE_URL="http://127.0.0.1:$LP" INGESTD_WORKERS=1
check "budget set (fresh store)" "$BIN" budget set --period day --hard 5
run overrun
check "overrun: ingest stops with work deferred (rc=$RC)" test "$RC" -eq 75
bill_check overrun "$OP" "$LP" 0 && pass "overrun: settled as billed (costs --json == bill)" \
  || fail "overrun: ledger vs bill"
"$BIN" budget show > "$WORK/overrun.show.txt"
check "budget show says STOPPED" grep -q "^STOPPED global day budget since " "$WORK/overrun.show.txt"
check "budget show says how to acknowledge" grep -q "ingestd budget ack --period day" "$WORK/overrun.show.txt"
"$BIN" budget show --json > "$WORK/overrun.show.json"
"$BIN" jobs list --json > "$WORK/overrun.jobs.json"
python3 - "$WORK/overrun.show.json" "$WORK/overrun.jobs.json" <<'PY' && pass "overrun: budget stopped (json), jobs deferred budget_stopped" || fail "overrun state"
import json, sys
b = json.load(open(sys.argv[1]))[0]
assert b["stopped"] and b["level"] == "stopped" and b["overrun_nanos"] > 0, b
assert "reserved" in b["stop_reason"], b
jobs = json.load(open(sys.argv[2]))
assert any(j["defer_reason"] == "budget_stopped" for j in jobs), jobs
PY
check "budget ack --period day" "$BIN" budget ack --period day
"$BIN" budget show --json > "$WORK/acked.show.json"
check "after ack: not stopped" python3 -c "import json,sys; b=json.load(open(sys.argv[1]))[0]; assert not b['stopped'] and b['level'] != 'stopped', b" "$WORK/acked.show.json"

emulators_stop
finish
