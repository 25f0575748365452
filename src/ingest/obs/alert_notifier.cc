#include "ingest/obs/alert_notifier.h"

#include <nlohmann/json.hpp>

#include "ingest/common/hash.h"
#include "ingest/obs/log.h"

namespace ingest::obs {
namespace {

nlohmann::json Labels(const Alert& a) {
  nlohmann::json labels = {{"alertname", a.name}, {"severity", a.severity}};
  for (const auto& [k, v] : a.labels) labels[k] = v;
  return labels;
}

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

Result<WebhookFormat> ParseWebhookFormat(std::string_view name) {
  if (name == "alertmanager") return WebhookFormat::kAlertmanager;
  if (name == "slack") return WebhookFormat::kSlack;
  return InvalidArgument(
      "webhook format must be alertmanager or slack, got \"" + std::string(name) + "\"",
      "bad_webhook_format");
}

std::string FormatAlertmanager(const Alert& alert, UnixMillis resolved_at,
                               const std::string& external_url) {
  const std::string status = resolved_at == 0 ? "firing" : "resolved";
  const nlohmann::json labels = Labels(alert);
  const nlohmann::json annotations = {
      {"summary", alert.summary}, {"runbook", alert.runbook}, {"value", alert.value}};
  nlohmann::json one = {
      {"status", status},
      {"labels", labels},
      {"annotations", annotations},
      {"startsAt", FormatIso8601(alert.firing_since)},
      // Alertmanager's zero time marks an alert without an end.
      {"endsAt", resolved_at == 0 ? "0001-01-01T00:00:00Z" : FormatIso8601(resolved_at)},
      {"generatorURL", external_url},
      {"fingerprint", Sha256Hex(alert.Key()).substr(0, 16)},
  };
  nlohmann::json body = {
      {"version", "4"},
      {"groupKey", alert.Key()},
      {"truncatedAlerts", 0},
      {"status", status},
      {"receiver", "ingestd"},
      {"groupLabels", {{"alertname", alert.name}}},
      {"commonLabels", labels},
      {"commonAnnotations", annotations},
      {"externalURL", external_url},
      {"alerts", nlohmann::json::array({one})},
  };
  return Dump(body);
}

std::string FormatSlack(const Alert& alert, UnixMillis resolved_at) {
  std::string text = resolved_at == 0 ? "[FIRING] " : "[RESOLVED] ";
  text += alert.name + " (" + alert.severity + "): " + alert.summary;
  if (resolved_at != 0) text += " (resolved at " + FormatIso8601(resolved_at) + ")";
  text += " - runbook: " + alert.runbook;
  return Dump({{"text", text}});
}

AlertNotifier::AlertNotifier(NotifierOptions options, const Clock* clock, WebhookPost post)
    : options_(std::move(options)), clock_(clock), post_(std::move(post)) {}

bool AlertNotifier::Send(const Alert& alert, UnixMillis resolved_at) {
  const std::string body = options_.format == WebhookFormat::kSlack
                               ? FormatSlack(alert, resolved_at)
                               : FormatAlertmanager(alert, resolved_at, options_.external_url);
  Status st = post_(options_.url, body);
  if (!st.ok()) {
    ++failed_;
    // The URL is a secret and the status message may quote it; log the alert and the code.
    LogWarn("alert webhook failed", {{"alert", alert.Key()},
                                     {"status", resolved_at == 0 ? "firing" : "resolved"},
                                     {"code", std::string(StatusCodeName(st.code()))}});
    return false;
  }
  ++sent_;
  return true;
}

void AlertNotifier::Notify(const std::vector<Alert>& firing) {
  if (options_.url.empty()) return;
  const UnixMillis now = clock_->NowMillis();
  std::map<std::string, Delivered> next;
  for (const Alert& a : firing) {
    const std::string key = a.Key();
    Delivered d{a, 0};
    if (auto it = firing_.find(key); it != firing_.end()) d.last_sent = it->second.last_sent;
    // A resolve notice still pending for an alert that fires again is moot.
    unresolved_.erase(key);
    if (d.last_sent == 0 || now - d.last_sent >= options_.repeat_interval.count()) {
      if (Send(a, 0)) d.last_sent = now;
    }
    next.emplace(key, std::move(d));
  }
  for (auto& [key, d] : firing_) {
    // Only alerts whose firing notice went out need a resolve notice.
    if (next.count(key) == 0 && d.last_sent != 0)
      unresolved_.emplace(key, std::make_pair(d.alert, now));
  }
  firing_ = std::move(next);
  for (auto it = unresolved_.begin(); it != unresolved_.end();) {
    it = Send(it->second.first, it->second.second) ? unresolved_.erase(it) : std::next(it);
  }
}

}  // namespace ingest::obs
