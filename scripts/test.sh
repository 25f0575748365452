#!/usr/bin/env bash
# Runs the whole test suite: installs build and test dependencies (Debian packages, npm peers),
# builds with warnings as errors, starts the services the tests use, and runs ctest.
# Usage: scripts/test.sh [ctest args...]   (e.g. scripts/test.sh -L unit)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
scripts/setup-deps.sh --test
scripts/fetch-tokenizer-data.sh
export INGEST_BUILD_JOBS="${INGEST_BUILD_JOBS:-$(nproc)}"
scripts/build.sh ci

# Node packages pinned by lock files: tokenizer/chunker peers for conformance tests
# (tests/peers) and playwright-core for the dashboard's browser test (tests/browser).
for dir in tests/peers tests/browser; do
  if [ -f "$dir/package-lock.json" ] && [ ! -d "$dir/node_modules" ]; then
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
  fi
done

cleanup() { :; }
trap 'cleanup' EXIT
if [ -x scripts/start-test-services.sh ]; then
  # Starts PostgreSQL (and anything else the suites need) and exports their addresses.
  # shellcheck disable=SC1091
  source scripts/start-test-services.sh
fi

cd build/ci
ctest --output-on-failure --timeout 900 -j "${INGEST_TEST_JOBS:-2}" "$@"
