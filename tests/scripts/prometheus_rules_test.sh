#!/usr/bin/env bash
# deploy/: the Prometheus rules (alerts and SLOs, deploy/prometheus/*.yml) pass `promtool check
# rules` and their unit tests (`promtool test rules`), every alert is tested, carries `summary`,
# `description` and a `runbook_url` whose heading exists in docs/operations/, the in-process
# rules (src/ingest/obs/alert_rules.cc) carry the same alert names as ingestd-alerts.yml, the
# Alertmanager configuration passes `amtool check-config` and routes by severity, and the
# Grafana dashboards are valid JSON whose panels all query something. (That every metric name
# they use exists is checked by MetricsTest.DeployFilesReferenceOnlyRegisteredMetrics.)
# Usage: prometheus_rules_test.sh INGESTD SOURCE_DIR BINARY_DIR
source "$(dirname "$0")/../lib/common.sh"

if ! command -v promtool > /dev/null; then
  echo "FAIL - promtool not installed (scripts/setup-deps.sh --test installs prometheus)"; exit 1
fi
rules="$SRC/deploy/prometheus/ingestd-alerts.yml"
rule_files=("$SRC"/deploy/prometheus/*.yml)

for f in "${rule_files[@]}"; do
  if promtool check rules "$f" > "$WORK/check.out" 2>&1; then
    pass "promtool check rules $(basename "$f") ($(grep -o '[0-9]* rules found' "$WORK/check.out"))"
  else
    fail "promtool check rules $(basename "$f")"; cat "$WORK/check.out"
  fi
done
for t in "$SRC"/deploy/prometheus/tests/*.test.yml; do
  if (cd "$(dirname "$t")" && promtool test rules "$(basename "$t")") > "$WORK/test.out" 2>&1; then
    pass "promtool test rules $(basename "$t")"
  else
    fail "promtool test rules $(basename "$t")"; cat "$WORK/test.out"
  fi
done

# Every rule is exercised by at least one test case.
grep -oE '^ +- alert: [A-Za-z]+' "$rules" | awk '{print $3}' | sort -u > "$WORK/yaml_alerts"
grep -ohE '^ +- alert: [A-Za-z]+' "${rule_files[@]}" | awk '{print $3}' | sort -u > "$WORK/all_alerts"
grep -ohE 'alertname: [A-Za-z]+' "$SRC"/deploy/prometheus/tests/*.test.yml | awk '{print $2}' \
  | sort -u > "$WORK/tested_alerts"
check "every alert rule has a promtool test" diff "$WORK/all_alerts" "$WORK/tested_alerts"

# Every alert carries summary, description and a runbook_url whose heading exists.
python3 - "$WORK/annotations" "${rule_files[@]}" <<'PY' || fail "alert annotations"
import re, sys
out = open(sys.argv[1], "w")
bad = 0
for f in sys.argv[2:]:
    text = open(f).read()
    for block in re.split(r"\n(?= +- (?:alert|record): )", text):
        m = re.match(r" +- alert: (\w+)", block)
        if not m:
            continue
        for key in ("summary", "description", "runbook_url"):
            if not re.search(rf"^ +{key}: \S", block, re.M):
                print(f"FAIL - {m.group(1)} has no {key}")
                bad += 1
        for url in re.findall(r"^ +runbook_url: (\S+)", block, re.M):
            out.write(url + "\n")
sys.exit(1 if bad else 0)
PY
check "every runbook_url starts with docs/operations/" bash -c "! grep -v '^docs/operations/' '$WORK/annotations'"
if python3 "$SRC/tests/lib/md_links.py" "$SRC" --targets $(sort -u "$WORK/annotations") > "$WORK/links.out"; then
  pass "every runbook_url resolves to a heading ($(sort -u "$WORK/annotations" | wc -l) distinct)"
else
  fail "runbook_url anchors"; cat "$WORK/links.out"
fi

# Alertmanager: valid, critical pages, warning opens a ticket.
am="$SRC/deploy/alertmanager/alertmanager.yml"
if amtool check-config "$am" > "$WORK/am.out" 2>&1; then
  pass "amtool check-config alertmanager.yml"
else
  fail "amtool check-config alertmanager.yml"; cat "$WORK/am.out"
fi
route() { amtool config routes test --config.file="$am" "$@" 2>/dev/null; }
check "critical alerts route to page" test "$(route severity=critical alertname=IngestdQueueStuck)" = page
check "warning alerts route to ticket" test "$(route severity=warning alertname=IngestdDeadJobs)" = ticket
check "SLO fast burn pages" test "$(route severity=critical slo=api-availability alertname=IngestdApiAvailabilityFastBurn)" = page
check "alert rules use only severities critical and warning" bash -c "! grep -hE '^ +severity: ' ${rule_files[*]} | grep -vE 'severity: (critical|warning)$'"

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
