#!/usr/bin/env bash
# Runs the whole test suite: installs build and test dependencies (Debian packages, npm peers),
# builds with warnings as errors, starts the services the tests use, and runs ctest.
# Usage: scripts/test.sh [ctest args...]   (e.g. scripts/test.sh -L unit)
#        scripts/test.sh --stress N [ctest args...]
#   --stress N: runs the suite N times in shuffled order (ctest --schedule-random) while one
#   busy loop per core keeps the machine loaded, then lists every test that failed at least
#   once (with how many runs it failed) and exits non-zero if there is any. For flushing out
#   races before CI does; a test it names is fixed at its cause, never retried.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
stress=0
if [ "${1:-}" = "--stress" ]; then
  if [ $# -lt 2 ] || ! [[ "$2" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: scripts/test.sh --stress N [ctest args...]  (N >= 1)" >&2
    exit 2
  fi
  stress="$2"
  shift 2
fi
scripts/setup-deps.sh --test
scripts/fetch-tokenizer-data.sh
export INGEST_BUILD_JOBS="${INGEST_BUILD_JOBS:-$(nproc)}"
scripts/build.sh ci

# Node packages pinned by lock files: tokenizer/chunker peers for conformance tests
# (tests/peers), playwright-core for the dashboard's browser test (tests/browser) and s3rver, the
# fake S3 server of the BlobStore conformance suite (tests/s3).
for dir in tests/peers tests/browser tests/s3; do
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
if [ "$stress" -eq 0 ]; then
  ctest --output-on-failure --timeout 900 -j "${INGEST_TEST_JOBS:-2}" "$@"
  exit
fi

# Stress: background load on every core for the whole run, removed on any exit.
load_pids=()
stop_load() {
  local pid
  for pid in "${load_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${load_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  load_pids=()
}
trap 'stop_load; cleanup' EXIT
trap 'exit 130' INT TERM
for _ in $(seq "$(nproc)"); do
  yes >/dev/null &
  load_pids+=("$!")
done
declare -A failures=()
logs="$PWD/Testing/stress"
rm -rf "$logs"
mkdir -p "$logs"
for run in $(seq "$stress"); do
  echo "== stress run $run/$stress ($(nproc) busy loops in the background) =="
  rm -f Testing/Temporary/LastTestsFailed*.log
  status=0
  ctest --output-on-failure --timeout 900 -j "${INGEST_TEST_JOBS:-2}" --schedule-random "$@" \
    >"$logs/run-$run.log" 2>&1 || status=$?
  tail -n 3 "$logs/run-$run.log"
  failed_log=$(ls Testing/Temporary/LastTestsFailed*.log 2>/dev/null | head -n 1 || true)
  if [ -n "$failed_log" ]; then
    # Lines are "<number>:<test name>".
    while IFS= read -r line; do
      [ -n "$line" ] && failures["${line#*:}"]=$((${failures["${line#*:}"]:-0} + 1))
    done <"$failed_log"
  elif [ "$status" -ne 0 ]; then
    failures["(ctest itself, run $run: exit $status)"]=1
  fi
done
stop_load
echo
if [ "${#failures[@]}" -eq 0 ]; then
  echo "stress: no test failed in $stress shuffled run(s) under load (flaky tests found: none)"
  exit 0
fi
echo "stress: tests that failed at least once in $stress shuffled run(s) under load:"
while IFS= read -r name; do
  echo "  $name: failed ${failures[$name]}/$stress"
done < <(printf '%s\n' "${!failures[@]}" | sort)
echo "logs: $logs/run-*.log"
exit 1
