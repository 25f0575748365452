#!/usr/bin/env bash
# Secret rotation without a restart: `ingestd serve` and `ingestd worker` re-read the provider
# API keys from their *_FILE files on SIGHUP (docs/security.md#rotating-secrets).
#   1. serve starts with a key the OpenAI emulator refuses: the upload is deferred and the
#      provider stopped (invalid_api_key);
#   2. the file gets the right key, SIGHUP: the provider resumes and the job completes, the
#      process never stopped;
#   3. the file emptied, then removed, SIGHUP each time: the previous key stays in use (logged),
#      the next upload completes;
#   4. the admin token file and the tenant tokens file are read again: new tokens in, old ones
#      out; a malformed tokens file keeps the tokens in use;
#   5. a worker process survives SIGHUP and logs the reload;
#   6. every reload is an audit row; no key or token value appears in any log.
# Usage: secret_reload_test.sh INGESTD SOURCE_DIR BINARY_DIR
source "$(dirname "$0")/../lib/common.sh"
unset OPENAI_API_KEY OPENAI_BASE_URL OPENAI_API_KEY_FILE || true
jqe() { jq -e "$@" > /dev/null; }  # a jq condition as a check, without echoing its value

OLD_KEY="key-refused-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
NEW_KEY="key-accepted-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
emulator_start openai "$WORK/emu.out" --api-key "$NEW_KEY"
pass "OpenAI emulator accepting only the new key at $EMU_URL"

mkdir -p "$WORK/secrets"
keyfile="$WORK/secrets/openai"
printf '%s\n' "$OLD_KEY" > "$keyfile"
chmod 600 "$keyfile"
export INGESTD_DATA_DIR="$WORK/data"
export INGESTD_EMBEDDER=openai OPENAI_BASE_URL="$EMU_URL/v1" OPENAI_API_KEY_FILE="$keyfile"
ADMIN_OLD="admin-old-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
ADMIN_NEW="admin-new-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
ALPHA_OLD="alpha-old-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
ALPHA_NEW="alpha-new-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$ADMIN_OLD" > "$WORK/secrets/admin"
printf 'alpha %s\n' "$ALPHA_OLD" > "$WORK/secrets/tokens"
chmod 600 "$WORK/secrets/admin" "$WORK/secrets/tokens"
export INGESTD_ADMIN_TOKEN_FILE="$WORK/secrets/admin" INGESTD_API_TOKENS_FILE="$WORK/secrets/tokens"
export INGESTD_LOG_LEVEL=info

"$BIN" serve --listen 127.0.0.1:0 --workers 1 > "$WORK/serve.out" 2> "$WORK/serve.log" &
pid=$!
wpid=""
stop_all() {
  for p in $pid $wpid; do
    if kill -0 "$p" 2>/dev/null; then kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi
  done
  emulators_stop
}
trap 'stop_all; rm -rf "$WORK"' EXIT

url=""
for _ in $(seq 1 200); do
  line="$(head -n 1 "$WORK/serve.out" 2>/dev/null || true)"
  if [[ "$line" == "listening on http://"* ]]; then url="${line#listening on }"; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
if [ -z "$url" ]; then echo "FAIL - server did not print its address"; cat "$WORK/serve.log"; exit 1; fi
pass "server listening at $url"
admin=(-H "Authorization: Bearer $ADMIN_OLD")

upload() {  # upload NAME TEXT -> job id
  printf '# %s\n\n%s\n' "$1" "$2" > "$WORK/$1"
  curl -s "${admin[@]}" -H "X-Filename: $1" --data-binary @"$WORK/$1" "$url/v1/documents" | jq -r .job_id
}
wait_state() {  # wait_state JOB STATE SECONDS -> prints the last state seen
  local state=""
  for _ in $(seq 1 $(($3 * 10))); do
    state=$(curl -s "${admin[@]}" "$url/v1/jobs/$1" | jq -r .state)
    [ "$state" = "$2" ] && break
    sleep 0.1
  done
  echo "$state"
}
hup_and_wait_log() {  # hup_and_wait_log PID LOG TEXT: SIGHUP, then wait for a new line with TEXT
  local before
  before=$(grep -c -- "$3" "$2" || true)
  kill -HUP "$1"
  for _ in $(seq 1 100); do
    [ "$(grep -c -- "$3" "$2" || true)" -gt "$before" ] && return 0
    sleep 0.05
  done
  return 1
}

job1=$(upload first.md "Apples grow in orchards and ripen in autumn.")
state=$(wait_state "$job1" deferred 30)
check "with the refused key the upload waits deferred (got $state)" test "$state" = deferred
check "the provider is stopped for the refused key" \
  bash -c "\"$BIN\" providers --json | jq -e '.providers[] | select(.provider == \"openai\") | .stopped and .reason == \"invalid_api_key\"' > /dev/null"

printf '%s\n' "$NEW_KEY" > "$keyfile"
check "SIGHUP reloads the new key (logged by name)" hup_and_wait_log "$pid" "$WORK/serve.log" '"secrets reloaded"'
check "the reload names OPENAI_API_KEY as changed" \
  bash -c "grep '\"secrets reloaded\"' '$WORK/serve.log' | tail -1 | grep -q OPENAI_API_KEY"
