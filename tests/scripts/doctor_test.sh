#!/usr/bin/env bash
# `ingestd --version`, `ingestd version --json` and `ingestd doctor` from the real binary:
# the JSON contract, exit codes, a failing data directory, a world-readable key file, a taken
# listen address, `serve`/`worker` refusing to start on a failed preflight, --online against the
# emulators (good and rejected keys), and a PostgreSQL schema behind `migrate up` when
# INGESTD_TEST_PG_URL is set. Secrets must never appear in any output.
source "$(dirname "$0")/../lib/common.sh"
cleanup() { emulators_stop; [ -n "${PGDB:-}" ] && psql "$INGESTD_TEST_PG_URL" -XAtq -c "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" >/dev/null 2>&1; rm -rf "$WORK"; }
trap cleanup EXIT
export INGESTD_DATA_DIR="$WORK/data"
chmod 0755 "$WORK"  # so a 0644 file in it is readable by others

# --- version ---------------------------------------------------------------------------------
line="$("$BIN" --version)"
check "--version prints one line: $line" test "$(printf '%s\n' "$line" | wc -l)" -eq 1
[[ "$line" =~ ^ingestd\ [0-9]+\.[0-9]+\.[0-9]+\ \(commit\ [^,]+,\ [A-Za-z]+\)$ ]] \
  && pass "--version names version, commit and build type" || fail "--version format: $line"
"$BIN" version --json > "$WORK/version.json"
python3 - "$WORK/version.json" "$line" <<'PY' && pass "version --json has every field" || fail "version --json"
import json, sys
v = json.load(open(sys.argv[1]))
for k in ("version", "commit", "build_type", "compiler", "schema_version", "features"):
    assert k in v, k
assert isinstance(v["schema_version"], int) and v["schema_version"] >= 1, v
assert "store:postgresql" in v["features"] and "parser:llamaparse" in v["features"], v
assert v["version"] in sys.argv[2] and v["commit"] in sys.argv[2], (v, sys.argv[2])
PY

# --- doctor: a fresh development setup passes --------------------------------------------------
doctor_json() {  # doctor_json OUT [args...]: runs doctor --json, sets RC
  local out="$1"; shift
  set +e; "$BIN" doctor --json "$@" > "$out" 2> "$out.err"; RC=$?; set -e
}
status_of() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(next((c["status"] for c in d["checks"] if c["name"]==sys.argv[2]), "absent"))' "$1" "$2"; }
doctor_json "$WORK/fresh.json" --listen 127.0.0.1:0
check "doctor on a fresh setup exits 0 (rc=$RC)" test "$RC" -eq 0
python3 - "$WORK/fresh.json" <<'PY' && pass "doctor --json: {ok, checks: [{name, status, detail, hint}]}" || fail "doctor json shape"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is True, d
names = [c["name"] for c in d["checks"]]
for n in ("config", "profile", "store", "schema", "data_dir", "free_space", "listen"):
    assert n in names, (n, names)
for c in d["checks"]:
    assert set(c) == {"name", "status", "detail", "hint"}, c
    assert c["status"] in ("ok", "warn", "fail"), c
    assert c["detail"], c
PY
check "doctor created no database" test ! -e "$WORK/data/ingestd.db"
"$BIN" doctor --listen 127.0.0.1:0 > "$WORK/fresh.txt"
grep -q '^ready: ' "$WORK/fresh.txt" && pass "text output ends with the verdict" || fail "text verdict: $(tail -1 "$WORK/fresh.txt")"

