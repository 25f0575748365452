#!/usr/bin/env bash
# Search queries are paid calls like any other (docs/costs.md, "Search queries"): against
# `ingestd emulate openai` over loopback, `ingestd ingest`, then searches through the CLI and
# through `ingestd serve`'s POST /v1/search. Checks that every query the emulator billed is a
# ledger row with operation "query" and the caller's tenant, that `costs --json` equals the
# emulator's bill, that a repeated query (CLI or API: the cache is in the store) sends nothing,
# and that with a hard budget spent the CLI exits non-zero and the API answers 429 naming the
# budget, with no request reaching the emulator, while lexical searches (nothing to embed) are
# still answered and write no ledger row.
# Usage: query_costs_test.sh INGESTD SOURCE_DIR BINARY_DIR
source "$(dirname "$0")/../lib/common.sh"

KEY="sk-emu-query-1"
emulator_start openai "$WORK/emu.out" --api-key "$KEY" --billing-log "$WORK/billing.jsonl"
pid=""
stop_all() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  emulators_stop
}
trap 'stop_all; rm -rf "$WORK"' EXIT
stats() { curl -sf "$EMU_URL/_emulator/stats"; }
jqe() { jq -e "$@" > /dev/null; }  # a jq condition as a check, without echoing its value
requests() { stats | jq .requests; }

export INGESTD_DATA_DIR="$WORK/data"
export INGESTD_EMBEDDER=openai OPENAI_API_KEY="$KEY" OPENAI_BASE_URL="$EMU_URL/v1"
export INGESTD_ADMIN_TOKEN="admin-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"

docs="$WORK/docs"
mkdir -p "$docs"
printf '# Notes\n\nThe quick brown fox jumps over the lazy dog.\n\nEmbeddings map text to vectors.\n' \
  > "$docs/notes.md"
printf 'Plain text about retrieval augmented generation and vector search.\n' > "$docs/plain.txt"
check "ingest completes" bash -c "'$BIN' ingest '$docs' > '$WORK/ingest.log' 2>&1"
after_ingest=$(requests)

# --- CLI: two distinct queries and one repeat -----------------------------------------------
check "CLI search 1" bash -c "'$BIN' search 'quick brown fox' --json > '$WORK/s1.json' 2>'$WORK/s.log'"
check "CLI search 2" bash -c "'$BIN' search 'vector search' --json > '$WORK/s2.json' 2>>'$WORK/s.log'"
check "CLI search 1 again" bash -c "'$BIN' search 'quick brown fox' --json > '$WORK/s3.json' 2>>'$WORK/s.log'"
check "the repeat returns the same results" cmp -s "$WORK/s1.json" "$WORK/s3.json"
after_cli=$(requests)
check "two distinct CLI queries sent two requests, the repeat none ($after_ingest -> $after_cli)" \
  test "$after_cli" -eq $((after_ingest + 2))

# --- API: a new query for tenant acme, and the CLI's query again (cached in the store) -------
"$BIN" serve --listen 127.0.0.1:0 --workers 1 > "$WORK/serve.out" 2> "$WORK/serve.log" &
pid=$!
url=""
for _ in $(seq 1 200); do
  line="$(head -n 1 "$WORK/serve.out" 2>/dev/null || true)"
  if [[ "$line" == "listening on http://"* ]]; then url="${line#listening on }"; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
if [ -z "$url" ]; then echo "FAIL - server did not print its address"; cat "$WORK/serve.log"; exit 1; fi
admin=(-H "Authorization: Bearer $INGESTD_ADMIN_TOKEN" -H "Content-Type: application/json")
search_api() {  # search_api TENANT QUERY OUT -> prints the HTTP status
  curl -s -o "$3" -D "$3.headers" -w '%{http_code}' "${admin[@]}" -H "X-Tenant: $1" \
    --data "$(jq -cn --arg q "$2" '{query: $q, k: 3}')" "$url/v1/search"
}
code=$(search_api acme "embeddings map text" "$WORK/a1.json")
check "API search (tenant acme) -> 200, embedded" \
  bash -c "test $code = 200 && jq -e '.query_cached == false' '$WORK/a1.json' >/dev/null"
code=$(search_api default "quick brown fox" "$WORK/a2.json")
check "API search of the CLI's query -> 200 from the shared cache" \
  bash -c "test $code = 200 && jq -e '.query_cached == true and (.results | length) > 0' '$WORK/a2.json' >/dev/null"
code=$(search_api acme "embeddings map text" "$WORK/a3.json")
check "API repeat -> 200 from the cache" \
  bash -c "test $code = 200 && jq -e '.query_cached == true' '$WORK/a3.json' >/dev/null"
after_api=$(requests)
check "one new API query sent one request ($after_cli -> $after_api)" \
  test "$after_api" -eq $((after_cli + 1))

# --- the ledger equals the bill, queries apart -------------------------------------------------
"$BIN" costs --json > "$WORK/costs.json"
"$BIN" costs --by tenant --json > "$WORK/costs_tenant.json"
python3 - "$WORK/costs.json" "$WORK/costs_tenant.json" "$(stats)" "$WORK/billing.jsonl" \
  "$((after_api - after_ingest))" <<'PY' && pass "costs --json equals the emulator's bill; the 3 query requests are 3 query rows" || fail "costs vs bill"
