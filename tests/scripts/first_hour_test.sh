#!/usr/bin/env bash
# A new user's first hour (issue #24), each trap driven through the real binary:
#   - read commands never create a store; a search where none exists, or on an empty one, says
#     so on stderr and exits non-zero;
#   - `search` defaults to the only embedding space the store holds, names the spaces when there
#     are several, and --space picks one;
#   - missing input paths fail the run (listed); unsupported files found in folders are skipped
#     (counted, listed, exit 0), named explicitly they fail; --include/--exclude;
#   - budgets only for services that are billed;
#   - `config print` output is a valid configuration file; ./ingestd.toml is found;
#   - a wrong OpenAI base URL (closed port, or without /v1) stops the provider: `ingest` exits
#     75 within pipeline.stopped_provider_wait_s printing the URL and the cause, no document
#     fails; after the fix a plain re-run completes every document.
# Usage: first_hour_test.sh INGESTD SOURCE_DIR BINARY_DIR
source "$(dirname "$0")/../lib/common.sh"
trap 'emulators_stop; rm -rf "$WORK"' EXIT
unset OPENAI_API_KEY OPENAI_BASE_URL INGESTD_DATA_DIR XDG_CONFIG_HOME || true
export HOME="$WORK/home"
mkdir -p "$HOME"

# --- read commands never create a store ---------------------------------------------------------
mkdir -p "$WORK/empty"
cd "$WORK/empty"
set +e
"$BIN" search "hard budget" > out.txt 2> err.txt; rc=$?
set -e
check "search without a store exits non-zero (rc=$rc)" test "$rc" -ne 0
check "search without a store says no store exists there" grep -q "no store at .ingestd/ingestd.db" err.txt
check "search without a store prints no results line" test ! -s out.txt
for cmd in "jobs list" "costs" "budget show" "providers" "workers" "migrate status"; do
  set +e
  # shellcheck disable=SC2086
  "$BIN" $cmd > /dev/null 2> err.txt; rc=$?
  set -e
  check "'$cmd' without a store exits non-zero and says so (rc=$rc)" \
    bash -c "[ $rc -ne 0 ] && grep -q 'no store at' err.txt"
done
check "no read command created a store" test ! -e "$WORK/empty/.ingestd"

# --- budgets only for billed services --------------------------------------------------------
set +e
"$BIN" budget set --service opneai --period day --hard 1 > /dev/null 2> err.txt; rc=$?
set -e
check "budget set --service opneai refused (rc=$rc)" test "$rc" -ne 0
check "the refusal names the known services" grep -q "openai or llamaparse" err.txt
check "budget set --service openai accepted" "$BIN" budget set --service openai --period day --hard 1

# --- inputs: missing paths, skipped types, globs ----------------------------------------------
docs="$WORK/docs"
mkdir -p "$docs/sub"
printf '# Budgets\n\nA hard budget stops spending when the limit is reached.\n' > "$docs/budget.md"
printf 'Rate limits are shared by every worker through the store.\n' > "$docs/sub/limits.txt"
printf 'changes\n' | gzip -c > "$docs/changelog.gz"
printf 'changes\n' | gzip -c > "$docs/sub/changelog.Debian.gz"
export INGESTD_DATA_DIR="$WORK/data-local"
set +e
"$BIN" ingest "$docs" --json > run.json 2> run.log; rc=$?
set -e
check "folder with .gz files: exit 0 (rc=$rc)" test "$rc" -eq 0
python3 - run.json <<'PY' && pass "the .gz files are skipped, counted and listed; the documents complete" || fail "skipped summary: $(cat run.json)"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["completed"] == 2 and s["failed"] == 0, s
assert s["skipped"] == 2, s
names = sorted(x["path"].rsplit("/", 1)[1] for x in s["skipped_files"])
assert names == ["changelog.Debian.gz", "changelog.gz"], names
assert all(x["reason"].startswith("unsupported type") for x in s["skipped_files"]), s
PY
set +e
"$BIN" ingest "$docs/changelog.gz" --json > named.json 2> /dev/null; rc=$?
set -e
check "a .gz named explicitly fails (rc=$rc)" test "$rc" -eq 1
set +e
"$BIN" ingest "$WORK/no-such-folder" "$docs/budget.md" --json > missing.json 2> missing.log; rc=$?
set -e
check "a missing input path fails the run (rc=$rc)" test "$rc" -eq 1
python3 - missing.json <<'PY' && pass "the missing path is listed as a failure" || fail "missing path summary: $(cat missing.json)"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["failed"] == 1, s
f = s["failures"][0]
assert f["path"].endswith("no-such-folder") and f["code"] == "path_not_found", f
PY
set +e
"$BIN" ingest "$WORK/no-such-file.pdf" > /dev/null 2>&1; rc=$?
set -e
check "only missing paths: non-zero (rc=$rc)" test "$rc" -ne 0
INGESTD_DATA_DIR="$WORK/data-globs" "$BIN" ingest "$docs" --include '*.md' --json > globs.json 2> /dev/null
INGESTD_DATA_DIR="$WORK/data-globs2" "$BIN" ingest "$docs" --exclude 'sub/*' --exclude '*.gz' \
  --json > globs2.json 2> /dev/null
python3 - globs.json globs2.json <<'PY' && pass "--include and --exclude select files found in folders" || fail "globs"
import json, sys
inc = json.load(open(sys.argv[1]))
exc = json.load(open(sys.argv[2]))
assert inc["documents"] == 1 and inc["completed"] == 1, inc
assert any("--include" in x["reason"] for x in inc["skipped_files"]), inc
assert exc["documents"] == 1 and exc["completed"] == 1, exc
assert all("--exclude" in x["reason"] for x in exc["skipped_files"]), exc
PY