# --- a data directory that cannot be created -------------------------------------------------
echo "a file" > "$WORK/plainfile"
INGESTD_DATA_DIR="$WORK/plainfile/data" doctor_json "$WORK/baddir.json" --listen 127.0.0.1:0
check "unwritable data dir: exit 1 (rc=$RC)" test "$RC" -eq 1
check "unwritable data dir: data_dir fails" test "$(status_of "$WORK/baddir.json" data_dir)" = fail
set +e
INGESTD_DATA_DIR="$WORK/plainfile/data" "$BIN" serve --listen 127.0.0.1:0 > "$WORK/serve.out" 2> "$WORK/serve.err"
rc=$?
INGESTD_DATA_DIR="$WORK/plainfile/data" "$BIN" worker > /dev/null 2> "$WORK/worker.err"
wrc=$?
set -e
check "serve refuses to start on a failed preflight (rc=$rc)" test "$rc" -eq 2
grep -q "preflight check data_dir failed" "$WORK/serve.err" && pass "serve names the failed check and its fix" || fail "serve stderr: $(cat "$WORK/serve.err")"
check "worker refuses to start on a failed preflight (rc=$wrc)" test "$wrc" -eq 2

# --- secrets: where from, never printed, world-readable file fails -----------------------------
KEY="sk-doctor-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$KEY" > "$WORK/openai.key"
chmod 0644 "$WORK/openai.key"
export INGESTD_EMBEDDER=openai OPENAI_API_KEY_FILE="$WORK/openai.key"
doctor_json "$WORK/open.json" --listen 127.0.0.1:0
check "world-readable key file: exit 1 (rc=$RC)" test "$RC" -eq 1
check "world-readable key file: secret check fails" test "$(status_of "$WORK/open.json" secret:openai.api_key)" = fail
chmod 0600 "$WORK/openai.key"
doctor_json "$WORK/closed.json" --listen 127.0.0.1:0
check "0600 key file: secret check ok" test "$(status_of "$WORK/closed.json" secret:openai.api_key)" = ok
grep -q "OPENAI_API_KEY_FILE" "$WORK/closed.json" && pass "the detail says where the key came from" || fail "no origin in $(cat "$WORK/closed.json")"

# --- the listen address is taken ---------------------------------------------------------------
emulator_start openai "$WORK/emu-openai.out" --api-key "$KEY"
OPENAI_URL="$EMU_URL"
doctor_json "$WORK/taken.json" --listen "127.0.0.1:$PORT"
check "taken listen address: listen fails" test "$(status_of "$WORK/taken.json" listen)" = fail
check "taken listen address: exit 1 (rc=$RC)" test "$RC" -eq 1

