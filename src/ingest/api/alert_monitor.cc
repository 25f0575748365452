#include "ingest/api/alert_monitor.h"

#include "ingest/api/governor_view.h"
#include "ingest/http/http_client.h"
#include "ingest/obs/alert_sample.h"
#include "ingest/obs/log.h"

namespace ingest::api {

Result<AlertMonitorOptions> AlertMonitorOptionsFromConfig(const config::Config& config) {
  AlertMonitorOptions o;
  o.interval = std::chrono::seconds(config.alert.interval_s);
  auto format = obs::ParseWebhookFormat(config.alert.webhook_format);
  if (!format.ok()) return format.status();
  o.notifier.url = config.alert.webhook_url;
  o.notifier.format = *format;
  o.notifier.repeat_interval = std::chrono::seconds(config.alert.repeat_interval_s);
  return o;
}

obs::WebhookPost HttpWebhookPost() {
  http::HttpClientOptions ho;
  ho.total_timeout = std::chrono::seconds(10);
  auto client = std::make_shared<http::HttpClient>(ho);
  return [client](const std::string& url, const std::string& body) -> Status {
    http::HttpRequest req;
    req.method = "POST";
    req.url = url;
    req.headers = {{"Content-Type", "application/json"}};
    req.body = body;
    auto res = client->Send(req);
    if (!res.ok()) return res.status();
    if (res->status < 200 || res->status >= 300) {
      return Unavailable("webhook answered HTTP " + std::to_string(res->status),
                         "webhook_rejected");
    }
    return Status::Ok();
  };
}

AlertMonitor::AlertMonitor(store::Store* store, const obs::Metrics* metrics, const Clock* clock,
                           AlertMonitorOptions options, obs::WebhookPost post)
    : store_(store),
      metrics_(metrics),
      clock_(clock),
      options_(options),
      evaluator_(options.thresholds),
      notifier_(options.notifier, clock, std::move(post)) {
  snapshot_.webhook_configured = !options_.notifier.url.empty();
}

AlertMonitor::~AlertMonitor() { Stop(); }

void AlertMonitor::Start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      lock.unlock();
      EvaluateNow();
      lock.lock();
      wake_.wait_for(lock, options_.interval, [this] { return stop_; });
    }
  });
}

void AlertMonitor::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

Result<obs::AlertSample> AlertMonitor::Sample() {
  obs::AlertSample s;
  s.at = clock_->NowMillis();
  auto counts = store_->CountJobsByState();
  if (!counts.ok()) return counts.status();
  for (const auto& [state, n] : *counts) {
    if (state == store::JobState::kDead) s.dead_jobs = n;
    if (state == store::JobState::kComplete || state == store::JobState::kFailed ||
        state == store::JobState::kDead) {
      s.finished_jobs += n;
    }
  }
  auto oldest = store_->OldestQueuedAt(s.at);
  if (!oldest.ok()) return oldest.status();
  s.queue_oldest_age_s = oldest->has_value() ? (s.at - **oldest) / 1000.0 : 0.0;
  auto gov = ReadGovernorView(*store_, s.at);
  if (!gov.ok()) return gov.status();
  for (const obs::BudgetGauge& b : gov->budgets) {
    s.budgets.push_back(
        {b.scope, b.key, b.period, b.spent_usd, b.limit_usd, b.soft_ratio, b.stopped});
  }
  obs::AddMetricsToSample(*metrics_, &s);
  for (const StoppedProvider& p : gov->providers) {
    obs::ProviderSample& ps = s.providers[p.provider];
    ps.stopped = p.stopped;
    ps.stop_reason = p.reason;
  }
  return s;
}

void AlertMonitor::EvaluateNow() {
  std::lock_guard<std::mutex> eval_lock(eval_mu_);
  auto sample = Sample();
  if (!sample.ok()) {
    obs::LogWarn("alert evaluation skipped: cannot read the store",
                 {{"error", sample.status().ToString()}});
    return;
  }
  std::vector<obs::Alert> firing = evaluator_.Evaluate(*sample);
  notifier_.Notify(firing);
  std::lock_guard<std::mutex> lock(mu_);
  snapshot_.firing = std::move(firing);
  snapshot_.pending = evaluator_.pending();
  snapshot_.evaluated_at = sample->at;
  snapshot_.notifications_sent = notifier_.sent();
  snapshot_.notifications_failed = notifier_.failed();
}

AlertSnapshot AlertMonitor::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return snapshot_;
}

}  // namespace ingest::api
