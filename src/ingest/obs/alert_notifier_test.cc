#include "ingest/obs/alert_notifier.h"

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ingest::obs {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

Alert DeadJobs(double n) {
  Alert a;
  a.name = "IngestdDeadJobs";
  a.severity = "warning";
  a.summary = "2 job(s) in the dead-letter queue need an operator";
  a.runbook = "docs/operations/monitoring.md#ingestddeadjobs";
  a.value = n;
  a.active_since = 1'700'000'000'000;
  a.firing_since = 1'700'000'060'000;
  return a;
}

struct Recorder {
  std::vector<json> bodies;
  bool fail = false;
  WebhookPost Post() {
    return [this](const std::string& url, const std::string& body) -> Status {
      EXPECT_EQ(url, "http://receiver.test/hook");
      if (fail) return Unavailable("receiver down");
      bodies.push_back(json::parse(body));
      return Status::Ok();
    };
  }
};

NotifierOptions Options(WebhookFormat format) {
  NotifierOptions o;
  o.url = "http://receiver.test/hook";
  o.format = format;
  o.repeat_interval = 1h;
  o.external_url = "http://ingestd.test/";
  return o;
}

TEST(AlertNotifierTest, SendsOnceRepeatsAfterTheIntervalAndResolvesOnce) {
  FakeClock clock;
  Recorder rec;
  AlertNotifier n(Options(WebhookFormat::kAlertmanager), &clock, rec.Post());
  n.Notify({DeadJobs(2)});
  ASSERT_EQ(rec.bodies.size(), 1u);
  for (int i = 0; i < 10; ++i) {  // evaluations every 15 s for a while: no duplicates
    clock.Advance(15s);
    n.Notify({DeadJobs(2)});
  }
  EXPECT_EQ(rec.bodies.size(), 1u);
  clock.Advance(1h);
  n.Notify({DeadJobs(3)});
  ASSERT_EQ(rec.bodies.size(), 2u);  // repeat interval passed
  EXPECT_EQ(rec.bodies[1]["status"], "firing");
  clock.Advance(15s);
  n.Notify({});
  ASSERT_EQ(rec.bodies.size(), 3u);
  EXPECT_EQ(rec.bodies[2]["status"], "resolved");
  EXPECT_EQ(rec.bodies[2]["alerts"][0]["endsAt"], FormatIso8601(clock.NowMillis()));
  clock.Advance(15s);
  n.Notify({});
  EXPECT_EQ(rec.bodies.size(), 3u);
  EXPECT_EQ(n.sent(), 3);
  EXPECT_EQ(n.failed(), 0);
}

TEST(AlertNotifierTest, AlertmanagerBodyHasTheWebhookShape) {
  const json b = json::parse(FormatAlertmanager(DeadJobs(2), 0, "http://ingestd.test/"));
  EXPECT_EQ(b["version"], "4");
  EXPECT_EQ(b["status"], "firing");
  EXPECT_EQ(b["receiver"], "ingestd");
  EXPECT_EQ(b["groupLabels"]["alertname"], "IngestdDeadJobs");
  EXPECT_EQ(b["truncatedAlerts"], 0);
  ASSERT_EQ(b["alerts"].size(), 1u);
  const json& a = b["alerts"][0];
  EXPECT_EQ(a["status"], "firing");
  EXPECT_EQ(a["labels"]["alertname"], "IngestdDeadJobs");
  EXPECT_EQ(a["labels"]["severity"], "warning");
  EXPECT_EQ(a["annotations"]["summary"], DeadJobs(2).summary);
  EXPECT_EQ(a["startsAt"], "2023-11-14T22:14:20.000Z");
  EXPECT_EQ(a["endsAt"], "0001-01-01T00:00:00Z");
  EXPECT_EQ(a["fingerprint"].get<std::string>().size(), 16u);
  const json r = json::parse(FormatAlertmanager(DeadJobs(2), 1'700'000'120'000, ""));
  EXPECT_EQ(r["status"], "resolved");
  EXPECT_EQ(r["alerts"][0]["endsAt"], "2023-11-14T22:15:20.000Z");
  EXPECT_EQ(r["alerts"][0]["fingerprint"], a["fingerprint"]);
}

TEST(AlertNotifierTest, SlackBodyIsOneTextLine) {
  FakeClock clock;
  Recorder rec;
  AlertNotifier n(Options(WebhookFormat::kSlack), &clock, rec.Post());
  n.Notify({DeadJobs(2)});
  clock.Advance(1min);
  n.Notify({});
  ASSERT_EQ(rec.bodies.size(), 2u);
  ASSERT_EQ(rec.bodies[0].size(), 1u);
  const std::string fire = rec.bodies[0]["text"];
  EXPECT_EQ(fire.rfind("[FIRING] IngestdDeadJobs (warning): 2 job(s)", 0), 0u) << fire;
  EXPECT_NE(fire.find("#ingestddeadjobs"), std::string::npos);
  EXPECT_EQ(rec.bodies[1]["text"].get<std::string>().rfind("[RESOLVED] IngestdDeadJobs", 0), 0u);
}

TEST(AlertNotifierTest, FailedPostsAreRetriedUntilDelivered) {
  FakeClock clock;
  Recorder rec;
  rec.fail = true;
  AlertNotifier n(Options(WebhookFormat::kAlertmanager), &clock, rec.Post());
  n.Notify({DeadJobs(2)});
  clock.Advance(15s);
  n.Notify({DeadJobs(2)});
  EXPECT_EQ(n.failed(), 2);
  rec.fail = false;
  clock.Advance(15s);
  n.Notify({DeadJobs(2)});
  ASSERT_EQ(rec.bodies.size(), 1u);
  // Resolve fails once, then goes out with the time the alert actually resolved.
  rec.fail = true;
  clock.Advance(15s);
  const UnixMillis resolved_at = clock.NowMillis();
  n.Notify({});
  rec.fail = false;
  clock.Advance(15s);
  n.Notify({});
  ASSERT_EQ(rec.bodies.size(), 2u);
  EXPECT_EQ(rec.bodies[1]["alerts"][0]["endsAt"], FormatIso8601(resolved_at));
}

TEST(AlertNotifierTest, AnAlertNeverDeliveredNeedsNoResolveNotice) {
  FakeClock clock;
  Recorder rec;
  rec.fail = true;
  AlertNotifier n(Options(WebhookFormat::kAlertmanager), &clock, rec.Post());
  n.Notify({DeadJobs(2)});
  rec.fail = false;
  clock.Advance(15s);
  n.Notify({});
  EXPECT_TRUE(rec.bodies.empty());
}

TEST(AlertNotifierTest, NoUrlMeansNoPosts) {
  FakeClock clock;
  int posts = 0;
  NotifierOptions o;
  AlertNotifier n(o, &clock, [&](const std::string&, const std::string&) {
    ++posts;
    return Status::Ok();
  });
  n.Notify({DeadJobs(1)});
  EXPECT_EQ(posts, 0);
}

TEST(WebhookFormatTest, Parses) {
  EXPECT_EQ(*ParseWebhookFormat("slack"), WebhookFormat::kSlack);
  EXPECT_EQ(*ParseWebhookFormat("alertmanager"), WebhookFormat::kAlertmanager);
  EXPECT_EQ(ParseWebhookFormat("teams").status().reason(), "bad_webhook_format");
}

}  // namespace
}  // namespace ingest::obs