# --- --online against the emulators ------------------------------------------------------------
LLX="llx-doctor-$RANDOM$RANDOM"
emulator_start llamaparse "$WORK/emu-llama.out" --api-key "$LLX"
printf '%s\n' "$LLX" > "$WORK/llama.key"
chmod 0600 "$WORK/llama.key"
export OPENAI_BASE_URL="$OPENAI_URL/v1" LLAMA_CLOUD_BASE_URL="$EMU_URL" LLAMA_CLOUD_API_KEY_FILE="$WORK/llama.key" INGESTD_PARSER=llamaparse
doctor_json "$WORK/online.json" --online --listen 127.0.0.1:0
check "--online with good keys: exit 0 (rc=$RC)" test "$RC" -eq 0
check "--online: openai ok" test "$(status_of "$WORK/online.json" online:openai)" = ok
check "--online: llamaparse ok" test "$(status_of "$WORK/online.json" online:llamaparse)" = ok
printf 'sk-rotated-but-wrong\n' > "$WORK/openai.key"
doctor_json "$WORK/rejected.json" --online --listen 127.0.0.1:0
check "--online with a rejected key: exit 1 (rc=$RC)" test "$RC" -eq 1
check "--online: openai fails on 401" test "$(status_of "$WORK/rejected.json" online:openai)" = fail
if grep -rqF -e "$KEY" -e "$LLX" -e "sk-rotated-but-wrong" "$WORK"/*.json "$WORK"/*.err "$WORK"/*.txt; then
  fail "a secret appeared in doctor output"
else
  pass "no secret in any doctor output"
fi
emulators_stop
unset INGESTD_EMBEDDER OPENAI_API_KEY_FILE OPENAI_BASE_URL LLAMA_CLOUD_BASE_URL LLAMA_CLOUD_API_KEY_FILE INGESTD_PARSER

# --- [[budget]] tables: checked by doctor, applied at every start, the file wins over the CLI ----
cat > "$WORK/budgets.toml" <<'TOML'
[[budget]]
hard = "2.50"

[[budget]]
scope = "service"
key = "openai"
period = "month"
hard = "10"
TOML
export INGESTD_DATA_DIR="$WORK/budget-data"
doctor_json "$WORK/budgets.json" --config "$WORK/budgets.toml" --worker
check "doctor: budgets ok" test "$(status_of "$WORK/budgets.json" budgets)" = ok
run_worker_briefly() {
  "$BIN" --config "$WORK/budgets.toml" worker > /dev/null 2> "$WORK/worker-budget.err" &
  local pid=$!
  for _ in $(seq 1 100); do grep -q "worker started" "$WORK/worker-budget.err" 2>/dev/null && break; sleep 0.1; done
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
global_hard() { "$BIN" --config "$WORK/budgets.toml" budget show --json | python3 -c 'import json,sys; print(next(b["hard_nanos"] for b in json.load(sys.stdin) if b["scope"]=="global"))'; }
INGESTD_LOG_LEVEL=info run_worker_briefly
check "worker start applied both budgets" test "$("$BIN" --config "$WORK/budgets.toml" budget show --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -eq 2
check "global budget from the file: 2.50 USD" test "$(global_hard)" -eq 2500000000
"$BIN" --config "$WORK/budgets.toml" budget set --hard 9 > /dev/null
check "budget set changes it at once" test "$(global_hard)" -eq 9000000000
INGESTD_LOG_LEVEL=info run_worker_briefly
check "at the next start the file wins again" test "$(global_hard)" -eq 2500000000
printf '[[budget]]\nscope = "tenant"\nhard = "1"\n' > "$WORK/bad-budget.toml"
doctor_json "$WORK/bad-budget.json" --config "$WORK/bad-budget.toml" --worker
check "a bad [[budget]] fails doctor (rc=$RC)" test "$RC" -eq 1 -a "$(status_of "$WORK/bad-budget.json" budgets)" = fail
set +e; "$BIN" --config "$WORK/bad-budget.toml" worker > /dev/null 2> "$WORK/bad-budget.err"; rc=$?; set -e
check "worker refuses to start with a bad [[budget]] (rc=$rc)" test "$rc" -eq 2
export INGESTD_DATA_DIR="$WORK/data"

# --- PostgreSQL: a schema behind `migrate up` fails, with the command --------------------------
if [ -n "${INGESTD_TEST_PG_URL:-}" ]; then
  PGDB="ingestd_doctor_$$"
  psql "$INGESTD_TEST_PG_URL" -XAtq -c "CREATE DATABASE $PGDB" > /dev/null
  base="${INGESTD_TEST_PG_URL%%\?*}"
  export INGESTD_STORE="${base%/*}/$PGDB"
  doctor_json "$WORK/pg-empty.json" --worker
  check "PostgreSQL schema behind: exit 1 (rc=$RC)" test "$RC" -eq 1
  check "PostgreSQL schema behind: schema fails" test "$(status_of "$WORK/pg-empty.json" schema)" = fail
  grep -q "ingestd migrate up" "$WORK/pg-empty.json" && pass "the hint names ingestd migrate up" || fail "no migrate hint"
  "$BIN" migrate up > /dev/null
  doctor_json "$WORK/pg-current.json" --worker
  check "after migrate up: schema ok" test "$(status_of "$WORK/pg-current.json" schema)" = ok
  unset INGESTD_STORE
elif [ "${CI:-}" = "true" ]; then
  fail "INGESTD_TEST_PG_URL is not set (CI requires PostgreSQL)"
else
  echo "skip - PostgreSQL part: INGESTD_TEST_PG_URL not set"
fi
finish
