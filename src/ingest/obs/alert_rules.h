// The alert conditions of docs/operations/monitoring.md, evaluated in-process for deployments
// without Prometheus. They mirror deploy/prometheus/ingestd-alerts.yml rule for rule (same
// names, thresholds and hold times by default), but read an AlertSample instead of a TSDB:
// `rate(x[w])` becomes the difference between the newest sample and the one taken `w` earlier.
//
// Plain data and pure functions; no locking, no clock (time comes in the samples).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "ingest/common/clock.h"

namespace ingest::obs {

// A cumulative histogram: counts[i] observations <= bounds[i]; `count` includes +Inf.
struct HistogramSample {
  std::vector<double> bounds;
  std::vector<double> counts;
  double count = 0;
};

struct BudgetSample {
  std::string scope;     // global | tenant | service
  std::string key;       // tenant or service; "" for global
  std::string period;    // hour | day | month
  double spent_usd = 0;  // settled + reserved in the current window
  double limit_usd = 0;  // the hard limit
  double soft_ratio = 0.8;
  bool stopped = false;  // stopped by a provider overrun until an operator acknowledges it
};

struct ProviderSample {
  int circuit_state = 0;  // 0 closed, 1 half-open, 2 open
  bool stopped = false;   // stopped by the governor (quota exhausted, credentials refused)
  std::string stop_reason;
  std::map<std::string, double> requests;  // cumulative, by outcome
  HistogramSample latency;
};

// Everything the rules read at one instant. Counters are this process's cumulative values;
// store-derived fields are the database's (shared by every process).
struct AlertSample {
  UnixMillis at = 0;
  double queue_oldest_age_s = 0;
  int64_t dead_jobs = 0;
  // Jobs in complete + failed + dead: it moves whenever any process finishes a job.
  int64_t finished_jobs = 0;
  std::map<std::string, double> documents;  // ingestd_documents_total by state
  std::map<std::string, HistogramSample> stage_latency;
  std::vector<BudgetSample> budgets;
  std::map<std::string, ProviderSample> providers;
};

// Defaults equal the values in deploy/prometheus/ingestd-alerts.yml.
struct AlertThresholds {
  double queue_stuck_age_s = 900;
  Duration queue_stuck_window{std::chrono::minutes(15)};
  Duration queue_stuck_hold{std::chrono::minutes(5)};
  Duration circuit_open_hold{std::chrono::minutes(5)};
  Duration dead_jobs_hold{std::chrono::minutes(1)};
  double provider_error_ratio = 0.25;
  double provider_error_min_requests = 10;
  Duration provider_error_window{std::chrono::minutes(10)};
  Duration provider_error_hold{std::chrono::minutes(10)};
  double document_failure_ratio = 0.2;
  double document_failure_min_documents = 5;
  Duration document_failure_window{std::chrono::minutes(15)};
  Duration document_failure_hold{std::chrono::minutes(5)};
  double provider_latency_p95_s = 10;
  Duration provider_latency_window{std::chrono::minutes(10)};
  Duration provider_latency_hold{std::chrono::minutes(10)};
  double stage_latency_p95_s = 120;
  Duration stage_latency_window{std::chrono::minutes(15)};
  Duration stage_latency_hold{std::chrono::minutes(15)};

  // The longest window any rule reads: how much history an evaluator keeps.
  Duration LongestWindow() const;
};

// One alert instance. `labels` identify the instance (alertname excluded); `hold` is how long
// the condition must stay true before the alert fires.
struct Alert {
  std::string name;
  std::map<std::string, std::string> labels;
  std::string severity;  // "warning" | "critical"
  std::string summary;   // one line with the numbers, for people
  std::string runbook;   // anchor in docs/operations/monitoring.md
  double value = 0;
  Duration hold{0};
  UnixMillis active_since = 0;  // when the condition started to hold
  UnixMillis firing_since = 0;  // when it fired; 0 while pending

  // "name{k=v,...}": identity for deduplication.
  std::string Key() const;
};

// Returns the sample to difference against for a window `w`: the oldest sample not older than
// now - w (the newest sample itself when there is no older one).
using WindowStart = std::function<const AlertSample&(Duration w)>;

// The conditions that hold at `now`. Returned alerts have active_since and firing_since unset.
std::vector<Alert> CheckAlertConditions(const AlertSample& now, const WindowStart& window_start,
                                        const AlertThresholds& t);

// histogram_quantile over the increase between two samples of one histogram; -1 when the
// histogram saw no observations in between.
double QuantileOfIncrease(double q, const HistogramSample& newer, const HistogramSample& older);

}  // namespace ingest::obs
