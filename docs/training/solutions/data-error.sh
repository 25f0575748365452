#!/usr/bin/env bash
# A trainee's fix for data-error (docs/operations/incidents.md#data-error): re-run every
# document from the chunk stage with the fixed configuration; nothing is re-uploaded, and
# chunk texts already embedded keep their vectors.
set -euo pipefail
. "$TRAINING_DIR/env"
ingestd jobs list --state complete --json | jq -r '.[].job_id' | xargs -r -n1 ingestd jobs requeue --from chunk
ingestd worker --workers 2 > "$TRAINING_DIR/worker.out" 2>&1 & pid=$!
until [ "$(ingestd jobs list --json | jq '[.[] | select(.state != "complete")] | length')" = 0 ]; do sleep 0.5; done
kill -TERM $pid; wait $pid
