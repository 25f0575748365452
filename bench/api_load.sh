#!/usr/bin/env bash
# HTTP load on `ingestd serve`, side by side with nginx, in one run (docs/performance.md).
#
#   bench/api_load.sh [INGESTD] [SECONDS]      (defaults: build/release/cmd/ingestd/ingestd, 10)
#
# 1. GET /healthz on ingestd and `return 200` on nginx (1 worker process), wrk at 1, 16 and 256
#    connections: req/s, p50, p99, errors, and ingestd / nginx.
# 2. POST /v1/search (k=10) on a store of CHUNKS chunks (default 100,000; built once with
#    `ingestd ingest` and kept in $BENCH_DIR) at 16 and 256 connections.
# 3. GET /v1/jobs/{id} at 16 and 256 connections while the same server ingests uploads (the
#    store is busy: workers lease, write chunks and vectors, upload requests arrive).
# Needs wrk, nginx, curl, jq, python3 (scripts/setup-deps.sh --test installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$(readlink -f "${1:-build/release/cmd/ingestd/ingestd}")"
DUR="${2:-10}"
CHUNKS="${CHUNKS:-100000}"
BENCH_DIR="${BENCH_DIR:-bench/results/api_load}"
mkdir -p "$BENCH_DIR"
BENCH_DIR="$(readlink -f "$BENCH_DIR")"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/api-load.XXXXXX")"
for tool in wrk nginx curl jq python3; do
  command -v "$tool" > /dev/null || { echo "api_load: $tool is missing (scripts/setup-deps.sh --test)"; exit 2; }
done
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2> /dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2> /dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
export INGESTD_LOG_LEVEL=warn INGESTD_ADMIN_TOKEN="bench-admin-token-0123456789"
unset INGESTD_CONFIG INGESTD_PROFILE INGESTD_STORE INGESTD_MODE INGESTD_PARSER INGESTD_EMBEDDER || true

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_serve DATA_DIR WORKERS: sets $URL.
start_serve() {
  INGESTD_DATA_DIR="$1" "$BIN" serve --listen 127.0.0.1:0 --workers "$2" > "$WORK/serve.out" 2> "$WORK/serve.log" &
  pids+=($!)
  SERVE_PID=$!
  for _ in $(seq 1 600); do
    line="$(head -n 1 "$WORK/serve.out" 2> /dev/null || true)"
    if [[ "$line" == "listening on "* ]]; then URL="${line#listening on }"; return 0; fi
    sleep 0.05
  done
  echo "api_load: serve did not start"; cat "$WORK/serve.log"; exit 1
}
stop_serve() { kill -TERM "$SERVE_PID"; wait "$SERVE_PID" 2> /dev/null || true; }

# run_wrk NAME CONNECTIONS URL [LUA [TIMEOUT_S]]: prints "req/s p50_ms p99_ms errors" (socket
# errors incl. timeouts, and non-2xx answers) and keeps wrk's output in $BENCH_DIR.
run_wrk() {
  local name="$1" c="$2" url="$3" lua="${4:-}" timeout="${5:-10}" threads=2
  [ "$c" -eq 1 ] && threads=1
  local args=(-t"$threads" -c"$c" -d"${DUR}s" --timeout "${timeout}s" --latency)
  [ -n "$lua" ] && args+=(-s "$lua")
  wrk "${args[@]}" "$url" > "$WORK/wrk-$name-$c.txt" 2>&1 || true
  cp "$WORK/wrk-$name-$c.txt" "$BENCH_DIR/"
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec:/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) }
    /Socket errors/ { gsub(",", ""); err += $4 + $6 + $8 + $10 }
    /Non-2xx/ { err += $NF }
    END { printf "%.1f %.3f %.3f %d\n", rps, p50, p99, err }' "$WORK/wrk-$name-$c.txt"
}

# --- nginx: one worker process, `return 200` ----------------------------------------------------
NGINX_PORT="$(free_port)"
mkdir -p "$WORK/nginx"
cat > "$WORK/nginx/nginx.conf" << EOF
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$NGINX_PORT backlog=1024;
    location / { default_type application/json; return 200 '{"status":"ok"}'; }
  }
}
EOF
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
pids+=($!)
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$NGINX_PORT/healthz" && break; sleep 0.05; done

# --- 1. /healthz ----------------------------------------------------------------------------------
start_serve "$WORK/empty" 1
echo "## GET /healthz, ${DUR} s per run ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "| connections | ingestd req/s | p50 ms | p99 ms | errors | nginx req/s | p50 ms | p99 ms | errors | ingestd / nginx |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for c in 1 16 256; do
  read -r i_rps i_p50 i_p99 i_err <<< "$(run_wrk ingestd-healthz "$c" "$URL/healthz")"
  read -r n_rps n_p50 n_p99 n_err <<< "$(run_wrk nginx-healthz "$c" "http://127.0.0.1:$NGINX_PORT/healthz")"
  ratio="$(python3 -c "print(f'{$i_rps / max($n_rps, 1):.2f}x')")"
  echo "| $c | $i_rps | $i_p50 | $i_p99 | $i_err | $n_rps | $n_p50 | $n_p99 | $n_err | **$ratio** |"
done
stop_serve
echo

# --- 2. /v1/search on a store of $CHUNKS chunks ---------------------------------------------------
STORE="$BENCH_DIR/store-$CHUNKS"
export INGESTD_CHUNK_MAX_TOKENS=32 INGESTD_CHUNK_OVERLAP_TOKENS=0
if [ ! -f "$STORE/.complete" ]; then
  rm -rf "$STORE" "$WORK/corpus"
  # One paragraph (about 20 tokens of distinct words) per chunk, 1,000 per file.
  python3 - "$WORK/corpus" "$CHUNKS" << 'PY'
