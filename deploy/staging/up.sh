#!/usr/bin/env bash
# Brings up a staging stack on this machine, every part a separate process on 127.0.0.1 on a
# free port (docs/operations/staging.md):
#   - a throwaway PostgreSQL 15 cluster (the shared store and queue), migrated by `ingestd migrate up`
#   - `ingestd emulate openai` and `ingestd emulate llamaparse` with latency, rate limits and a
#     low fault rate (seeded), each with a billing log
#   - two `ingestd worker` processes (each serving /metrics) and two `ingestd serve` replicas
#     (same database, different ports), configured by config/staging.toml with mode `real`:
#     the paid-provider clients exactly as production runs them (real prices in the ledger,
#     budgets that mean something), pointed at the emulators by base URL
#   - Prometheus scraping every ingestd process with the shipped rules (deploy/prometheus/)
#   - Alertmanager with the shipped routing (deploy/alertmanager/alertmanager.yml; receivers
#     pointed at the sink, timers shortened for staging) and a webhook sink recording alerts
# Prints the URLs (`dashboard: http://127.0.0.1:PORT` among them) and writes them to
# $STAGING_DIR/staging.env. deploy/staging/smoke.sh checks the stack; deploy/staging/down.sh
# stops exactly what this started and removes its data.
#
# Usage: deploy/staging/up.sh        (env: INGESTD_BIN, INGESTD_STAGING_DIR, INGESTD_PG_BINDIR)
# On a failure part-way, everything started so far is stopped again.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

BIN="$(staging_bin)"
for tool in prometheus prometheus-alertmanager python3 curl psql; do
  command -v "$tool" > /dev/null || { echo "up: $tool not found (scripts/setup-deps.sh --test installs it)" >&2; exit 1; }
