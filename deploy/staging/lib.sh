# Shared by up.sh, smoke.sh and down.sh (sourced). The stack's state lives in one folder:
#   $STAGING_DIR/pids/NAME.pid   one per process up.sh started (down.sh stops exactly these)
#   $STAGING_DIR/logs/NAME.log   each process's stderr (and stdout)
#   $STAGING_DIR/staging.env     the URLs and settings, as `export NAME=value` lines
# STAGING_DIR is $INGESTD_STAGING_DIR, default deploy/staging/.run (gitignored).
STAGING_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STAGING_ROOT="$(cd "$STAGING_HERE/../.." && pwd)"
STAGING_DIR="${INGESTD_STAGING_DIR:-$STAGING_HERE/.run}"
STAGING_ENV="$STAGING_DIR/staging.env"

# The binary: $INGESTD_BIN, else this checkout's build (ci, then release), else `ingestd` on PATH.
staging_bin() {
  if [ -n "${INGESTD_BIN:-}" ]; then echo "$INGESTD_BIN"; return; fi
  local b
  for b in "$STAGING_ROOT/build/ci/cmd/ingestd/ingestd" "$STAGING_ROOT/build/release/cmd/ingestd/ingestd"; do
    if [ -x "$b" ]; then echo "$b"; return; fi
  done
  command -v ingestd || { echo "staging: no ingestd binary (set INGESTD_BIN)" >&2; return 1; }
}

# Runs a PostgreSQL server binary as `postgres` when we are root (initdb and postgres refuse to
# run as root), as ourselves otherwise.
staging_pg_as_owner() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pid_alive PID: true while the process exists (and is not a zombie).
pid_alive() {
  local st
  st="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
  [ -n "$st" ] && [[ "$st" != Z* ]]
}
