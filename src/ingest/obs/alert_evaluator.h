// Turns a stream of AlertSamples into firing alerts: keeps enough history for the rules'
// windows and applies each rule's hold time (Prometheus' `for:`), so a condition must hold
// continuously for `hold` before its alert fires, and an alert resolves as soon as its
// condition stops holding.
//
// Not thread-safe; one owner calls Evaluate (the alert monitor's thread).
#pragma once

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "ingest/obs/alert_rules.h"

namespace ingest::obs {

class AlertEvaluator {
 public:
  explicit AlertEvaluator(AlertThresholds thresholds = {});

  // Records `sample` (samples must arrive in time order) and returns the alerts that fire now,
  // ordered by name then labels. Pending alerts (condition holding for less than its hold) are
  // in pending() instead.
  std::vector<Alert> Evaluate(const AlertSample& sample);
  std::vector<Alert> pending() const;

  const AlertThresholds& thresholds() const { return thresholds_; }

 private:
  const AlertSample& WindowStart(Duration window) const;

  AlertThresholds thresholds_;
  std::deque<AlertSample> history_;      // oldest first, spans LongestWindow() plus one sample
  std::map<std::string, Alert> active_;  // condition holding (pending or firing), by Key()
};

}  // namespace ingest::obs