done
if [ -d "$STAGING_DIR/pids" ] && ls "$STAGING_DIR"/pids/*.pid > /dev/null 2>&1; then
  echo "up: a stack is already up in $STAGING_DIR (run deploy/staging/down.sh first)" >&2
  exit 1
fi
rm -rf "$STAGING_DIR"
mkdir -p "$STAGING_DIR"/{pids,logs,cmds,addrs,data,prometheus,alertmanager}
STAGING_DIR="$(cd "$STAGING_DIR" && pwd)"
STAGING_ENV="$STAGING_DIR/staging.env"
LOGS="$STAGING_DIR/logs"

ok=""
on_exit() {
  if [ -z "$ok" ]; then
    echo "up: failed; stopping what was started (logs kept in $LOGS)" >&2
    INGESTD_STAGING_DIR="$STAGING_DIR" STAGING_KEEP_LOGS=1 "$STAGING_HERE/down.sh" >&2 || true
  fi
}
trap on_exit EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start NAME CMD...: runs CMD in the background, detached from this shell (it outlives up.sh),
# stdout to logs/NAME.out and stderr to logs/NAME.log, pid in pids/NAME.pid, the command in
# cmds/NAME (for restart.sh).
start() {
  local name="$1"
  shift
  printf '%q ' "$@" > "$STAGING_DIR/cmds/$name"
  nohup "$@" > "$LOGS/$name.out" 2> "$LOGS/$name.log" < /dev/null &
  echo $! > "$STAGING_DIR/pids/$name.pid"
  disown $! 2> /dev/null || true
}

# first_url NAME PREFIX: waits (30 s) for a stdout line "PREFIX URL" of process NAME; prints URL.
first_url() {
  local name="$1" prefix="$2" pid i
  pid="$(cat "$STAGING_DIR/pids/$name.pid")"
  for i in $(seq 300); do
    if grep -q "^$prefix " "$LOGS/$name.out" 2> /dev/null; then
      sed -n "s/^$prefix //p" "$LOGS/$name.out" | head -n 1
      return 0
    fi
    pid_alive "$pid" || break
    sleep 0.1
  done
  echo "up: $name did not start; last lines of $LOGS/$name.log:" >&2
  tail -n 20 "$LOGS/$name.log" >&2
  return 1
}

# wait_http URL NAME: waits (30 s) until URL answers 200.
wait_http() {
  local i
  for i in $(seq 300); do
    curl -fsS -o /dev/null "$1" 2> /dev/null && return 0
    sleep 0.1
  done
  echo "up: $2 not ready at $1; last lines of its log:" >&2
  tail -n 20 "$LOGS/$2.log" >&2
  return 1
}

# --- PostgreSQL 15 ---------------------------------------------------------------------------
pg_bindir="${INGESTD_PG_BINDIR:-}"
if [ -z "$pg_bindir" ]; then
  if [ -x /usr/lib/postgresql/15/bin/initdb ]; then
    pg_bindir=/usr/lib/postgresql/15/bin
  else
    pg_bindir="$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -n 1)"
  fi
fi
[ -x "$pg_bindir/initdb" ] || { echo "up: no PostgreSQL server binaries (set INGESTD_PG_BINDIR)" >&2; exit 1; }
# The cluster lives under /tmp: the postgres user (when we are root) may not be allowed into
# the checkout. down.sh removes it.
pg_dir="$(mktemp -d "${TMPDIR:-/tmp}/ingestd-staging-pg-XXXXXX")"
echo "$pg_dir" > "$STAGING_DIR/pg_dir"
chmod 755 "$pg_dir"
[ "$(id -u)" = "0" ] && chown postgres: "$pg_dir"
(cd "$pg_dir" && staging_pg_as_owner "$pg_bindir/initdb" -D "$pg_dir/data" -U postgres \
  --auth=trust --encoding=UTF8 --no-locale > "$LOGS/initdb.log" 2>&1)
pg_port="$(free_port)"
(cd "$pg_dir" && staging_pg_as_owner "$pg_bindir/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" \
  -w -t 60 -o "-h 127.0.0.1 -p $pg_port -k $pg_dir -c max_connections=200" start > /dev/null)
echo "$pg_bindir" > "$STAGING_DIR/pg_bindir"
head -n 1 "$pg_dir/data/postmaster.pid" > "$STAGING_DIR/pids/postgres.pid"
psql -XAtq -v ON_ERROR_STOP=1 "postgresql://postgres@127.0.0.1:$pg_port/postgres" \
  -c "CREATE DATABASE ingestd" > /dev/null
store="postgresql://postgres@127.0.0.1:$pg_port/ingestd"

# --- emulators ----------------------------------------------------------------------------------
openai_key="sk-staging-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
llama_key="llx-staging-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
admin_token="staging-admin-$(od -An -N16 -tx8 /dev/urandom | tr -d ' ')"
# Realistic: tens of ms per embeddings call, seconds per parse job, rate limits a busy run
# reaches, and about one call in a hundred failing transiently (seeded, so a run repeats).
start emulate-openai "$BIN" emulate openai --port 0 --api-key "$openai_key" --seed 15 \
  --latency-ms 40 --rpm 3000 --tpm 1000000 --fault-rate-500 0.005 --fault-rate-429 0.005 \
  --billing-log "$STAGING_DIR/data/openai-billing.jsonl"
start emulate-llamaparse "$BIN" emulate llamaparse --port 0 --api-key "$llama_key" --seed 15 \
  --latency-ms 800 --latency-ms-per-page 150 --upload-rate 20 --upload-window-ms 10000 \
  --fault-rate-503 0.01 --billing-log "$STAGING_DIR/data/llamaparse-billing.jsonl"
openai_url="$(first_url emulate-openai 'listening on')"
llama_url="$(first_url emulate-llamaparse 'listening on')"

# --- the ingestd environment (every ingestd process of the stack shares it) ------------------
cat > "$STAGING_ENV" <<ENV
# Written by deploy/staging/up.sh; source it to run ingestd commands against the stack.
export INGESTD_CONFIG=$STAGING_ROOT/config/staging.toml
export INGESTD_PROFILE=staging
export INGESTD_MODE=real
export INGESTD_STORE=$store
export INGESTD_DATA_DIR=$STAGING_DIR/data
export INGESTD_ADMIN_TOKEN=$admin_token
export INGESTD_LOG_LEVEL=info
export OPENAI_BASE_URL=$openai_url/v1
export OPENAI_API_KEY=$openai_key
export LLAMA_CLOUD_BASE_URL=$llama_url
export LLAMA_CLOUD_API_KEY=$llama_key
export STAGING_DIR=$STAGING_DIR
export STAGING_BIN=$BIN
export STAGING_PG_URL=$store
export STAGING_OPENAI_URL=$openai_url
export STAGING_LLAMAPARSE_URL=$llama_url
ENV
chmod 600 "$STAGING_ENV"
set -a
source "$STAGING_ENV"
set +a
"$BIN" migrate up > "$LOGS/migrate.log" 2>&1

# --- workers and replicas -----------------------------------------------------------------------
# Each process gets a data directory of its own (logs, the local blob cache): they share nothing
# but the database, blobs included (blobs.url defaults to the PostgreSQL store), as separate
# machines would. restart.sh starts a process again on the same directory.
# STAGING_SHARED_DATA_DIR=1 gives them one shared directory with a blobs folder instead, the
# layout of a deployment from before database blobs (a rolling upgrade from such a release:
# the old binaries read only the folder, and the new ones keep it while it exists).
start_node() {
  local name="$1" dir="$STAGING_DIR/nodes/$1"
  shift
  if [ "${STAGING_SHARED_DATA_DIR:-0}" = 1 ]; then
    dir="$STAGING_DIR/data"
    mkdir -p "$dir/blobs"
  fi
  mkdir -p "$dir"
  echo "$dir" > "$STAGING_DIR/datadirs/$name"
  INGESTD_DATA_DIR="$dir" start "$name" "$@"
}
mkdir -p "$STAGING_DIR/datadirs"
start_node worker-1 "$BIN" worker --workers 2 --metrics-listen 127.0.0.1:0
start_node worker-2 "$BIN" worker --workers 2 --metrics-listen 127.0.0.1:0
start_node serve-1 "$BIN" serve --listen 127.0.0.1:0 --workers 1
start_node serve-2 "$BIN" serve --listen 127.0.0.1:0 --workers 1
worker1_url="$(first_url worker-1 'metrics on')"
worker2_url="$(first_url worker-2 'metrics on')"
serve1_url="$(first_url serve-1 'listening on')"
serve2_url="$(first_url serve-2 'listening on')"
wait_http "$serve1_url/readyz" serve-1
wait_http "$serve2_url/readyz" serve-2
# The bound addresses: restart.sh starts a process again on the same one (Prometheus targets
# and clients keep their URLs).
echo "${worker1_url#http://}" > "$STAGING_DIR/addrs/worker-1"
echo "${worker2_url#http://}" > "$STAGING_DIR/addrs/worker-2"
echo "${serve1_url#http://}" > "$STAGING_DIR/addrs/serve-1"
echo "${serve2_url#http://}" > "$STAGING_DIR/addrs/serve-2"

# --- alert sink, Alertmanager, Prometheus ---------------------------------------------------------
start alert-sink python3 "$STAGING_HERE/alert_sink.py" --log "$STAGING_DIR/data/alerts.jsonl"
sink_url="$(first_url alert-sink 'listening on')"

# The shipped routing, receivers and inhibitions unchanged; only the receivers' address (the
# sink's free port) and the timers differ: staging waits seconds, not minutes, so a smoke test
# sees an alert fire and resolve.
am_port="$(free_port)"
sed -e "s#http://127.0.0.1:9095#$sink_url#g" \
  -e 's/^\(  *\)group_wait: .*/\1group_wait: 1s/' \
  -e 's/^\(  *\)group_interval: .*/\1group_interval: 2s/' \
  "$STAGING_ROOT/deploy/alertmanager/alertmanager.yml" > "$STAGING_DIR/alertmanager/alertmanager.yml"