state=$(wait_state "$job1" complete 60)
check "the deferred job completes after the reload, without a restart (got $state)" test "$state" = complete
check "the server is the same process" kill -0 "$pid"

: > "$keyfile"
check "an emptied key file is logged and kept" \
  hup_and_wait_log "$pid" "$WORK/serve.log" 'the previous one stays in use'
job2=$(upload second.md "Rivers carry water from the mountains to the sea.")
state=$(wait_state "$job2" complete 60)
check "uploads still complete with the previous key (got $state)" test "$state" = complete

rm -f "$keyfile"
check "a missing key file is logged and the previous secrets kept" \
  hup_and_wait_log "$pid" "$WORK/serve.log" 'secret reload failed; the previous secrets stay in use'
job3=$(upload third.md "Mountains are high and cold in winter.")
state=$(wait_state "$job3" complete 60)
check "uploads still complete after a failed reload (got $state)" test "$state" = complete
check "the server survived three SIGHUPs" kill -0 "$pid"

# API tokens: the admin token file and the tenant tokens file are read again on SIGHUP (the
# configuration must load again for that: the provider key file comes back first).
printf '%s\n' "$NEW_KEY" > "$keyfile"
chmod 600 "$keyfile"
code() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" "$url/v1/jobs"; }
check "before: the old admin and alpha tokens are accepted" \
  test "$(code "$ADMIN_OLD")$(code "$ALPHA_OLD")" = "200200"
printf '%s\n' "$ADMIN_NEW" > "$WORK/secrets/admin.new"
printf 'alpha %s\n' "$ALPHA_NEW" > "$WORK/secrets/tokens.new"
chmod 600 "$WORK/secrets/admin.new" "$WORK/secrets/tokens.new"
mv "$WORK/secrets/admin.new" "$WORK/secrets/admin"
mv "$WORK/secrets/tokens.new" "$WORK/secrets/tokens"
check "SIGHUP reloads the API tokens" hup_and_wait_log "$pid" "$WORK/serve.log" '"API tokens reloaded"'
check "after: the new admin and alpha tokens are accepted" \
  test "$(code "$ADMIN_NEW")$(code "$ALPHA_NEW")" = "200200"
check "after: the old admin and alpha tokens are refused (401)" \
  test "$(code "$ADMIN_OLD")$(code "$ALPHA_OLD")" = "401401"
printf 'a line without a token\n' > "$WORK/secrets/tokens"
check "a malformed tokens file is logged and the previous tokens kept" \
  hup_and_wait_log "$pid" "$WORK/serve.log" 'token reload failed; the previous tokens stay in use'
check "the tokens in use still work after the failed reload" \
  test "$(code "$ADMIN_NEW")$(code "$ALPHA_NEW")" = "200200"
admin=(-H "Authorization: Bearer $ADMIN_NEW")

# A headless worker: SIGHUP reloads instead of stopping it.
"$BIN" worker --workers 1 > "$WORK/worker.out" 2> "$WORK/worker.log" &
wpid=$!
for _ in $(seq 1 100); do grep -q '"worker started"' "$WORK/worker.log" && break; sleep 0.05; done
check "the worker logs the reload on SIGHUP" \
  hup_and_wait_log "$wpid" "$WORK/worker.log" '"secrets reloaded: none changed"'
sleep 0.3
check "the worker is still running after SIGHUP" kill -0 "$wpid"

"$BIN" audit --json > "$WORK/audit.json"
check "every reload is in the audit log: changed, kept, failed (actor signal:SIGHUP)" \
  jqe '[.[] | select(.action == "secrets.reload" and .actor == "signal:SIGHUP")] as $r
         | ($r | map(select(.result == "ok" and (.detail.changed | index("OPENAI_API_KEY")))) | length) >= 1
         and ($r | map(select(.result == "secret_missing")) | length) == 1
         and ($r | map(select(.result != "ok" and .result != "secret_missing")) | length) == 1' \
  "$WORK/audit.json"
check "token reloads are in the audit log (one ok, one refused)" \
  jqe '[.[] | select(.action == "tokens.reload")] | (map(select(.result == "ok")) | length) >= 1 and (map(select(.result != "ok")) | length) == 1' "$WORK/audit.json"
check "no key or token value in the audit log" \
  bash -c "! grep -q -e '$OLD_KEY' -e '$NEW_KEY' -e '$ADMIN_NEW' -e '$ALPHA_NEW' '$WORK/audit.json'"
check "no key value in the server's or the worker's logs" \
  bash -c "! grep -q -e '$OLD_KEY' -e '$NEW_KEY' -e '$ADMIN_OLD' -e '$ADMIN_NEW' -e '$ALPHA_OLD' -e '$ALPHA_NEW' '$WORK/serve.log' '$WORK/serve.out' '$WORK/worker.log' '$WORK/worker.out'"
finish
