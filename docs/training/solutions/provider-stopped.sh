#!/usr/bin/env bash
# A trainee's fix for provider-stopped (docs/operations/runbooks/resume-provider.md).
set -euo pipefail
. "$TRAINING_DIR/env"
ingestd providers                                 # STOPPED invalid_api_key
"$(dirname "$0")/../check.sh" provider-stopped heal   # the account is fixed
ingestd providers resume openai
ingestd worker --workers 2 > "$TRAINING_DIR/worker.out" 2>&1 & pid=$!
until [ "$(ingestd jobs list --json | jq '[.[] | select(.state != "complete")] | length')" = 0 ]; do sleep 0.5; done
kill -TERM $pid; wait $pid