start alertmanager prometheus-alertmanager \
  --config.file="$STAGING_DIR/alertmanager/alertmanager.yml" \
  --storage.path="$STAGING_DIR/alertmanager/data" \
  --web.listen-address="127.0.0.1:$am_port" --cluster.listen-address=
am_url="http://127.0.0.1:$am_port"

prom_port="$(free_port)"
target() { echo "${1#http://}"; }
cat > "$STAGING_DIR/prometheus/prometheus.yml" <<YML
# Written by deploy/staging/up.sh: every ingestd process of the stack, the shipped rules.
global:
  scrape_interval: 2s
  evaluation_interval: 2s
rule_files:
  - $STAGING_ROOT/deploy/prometheus/ingestd-alerts.yml
  - $STAGING_ROOT/deploy/prometheus/ingestd-slo.yml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:$am_port']
scrape_configs:
  - job_name: ingestd
    static_configs:
      - targets: ['$(target "$serve1_url")', '$(target "$serve2_url")']
        labels: {role: serve}
      - targets: ['$(target "$worker1_url")', '$(target "$worker2_url")']
        labels: {role: worker}
YML
start prometheus prometheus --config.file="$STAGING_DIR/prometheus/prometheus.yml" \
  --storage.tsdb.path="$STAGING_DIR/prometheus/data" --web.listen-address="127.0.0.1:$prom_port"
prom_url="http://127.0.0.1:$prom_port"
wait_http "$am_url/-/ready" alertmanager
wait_http "$prom_url/-/ready" prometheus

cat >> "$STAGING_ENV" <<ENV
export STAGING_SERVE_URLS="$serve1_url $serve2_url"
export STAGING_WORKER_METRICS_URLS="$worker1_url $worker2_url"
export STAGING_PROMETHEUS_URL=$prom_url
export STAGING_ALERTMANAGER_URL=$am_url
export STAGING_ALERT_SINK_URL=$sink_url
ENV
ok=1
cat <<OUT
staging stack up in $STAGING_DIR
dashboard: $serve1_url
api: $serve1_url $serve2_url
worker metrics: $worker1_url/metrics $worker2_url/metrics
prometheus: $prom_url
alertmanager: $am_url
alert sink: $sink_url/alerts
openai emulator: $openai_url
llamaparse emulator: $llama_url
postgresql: $store
env: $STAGING_ENV
OUT
