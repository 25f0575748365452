#!/usr/bin/env bash
# PostgreSQL blobs against the local blob folder (bench/blobs_bench.cc): upload and read MB/s
# for 1 MB and 50 MB files, and the peak RSS of storing and reading back one file of 10 MB and
# of 100 MB through each store (goal: RSS independent of the file's size).
# Usage: bench/blobs.sh [BUILD_DIR] [rounds]
# PostgreSQL: INGEST_BENCH_PG_URL or INGESTD_TEST_PG_URL (a scratch database is created next to
# it and dropped afterwards), else a throwaway cluster is started with
# scripts/start-test-services.sh.
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
db="$(fresh_database "$url" ingestd_bench_blobs)"
INGESTD_STORE="$db" "$build/cmd/ingestd/ingestd" migrate up > /dev/null
work="$(mktemp -d)"
"$build/bench/blobs_bench" throughput --url "$db" --dir "$work" --rounds "$rounds"
for store in folder postgres; do
  for mb in 10 100; do
    "$build/bench/blobs_bench" rss --store "$store" --url "$db" --dir "$work" --size-mb "$mb"
  done
done
rm -rf "$work"
psql "$url" -XAtq -c "DROP DATABASE ingestd_bench_blobs" > /dev/null
