#!/usr/bin/env bash
# API keys, scopes, per-key rate limits and the audit log (issue 20; docs/security.md), through
# the CLI and a running `ingestd serve`, exactly as the issue's interface says:
#   - `keys create --tenant T --scope read --json` prints {"id", "secret", ...} once, and
#     `keys list --json` never shows a secret (nor its digest);
#   - a read key gets 403 (missing_scope, naming ingest) on upload, an ingest key uploads;
#   - a revoked key gets 401 on the next request;
#   - a key created with `--rate-limit 5/s` gets 429 with an integer Retry-After >= 1 once a
#     client exceeds it;
#   - `keys rotate` prints a new secret; old and new both work during the grace period;
#   - `ingestd audit --json` (and GET /v1/audit) list the creation and revocation with the
#     acting identity.
# Usage: api_keys_test.sh INGESTD SOURCE_DIR BINARY_DIR
source "$(dirname "$0")/../lib/common.sh"

export INGESTD_DATA_DIR="$WORK/data"
export INGESTD_STORE="sqlite:$WORK/data/ingestd.db"
export INGESTD_ADMIN_TOKEN="admin-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
mkdir -p "$WORK/data"
jqe() { jq -e "$@" > /dev/null; }
ME="cli:$(id -un)"

# 1. Create: the secret is printed once, in the JSON answer.
"$BIN" keys create --tenant acme --scope read --name reader --json > "$WORK/read.json"
check "keys create --json prints id and secret" \
  jqe '(.id | startswith("key_")) and (.secret | startswith("ik_")) and .tenant == "acme" and .scopes == "read"' "$WORK/read.json"
READ_ID="$(jq -r .id "$WORK/read.json")"
READ_KEY="$(jq -r .secret "$WORK/read.json")"
"$BIN" keys create --tenant acme --scope ingest,read --json > "$WORK/ingest.json"
INGEST_KEY="$(jq -r .secret "$WORK/ingest.json")"
"$BIN" keys create --tenant acme --scope read --rate-limit 5/s --json > "$WORK/limited.json"
check "--rate-limit is recorded on the key" jqe '.rate_limit == "5/s"' "$WORK/limited.json"
LIMITED_KEY="$(jq -r .secret "$WORK/limited.json")"
rc=0
"$BIN" keys create --tenant acme --scope reed > /dev/null 2> "$WORK/bad.err" || rc=$?
check "an unknown scope is refused (exit $rc)" bash -c "[ $rc -ne 0 ] && grep -q unknown_scope '$WORK/bad.err'"

# 2. List: ids and states, never a secret or a digest.
"$BIN" keys list --json > "$WORK/list.json"
check "keys list --json lists the three keys" jqe 'length == 3 and all(.[]; .state == "active")' "$WORK/list.json"
check "keys list --json has no secret field" jqe 'all(.[]; has("secret") | not)' "$WORK/list.json"
check "keys list --json shows no secret nor digest" \
  bash -c "! grep -q -e '$READ_KEY' -e '$(printf %s "$READ_KEY" | sha256sum | cut -d' ' -f1)' -e 'ik_' '$WORK/list.json'"
check "the store holds the digest, not the secret" \
  bash -c "! grep -a -q '$READ_KEY' '$WORK/data/ingestd.db'"

# 3. Serve.
"$BIN" serve --listen 127.0.0.1:0 --workers 1 > "$WORK/serve.out" 2> "$WORK/serve.log" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$WORK"' EXIT
url=""
for _ in $(seq 1 200); do
  line="$(head -n 1 "$WORK/serve.out" 2>/dev/null || true)"
  if [[ "$line" == "listening on http://"* ]]; then url="${line#listening on }"; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
if [ -z "$url" ]; then echo "FAIL - server did not start"; cat "$WORK/serve.log"; exit 1; fi
pass "server listening at $url"
http() {  # http KEY METHOD PATH [curl args...] -> prints the status; body in $WORK/body.json
  local key="$1" method="$2" path="$3"; shift 3
  curl -s -o "$WORK/body.json" -D "$WORK/headers.txt" -w '%{http_code}' -X "$method" \
    -H "Authorization: Bearer $key" "$@" "$url$path"
}
printf '# Keys\n\nScoped keys upload documents.\n' > "$WORK/doc.md"

check "read key: GET /v1/jobs is 200" test "$(http "$READ_KEY" GET /v1/jobs)" = 200
code="$(http "$READ_KEY" POST /v1/documents -H 'X-Filename: doc.md' --data-binary @"$WORK/doc.md")"
check "read key: upload is 403 ($code)" test "$code" = 403
check "... with a JSON error naming the missing scope" \
  jqe '.error.code == "missing_scope" and .error.required_scope == "ingest"' "$WORK/body.json"
code="$(http "$INGEST_KEY" POST /v1/documents -H 'X-Filename: doc.md' --data-binary @"$WORK/doc.md")"
check "ingest key: upload is 201 ($code)" test "$code" = 201
DOC_ID="$(jq -r .document_id "$WORK/body.json")"
check "read key: DELETE /v1/documents/ID is 403" test "$(http "$READ_KEY" DELETE "/v1/documents/$DOC_ID")" = 403
check "read key: GET /v1/audit is 403 (admin only)" test "$(http "$READ_KEY" GET /v1/audit)" = 403
check "unknown key is 401" test "$(http "ik_0123456789ab_$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' | head -c 43)" GET /v1/jobs)" = 401

