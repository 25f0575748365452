#!/usr/bin/env bash
# A trainee's fix for slow-provider (docs/operations/runbooks/scale-workers.md): the provider is
# latency-bound, not rate-limited, so more concurrent callers help.
set -euo pipefail
. "$TRAINING_DIR/env"
ingestd worker --workers 6 > "$TRAINING_DIR/w1.out" 2>&1 & w1=$!
ingestd worker --workers 6 > "$TRAINING_DIR/w2.out" 2>&1 & w2=$!
until [ "$(ingestd jobs list --json | jq '[.[] | select(.state != "complete")] | length')" = 0 ]; do sleep 0.5; done
kill -TERM $w1 $w2; wait $w1 $w2
