#!/usr/bin/env bash
# What limits cpp-httplib's own listener, one setting at a time, and the EventServer ingestd
# uses instead: wrk on GET /healthz at 1, 16 and 256 connections against
# http_server_knobs_bench with each configuration (docs/performance.md).
#
#   bench/api_server_knobs.sh [BUILD_DIR] [SECONDS]      (defaults: build/release, 5)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$(readlink -f "${1:-build/release}")/bench/http_server_knobs_bench"
DUR="${2:-5}"
command -v wrk > /dev/null || { echo "wrk is missing (scripts/setup-deps.sh --test)"; exit 2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

summary() {  # wrk output -> "req/s p50 errors"
  awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
       /Requests\/sec:/ { rps = $2 } $1 == "50%" { p50 = ms($2) }
       /Socket errors/ { gsub(",", ""); err += $4 + $6 + $8 + $10 }
       END { printf "%.0f req/s, p50 %.2f ms, %d errors", rps, p50, err }'
}

echo "| configuration | 1 connection | 16 connections | 256 connections |"
echo "|---|---|---|---|"
while IFS='|' read -r name flags; do
  PORT="$(free_port)"  # a fresh port: httplib's closed connections may still hold the last one
  "$BIN" $flags "$PORT" > /dev/null &
  pid=$!
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.05; done
  row="| $name |"
  for c in 1 16 256; do
    t=2; [ "$c" -eq 1 ] && t=1
    row+=" $(wrk -t$t -c$c -d"${DUR}s" --timeout 5s --latency "http://127.0.0.1:$PORT/healthz" 2>&1 | summary) |"
  done
  echo "$row"
  kill -TERM "$pid"; wait "$pid" 2> /dev/null || true
done << 'EOF'
httplib defaults (no TCP_NODELAY, backlog 5, 8 threads, 5 requests/connection)|
+ TCP_NODELAY|--nodelay
+ backlog 1024|--nodelay --backlog 1024
+ 10,000 requests/connection|--nodelay --backlog 1024 --keepalive-max 10000
+ 64 threads|--nodelay --backlog 1024 --keepalive-max 10000 --threads 64
+ 512 threads|--nodelay --backlog 1024 --keepalive-max 10000 --threads 512
EventServer (epoll, 8 threads)|--event --threads 8
EOF
