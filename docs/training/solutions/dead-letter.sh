#!/usr/bin/env bash
# A trainee's fix for dead-letter (docs/operations/runbooks/stuck-document.md).
set -euo pipefail
. "$TRAINING_DIR/env"
ingestd jobs list --state dead --json | jq -r '.[].last_error_code' | sort | uniq -c
"$(dirname "$0")/../check.sh" dead-letter heal       # the provider recovered
ingestd jobs list --state dead --json | jq -r '.[].job_id' | xargs -r -n1 ingestd jobs retry
ingestd worker --workers 2 > "$TRAINING_DIR/worker.out" 2>&1 & pid=$!
until [ "$(ingestd jobs list --json | jq '[.[] | select(.state != "complete")] | length')" = 0 ]; do sleep 0.5; done
kill -TERM $pid; wait $pid