import json, sys
from fractions import Fraction
c = json.load(open(sys.argv[1]))
by_tenant = {g["key"]: g for g in json.load(open(sys.argv[2]))["groups"]}
stats = json.loads(sys.argv[3])
queries = int(sys.argv[5])
bill = [json.loads(l) for l in open(sys.argv[4]) if l.strip()]
assert len(bill) == stats["billed_requests"] == stats["requests"], stats
tokens = sum(r["tokens"] for r in bill)
# text-embedding-3-small at $0.02 per 1M tokens (the emulator bills tokens; this is the price).
bill_usd = Fraction(tokens * 2, 100 * 10**6)
q = c["operations"]["query"]
assert q["rows"] == queries == q["requests"], q
assert c["operations"]["embed"]["requests"] + q["requests"] == len(bill), c["operations"]
assert c["services"]["openai"]["tokens"] == tokens, (c["services"], tokens)
assert c["reserved_nanos"] == 0, c
# Exact to the nano-dollar: $0.02 per 1M tokens is 20 nano-dollars per token, no rounding per row.
assert c["total_nanos"] == tokens * 20, (c["total_nanos"], tokens)
assert Fraction(c["total_usd"]).limit_denominator(10**12) == bill_usd or abs(c["total_usd"] - float(bill_usd)) < 1e-15, (c["total_usd"], float(bill_usd))
assert q["nanos"] == q["tokens"] * 20, q
assert q["usd"] > 0, q
# Tenants: the CLI's queries and ingestion bill "default", the admin's X-Tenant acme query "acme".
assert "acme" in by_tenant and by_tenant["acme"]["requests"] == 1, by_tenant
PY
"$BIN" costs --by operation --json > "$WORK/costs_op.json"
check "costs --by operation lists query apart" \
  jqe '[.groups[].key] | index("query") != null and index("embed") != null' "$WORK/costs_op.json"
curl -s -H "Authorization: Bearer $INGESTD_ADMIN_TOKEN" "$url/v1/costs" > "$WORK/api_costs.json"
check "GET /v1/costs has by_operation.query" jqe '.by_operation.query.requests == 3' "$WORK/api_costs.json"
curl -s -H "Authorization: Bearer $INGESTD_ADMIN_TOKEN" "$url/v1/stats" > "$WORK/stats.json"
check "GET /v1/stats shows query spend beside ingestion spend" \
  jqe '.spend.query_nanos > 0 and .spend.ingestion_nanos > 0 and .spend.query_usd > 0' "$WORK/stats.json"

# --- a spent hard budget: refused, nothing sent ---------------------------------------------------
check "budget set: global day hard \$0 (already spent)" \
  bash -c "'$BIN' budget set --period day --hard 0 > /dev/null"
before=$(requests)
set +e
"$BIN" search "a question nobody asked yet" > "$WORK/refused.out" 2> "$WORK/refused.err"
rc=$?
set -e
check "CLI search over the hard budget exits non-zero (rc=$rc)" test "$rc" -ne 0
check "CLI message names the budget and when it resets" \
  grep -q "budget_exceeded.*global day budget.*resumes at" "$WORK/refused.err"
code=$(search_api acme "another new question" "$WORK/refused.json")
check "API search over the hard budget -> 429" test "$code" = 429
check "429 body names the budget and its reset" \
  jqe '.error.code == "budget_exceeded" and .error.budget.scope == "global" and .error.budget.period == "day" and (.error.budget.resets_at | length) > 0 and (.error.message | test("resumes at"))' \
  "$WORK/refused.json"
check "429 carries Retry-After" grep -qi '^retry-after: [0-9]' "$WORK/refused.json.headers"
code=$(search_api default "quick brown fox" "$WORK/cached.json")
check "a cached query costs nothing and is still answered (200)" test "$code" = 200
check "the emulator received no request while the budget was spent" test "$(requests)" -eq "$before"
# A lexical search embeds nothing: answered while the budget is spent, nothing sent or ledgered.
rows_before=$("$BIN" costs --json | jq '.operations.query.rows')
check "CLI lexical search over the hard budget is answered (nothing to embed)" \
  bash -c "'$BIN' search 'lazy dog jumps' --mode lexical --json > '$WORK/lex.json' &&
           jq -e 'length > 0 and .[0].ranks.vector == null and .[0].ranks.lexical == 1' '$WORK/lex.json' >/dev/null"
code=$(curl -s -o "$WORK/lex_api.json" -w '%{http_code}' "${admin[@]}" -H "X-Tenant: default" \
  --data '{"query": "lazy dog jumps", "mode": "lexical", "k": 3}' "$url/v1/search")
check "API lexical search over the hard budget -> 200, nothing embedded" \
  bash -c "test $code = 200 && jq -e '.mode == \"lexical\" and .model == null and (.results | length) > 0' '$WORK/lex_api.json' >/dev/null"
check "the lexical searches sent nothing" test "$(requests)" -eq "$before"
check "the lexical searches wrote no ledger row" \
  test "$("$BIN" costs --json | jq '.operations.query.rows')" = "$rows_before"

curl -s "$url/metrics" > "$WORK/metrics.txt"
check "metrics: queries by outcome" \
  bash -c "grep -q '^ingestd_queries_total{outcome=\"budget_exceeded\"} 1' '$WORK/metrics.txt' &&
           grep -q '^ingestd_queries_total{outcome=\"cache_hit\"} 3' '$WORK/metrics.txt' &&
           grep -q '^ingestd_queries_total{outcome=\"embedded\"} 1' '$WORK/metrics.txt'"
check "metrics: query cost and embedding latency" \
  bash -c "grep -q '^ingestd_query_cost_usd_total{service=\"openai\"} [0-9]' '$WORK/metrics.txt' &&
           grep -q '^ingestd_query_embedding_seconds_count{source=\"provider\"} 1' '$WORK/metrics.txt' &&
           grep -q '^ingestd_cache_hits_total{cache=\"query\"} 3' '$WORK/metrics.txt'"
finish
