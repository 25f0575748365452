#include "ingest/obs/alert_rules.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace ingest::obs {
namespace {

std::string Runbook(const std::string& name) {
  std::string anchor = name;
  std::transform(anchor.begin(), anchor.end(), anchor.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return "docs/operations/monitoring.md#" + anchor;
}

Alert Make(std::string name, std::string severity, std::map<std::string, std::string> labels,
           double value, Duration hold, std::string summary) {
  Alert a;
  a.runbook = Runbook(name);
  a.name = std::move(name);
  a.severity = std::move(severity);
  a.labels = std::move(labels);
  a.value = value;
  a.hold = hold;
  a.summary = std::move(summary);
  return a;
}

double Sum(const std::map<std::string, double>& m, bool (*keep)(const std::string&)) {
  double total = 0;
  for (const auto& [k, v] : m) {
    if (keep(k)) total += v;
  }
  return total;
}

// Provider outcomes: refusals by our own breaker are not calls, and 429s are throttling the
// governor absorbs (it waits) rather than failures; neither counts on either side of the ratio.
bool IsCounted(const std::string& outcome) {
  return outcome != "rate_limited" && outcome != "refused_by_breaker";
}
bool IsError(const std::string& outcome) {
  return outcome != "ok" && outcome != "rate_limited" && outcome != "refused_by_breaker";
}
bool IsFailure(const std::string& state) { return state == "failed" || state == "dead"; }
bool IsAny(const std::string&) { return true; }

std::string Usd(double v) { return fmt::format("${:.2f}", v); }

void CheckBudgets(const AlertSample& now, std::vector<Alert>& out) {
  for (const BudgetSample& b : now.budgets) {
    std::map<std::string, std::string> labels = {
        {"scope", b.scope}, {"key", b.key}, {"period", b.period}};
    const std::string what =
        b.scope + (b.key.empty() ? "" : " " + b.key) + " budget (" + b.period + ")";
    if (b.stopped) {
      out.push_back(Make("IngestdBudgetOverrun", "critical", labels, 1, Duration(0),
                         fmt::format("{} stopped: a provider billed more than was reserved for "
                                     "a call; nothing new is admitted until `ingestd budget "
                                     "ack`",
                                     what)));
    }
    if (b.spent_usd >= b.limit_usd) {
      out.push_back(Make("IngestdBudgetExhausted", "critical", labels, b.spent_usd, Duration(0),
                         fmt::format("{} hard limit reached: spent {} of {}; calls charged to "
                                     "it are deferred until the period ends",
                                     what, Usd(b.spent_usd), Usd(b.limit_usd))));
    } else if (b.limit_usd > 0 && b.spent_usd >= b.soft_ratio * b.limit_usd) {
      out.push_back(
          Make("IngestdBudgetSoftLimit", "warning", labels, b.spent_usd, Duration(0),
               fmt::format("{} past its soft limit: spent {} of {} ({:.0f}%)", what,
                           Usd(b.spent_usd), Usd(b.limit_usd), 100.0 * b.spent_usd / b.limit_usd)));
    }
  }
}

void CheckProviders(const AlertSample& now, const WindowStart& window_start,
                    const AlertThresholds& t, std::vector<Alert>& out) {
  for (const auto& [name, p] : now.providers) {
    if (p.stopped) {
      out.push_back(Make("IngestdProviderStopped", "critical",
                         {{"provider", name}, {"reason", p.stop_reason}}, 1, Duration(0),
                         fmt::format("{} stopped by the governor ({}); its jobs are deferred "
                                     "until an operator resumes it",
                                     name, p.stop_reason)));
    }
    if (p.circuit_state == 2) {
      out.push_back(Make("IngestdCircuitOpen", "critical", {{"provider", name}}, 2,
                         t.circuit_open_hold,
                         fmt::format("{} circuit breaker open: the provider is failing and calls "
                                     "are refused",
                                     name)));
    }
    const AlertSample& base_e = window_start(t.provider_error_window);
    const auto old = base_e.providers.find(name);
    const ProviderSample empty;
    const ProviderSample& before = old == base_e.providers.end() ? empty : old->second;
    const double sent = Sum(p.requests, IsCounted) - Sum(before.requests, IsCounted);
    const double errors = Sum(p.requests, IsError) - Sum(before.requests, IsError);
    if (sent >= t.provider_error_min_requests && errors / sent > t.provider_error_ratio) {
      out.push_back(
          Make("IngestdProviderErrorRateHigh", "warning", {{"provider", name}}, errors / sent,
               t.provider_error_hold,
               fmt::format("{}: {:.0f}% of {} calls failed in the last {} min", name,
                           100.0 * errors / sent, sent, t.provider_error_window.count() / 60000)));
    }
    const AlertSample& base_l = window_start(t.provider_latency_window);
    const auto old_l = base_l.providers.find(name);
    const double p95 = QuantileOfIncrease(
        0.95, p.latency, old_l == base_l.providers.end() ? empty.latency : old_l->second.latency);
    if (p95 > t.provider_latency_p95_s) {
      out.push_back(Make("IngestdProviderLatencyDegraded", "warning", {{"provider", name}}, p95,
                         t.provider_latency_hold,
                         fmt::format("{}: p95 call latency {:.1f} s (threshold {:.0f} s)", name,
                                     p95, t.provider_latency_p95_s)));
    }
  }
}

}  // namespace

Duration AlertThresholds::LongestWindow() const {
  return std::max({queue_stuck_window, provider_error_window, document_failure_window,
                   provider_latency_window, stage_latency_window});
}

std::string Alert::Key() const {
  std::string key = name + "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    key += (first ? "" : ",") + k + "=" + v;
    first = false;
  }
  return key + "}";
}

