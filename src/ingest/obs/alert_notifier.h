// Posts alert notifications to one webhook, deduplicated: an alert is sent when it starts
// firing, re-sent only after `repeat_interval` while it keeps firing, and a resolve notice is
// sent once when it stops. A post that fails is retried on the next Notify call (the alert
// stays "unsent"), so a receiver that was down still hears about everything that is firing.
//
// Formats: "alertmanager" (the JSON body Alertmanager sends to webhook receivers, version 4:
// status, labels, annotations, startsAt/endsAt, fingerprint), so tools that accept
// Alertmanager webhooks accept ingestd's; and "slack" ({"text": ...}), which Slack incoming
// webhooks and compatible chat tools render. One alert per post.
//
// Not thread-safe; owned by the alert monitor's thread. The webhook URL is a secret (Slack URLs
// carry a token): it is never logged.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ingest/common/clock.h"
#include "ingest/common/result.h"
#include "ingest/obs/alert_rules.h"

namespace ingest::obs {

enum class WebhookFormat { kAlertmanager, kSlack };
// "alertmanager" | "slack"; kInvalidArgument reason "bad_webhook_format" otherwise.
Result<WebhookFormat> ParseWebhookFormat(std::string_view name);

struct NotifierOptions {
  std::string url;  // "" = notifications off
  WebhookFormat format = WebhookFormat::kAlertmanager;
  Duration repeat_interval{std::chrono::hours(4)};
  std::string external_url;  // where the dashboard is, for links; may be ""
};

// Delivers one JSON body to the URL. Returns non-OK on a transport failure or a non-2xx reply.
using WebhookPost = std::function<Status(const std::string& url, const std::string& body)>;

// The body of one notification: `alert` firing, or resolved at `resolved_at` (0 = firing).
std::string FormatAlertmanager(const Alert& alert, UnixMillis resolved_at,
                               const std::string& external_url);
std::string FormatSlack(const Alert& alert, UnixMillis resolved_at);

class AlertNotifier {
 public:
  // `clock` must outlive the notifier.
  AlertNotifier(NotifierOptions options, const Clock* clock, WebhookPost post);

  // Sends what is due for the current set of firing alerts (see the header comment).
  void Notify(const std::vector<Alert>& firing);

  int64_t sent() const { return sent_; }
  int64_t failed() const { return failed_; }

 private:
  bool Send(const Alert& alert, UnixMillis resolved_at);

  struct Delivered {
    Alert alert;
    UnixMillis last_sent = 0;  // 0 = firing notice not delivered yet
  };
  NotifierOptions options_;
  const Clock* clock_;
  WebhookPost post_;
  std::map<std::string, Delivered> firing_;  // by Alert::Key()
  // Resolve notices still to deliver, with the time the alert stopped firing.
  std::map<std::string, std::pair<Alert, UnixMillis>> unresolved_;
  int64_t sent_ = 0;
  int64_t failed_ = 0;
};

}  // namespace ingest::obs
