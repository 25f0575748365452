#include "ingest/obs/metrics.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace ingest::obs {
namespace {

bool Has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

TEST(MetricsTest, ProviderFamiliesCarryTheirLabels) {
  Metrics m;
  m.CountProviderRequest("openai", "ok");
  m.CountProviderRequest("openai", "ok");
  m.CountProviderRequest("openai", "rate_limited");
  m.CountProviderRequest("llamaparse", "refused_by_breaker");
  m.ObserveProviderLatency("openai", 0.2);
  m.SetCircuitState("openai", 0);
  m.SetCircuitState("llamaparse", 2);
  m.AddRateLimitWait("openai", 1.5);
  m.AddRateLimitWait("openai", 0.25);
  const std::string s = m.Serialize();
  EXPECT_TRUE(Has(s, "# TYPE ingestd_provider_requests_total counter"));
  EXPECT_TRUE(Has(s, "ingestd_provider_requests_total{outcome=\"ok\",provider=\"openai\"} 2"));
  EXPECT_TRUE(
      Has(s, "ingestd_provider_requests_total{outcome=\"rate_limited\",provider=\"openai\"} 1"));
  EXPECT_TRUE(Has(
      s,
      "ingestd_provider_requests_total{outcome=\"refused_by_breaker\",provider=\"llamaparse\"} 1"));
  EXPECT_TRUE(Has(s, "# TYPE ingestd_provider_latency_seconds histogram"));
  EXPECT_TRUE(Has(s, "ingestd_provider_latency_seconds_count{provider=\"openai\"} 1"));
  EXPECT_TRUE(Has(s, "ingestd_provider_latency_seconds_bucket{provider=\"openai\",le=\"0.25\"} 1"));
  EXPECT_TRUE(Has(s, "ingestd_provider_latency_seconds_bucket{provider=\"openai\",le=\"0.1\"} 0"));
  EXPECT_TRUE(Has(s, "# TYPE ingestd_circuit_state gauge"));
  EXPECT_TRUE(Has(s, "ingestd_circuit_state{provider=\"llamaparse\"} 2"));
  EXPECT_TRUE(Has(s, "ingestd_circuit_state{provider=\"openai\"} 0"));
  EXPECT_TRUE(Has(s, "ingestd_rate_limit_wait_seconds_total{provider=\"openai\"} 1.75"));
}

// The freshness SLO counts documents finished within 600 s through the le="600" bucket; every
// state and lane exists at zero before the first document so rate() sees the first one.
TEST(MetricsTest, DocumentLatencyHasTheFreshnessBoundary) {
  Metrics m;
  const std::string fresh = m.Serialize();
  EXPECT_TRUE(Has(fresh, "# TYPE ingestd_document_latency_seconds histogram"));
  EXPECT_TRUE(
      Has(fresh, "ingestd_document_latency_seconds_count{lane=\"interactive\",state=\"dead\"} 0"));
  m.ObserveDocumentLatency("complete", "interactive", 12.5);
  m.ObserveDocumentLatency("complete", "interactive", 700);
  m.ObserveDocumentLatency("failed", "bulk", -3);  // clock skew: counted as 0, not dropped
  const std::string s = m.Serialize();
  EXPECT_TRUE(Has(s,
                  "ingestd_document_latency_seconds_bucket{lane=\"interactive\",state=\"complete\","
                  "le=\"600\"} 1"));
  EXPECT_TRUE(Has(s,
                  "ingestd_document_latency_seconds_bucket{lane=\"interactive\",state=\"complete\","
                  "le=\"900\"} 2"));
  EXPECT_TRUE(
      Has(s, "ingestd_document_latency_seconds_count{lane=\"interactive\",state=\"complete\"} 2"));
  EXPECT_TRUE(
      Has(s, "ingestd_document_latency_seconds_bucket{lane=\"bulk\",state=\"failed\",le=\"1\"} 1"));
}

TEST(MetricsTest, CircuitStateFollowsTheLastValue) {
  Metrics m;
  m.SetCircuitState("openai", 2);
  m.SetCircuitState("openai", 1);
  EXPECT_TRUE(Has(m.Serialize(), "ingestd_circuit_state{provider=\"openai\"} 1"));
}

TEST(MetricsTest, CostIsExposedInDollarsAndNeverGoesDown) {
  Metrics m;
  m.AddCost("openai_embeddings", 1'250'000'000);  // $1.25 in nano-dollars
  m.AddCost("openai_embeddings", 250'000'000);
  m.AddCost("openai_embeddings", -5'000'000'000);  // ignored: counters only go up
  m.AddCost("llamaparse", 0);                      // creates the series at zero
  m.AddRateLimitWait("openai", 0);
  m.AddRateLimitWait("openai", -3);  // ignored
  const std::string s = m.Serialize();
  EXPECT_TRUE(Has(s, "# TYPE ingestd_cost_usd_total counter"));
  EXPECT_TRUE(Has(s, "ingestd_cost_usd_total{service=\"openai_embeddings\"} 1.5\n")) << s;
  EXPECT_TRUE(Has(s, "ingestd_cost_usd_total{service=\"llamaparse\"} 0\n")) << s;
  EXPECT_TRUE(Has(s, "ingestd_rate_limit_wait_seconds_total{provider=\"openai\"} 0\n")) << s;
}

TEST(MetricsTest, StoreMirrorsReplaceTheirWholeSet) {
  Metrics m;
  m.SetBudgets({{"global", "", "day", 8.5, 10, 0.8}, {"tenant", "alpha", "month", 12, 10, 0.9}});
  m.SetRateLimits({{"openai", "tokens", 900000, 1000000}});
  m.SetProvidersStopped({{"openai", true}, {"llamaparse", false}});
  std::string s = m.Serialize();
  EXPECT_TRUE(Has(s, "ingestd_budget_spent_usd{key=\"\",period=\"day\",scope=\"global\"} 8.5"));
  EXPECT_TRUE(Has(s, "ingestd_budget_limit_usd{key=\"\",period=\"day\",scope=\"global\"} 10"));
  EXPECT_TRUE(Has(s, "ingestd_budget_remaining_usd{key=\"\",period=\"day\",scope=\"global\"} 1.5"));
  EXPECT_TRUE(
      Has(s, "ingestd_budget_remaining_usd{key=\"alpha\",period=\"month\",scope=\"tenant\"} 0"));
  EXPECT_TRUE(
      Has(s, "ingestd_budget_soft_ratio{key=\"alpha\",period=\"month\",scope=\"tenant\"} 0.9"));
  EXPECT_TRUE(Has(s, "ingestd_rate_limit_remaining{kind=\"tokens\",provider=\"openai\"} 900000"));
  EXPECT_TRUE(Has(s, "ingestd_rate_limit_capacity{kind=\"tokens\",provider=\"openai\"} 1000000"));
  EXPECT_TRUE(Has(s, "ingestd_provider_stopped{provider=\"openai\"} 1"));
  EXPECT_TRUE(Has(s, "ingestd_provider_stopped{provider=\"llamaparse\"} 0"));
  // The tenant budget is deleted and openai resumed: their series go, others stay.
  m.SetBudgets({{"global", "", "day", 9, 10, 0.8}});
  m.SetProvidersStopped({{"llamaparse", false}});
  m.SetRateLimits({});
  s = m.Serialize();
  EXPECT_FALSE(Has(s, "alpha")) << s;
  EXPECT_FALSE(Has(s, "ingestd_provider_stopped{provider=\"openai\"}"));
  EXPECT_FALSE(Has(s, "ingestd_rate_limit_remaining{"));
  EXPECT_TRUE(Has(s, "ingestd_budget_spent_usd{key=\"\",period=\"day\",scope=\"global\"} 9"));
}

// Every family fed at least once, checked by the real promtool (CI installs it; elsewhere the
// test skips when promtool is missing, but CI=true turns that into a failure).
TEST(MetricsTest, EveryFamilyPassesPromtoolCheckMetrics) {
  if (std::system("command -v promtool > /dev/null 2>&1") != 0) {
    const char* ci = std::getenv("CI");
    if (ci != nullptr && std::string(ci) == "true") FAIL() << "promtool missing in CI";
    GTEST_SKIP() << "promtool not installed";
  }
  Metrics m;
  m.CountDocument("complete");
  m.ObserveDocumentLatency("complete", "bulk", 42);
  m.ObserveStage("parse", 0.2);
  m.AddTokens("openai", "text-embedding-3-small", 100);
  m.AddPages("local", 3);
  m.AddOcr(2, 3.5);
  m.AddCacheHits("parse", 1);
  m.CountHttpRequest("/v1/jobs", 200);
  m.CountProviderRequest("openai", "ok");
  m.ObserveProviderLatency("openai", 0.3);
  m.SetCircuitState("openai", 0);
  m.AddRateLimitWait("openai", 0.5);
  m.AddCost("openai", 1234);
  m.AddBudgetOverrun("llamaparse", 0);
  m.CountQuery("embedded");
  m.ObserveQueryEmbedding("provider", 0.2);
  m.AddQueryCost("openai", 2);
  m.SetJobs({{"queued", 1}});
  m.SetQueueOldestAge(2);
  m.SetDeadJobs(0);
  m.SetBudgets({{"global", "", "day", 1, 10, 0.8}});
  m.SetRateLimits({{"openai", "tokens", 10, 100}});
  m.SetProvidersStopped({{"openai", false}});
  const std::string text = m.Serialize();
  for (const std::string& family : m.FamilyNames()) {
    EXPECT_TRUE(Has(text, "# TYPE " + family + " ")) << family << " not fed in this test";
  }
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("ingestd-metrics-" + std::to_string(::getpid()) + ".txt"))
                               .string();
  std::ofstream(path) << text;
  const int rc =
      std::system(("promtool check metrics < " + path + " > " + path + ".out 2>&1").c_str());
  std::stringstream out;
  out << std::ifstream(path + ".out").rdbuf();
  std::filesystem::remove(path);
  std::filesystem::remove(path + ".out");
  EXPECT_EQ(rc, 0) << out.str();
}

std::string ReadSource(const std::string& rel) {
  std::ifstream in(std::string(INGEST_SOURCE_DIR) + "/" + rel);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every ingestd_* name in the shipped alert and SLO rules and Grafana dashboards is a family this
// registry defines (histogram series by their _bucket/_sum/_count names), so a renamed metric
// cannot silently leave an alert or a panel reading nothing.
TEST(MetricsTest, DeployFilesReferenceOnlyRegisteredMetrics) {
  Metrics m;
  std::set<std::string> known;
  for (const std::string& n : m.FamilyNames()) {
    for (const char* suffix : {"", "_bucket", "_sum", "_count"}) known.insert(n + suffix);
  }
  std::vector<std::string> files;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(INGEST_SOURCE_DIR) + "/deploy/prometheus")) {
    if (e.path().extension() == ".yml") {
      files.push_back("deploy/prometheus/" + e.path().filename().string());
    }
  }
  ASSERT_GE(files.size(), 2u) << "alert and SLO rules missing in deploy/prometheus";
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(INGEST_SOURCE_DIR) + "/deploy/grafana")) {
    if (e.path().extension() == ".json") {
      files.push_back("deploy/grafana/" + e.path().filename().string());
    }
  }
  ASSERT_GE(files.size(), 3u) << "no Grafana dashboard in deploy/grafana";
  const std::regex name(R"(ingestd_[a-z0-9_]+)");
  for (const std::string& f : files) {
    const std::string text = ReadSource(f);
    ASSERT_FALSE(text.empty()) << f;
    int refs = 0;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), name);
         it != std::sregex_iterator(); ++it) {
      ++refs;
      EXPECT_TRUE(known.count(it->str())) << f << " references unknown metric " << it->str();
    }
    EXPECT_GT(refs, 5) << f;
  }
}

}  // namespace
}  // namespace ingest::obs