import os, random, sys
out, n = sys.argv[1], int(sys.argv[2])
os.makedirs(out)
rng = random.Random(25)
words = [w.strip() for w in open("/usr/share/dict/words")] if os.path.exists("/usr/share/dict/words") else []
if len(words) < 5000:
    syll = ["ka", "lo", "mi", "ren", "tu", "sa", "vor", "el", "qui", "dan", "po", "ris", "te", "nu", "xa", "bel"]
    words = sorted({"".join(rng.choice(syll) for _ in range(rng.randint(2, 4))) for _ in range(20000)})
for f in range((n + 999) // 1000):
    with open(f"{out}/doc{f:04d}.md", "w") as fh:
        fh.write(f"# Document {f}\n\n")
        for p in range(min(1000, n - f * 1000)):
            fh.write(" ".join(rng.choice(words) for _ in range(6)) + f" item {f}-{p}.\n\n")
PY
  echo "building a store of $CHUNKS chunks in $STORE (once) ..." >&2
  INGESTD_DATA_DIR="$STORE" "$BIN" ingest "$WORK/corpus" --json > "$WORK/ingest.json"
  touch "$STORE/.complete"
fi
CHUNKS_IN_STORE="$(python3 -c "import sqlite3; print(sqlite3.connect('$STORE/ingestd.db').execute('select count(*) from chunks').fetchone()[0])")"
cat > "$WORK/search.lua" << EOF
wrk.method = "POST"
wrk.body = '{"query": "orchard river mountain harvest", "k": 10}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $INGESTD_ADMIN_TOKEN"
EOF
start_serve "$STORE" 0
curl -sf -o "$WORK/search.json" -H "Authorization: Bearer $INGESTD_ADMIN_TOKEN" -H "Content-Type: application/json" \
  -d '{"query": "orchard river mountain harvest", "k": 10}' "$URL/v1/search"
# One search alone, through the CLI (no HTTP) and through the API: the server's share.
SEARCH_TIMEOUT="${SEARCH_TIMEOUT:-60}"
cli_s="$( { /usr/bin/time -f '%e %U %S' env INGESTD_DATA_DIR="$STORE" "$BIN" search "orchard river mountain harvest" -k 10 > /dev/null; } 2>&1 | tail -n 1)"
api_s="$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $INGESTD_ADMIN_TOKEN" -H "Content-Type: application/json" \
  -d '{"query": "orchard river mountain harvest", "k": 10}' "$URL/v1/search")"
echo "one search: \`ingestd search\` (whole process) wall/user/sys s: $cli_s; POST /v1/search: $api_s s"
echo
echo "## POST /v1/search, k=10, $CHUNKS_IN_STORE chunks, ${DUR} s per run (wrk timeout ${SEARCH_TIMEOUT} s)"
echo
echo "| connections | req/s | p50 ms | p99 ms | errors |"
echo "|---:|---:|---:|---:|---:|"
for c in 1 16 256; do
  read -r rps p50 p99 err <<< "$(run_wrk search "$c" "$URL/v1/search" "$WORK/search.lua" "$SEARCH_TIMEOUT")"
  echo "| $c | $rps | $p50 | $p99 | $err |"
done
echo

# --- 3. /v1/jobs/{id} on a busy store -------------------------------------------------------------
# A fresh server: requests wrk left queued above would still be searching (a request that
# arrived whole is answered even when its client has gone).
stop_serve
start_serve "$STORE" 0
JOB_ID="$(curl -sf -m 600 -H "Authorization: Bearer $INGESTD_ADMIN_TOKEN" "$URL/v1/jobs?limit=1" | jq -r '.jobs[0].job_id // .jobs[0].id')"
cat > "$WORK/jobs.lua" << EOF
wrk.headers["Authorization"] = "Bearer $INGESTD_ADMIN_TOKEN"
EOF
# Keep the workers busy: a stream of new uploads for the whole run.
(
  i=0
  while :; do
    i=$((i + 1))
    printf '# Busy %s\n\n%s\n' "$i" "$(head -c 3000 /dev/urandom | base64 -w 76)" |
      curl -s -o /dev/null -H "Authorization: Bearer $INGESTD_ADMIN_TOKEN" -H "X-Filename: busy-$i-$$.md" \
        --data-binary @- "$URL/v1/documents" || true
  done
) &
pids+=($!)
LOADER=$!
echo "## GET /v1/jobs/{id} while the server ingests uploads, ${DUR} s per run"
echo
echo "| connections | req/s | p50 ms | p99 ms | errors |"
echo "|---:|---:|---:|---:|---:|"
for c in 16 256; do
  read -r rps p50 p99 err <<< "$(run_wrk jobs "$c" "$URL/v1/jobs/$JOB_ID" "$WORK/jobs.lua" 30)"
  echo "| $c | $rps | $p50 | $p99 | $err |"
done
kill "$LOADER" 2> /dev/null || true
wait "$LOADER" 2> /dev/null || true
uploads="$(curl -sf -H "Authorization: Bearer $INGESTD_ADMIN_TOKEN" "$URL/metrics" | awk '/^ingestd_http_requests_total\{.*POST.*documents.*201/ {s += $2} END {print s + 0}')"
echo
echo "uploads accepted during the jobs runs: $uploads"
stop_serve
