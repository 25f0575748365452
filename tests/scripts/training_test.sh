#!/usr/bin/env bash
# docs/training/check.sh: every exercise starts broken (its check fails), the scripted trainee in
# docs/training/solutions/ fixes it (its check then passes), and stop leaves no process running.
# Usage: training_test.sh INGESTD SOURCE_DIR BINARY_DIR
source "$(dirname "$0")/../lib/common.sh"
mkdir -p "$WORK/bin"
ln -s "$BIN" "$WORK/bin/ingestd"
export PATH="$WORK/bin:$PATH"
unset INGESTD_LOG_FORMAT INGESTD_LOG_LEVEL
check_sh="$SRC/docs/training/check.sh"
trap 'for d in "$WORK"/ex/*; do TRAINING_DIR="$d" "$check_sh" "$(basename "$d")" stop > /dev/null 2>&1 || true; done; rm -rf "$WORK"' EXIT

exercises=$("$check_sh" list)
check "six exercises listed" test "$(echo "$exercises" | wc -l)" -eq 6
for ex in $exercises; do
  export TRAINING_DIR="$WORK/ex/$ex"
  if ! "$check_sh" "$ex" start > "$WORK/$ex.start" 2>&1; then
    fail "$ex: start"; cat "$WORK/$ex.start"; continue
  fi
  check "$ex: start states symptom and goal" grep -q '^GOAL:' "$WORK/$ex.start"
  check "$ex: check fails before the fix" bash -c "! '$check_sh' '$ex' check > '$WORK/$ex.before' 2>&1"
  if timeout 300 "$SRC/docs/training/solutions/$ex.sh" > "$WORK/$ex.solution" 2>&1; then
    pass "$ex: scripted trainee ran"
  else
    fail "$ex: scripted trainee"; tail -20 "$WORK/$ex.solution"
  fi
  if "$check_sh" "$ex" check > "$WORK/$ex.after" 2>&1; then
    pass "$ex: check passes after the fix"
  else
    fail "$ex: check after the fix"; cat "$WORK/$ex.after"
  fi
  pid=$(cat "$TRAINING_DIR/emulator.pid" 2>/dev/null || echo)
  "$check_sh" "$ex" stop > /dev/null
  check "$ex: stop leaves no emulator running" bash -c "[ -z '$pid' ] || ! kill -0 '$pid' 2>/dev/null"
done
finish
