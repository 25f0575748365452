#!/usr/bin/env bash
# Throughput of 1, 2 and 4 `ingestd worker` processes on one PostgreSQL database against the
# OpenAI emulator with a fixed latency per embedding request (default 300 ms, the order of the
# real service), local parsing. Reports documents/s and the ratio to one worker (issue 5: close
# to linear until the emulated rate limit binds); RPM=N adds an emulated requests-per-minute
# limit to show where it binds.
# Usage: bench/worker_scaling.sh [BUILD_DIR] [documents]
#   env: LATENCY_MS (300), THREADS per process (1), RPM (0 = none), COUNTS ("1 2 4")
# PostgreSQL: INGEST_BENCH_PG_URL or INGESTD_TEST_PG_URL, else a throwaway cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC="$PWD"
build="$(readlink -f "${1:-build/release}")"
ndocs="${2:-60}"
BIN="$build/cmd/ingestd/ingestd"
WORK="$(mktemp -d)"
cleanup() { scale_cleanup; rm -rf "$WORK"; }
trap 'cleanup' EXIT
source tests/lib/emulators.sh
source tests/lib/scale.sh
url="${INGEST_BENCH_PG_URL:-${INGESTD_TEST_PG_URL:-}}"
if [ -z "$url" ]; then
  # shellcheck disable=SC1091
  source scripts/start-test-services.sh
  url="$INGESTD_TEST_PG_URL"
fi
python3 tests/lib/make_scale_corpus.py "$WORK/docs" "$ndocs" 0 11 > /dev/null

key="sk-bench-$RANDOM"
export INGESTD_EMBEDDER=openai INGESTD_PARSER=local OPENAI_API_KEY="$key"
export INGESTD_WORKERS="${THREADS:-1}" INGESTD_LOG_LEVEL=warn INGESTD_LEASE_TTL_S=10
base=""
printf "%-8s %8s %10s %8s %10s %6s\n" workers seconds docs/s ratio requests 429s
for n in ${COUNTS:-1 2 4}; do
  export INGESTD_STORE INGESTD_DATA_DIR="$WORK/data-$n"
  INGESTD_STORE="$(fresh_database "$url" "ingestd_bench_workers_$n")"
  "$BIN" migrate up > /dev/null
  start_emulator openai "openai-$n" --api-key "$key" --latency-ms "${LATENCY_MS:-300}" \
    --rpm "${RPM:-0}"
  export OPENAI_BASE_URL="$EMU_URL/v1"
  for i in $(seq 1 "$n"); do start_worker "$i"; done
  sleep 1  # let every worker register and start polling
  t0=$(date +%s.%N)
  "$BIN" ingest --no-wait "$WORK/docs" > /dev/null
  if ! wait_all_terminal 600; then echo "workers=$n: did not finish" >&2; exit 1; fi
  t=$(echo "$(date +%s.%N) - $t0" | bc -l)
  complete=$("$BIN" jobs list --json --limit 100000 | python3 -c \
    'import json,sys; print(sum(j["state"] == "complete" for j in json.load(sys.stdin)))')
  [ "$complete" -eq "$ndocs" ] || { echo "workers=$n: only $complete of $ndocs complete" >&2; exit 1; }
  requests=$(wc -l < "$WORK/openai-$n.billing.jsonl")
  limited=$(curl -sf "$EMU_URL/_emulator/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["rate_limited"])')
  dps=$(echo "$ndocs / $t" | bc -l)
  [ -z "$base" ] && base=$dps
  printf "%-8s %8.1f %10.2f %7.2fx %10d %6d\n" "$n" "$t" "$dps" "$(echo "$dps / $base" | bc -l)" \
    "$requests" "$limited"
  stop_workers
  scale_cleanup
  psql "$url" -XAtq -c "DROP DATABASE ingestd_bench_workers_$n" > /dev/null
done
echo "(${ndocs} generated documents; ${LATENCY_MS:-300} ms per embedding request;" \
  "${THREADS:-1} worker thread(s) per process; $(nproc) cores)"
