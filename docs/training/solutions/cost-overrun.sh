#!/usr/bin/env bash
# A trainee's fix for cost-overrun (docs/operations/runbooks/budgets.md).
set -euo pipefail
. "$TRAINING_DIR/env"
ingestd budget show
ingestd costs --by day
ingestd budget set --period day --hard 1 --soft 0.8    # raising a budget wakes deferred jobs
ingestd worker --workers 2 > "$TRAINING_DIR/worker.out" 2>&1 & pid=$!
until [ "$(ingestd jobs list --json | jq '[.[] | select(.state != "complete")] | length')" = 0 ]; do sleep 0.5; done
kill -TERM $pid; wait $pid