# --- search: the store's space, counts ------------------------------------------------------
"$BIN" search "hard budget limit" -k 1 > one.txt 2> /dev/null
check "one result is '1 result'" grep -q "^1 result in lexical-v1" one.txt
"$BIN" search --help > help.txt
check "search --help shows the default k" grep -q "default.*5\|=5" help.txt

# --- configuration: print round trip, discovery ---------------------------------------------
"$BIN" config print > p.toml
check "config print output is a valid configuration file" "$BIN" --config p.toml config check
mkdir -p "$WORK/project"
printf '[store]\ndata_dir = "%s"\n' "$WORK/data-local" > "$WORK/project/ingestd.toml"
(cd "$WORK/project" && env -u INGESTD_DATA_DIR "$BIN" search "hard budget" -k 1 > s.txt 2> s.err) \
  && pass "./ingestd.toml is found: search reads its store" || fail "discovery: $(cat "$WORK/project/s.err")"
(cd "$WORK/project" && env -u INGESTD_DATA_DIR "$BIN" config print) | grep -q "configuration file: ./ingestd.toml" \
  && pass "config print names the file it read" || fail "config print file line"
mkdir -p "$HOME/.config/ingestd" "$WORK/elsewhere"
cp "$WORK/project/ingestd.toml" "$HOME/.config/ingestd/ingestd.toml"
(cd "$WORK/elsewhere" && env -u INGESTD_DATA_DIR "$BIN" search "hard budget" -k 1 > /dev/null 2>&1) \
  && pass "\$XDG_CONFIG_HOME/ingestd/ingestd.toml (~/.config) is found" || fail "xdg discovery"
rm -rf "$HOME/.config/ingestd"

# --- provider mistakes: closed port, missing /v1 ---------------------------------------------
KEY="sk-emu-first-hour"
emulator_start openai "$WORK/emu.out" --api-key "$KEY"
closed_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
export INGESTD_DATA_DIR="$WORK/data-openai" INGESTD_EMBEDDER=openai OPENAI_API_KEY="$KEY"
export INGESTD_STOPPED_PROVIDER_WAIT_S=2
export OPENAI_BASE_URL="http://127.0.0.1:$closed_port/v1"
set +e
timeout 60 "$BIN" ingest "$docs" --json > down.json 2> down.log; rc=$?
set -e
check "closed port: ingest exits 75 (rc=$rc)" test "$rc" -eq 75
check "closed port: stderr names the URL" grep -q "http://127.0.0.1:$closed_port/v1/embeddings" down.log
check "closed port: stderr says connection refused" grep -qi "connection refused" down.log
check "closed port: stderr gives the next step" grep -q "run \`ingestd ingest\` again" down.log
check "closed port: the key never appears" bash -c "! grep -q '$KEY' down.log down.json"
python3 - down.json <<'PY' && pass "closed port: no document failed; both wait on the stopped provider" || fail "closed port summary: $(cat down.json)"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["failed"] == 0 and s["unfinished"] == 2, s
assert s["stopped_providers"] and "connection refused" in s["stopped_providers"][0].lower(), s
PY
# The README's mistake: a base URL without /v1.
export OPENAI_BASE_URL="$EMU_URL"
set +e
timeout 60 "$BIN" ingest "$docs" --json > nov1.json 2> nov1.log; rc=$?
set -e
check "base URL without /v1: ingest exits 75 (rc=$rc)" test "$rc" -eq 75
check "base URL without /v1: the hint asks about /v1" grep -q "does the base URL end in /v1?" nov1.log
# Fixed: a plain re-run completes every document.
export OPENAI_BASE_URL="$EMU_URL/v1"
set +e
timeout 120 "$BIN" ingest "$docs" --json > fixed.json 2> fixed.log; rc=$?
set -e
check "after the fix: ingest exits 0 (rc=$rc)" test "$rc" -eq 0
python3 - fixed.json <<'PY' && pass "after the fix: every document completes" || fail "fixed summary: $(cat fixed.json)"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["completed"] == 2 and s["failed"] == 0 and s["unfinished"] == 0, s
PY

# --- search picks the store's space; several spaces are named --------------------------------
unset INGESTD_EMBEDDER
"$BIN" search "hard budget" -k 2 > space.txt 2> space.err \
  && grep -q "in text-embedding-3-small" space.txt \
  && pass "plain search uses the store's only space (text-embedding-3-small)" \
  || fail "plain search in an openai-only store: $(cat space.err)"
printf 'Lexical notes about budgets.\n' > "$WORK/lexical.txt"
INGESTD_EMBEDDER=local "$BIN" ingest "$WORK/lexical.txt" > /dev/null 2>&1
set +e
"$BIN" search "budget" > two.txt 2> two.err; rc=$?
set -e
check "two spaces: plain search exits non-zero (rc=$rc)" test "$rc" -ne 0
check "two spaces: the error names both spaces and how to choose" \
  bash -c "grep -q 'text-embedding-3-small (1536 dims' two.err && grep -q 'lexical-v1 (384 dims' two.err && grep -q -- '--space' two.err"
"$BIN" search "budget" --space lexical-v1 -k 1 > lex.txt 2> lex.err \
  && grep -q "in lexical-v1" lex.txt && pass "--space lexical-v1 searches that space" \
  || fail "--space: $(cat lex.err)"
INGESTD_DATA_DIR="$WORK/data-empty-store" "$BIN" budget set --period day --hard 1 > /dev/null
set +e
INGESTD_DATA_DIR="$WORK/data-empty-store" "$BIN" search "x" > e.txt 2> e.err; rc=$?
set -e
check "a store with nothing indexed: search exits non-zero and says so (rc=$rc)" \
  bash -c "[ $rc -ne 0 ] && grep -q 'holds no searchable documents' e.err"

finish
