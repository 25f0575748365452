#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to searchable documents: installs the build
# dependencies, builds ingestd, ingests the bundled examples into the embedded default store
# (SQLite and local files under ./.ingestd, no network), and runs a search.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-deps.sh
scripts/fetch-tokenizer-data.sh
scripts/build.sh release ingestd
bin=build/release/cmd/ingestd/ingestd
export INGESTD_DATA_DIR="${INGESTD_DATA_DIR:-$PWD/.ingestd}"
echo "== ingestd ingest examples/ (data in $INGESTD_DATA_DIR)"
"$bin" ingest examples/
echo "== ingestd search \"hard budget limit exceeded\" -k 3"
"$bin" search "hard budget limit exceeded" -k 3
echo
echo "ingestd is at $bin; try: $bin search \"your question\" -k 5 --json"
