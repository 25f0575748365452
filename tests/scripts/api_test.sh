#!/usr/bin/env bash
# `ingestd serve` as a process: start it on an ephemeral port, upload a file with curl (raw and
# multipart), poll the job until complete, check auth and tenant isolation over HTTP, validate
# /metrics with `promtool check metrics`, and check /openapi.json lists the API's paths.
# Usage: api_test.sh INGESTD SOURCE_DIR BINARY_DIR
source "$(dirname "$0")/../lib/common.sh"

export INGESTD_DATA_DIR="$WORK/data"
export INGESTD_ADMIN_TOKEN="admin-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
ALPHA_TOKEN="alpha-token-0123456789abcdef"
BETA_TOKEN="beta-token-0123456789abcdef0"
printf '# tenant token\nalpha %s\nbeta %s\n' "$ALPHA_TOKEN" "$BETA_TOKEN" > "$WORK/tokens"
export INGESTD_API_TOKENS_FILE="$WORK/tokens"

"$BIN" serve --listen 127.0.0.1:0 --workers 2 > "$WORK/serve.out" 2> "$WORK/serve.log" &
pid=$!
stop_server() {
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
}
trap 'stop_server; rm -rf "$WORK"' EXIT

url=""
for _ in $(seq 1 200); do
  line="$(head -n 1 "$WORK/serve.out" 2>/dev/null || true)"
  if [[ "$line" == "listening on http://"* ]]; then url="${line#listening on }"; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
if [ -z "$url" ]; then
  echo "FAIL - server did not print its address"; cat "$WORK/serve.log"; exit 1
fi
pass "server listening at $url"

admin=(-H "Authorization: Bearer $INGESTD_ADMIN_TOKEN")
alpha=(-H "Authorization: Bearer $ALPHA_TOKEN")
beta=(-H "Authorization: Bearer $BETA_TOKEN")
jqe() { jq -e "$@" > /dev/null; }  # a jq condition as a check, without echoing its value

check "/healthz is 200" test "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")" = 200
check "/readyz is 200" test "$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz")" = 200
code=$(curl -s -o "$WORK/e401.json" -w '%{http_code}' "$url/v1/jobs")
check "no token -> 401" test "$code" = 401
check "401 body is a JSON error" jqe '.error.code == "missing_token"' "$WORK/e401.json"
code=$(curl -s -o "$WORK/e404.json" -w '%{http_code}' "${admin[@]}" "$url/v1/does-not-exist")
check "unknown route -> 404 JSON" jqe '.error.code == "not_found"' "$WORK/e404.json"

cat > "$WORK/guide.md" <<'MD'
# Field guide

## Apples
Apples grow in orchards and ripen in autumn.

## Rivers
Rivers carry water from the mountains to the sea.
MD
code=$(curl -s -o "$WORK/up1.json" -w '%{http_code}' "${alpha[@]}" -H "X-Filename: guide.md" \
  --data-binary @"$WORK/guide.md" "$url/v1/documents")
check "raw upload -> 201" test "$code" = 201
job=$(jq -r .job_id "$WORK/up1.json")
doc=$(jq -r .document_id "$WORK/up1.json")

state=""
for _ in $(seq 1 600); do
  state=$(curl -s "${alpha[@]}" "$url/v1/jobs/$job" | jq -r .state)
  case "$state" in complete|failed|dead|cancelled) break ;; esac
  sleep 0.1
done
check "job reaches complete (got $state)" test "$state" = complete
curl -s "${alpha[@]}" "$url/v1/jobs/$job" > "$WORK/job.json"
check "job shows per-stage timings" jqe '[.stage_timings[].stage] | index("embed") != null' "$WORK/job.json"

code=$(curl -s -o "$WORK/up2.json" -w '%{http_code}' "${alpha[@]}" -F "file=@$WORK/guide.md" "$url/v1/documents")
check "multipart re-upload of the same bytes -> 200, same document" \
  bash -c "test $code = 200 && jq -e '.created == false and .document_id == \"$doc\"' '$WORK/up2.json' >/dev/null"

check "tenant beta cannot read alpha's job (404)" \
  test "$(curl -s -o /dev/null -w '%{http_code}' "${beta[@]}" "$url/v1/jobs/$job")" = 404
check "tenant beta's search does not return alpha's chunks" bash -c \
  "curl -s ${beta[*]@Q} -d '{\"query\":\"apples orchards\"}' '$url/v1/search' | jq -e '.results == []' >/dev/null"
check "tenant alpha's search finds its document" bash -c \
  "curl -s ${alpha[*]@Q} -d '{\"query\":\"apples orchards\",\"k\":3}' '$url/v1/search' | jq -e '.results[0].document_id == \"$doc\"' >/dev/null"
code=$(curl -s -o /dev/null -w '%{http_code}' "${alpha[@]}" -d '{"query":' "$url/v1/search")
check "malformed JSON -> 400" test "$code" = 400

# Governor rows in the store make the scrape-time budget, rate-limit and provider gauges appear.
python3 "$SRC/tests/lib/seed_governor.py" "$INGESTD_DATA_DIR/ingestd.db"
curl -s "$url/metrics" > "$WORK/metrics.txt"
if promtool check metrics < "$WORK/metrics.txt" > "$WORK/promtool.out" 2>&1; then
  pass "promtool check metrics"
else
  fail "promtool check metrics"; cat "$WORK/promtool.out"
fi
for family in ingestd_documents_total ingestd_stage_duration_seconds ingestd_jobs \
    ingestd_queue_oldest_age_seconds ingestd_tokens_total ingestd_pages_total \
    ingestd_cache_hits_total ingestd_dead_jobs ingestd_http_requests_total \
    ingestd_budget_spent_usd ingestd_budget_limit_usd ingestd_budget_remaining_usd \
    ingestd_budget_soft_ratio ingestd_rate_limit_remaining ingestd_rate_limit_capacity \
    ingestd_provider_stopped; do
  check "metrics has $family" grep -q "^# TYPE $family " "$WORK/metrics.txt"
done
check "ingestd_jobs{state=complete} is 1" grep -q '^ingestd_jobs{state="complete"} 1$' "$WORK/metrics.txt"
check "budget at its limit has 0 remaining" \
  grep -q '^ingestd_budget_remaining_usd{key="llamaparse",period="day",scope="service"} 0$' "$WORK/metrics.txt"
check "stopped provider is 1" grep -q '^ingestd_provider_stopped{provider="llamaparse"} 1$' "$WORK/metrics.txt"
check "no key-derived label in metrics" bash -c "! grep -q test0001 '$WORK/metrics.txt'"

curl -s "$url/openapi.json" > "$WORK/openapi.json"
check "/openapi.json is OpenAPI 3 JSON" jqe '.openapi | startswith("3.")' "$WORK/openapi.json"
for p in /v1/documents /v1/documents/{id} /v1/jobs /v1/jobs/{id} /v1/jobs/{id}/retry \
    /v1/jobs/{id}/cancel /v1/jobs/{id}/requeue /v1/search /v1/costs /v1/stats /healthz /readyz /metrics; do
  check "openapi lists $p" jqe --arg p "$p" '.paths | has($p)' "$WORK/openapi.json"
done
check "dashboard page is served" bash -c "curl -s '$url/' | grep -q '/v1/stats'"

kill -TERM "$pid"
set +e
wait "$pid"
rc=$?
set -e
check "SIGTERM stops the server cleanly (rc=$rc)" test "$rc" -eq 0
finish
