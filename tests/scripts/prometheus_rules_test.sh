#!/usr/bin/env bash
# deploy/: the Prometheus alert rules pass `promtool check rules` and their unit tests
# (`promtool test rules`), the in-process rules (src/ingest/obs/alert_rules.cc) carry the same
# alert names, every alert has a runbook section in docs/operations/monitoring.md, and the
# Grafana dashboards are valid JSON whose panels all query something. (That every metric name
# they use exists is checked by MetricsTest.DeployFilesReferenceOnlyRegisteredMetrics.)
# Usage: prometheus_rules_test.sh INGESTD SOURCE_DIR BINARY_DIR
source "$(dirname "$0")/../lib/common.sh"

if ! command -v promtool > /dev/null; then
  echo "FAIL - promtool not installed (scripts/setup-deps.sh --test installs prometheus)"; exit 1
fi
rules="$SRC/deploy/prometheus/ingestd-alerts.yml"

if promtool check rules "$rules" > "$WORK/check.out" 2>&1; then
  pass "promtool check rules ($(grep -o '[0-9]* rules found' "$WORK/check.out"))"
else
  fail "promtool check rules"; cat "$WORK/check.out"
fi
for t in "$SRC"/deploy/prometheus/tests/*.test.yml; do
  if (cd "$(dirname "$t")" && promtool test rules "$(basename "$t")") > "$WORK/test.out" 2>&1; then
    pass "promtool test rules $(basename "$t")"
  else
    fail "promtool test rules $(basename "$t")"; cat "$WORK/test.out"
  fi
done

# Every rule is exercised by at least one test case.
grep -oE '^ +- alert: [A-Za-z]+' "$rules" | awk '{print $3}' | sort -u > "$WORK/yaml_alerts"
grep -ohE 'alertname: [A-Za-z]+' "$SRC"/deploy/prometheus/tests/*.test.yml | awk '{print $2}' \
  | sort -u > "$WORK/tested_alerts"
check "every alert rule has a promtool test" diff "$WORK/yaml_alerts" "$WORK/tested_alerts"

# The in-process evaluator has the same alerts (IngestdDown needs an outside observer).
grep -ohE '"Ingestd[A-Za-z]+"' "$SRC/src/ingest/obs/alert_rules.cc" | tr -d '"' \
  | sort -u > "$WORK/cc_alerts"
grep -v '^IngestdDown$' "$WORK/yaml_alerts" > "$WORK/yaml_in_process"
check "in-process alert names equal the Prometheus rules" diff "$WORK/yaml_in_process" "$WORK/cc_alerts"

doc="$SRC/docs/operations/monitoring.md"
while read -r a; do
  check "monitoring.md has a runbook for $a" grep -q "^#### $a\$" "$doc"
  anchor=$(echo "$a" | tr 'A-Z' 'a-z')
  check "rule $a links its runbook" grep -q "runbook: docs/operations/monitoring.md#$anchor\$" "$rules"
done < "$WORK/yaml_alerts"

for d in "$SRC"/deploy/grafana/*.json; do
  name=$(basename "$d")
  check "$name is valid JSON" jq -e . "$d" > /dev/null
  check "$name has panels" jq -e '[.panels[] | select(.type != "row")] | length > 5' "$d" > /dev/null
  check "$name: every panel has a query" \
    jq -e '[.panels[] | select(.type != "row") | (.targets // []) | length > 0 and all(.expr | length > 0)] | all' "$d" > /dev/null
done
finish
