# Shared helpers for script tests. Source it; it sets BIN, SRC, BUILD and a fresh $WORK.
set -euo pipefail
BIN="$(readlink -f "$1")"
SRC="$(readlink -f "$2")"
BUILD="$(readlink -f "${3:-.}")"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ingestd-test.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
export INGESTD_LOG_FORMAT=json
export INGESTD_LOG_LEVEL=warn
unset INGESTD_CONFIG INGESTD_PROFILE INGESTD_STORE INGESTD_MODE INGESTD_PARSER INGESTD_EMBEDDER || true

failures=0
pass() { echo "ok   - $*"; }
fail() { echo "FAIL - $*"; failures=$((failures + 1)); }
check() {  # check "description" command...
  local what="$1"; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
finish() {
  if [ "$failures" -ne 0 ]; then echo "$failures check(s) failed"; exit 1; fi
  echo "all checks passed"
}

# Real PDFs from Debian's documentation packages; in CI their absence is a failure.
need_file() {
  if [ ! -f "$1" ]; then
    if [ "${CI:-}" = "true" ]; then echo "FAIL - missing $1 (scripts/setup-deps.sh --test installs it)"; exit 1; fi
    echo "skip - $1 not installed"; exit 0
  fi
}
R_MANUALS=/usr/share/R/doc/manual
REFCARDS=/usr/share/doc/debian-refcard

# Emulators (emulator_start, emulators_stop).
source "$(dirname "${BASH_SOURCE[0]}")/emulators.sh"