# 4. Revoke: refused from the next request on.
"$BIN" keys revoke "$READ_ID" > /dev/null
code="$(http "$READ_KEY" GET /v1/jobs)"
check "revoked key is 401 ($code)" test "$code" = 401
check "... code key_revoked" jqe '.error.code == "key_revoked"' "$WORK/body.json"
check "keys list shows it revoked" \
  bash -c "'$BIN' keys list --json | jq -e '.[] | select(.id == \"$READ_ID\") | .state == \"revoked\"' > /dev/null"

# 5. Rate limit 5/s: a client sending faster (30 requests at once) gets 429 with Retry-After.
seq 1 30 | xargs -P 30 -I{} curl -s -o /dev/null -w '%{http_code}\n' \
  -H "Authorization: Bearer $LIMITED_KEY" "$url/v1/jobs" > "$WORK/burst.txt"
admitted="$(grep -c '^200$' "$WORK/burst.txt" || true)"
limited="$(grep -c '^429$' "$WORK/burst.txt" || true)"
check "a burst of 30 on a 5/s key: the first 5 admitted, the rest 429 ($admitted x 200, $limited x 429)" \
  bash -c "[ $admitted -ge 5 ] && [ $admitted -le 10 ] && [ $((admitted + limited)) = 30 ]"
got429=""
for i in $(seq 1 60); do
  code="$(http "$LIMITED_KEY" GET /v1/jobs)"
  if [ "$code" = 429 ]; then got429="$i"; break; fi
done
check "a client still sending faster than 5/s gets 429 (request $got429)" test -n "$got429"
retry_after="$(grep -i '^Retry-After:' "$WORK/headers.txt" | tr -d '\r' | awk '{print $2}')"
check "429 carries Retry-After in whole seconds >= 1 ($retry_after)" \
  bash -c "[[ '$retry_after' =~ ^[0-9]+$ ]] && [ '$retry_after' -ge 1 ]"
check "429 body is a JSON error rate_limited" jqe '.error.code == "rate_limited"' "$WORK/body.json"
check "another key of the tenant is not limited" test "$(http "$INGEST_KEY" GET /v1/jobs)" = 200

# 6. Rotate: a new secret once; the old one works until the grace period ends.
INGEST_ID="$(jq -r .id "$WORK/ingest.json")"
"$BIN" keys rotate "$INGEST_ID" --grace 1h --json > "$WORK/rotated.json"
NEW_KEY="$(jq -r .secret "$WORK/rotated.json")"
check "rotate prints a new secret for a new key id" \
  jqe --arg old "$INGEST_ID" '(.secret | startswith("ik_")) and .id != $old and .rotated_from == $old' "$WORK/rotated.json"
check "rotated: the new secret works" test "$(http "$NEW_KEY" GET /v1/jobs)" = 200
check "rotated: the old secret works during the grace period" test "$(http "$INGEST_KEY" GET /v1/jobs)" = 200
NEW_ID="$(jq -r .id "$WORK/rotated.json")"
"$BIN" keys rotate "$NEW_ID" --grace 0s --json > "$WORK/rotated2.json"
check "rotated with --grace 0s: the replaced secret is 401 at once" test "$(http "$NEW_KEY" GET /v1/jobs)" = 401

# 7. The audit log: creation and revocation, with the acting identity.
"$BIN" audit --json > "$WORK/audit.json"
check "audit --json lists the key creation by $ME" \
  jqe --arg id "$READ_ID" --arg me "$ME" 'any(.[]; .action == "key.create" and .target == $id and .actor == $me and .result == "ok" and .source == "cli")' "$WORK/audit.json"
check "audit --json lists the revocation by $ME" \
  jqe --arg id "$READ_ID" --arg me "$ME" 'any(.[]; .action == "key.revoke" and .target == $id and .actor == $me and .result == "ok")' "$WORK/audit.json"
check "audit --json lists the rotation" \
  jqe --arg id "$INGEST_ID" 'any(.[]; .action == "key.rotate" and .target == $id)' "$WORK/audit.json"
check "audit --json lists the refused delete with the read key as actor and its source" \
  jqe --arg id "$READ_ID" --arg doc "$DOC_ID" 'any(.[]; .action == "document.delete" and .actor == $id and .target == $doc and .result == "missing_scope" and .source == "127.0.0.1")' "$WORK/audit.json"
check "no audit row holds a secret" bash -c "! grep -q 'ik_' '$WORK/audit.json'"
"$BIN" audit --since 1h --json > "$WORK/audit-1h.json"
check "audit --since 1h keeps them" jqe 'length >= 5' "$WORK/audit-1h.json"
check "GET /v1/audit (admin token) lists them too" \
  bash -c "curl -s -H 'Authorization: Bearer $INGESTD_ADMIN_TOKEN' '$url/v1/audit' | jq -e --arg id '$READ_ID' 'any(.entries[]; .action == \"key.revoke\" and .target == \$id)' > /dev/null"
rc=0
"$BIN" keys revoke "$READ_ID" > /dev/null 2>&1 || rc=$?
check "revoking twice fails (exit $rc) and is audited as such" \
  bash -c "[ $rc -ne 0 ] && '$BIN' audit --json | jq -e 'any(.[]; .action == \"key.revoke\" and .result == \"key_revoked\")' > /dev/null"

finish
