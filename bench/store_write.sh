#!/usr/bin/env bash
# Bulk writes through the PostgreSQL Store (ReplaceChunks + PutVectors) against `psql \copy` of
# the same rows, in the same run (bench/store_write_bench.cc; target: at least 0.5x).
# Usage: bench/store_write.sh [BUILD_DIR] [rounds]
# PostgreSQL: INGEST_BENCH_PG_URL or INGESTD_TEST_PG_URL (any database on the server; a scratch
# database is created next to it and dropped afterwards), else a throwaway cluster is started
# with scripts/start-test-services.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
build="$(readlink -f "${1:-build/release}")"
rounds="${2:-3}"
cleanup() { :; }
trap 'cleanup' EXIT
url="${INGEST_BENCH_PG_URL:-${INGESTD_TEST_PG_URL:-}}"
if [ -z "$url" ]; then
  # shellcheck disable=SC1091
  source scripts/start-test-services.sh
  url="$INGESTD_TEST_PG_URL"
fi
source tests/lib/scale.sh
db="$(fresh_database "$url" ingestd_bench_store_write)"
INGESTD_STORE="$db" "$build/cmd/ingestd/ingestd" migrate up > /dev/null
work="$(mktemp -d)"
"$build/bench/store_write_bench" --url "$db" --rounds "$rounds" --dir "$work" "${@:3}"
rm -rf "$work"
psql "$url" -XAtq -c "DROP DATABASE ingestd_bench_store_write" > /dev/null
