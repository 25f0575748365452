#!/usr/bin/env bash
# The governor from the command line (docs/costs.md): `ingestd budget set|show`, a hard budget
# that stops spending with jobs deferred (reason shown in `jobs list --json`), raising it and
# resuming, the ledger equal to the emulator's bill, `providers` after a quota stop and
# `providers resume`.
# Usage: budget_cli_test.sh INGESTD SOURCE_DIR BINARY_DIR
source "$(dirname "$0")/../lib/common.sh"
trap 'emulators_stop; rm -rf "$WORK"' EXIT
EMU_RUN=0
start_emu() {  # start_emu FLAGS... -> PORT
  EMU_RUN=$((EMU_RUN + 1))
  emulator_start openai "$WORK/emu$EMU_RUN.out" "$@"
}

docs="$WORK/docs"
mkdir -p "$docs"
python3 - "$docs" <<'PY'
import sys, random
random.seed(5)
words = [f"term{i}" for i in range(5000)]
for d in range(12):
    with open(f"{sys.argv[1]}/doc{d:02}.md", "w") as f:
        f.write(f"# Document {d}\n\n")
        for p in range(4):
            f.write(" ".join(random.choice(words) for _ in range(60)) + ".\n\n")
PY

start_emu --api-key emu-key
export INGESTD_DATA_DIR="$WORK/data" INGESTD_EMBEDDER=openai OPENAI_API_KEY=emu-key \
  OPENAI_BASE_URL="http://127.0.0.1:$PORT/v1"
# $20 per 1M tokens so a few thousand tokens make a visible bill.
export INGESTD_PRICING_EMBEDDING_PER_1M_USD="text-embedding-3-small=20"

# A read command never creates a store: before anything exists, `budget show` says so.
check "budget show without a store: exit 1, no store created" \
  bash -c "out=\$('$BIN' budget show --json 2>&1); rc=\$?; [ \$rc -ne 0 ] && echo \"\$out\" | grep -q 'no store at' && [ ! -e '$WORK/data' ]"
"$BIN" budget set --period day --hard 100 > /dev/null && "$BIN" budget delete --period day > /dev/null
check "budget show: none yet" bash -c "'$BIN' budget show --json | python3 -c 'import json,sys; assert json.load(sys.stdin) == []'"
check "budget set rejects a bad amount" bash -c "! '$BIN' budget set --period day --hard 1,5 2>/dev/null"
check "budget set: global day \$0.03" "$BIN" budget set --period day --hard 0.03 --soft 0.5

set +e
"$BIN" ingest "$docs" --json > "$WORK/run1.json" 2> "$WORK/run1.log"
rc=$?
set -e
check "over budget: ingest exits 75 (deferred)" test "$rc" -eq 75
"$BIN" jobs list --json > "$WORK/jobs1.json"
"$BIN" budget show --json > "$WORK/budget1.json"
"$BIN" costs --json > "$WORK/costs1.json"
python3 - "$WORK" <<'PY' && pass "spend <= cap; deferred jobs say budget_exceeded; budget shows level hard/soft" || fail "budget cap"
import json, sys
w = sys.argv[1]
jobs = json.load(open(f"{w}/jobs1.json"))
budget = json.load(open(f"{w}/budget1.json"))
costs = json.load(open(f"{w}/costs1.json"))
deferred = [j for j in jobs if j["state"] == "deferred"]
assert deferred, jobs
for j in deferred:
    assert j["defer_reason"] == "budget_exceeded", j
    for k in ("job_id", "document_id", "filename", "stage", "attempts", "last_error_code", "cost_usd"):
        assert k in j, (k, j)
assert len(budget) == 1, budget
b = budget[0]
assert b["scope"] == "global" and b["period"] == "day" and b["hard_nanos"] == 30000000, b
assert b["spent_nanos"] <= 30000000 and b["spent_nanos"] > 0, b
assert b["level"] in ("soft", "hard"), b
assert costs["total_nanos"] == b["spent_nanos"], (costs, b)
assert costs["total_nanos"] <= 30000000, costs
PY

check "raise the budget" "$BIN" budget set --period day --hard 5
set +e
"$BIN" ingest "$docs" --json > "$WORK/run2.json" 2> "$WORK/run2.log"
rc=$?
set -e
check "after raising: ingest completes (rc=0)" test "$rc" -eq 0
"$BIN" costs --json > "$WORK/costs2.json"
stats="$(curl -sf "http://127.0.0.1:$PORT/_emulator/stats")"
python3 - "$WORK/costs2.json" "$stats" <<'PY' && pass "ledger equals the emulator's bill (tokens, requests); nothing left reserved" || fail "ledger vs bill"
import json, sys
c = json.load(open(sys.argv[1])); s = json.loads(sys.argv[2])
o = c["services"]["openai"]
assert o["tokens"] == s["billed_tokens"], (o, s)
assert o["requests"] == s["billed_requests"], (o, s)
assert c["reserved_nanos"] == 0, c
PY
check "costs --by tenant" bash -c "'$BIN' costs --by tenant --json | python3 -c 'import json,sys; g=json.load(sys.stdin)[\"groups\"]; assert g and g[0][\"key\"]==\"default\", g'"
check "budget delete" "$BIN" budget delete --period day
emulators_stop

# Quota: the first insufficient_quota stops the provider; `providers` shows it; resume clears it.
rm -rf "$WORK/data"
start_emu --api-key emu-key --quota-tokens 400
export OPENAI_BASE_URL="http://127.0.0.1:$PORT/v1"
set +e
"$BIN" ingest "$docs" --json --workers 2 > "$WORK/run3.json" 2> "$WORK/run3.log"
rc=$?
set -e
check "quota exhausted: ingest exits 75" test "$rc" -eq 75
"$BIN" providers --json > "$WORK/prov.json"
stats="$(curl -sf "http://127.0.0.1:$PORT/_emulator/stats")"
python3 - "$WORK/prov.json" "$stats" <<'PY' && pass "openai stopped with insufficient_quota; at most one refusal per worker reached the provider" || fail "provider stop"
import json, sys
p = json.load(open(sys.argv[1])); s = json.loads(sys.argv[2])
stopped = [x for x in p["providers"] if x["provider"] == "openai"]
assert stopped and stopped[0]["stopped"] and stopped[0]["reason"] == "insufficient_quota", p
assert 1 <= s["rate_limited"] <= 2, s
PY
check "providers resume" "$BIN" providers resume openai
check "after resume: not stopped" bash -c "'$BIN' providers --json | python3 -c 'import json,sys; p=json.load(sys.stdin)[\"providers\"]; assert not any(x[\"stopped\"] for x in p), p'"
finish
