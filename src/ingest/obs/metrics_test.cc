#include "ingest/obs/metrics.h"

#include <gtest/gtest.h>

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

TEST(MetricsTest, CircuitStateFollowsTheLastValue) {
  Metrics m;
  m.SetCircuitState("openai", 2);
  m.SetCircuitState("openai", 1);
  EXPECT_TRUE(Has(m.Serialize(), "ingestd_circuit_state{provider=\"openai\"} 1"));
}

TEST(MetricsTest, CostIsExposedInDollarsAndNeverGoesDown) {
  Metrics m;
  m.AddCost("openai_embeddings", 1'250'000);  // $1.25
  m.AddCost("openai_embeddings", 250'000);
  m.AddCost("openai_embeddings", -5'000'000);  // ignored: counters only go up
  m.AddCost("llamaparse", 0);                  // creates the series at zero
  m.AddRateLimitWait("openai", 0);
  m.AddRateLimitWait("openai", -3);  // ignored
  const std::string s = m.Serialize();
  EXPECT_TRUE(Has(s, "# TYPE ingestd_cost_usd_total counter"));
  EXPECT_TRUE(Has(s, "ingestd_cost_usd_total{service=\"openai_embeddings\"} 1.5\n")) << s;
  EXPECT_TRUE(Has(s, "ingestd_cost_usd_total{service=\"llamaparse\"} 0\n")) << s;
  EXPECT_TRUE(Has(s, "ingestd_rate_limit_wait_seconds_total{provider=\"openai\"} 0\n")) << s;
}

}  // namespace
}  // namespace ingest::obs
