#include "ingest/obs/alert_evaluator.h"

namespace ingest::obs {

AlertEvaluator::AlertEvaluator(AlertThresholds thresholds) : thresholds_(thresholds) {}

const AlertSample& AlertEvaluator::WindowStart(Duration window) const {
  const UnixMillis from = history_.back().at - window.count();
  for (const AlertSample& s : history_) {
    if (s.at >= from) return s;
  }
  return history_.back();
}

std::vector<Alert> AlertEvaluator::Evaluate(const AlertSample& sample) {
  history_.push_back(sample);
  // Keep one sample at or before the longest window's start, so that window is fully covered.
  const UnixMillis keep_from = sample.at - thresholds_.LongestWindow().count();
  while (history_.size() > 1 && history_[1].at <= keep_from) history_.pop_front();

  std::map<std::string, Alert> next;
  for (Alert& a : CheckAlertConditions(
           history_.back(), [this](Duration w) -> const AlertSample& { return WindowStart(w); },
           thresholds_)) {
    const std::string key = a.Key();
    if (auto it = active_.find(key); it != active_.end()) {
      a.active_since = it->second.active_since;
      a.firing_since = it->second.firing_since;
    } else {
      a.active_since = sample.at;
    }
    if (a.firing_since == 0 && sample.at - a.active_since >= a.hold.count()) {
      a.firing_since = sample.at;
    }
    next.emplace(key, std::move(a));
  }
  active_ = std::move(next);
  std::vector<Alert> firing;
  for (const auto& [key, a] : active_) {
    if (a.firing_since != 0) firing.push_back(a);
  }
  return firing;
}

std::vector<Alert> AlertEvaluator::pending() const {
  std::vector<Alert> out;
  for (const auto& [key, a] : active_) {
    if (a.firing_since == 0) out.push_back(a);
  }
  return out;
}

}  // namespace ingest::obs