double QuantileOfIncrease(double q, const HistogramSample& newer, const HistogramSample& older) {
  const double total = newer.count - older.count;
  if (total <= 0 || newer.bounds.empty()) return -1;
  const bool comparable = older.bounds == newer.bounds;
  auto inc = [&](size_t i) { return newer.counts[i] - (comparable ? older.counts[i] : 0.0); };
  // Prometheus' histogram_quantile: find the bucket holding rank q*total and interpolate
  // linearly inside it; ranks in the +Inf bucket report the highest finite bound.
  const double rank = q * total;
  double prev_bound = 0;
  double prev_count = 0;
  for (size_t i = 0; i < newer.bounds.size(); ++i) {
    const double c = inc(i);
    if (c >= rank) {
      const double in_bucket = c - prev_count;
      if (in_bucket <= 0) return newer.bounds[i];
      return prev_bound + (newer.bounds[i] - prev_bound) * (rank - prev_count) / in_bucket;
    }
    prev_bound = newer.bounds[i];
    prev_count = c;
  }
  return newer.bounds.back();
}

std::vector<Alert> CheckAlertConditions(const AlertSample& now, const WindowStart& window_start,
                                        const AlertThresholds& t) {
  std::vector<Alert> out;
  CheckBudgets(now, out);
  CheckProviders(now, window_start, t, out);

  if (now.dead_jobs > 0) {
    out.push_back(
        Make("IngestdDeadJobs", "warning", {}, static_cast<double>(now.dead_jobs), t.dead_jobs_hold,
             fmt::format("{} job(s) in the dead-letter queue need an operator", now.dead_jobs)));
  }
  const AlertSample& base_q = window_start(t.queue_stuck_window);
  if (now.queue_oldest_age_s > t.queue_stuck_age_s && now.finished_jobs == base_q.finished_jobs) {
    out.push_back(Make("IngestdQueueStuck", "critical", {}, now.queue_oldest_age_s,
                       t.queue_stuck_hold,
                       fmt::format("oldest queued job has waited {:.0f} s and no job finished in "
                                   "the last {} min",
                                   now.queue_oldest_age_s, t.queue_stuck_window.count() / 60000)));
  }
  const AlertSample& base_d = window_start(t.document_failure_window);
  const double done = Sum(now.documents, IsAny) - Sum(base_d.documents, IsAny);
  const double failed = Sum(now.documents, IsFailure) - Sum(base_d.documents, IsFailure);
  if (done >= t.document_failure_min_documents && failed / done > t.document_failure_ratio) {
    out.push_back(Make(
        "IngestdDocumentFailureRateHigh", "warning", {}, failed / done, t.document_failure_hold,
        fmt::format("{:.0f}% of {} documents failed in the last {} min", 100.0 * failed / done,
                    done, t.document_failure_window.count() / 60000)));
  }
  const AlertSample& base_s = window_start(t.stage_latency_window);
  for (const auto& [stage, h] : now.stage_latency) {
    const auto old = base_s.stage_latency.find(stage);
    const double p95 = QuantileOfIncrease(
        0.95, h, old == base_s.stage_latency.end() ? HistogramSample{} : old->second);
    if (p95 > t.stage_latency_p95_s) {
      out.push_back(Make("IngestdStageLatencyDegraded", "warning", {{"stage", stage}}, p95,
                         t.stage_latency_hold,
                         fmt::format("stage {}: p95 {:.1f} s (threshold {:.0f} s)", stage, p95,
                                     t.stage_latency_p95_s)));
    }
  }
  return out;
}

}  // namespace ingest::obs
