#!/usr/bin/env bash
# docs/openapi.json against the real server: starts `ingestd serve` on a fresh SQLite store and
# runs tests/openapi/check_responses.mjs, which calls every documented route and validates each
# answer (status, content type, JSON body) against the document's schemas (tests/openapi/schema.mjs,
# no npm packages). Also checks the served /openapi.json is the file in the repository. The
# embedder is OpenAI's, against `ingestd emulate openai`.
# Usage: openapi_responses_test.sh INGESTD SOURCE_DIR BINARY_DIR
source "$(dirname "$0")/../lib/common.sh"

if ! command -v node > /dev/null; then echo "FAIL - node not installed"; exit 1; fi
export INGESTD_DATA_DIR="$WORK/data"
export INGESTD_STORE="sqlite:$WORK/data/ingestd.db"
export INGESTD_ADMIN_TOKEN="admin-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export ALPHA_TOKEN="alpha-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export BETA_TOKEN="beta-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf 'alpha %s\nbeta %s\n' "$ALPHA_TOKEN" "$BETA_TOKEN" > "$WORK/tokens"
export INGESTD_API_TOKENS_FILE="$WORK/tokens"
export INGESTD_MAX_BYTES=65536 MAX_BYTES=65536
printf '%%PDF-1.4\n1 0 obj << /Type /Catalog broken\n%%%%EOF\n' > "$WORK/broken.pdf"
export PDF_BAD="$WORK/broken.pdf"
export INGESTD_ALERT_INTERVAL_S=1
# A paid embedder (the OpenAI emulator), so that a search can be refused by a budget: tenant
# "broke" has a $0 hard budget and POST /v1/search for it must answer the documented 429.
emulator_start openai "$WORK/emu.out" --api-key sk-emu-openapi
export INGESTD_EMBEDDER=openai OPENAI_API_KEY=sk-emu-openapi OPENAI_BASE_URL="$EMU_URL/v1"
"$BIN" budget set --tenant broke --period day --hard 0 > /dev/null
# API keys for the scope (403) and rate-limit (429) answers of every guarded route.
READ_KEY="$("$BIN" keys create --tenant alpha --scope read --json | jq -r .secret)"
INGEST_KEY="$("$BIN" keys create --tenant alpha --scope ingest --json | jq -r .secret)"
LIMITED_KEY="$("$BIN" keys create --tenant ops --scope admin --rate-limit 1/m --json | jq -r .secret)"
export READ_KEY INGEST_KEY LIMITED_KEY

"$BIN" serve --listen 127.0.0.1:0 --workers 2 > "$WORK/serve.out" 2> "$WORK/serve.log" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; emulators_stop; rm -rf "$WORK"' EXIT
url=""
for _ in $(seq 1 200); do
  line="$(head -n 1 "$WORK/serve.out" 2>/dev/null || true)"
  if [[ "$line" == "listening on http://"* ]]; then url="${line#listening on }"; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
if [ -z "$url" ]; then echo "FAIL - server did not start"; cat "$WORK/serve.log"; exit 1; fi
pass "server listening at $url"
# Governor rows (a budget at its limit, a stopped provider, rate buckets), so the budget,
# provider and alert sections carry items and their schemas are exercised too.
python3 "$SRC/tests/lib/seed_governor.py" "$WORK/data/ingestd.db"

curl -s "$url/openapi.json" > "$WORK/served.json"
check "served /openapi.json is docs/openapi.json" cmp -s "$WORK/served.json" "$SRC/docs/openapi.json"
if node "$SRC/tests/openapi/check_responses.mjs" "$url" "$SRC/docs/openapi.json"; then
  pass "every documented route answers as documented"
else
  fail "responses do not match docs/openapi.json"
  tail -n 20 "$WORK/serve.log"
fi
finish
