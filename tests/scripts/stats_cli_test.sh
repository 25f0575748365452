#!/usr/bin/env bash
# `ingestd stats [--json]` (src/ingest/app/cmd_stats.cc): the health summary agrees with the
# store (jobs by state, dead letters, stopped provider, budget level) and its exit status is 0
# when healthy, 1 when a problem is listed.
# Usage: stats_cli_test.sh INGESTD SOURCE_DIR BINARY_DIR
source "$(dirname "$0")/../lib/common.sh"
trap 'emulators_stop; rm -rf "$WORK"' EXIT
export INGESTD_DATA_DIR="$WORK/data"
mkdir -p "$WORK/in"
printf '# One\n\nA healthy document.\n' > "$WORK/in/one.md"
printf '%%PDF-1.4\nnot a pdf\n' > "$WORK/in/bad.pdf"
"$BIN" ingest "$WORK/in" > /dev/null 2>&1 || true

check "healthy store: exit 0" "$BIN" stats
"$BIN" stats --json > "$WORK/s1.json"
check "jobs by state" jq -e '.ok == true and .jobs.complete == 1 and .jobs.failed == 1 and .dead_jobs == 0 and .problems == []' "$WORK/s1.json"

# A stopped provider and a full budget are problems: exit 1, both listed.
emulator_start openai "$WORK/emu.out" --fault-invalid-key
INGESTD_EMBEDDER=openai OPENAI_API_KEY=k OPENAI_BASE_URL="$EMU_URL/v1" \
  "$BIN" ingest "$WORK/in/one.md" > /dev/null 2>&1 || true
printf '# Two\n\nNeeds the provider.\n' > "$WORK/two.md"
INGESTD_EMBEDDER=openai OPENAI_API_KEY=k OPENAI_BASE_URL="$EMU_URL/v1" \
  "$BIN" ingest "$WORK/two.md" > /dev/null 2>&1 || true
"$BIN" budget set --period day --hard 0 > /dev/null
set +e
"$BIN" stats --json > "$WORK/s2.json"
rc=$?
set -e
check "problems: exit 1" test "$rc" -eq 1
check "stopped provider listed" jq -e '.ok == false and (.providers_stopped[0].provider == "openai") and (.providers_stopped[0].reason == "invalid_api_key")' "$WORK/s2.json"
check "budget at its hard limit listed" jq -e '[.problems[] | select(test("global budget \\(day\\) at its hard limit"))] | length == 1' "$WORK/s2.json"
check "deferred job counted" jq -e '.jobs.deferred == 1' "$WORK/s2.json"
check "text output names the problems" bash -c "'$BIN' stats | grep -q 'provider openai stopped (invalid_api_key)'"
finish
