#include "ingest/obs/alert_evaluator.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace ingest::obs {
namespace {

using namespace std::chrono_literals;

constexpr UnixMillis kT0 = 1'700'000'000'000;

std::vector<std::string> Names(const std::vector<Alert>& alerts) {
  std::vector<std::string> names;
  for (const Alert& a : alerts) names.push_back(a.name);
  return names;
}

bool Fires(const std::vector<Alert>& alerts, const std::string& name) {
  for (const Alert& a : alerts) {
    if (a.name == name) return true;
  }
  return false;
}

// Feeds samples every 15 s from `from` for `span`, each made by `make(t)`; returns the last
// evaluation.
template <typename F>
std::vector<Alert> Feed(AlertEvaluator& ev, UnixMillis from, Duration span, F make) {
  std::vector<Alert> last;
  for (UnixMillis t = from; t <= from + span.count(); t += 15'000) {
    AlertSample s = make(t);
    s.at = t;
    last = ev.Evaluate(s);
  }
  return last;
}

TEST(AlertEvaluatorTest, QuiescentInstanceFiresNothing) {
  AlertEvaluator ev;
  auto firing = Feed(ev, kT0, 30min, [](UnixMillis) { return AlertSample{}; });
  EXPECT_TRUE(firing.empty()) << testing::PrintToString(Names(firing));
  EXPECT_TRUE(ev.pending().empty());
}

TEST(AlertEvaluatorTest, DeadJobsFireAfterTheHoldAndResolveWhenRetried) {
  AlertEvaluator ev;
  AlertSample s;
  s.dead_jobs = 2;
  s.at = kT0;
  EXPECT_TRUE(ev.Evaluate(s).empty());
  ASSERT_EQ(ev.pending().size(), 1u);
  EXPECT_EQ(ev.pending()[0].name, "IngestdDeadJobs");
  s.at = kT0 + 59'000;
  EXPECT_TRUE(ev.Evaluate(s).empty());
  s.at = kT0 + 60'000;
  auto firing = ev.Evaluate(s);
  ASSERT_EQ(firing.size(), 1u);
  EXPECT_EQ(firing[0].name, "IngestdDeadJobs");
  EXPECT_EQ(firing[0].value, 2);
  EXPECT_EQ(firing[0].active_since, kT0);
  EXPECT_EQ(firing[0].firing_since, kT0 + 60'000);
  EXPECT_EQ(firing[0].runbook, "docs/operations/monitoring.md#ingestddeadjobs");
  s.dead_jobs = 0;
  s.at += 15'000;
  EXPECT_TRUE(ev.Evaluate(s).empty());
  EXPECT_TRUE(ev.pending().empty());
}

TEST(AlertEvaluatorTest, AConditionThatFlapsRestartsItsHold) {
  AlertEvaluator ev;
  AlertSample s;
  s.dead_jobs = 1;
  s.at = kT0;
  ev.Evaluate(s);
  s.dead_jobs = 0;
  s.at = kT0 + 30'000;
  ev.Evaluate(s);
  s.dead_jobs = 1;
  s.at = kT0 + 70'000;  // 70 s after the first sighting but only 0 s into the new hold
  EXPECT_TRUE(ev.Evaluate(s).empty());
  s.at = kT0 + 130'000;
  EXPECT_TRUE(Fires(ev.Evaluate(s), "IngestdDeadJobs"));
}

TEST(AlertEvaluatorTest, QueueStuckNeedsAnOldQueueAndNoFinishedJobs) {
  AlertEvaluator ev;
  // Old queue but jobs keep finishing: busy, not stuck.
  auto busy = Feed(ev, kT0, 30min, [](UnixMillis t) {
    AlertSample s;
    s.queue_oldest_age_s = 1800;
    s.finished_jobs = (t - kT0) / 60'000;
    return s;
  });
  EXPECT_FALSE(Fires(busy, "IngestdQueueStuck"));
  // Nothing finishes for 15 min: the condition holds from then, and fires 5 min later.
  const UnixMillis stall = kT0 + 30 * 60'000;
  auto early = Feed(ev, stall, 19min, [](UnixMillis) {
    AlertSample s;
    s.queue_oldest_age_s = 2000;
    s.finished_jobs = 30;
    return s;
  });
  EXPECT_FALSE(Fires(early, "IngestdQueueStuck"));
  auto late = Feed(ev, stall + 19 * 60'000 + 15'000, 2min, [](UnixMillis) {
    AlertSample s;
    s.queue_oldest_age_s = 2100;
    s.finished_jobs = 30;
    return s;
  });
  ASSERT_TRUE(Fires(late, "IngestdQueueStuck")) << testing::PrintToString(Names(late));
  EXPECT_EQ(late[0].severity, "critical");
  // One job finishes: resolved at once.
  AlertSample s;
  s.at = stall + 25 * 60'000;
  s.queue_oldest_age_s = 2200;
  s.finished_jobs = 31;
  EXPECT_FALSE(Fires(ev.Evaluate(s), "IngestdQueueStuck"));
}

TEST(AlertEvaluatorTest, BudgetsFireAtTheSoftAndHardLimitsWithoutHold) {
  AlertEvaluator ev;
  AlertSample s;
  s.at = kT0;
  s.budgets.push_back({"global", "", "day", 7.9, 10, 0.8});
  s.budgets.push_back({"tenant", "alpha", "month", 8.5, 10, 0.8});
  s.budgets.push_back({"service", "openai", "hour", 10, 10, 0.8});
  auto firing = ev.Evaluate(s);
  ASSERT_EQ(firing.size(), 2u) << testing::PrintToString(Names(firing));
  EXPECT_EQ(firing[0].name, "IngestdBudgetExhausted");
  EXPECT_EQ(firing[0].labels.at("key"), "openai");
  EXPECT_EQ(firing[0].severity, "critical");
  EXPECT_EQ(firing[1].name, "IngestdBudgetSoftLimit");
  EXPECT_EQ(firing[1].labels.at("scope"), "tenant");
  EXPECT_NE(firing[1].summary.find("$8.50 of $10.00 (85%)"), std::string::npos)
      << firing[1].summary;
}

TEST(AlertEvaluatorTest, ProviderStoppedFiresAtOnceAndCircuitOpenAfterFiveMinutes) {
  AlertEvaluator ev;
  auto make = [](UnixMillis) {
    AlertSample s;
    s.providers["openai"].stopped = true;
    s.providers["openai"].stop_reason = "insufficient_quota";
    s.providers["llamaparse"].circuit_state = 2;
    return s;
  };
  auto first = Feed(ev, kT0, 0min, make);
  ASSERT_EQ(Names(first), std::vector<std::string>{"IngestdProviderStopped"});
  EXPECT_EQ(first[0].labels.at("reason"), "insufficient_quota");
  auto later = Feed(ev, kT0 + 15'000, 5min, make);
  EXPECT_TRUE(Fires(later, "IngestdCircuitOpen"));
}

TEST(AlertEvaluatorTest, ProviderErrorRateUsesTheWindowAndIgnoresThrottlingAndRefusals) {
  AlertEvaluator ev;
  // 40 calls a minute; 30% fail with 5xx after minute 10; 429s and breaker refusals are many
  // but do not count as errors.
  auto make = [](UnixMillis t) {
    const double min = (t - kT0) / 60'000.0;
    AlertSample s;
    auto& r = s.providers["openai"].requests;
    const double bad_minutes = std::max(0.0, min - 10);
    r["ok"] = 40 * min - 12 * bad_minutes;
    r["server_error"] = 12 * bad_minutes;
    r["rate_limited"] = 100 * min;
    r["refused_by_breaker"] = 500 * min;
    return s;
  };
  auto healthy = Feed(ev, kT0, 10min, make);
  EXPECT_FALSE(Fires(healthy, "IngestdProviderErrorRateHigh"));
  auto bad = Feed(ev, kT0 + 10 * 60'000 + 15'000, 25min, make);
  ASSERT_TRUE(Fires(bad, "IngestdProviderErrorRateHigh")) << testing::PrintToString(Names(bad));
  EXPECT_NEAR(bad[0].value, 0.3, 1e-9);
}

TEST(AlertEvaluatorTest, TooFewCallsNeverCountAsAnErrorRate) {
  AlertEvaluator ev;
  auto firing = Feed(ev, kT0, 40min, [](UnixMillis t) {
    AlertSample s;
    s.providers["openai"].requests["timeout"] = static_cast<double>((t - kT0) / 600'000);
    return s;
  });
  EXPECT_FALSE(Fires(firing, "IngestdProviderErrorRateHigh"));
}

TEST(AlertEvaluatorTest, LatencyDegradedFromHistogramIncreases) {
  AlertEvaluator ev;
  // Slow provider calls (20 s) and slow parses (200 s) keep arriving.
  auto make = [](UnixMillis t) {
    const double n = static_cast<double>((t - kT0) / 15'000);
    AlertSample s;
    s.providers["openai"].latency = {{1, 10, 30, 60}, {0, 0, n, n}, n};
    s.stage_latency["parse"] = {{1, 60, 300}, {0, 0, n}, n};
    s.stage_latency["embed"] = {{1, 60, 300}, {n, n, n}, n};
    return s;
  };
  auto firing = Feed(ev, kT0, 16min, make);
  EXPECT_TRUE(Fires(firing, "IngestdProviderLatencyDegraded"));
  ASSERT_TRUE(Fires(firing, "IngestdStageLatencyDegraded"));
  for (const Alert& a : firing) {
    if (a.name == "IngestdStageLatencyDegraded") {
      EXPECT_EQ(a.labels.at("stage"), "parse");
    }
  }
}

TEST(AlertEvaluatorTest, DocumentFailureRate) {
  AlertEvaluator ev;
  auto firing = Feed(ev, kT0, 25min, [](UnixMillis t) {
    const double min = (t - kT0) / 60'000.0;
    AlertSample s;
    s.documents["complete"] = 2 * min;
    s.documents["failed"] = 1 * min;
    return s;
  });
  ASSERT_TRUE(Fires(firing, "IngestdDocumentFailureRateHigh"));
  EXPECT_NEAR(firing[0].value, 1.0 / 3, 0.01);
}

std::string Minutes(Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::minutes>(d).count()) + "m";
}

std::string Num(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

// The Prometheus rules and the in-process defaults must not drift apart: each rule block of
// deploy/prometheus/ingestd-alerts.yml carries the thresholds, windows and hold times of
// AlertThresholds.
TEST(AlertThresholdsTest, MatchThePrometheusRules) {
  std::ifstream in(std::string(INGEST_SOURCE_DIR) + "/deploy/prometheus/ingestd-alerts.yml");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string yaml = ss.str();
  ASSERT_FALSE(yaml.empty());
  auto block = [&](const std::string& name) {
    const size_t at = yaml.find("- alert: " + name + "\n");
    if (at == std::string::npos) return std::string();
    const size_t next = yaml.find("- alert: ", at + 1);
    return yaml.substr(at, next == std::string::npos ? std::string::npos : next - at);
  };
  const AlertThresholds t;
  const std::vector<std::pair<std::string, std::vector<std::string>>> expected = {
      {"IngestdQueueStuck",
       {"> " + Num(t.queue_stuck_age_s), "[" + Minutes(t.queue_stuck_window) + "]",
        "for: " + Minutes(t.queue_stuck_hold)}},
      {"IngestdCircuitOpen", {"== 2", "for: " + Minutes(t.circuit_open_hold)}},
      {"IngestdDeadJobs", {"> 0", "for: " + Minutes(t.dead_jobs_hold)}},
      {"IngestdProviderErrorRateHigh",
       {"> " + Num(t.provider_error_ratio), ">= " + Num(t.provider_error_min_requests),
        "[" + Minutes(t.provider_error_window) + "]", "for: " + Minutes(t.provider_error_hold)}},
      {"IngestdDocumentFailureRateHigh",
       {"> " + Num(t.document_failure_ratio), ">= " + Num(t.document_failure_min_documents),
        "[" + Minutes(t.document_failure_window) + "]",
        "for: " + Minutes(t.document_failure_hold)}},
      {"IngestdProviderLatencyDegraded",
       {"> " + Num(t.provider_latency_p95_s), "histogram_quantile(0.95",
        "[" + Minutes(t.provider_latency_window) + "]",
        "for: " + Minutes(t.provider_latency_hold)}},
      {"IngestdStageLatencyDegraded",
       {"> " + Num(t.stage_latency_p95_s), "histogram_quantile(0.95",
        "[" + Minutes(t.stage_latency_window) + "]", "for: " + Minutes(t.stage_latency_hold)}},
      {"IngestdBudgetSoftLimit", {"ingestd_budget_soft_ratio"}},
      {"IngestdBudgetExhausted", {"<= 0"}},
      {"IngestdProviderStopped", {"== 1"}},
      {"IngestdBudgetOverrun", {"ingestd_budget_stopped", "== 1"}},
  };
  for (const auto& [name, parts] : expected) {
    const std::string b = block(name);
    ASSERT_FALSE(b.empty()) << name << " missing from the rules";
    for (const std::string& part : parts) {
      EXPECT_NE(b.find(part), std::string::npos) << name << " lacks \"" << part << "\"";
    }
  }
  // Rules without a hold in-process have none in Prometheus either.
  for (const char* name : {"IngestdBudgetSoftLimit", "IngestdBudgetExhausted",
                           "IngestdProviderStopped", "IngestdBudgetOverrun"}) {
    EXPECT_EQ(block(name).find("for:"), std::string::npos) << name;
  }
}

TEST(QuantileOfIncreaseTest, InterpolatesLikePrometheus) {
  HistogramSample older{{1, 2, 4}, {0, 0, 0}, 0};
  HistogramSample newer{{1, 2, 4}, {10, 60, 100}, 100};
  EXPECT_DOUBLE_EQ(QuantileOfIncrease(0.5, newer, older), 1.8);  // rank 50 in (1, 2]
  EXPECT_DOUBLE_EQ(QuantileOfIncrease(0.05, newer, older), 0.5);
  EXPECT_DOUBLE_EQ(QuantileOfIncrease(0.5, newer, newer), -1);  // no observations between
  HistogramSample inf{{1, 2, 4}, {0, 0, 0}, 10};                // all above the last bound
  EXPECT_DOUBLE_EQ(QuantileOfIncrease(0.95, inf, older), 4);
}

}  // namespace
}  // namespace ingest::obs
