#!/usr/bin/env bash
# A trainee's fix for queue-stuck: nothing runs the queue; start workers, wait, drain them.
set -euo pipefail
. "$TRAINING_DIR/env"
ingestd workers                                   # 0 live: no process works the queue
ingestd worker --workers 2 > "$TRAINING_DIR/worker.out" 2>&1 & pid=$!
until [ "$(ingestd jobs list --json | jq '[.[] | select(.state != "complete")] | length')" = 0 ]; do sleep 0.5; done
kill -TERM $pid; wait $pid                        # drain: exit 0
