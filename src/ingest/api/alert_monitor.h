// The in-process alerting of `ingestd serve` for deployments without Prometheus: every
// `interval` it samples the Store (queue, dead and finished jobs, budgets, stopped providers)
// and this process's metrics, evaluates the rules of obs/alert_rules.h, keeps the result for
// the dashboard (/v1/alerts) and posts changes to the configured webhook.
//
// Thread-safe: the monitor thread evaluates; snapshot() may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "ingest/common/clock.h"
#include "ingest/common/result.h"
#include "ingest/config/config.h"
#include "ingest/obs/alert_evaluator.h"
#include "ingest/obs/alert_notifier.h"
#include "ingest/obs/metrics.h"
#include "ingest/store/store.h"

namespace ingest::api {

struct AlertMonitorOptions {
  Duration interval{std::chrono::seconds(15)};
  obs::AlertThresholds thresholds;
  obs::NotifierOptions notifier;  // url "" = evaluate and show, post nothing
};

// alert.* of the configuration. kInvalidArgument for a bad webhook format.
Result<AlertMonitorOptions> AlertMonitorOptionsFromConfig(const config::Config& config);

// Posts with the project's HTTP client (TLS verified, 10 s timeout); non-2xx is kUnavailable.
obs::WebhookPost HttpWebhookPost();

struct AlertSnapshot {
  std::vector<obs::Alert> firing;
  std::vector<obs::Alert> pending;
  UnixMillis evaluated_at = 0;  // 0 = not evaluated yet
  bool webhook_configured = false;
  int64_t notifications_sent = 0;
  int64_t notifications_failed = 0;
};

class AlertMonitor {
 public:
  // Pointees must outlive the monitor. `post` delivers webhook bodies (HttpWebhookPost() in
  // production, a recorder in tests).
  AlertMonitor(store::Store* store, const obs::Metrics* metrics, const Clock* clock,
               AlertMonitorOptions options, obs::WebhookPost post);
  ~AlertMonitor();  // Stop()
  AlertMonitor(const AlertMonitor&) = delete;
  AlertMonitor& operator=(const AlertMonitor&) = delete;

  // Starts the evaluation thread (first evaluation at once). Idempotent.
  void Start();
  // Stops and joins the thread. Idempotent.
  void Stop();

  // Samples, evaluates and notifies once, on the calling thread. A store read that fails
  // leaves the previous result in place (and is logged): a database blip must not resolve
  // every alert and re-fire them a moment later.
  void EvaluateNow();

  AlertSnapshot snapshot() const;

 private:
  Result<obs::AlertSample> Sample();

  store::Store* const store_;
  const obs::Metrics* const metrics_;
  const Clock* const clock_;
  const AlertMonitorOptions options_;

  std::mutex eval_mu_;             // serialises EvaluateNow (thread and tests)
  obs::AlertEvaluator evaluator_;  // GUARDED_BY(eval_mu_)
  obs::AlertNotifier notifier_;    // GUARDED_BY(eval_mu_)

  mutable std::mutex mu_;
  AlertSnapshot snapshot_;  // GUARDED_BY(mu_)
  bool stop_ = false;       // GUARDED_BY(mu_)
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace ingest::api
