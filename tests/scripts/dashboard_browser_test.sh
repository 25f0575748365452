#!/usr/bin/env bash
# The dashboard in a real browser: starts `ingestd serve` on a fresh SQLite store and runs
# tests/browser/dashboard.test.mjs in headless Chromium through playwright-core (pinned in
# tests/browser/package-lock.json). Screenshots are kept in tests/artifacts/ (gitignored).
# Usage: dashboard_browser_test.sh INGESTD SOURCE_DIR BINARY_DIR
source "$(dirname "$0")/../lib/common.sh"

for tool in /usr/bin/chromium node npm; do
  if ! command -v "$tool" > /dev/null; then
    echo "FAIL - $tool not installed (scripts/setup-deps.sh --test installs it)"; exit 1
  fi
done
if [ ! -d "$SRC/tests/browser/node_modules/playwright-core" ]; then
  npm ci --prefix "$SRC/tests/browser" --no-audit --no-fund --loglevel=error
fi

export INGESTD_DATA_DIR="$WORK/data"
export INGESTD_STORE="sqlite:$WORK/data/ingestd.db"
export INGESTD_ADMIN_TOKEN="admin-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export TENANT_TOKEN="tenant-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf 'alpha %s\n' "$TENANT_TOKEN" > "$WORK/tokens"
export INGESTD_API_TOKENS_FILE="$WORK/tokens"
export INGESTD_ALERT_INTERVAL_S=1
printf '%%PDF-1.4\n1 0 obj << /Type /Catalog broken\n%%%%EOF\n' > "$WORK/broken.pdf"
printf '# Orchard notes\n\nApples ripen in autumn; pears a little later.\n' > "$WORK/guide.md"
export BAD_PDF="$WORK/broken.pdf" GOOD_MD="$WORK/guide.md"

"$BIN" serve --listen 127.0.0.1:0 --workers 2 > "$WORK/serve.out" 2> "$WORK/serve.log" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$WORK"' EXIT
url=""
for _ in $(seq 1 200); do
  line="$(head -n 1 "$WORK/serve.out" 2>/dev/null || true)"
  if [[ "$line" == "listening on http://"* ]]; then url="${line#listening on }"; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
if [ -z "$url" ]; then
  echo "FAIL - server did not start"; cat "$WORK/serve.log"; exit 1
fi
pass "server listening at $url"
# Governor rows: a budget at its limit, a tenant budget, openai rate buckets, llamaparse stopped.
python3 "$SRC/tests/lib/seed_governor.py" "$WORK/data/ingestd.db"

artifacts="$SRC/tests/artifacts"
if node "$SRC/tests/browser/dashboard.test.mjs" "$url" "$artifacts"; then
  pass "dashboard browser checks"
else
  fail "dashboard browser checks"
  tail -n 20 "$WORK/serve.log"
fi
for shot in initial after-ingest failure after-retry; do
  check "screenshot dashboard-$shot.png kept" test -s "$artifacts/dashboard-$shot.png"
done
check "no token in the server log" bash -c "! grep -q -e '$INGESTD_ADMIN_TOKEN' -e '$TENANT_TOKEN' '$WORK/serve.log'"
finish
