# Starting and stopping `ingestd emulate` for script tests and benchmarks. Needs BIN. Sourced
# by tests/lib/common.sh; benchmarks that do not use common.sh source it directly.

# Emulators. emulator_start KIND OUTFILE [FLAGS...] runs `ingestd emulate KIND --port 0 FLAGS`
# in the background (stdout to OUTFILE, stderr to OUTFILE.err) and waits for its address: sets
# PORT, EMU_URL (http://127.0.0.1:PORT) and EMU_PID, and records the pid in EMU_PIDS for
# emulators_stop. Use a fresh OUTFILE per start: the background redirection truncates the file
# asynchronously, so a reused one could still show the previous emulator's address.
EMU_PIDS=()
emulator_start() {
  local kind="$1" out="$2" line
  shift 2
  rm -f "$out"
  "$BIN" emulate "$kind" --port 0 "$@" > "$out" 2> "$out.err" &
  EMU_PID=$!
  EMU_PIDS+=("$EMU_PID")
  PORT=""
  EMU_URL=""
  for _ in $(seq 1 100); do
    line="$(head -n 1 "$out" 2>/dev/null || true)"
    if [[ "$line" =~ ^listening\ on\ (http://127\.0\.0\.1:([0-9]+))$ ]]; then
      EMU_URL="${BASH_REMATCH[1]}"
      PORT="${BASH_REMATCH[2]}"
      return 0
    fi
    sleep 0.1
  done
  echo "FAIL - emulator $kind did not print its address: $(cat "$out.err")"
  exit 1
}

# emulators_stop: stops every emulator emulator_start started.
emulators_stop() {
  local p
  for p in "${EMU_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${EMU_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  EMU_PIDS=()
}
