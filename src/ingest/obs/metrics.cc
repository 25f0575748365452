#include "ingest/obs/metrics.h"

#include <prometheus/text_serializer.h>

#include <sstream>

namespace ingest::obs {
namespace {

// Stage attempts range from a millisecond (account, finalize) to minutes (a remote parse of a
// long PDF); the buckets cover that span roughly geometrically.
const prometheus::Histogram::BucketBoundaries& StageBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
  return kBuckets;
}

// Provider calls: an embedding batch takes tens of milliseconds to seconds; a LlamaParse upload
// or poll up to the client timeout.
const prometheus::Histogram::BucketBoundaries& ProviderBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
  return kBuckets;
}

std::string S(std::string_view v) { return std::string(v); }

}  // namespace

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  documents_ = &prometheus::BuildCounter()
                    .Name("ingestd_documents_total")
                    .Help("Documents that reached a terminal state, by state")
                    .Register(*registry_);
  stage_duration_ = &prometheus::BuildHistogram()
                         .Name("ingestd_stage_duration_seconds")
                         .Help("Wall time of one pipeline stage attempt, by stage")
                         .Register(*registry_);
  tokens_ = &prometheus::BuildCounter()
                 .Name("ingestd_tokens_total")
                 .Help("Tokens sent to embedding providers, by provider and model")
                 .Register(*registry_);
  pages_ = &prometheus::BuildCounter()
                .Name("ingestd_pages_total")
                .Help("Pages parsed (parse-cache hits excluded), by parser")
                .Register(*registry_);
  cache_hits_ = &prometheus::BuildCounter()
                     .Name("ingestd_cache_hits_total")
                     .Help("Cache hits: parse (documents) and vector (chunk texts)")
                     .Register(*registry_);
  http_requests_ = &prometheus::BuildCounter()
                        .Name("ingestd_http_requests_total")
                        .Help("HTTP API requests, by route template and status code")
                        .Register(*registry_);
  provider_requests_ = &prometheus::BuildCounter()
                            .Name("ingestd_provider_requests_total")
                            .Help("Provider call attempts, by provider and outcome")
                            .Register(*registry_);
  provider_latency_ = &prometheus::BuildHistogram()
                           .Name("ingestd_provider_latency_seconds")
                           .Help("Wall time of provider calls that were sent, by provider")
                           .Register(*registry_);
  circuit_state_ = &prometheus::BuildGauge()
                        .Name("ingestd_circuit_state")
                        .Help("Circuit breaker state by provider: 0 closed, 1 half-open, 2 open")
                        .Register(*registry_);
  rate_limit_wait_ = &prometheus::BuildCounter()
                          .Name("ingestd_rate_limit_wait_seconds_total")
                          .Help("Time spent waiting for provider rate limits, by provider")
                          .Register(*registry_);
  cost_usd_ = &prometheus::BuildCounter()
                   .Name("ingestd_cost_usd_total")
                   .Help("Spend recorded in the cost ledger in USD, by service")
                   .Register(*registry_);
  jobs_ = &prometheus::BuildGauge()
               .Name("ingestd_jobs")
               .Help("Jobs in the store, by state (read at scrape time)")
               .Register(*registry_);
  queue_oldest_age_ = &prometheus::BuildGauge()
                           .Name("ingestd_queue_oldest_age_seconds")
                           .Help("Age of the oldest queued, due job; 0 when none is waiting")
                           .Register(*registry_)
                           .Add({});
  dead_jobs_ = &prometheus::BuildGauge()
                    .Name("ingestd_dead_jobs")
                    .Help("Jobs in the dead-letter queue (retries exhausted)")
                    .Register(*registry_)
                    .Add({});
  // Terminal states the workers count, and the two caches: known label values start at 0.
  for (const char* state : {"complete", "failed", "dead"}) documents_->Add({{"state", state}});
  for (const char* cache : {"parse", "vector"}) cache_hits_->Add({{"cache", cache}});
}

void Metrics::CountDocument(std::string_view state) {
  documents_->Add({{"state", S(state)}}).Increment();
}

void Metrics::ObserveStage(std::string_view stage, double seconds) {
  stage_duration_->Add({{"stage", S(stage)}}, StageBuckets()).Observe(seconds);
}

void Metrics::AddTokens(std::string_view provider, std::string_view model, int64_t tokens) {
  if (tokens < 0) return;
  tokens_->Add({{"provider", S(provider)}, {"model", S(model)}})
      .Increment(static_cast<double>(tokens));
}

void Metrics::AddPages(std::string_view parser, int64_t pages) {
  if (pages < 0) return;
  pages_->Add({{"parser", S(parser)}}).Increment(static_cast<double>(pages));
}

void Metrics::AddCacheHits(std::string_view cache, int64_t hits) {
  if (hits < 0) return;
  cache_hits_->Add({{"cache", S(cache)}}).Increment(static_cast<double>(hits));
}

void Metrics::CountProviderRequest(std::string_view provider, std::string_view outcome) {
  provider_requests_->Add({{"provider", S(provider)}, {"outcome", S(outcome)}}).Increment();
}

void Metrics::ObserveProviderLatency(std::string_view provider, double seconds) {
  provider_latency_->Add({{"provider", S(provider)}}, ProviderBuckets()).Observe(seconds);
}

void Metrics::SetCircuitState(std::string_view provider, int state) {
  circuit_state_->Add({{"provider", S(provider)}}).Set(static_cast<double>(state));
}

void Metrics::AddRateLimitWait(std::string_view provider, double seconds) {
  if (!(seconds >= 0)) return;
  rate_limit_wait_->Add({{"provider", S(provider)}}).Increment(seconds);
}

void Metrics::AddCost(std::string_view service, int64_t micros) {
  if (micros < 0) return;
  cost_usd_->Add({{"service", S(service)}}).Increment(static_cast<double>(micros) / 1e6);
}

void Metrics::InitStage(std::string_view stage) {
  stage_duration_->Add({{"stage", S(stage)}}, StageBuckets());
}

void Metrics::CountHttpRequest(std::string_view route, int status) {
  http_requests_->Add({{"route", S(route)}, {"status", std::to_string(status)}}).Increment();
}

void Metrics::SetJobs(const std::vector<std::pair<std::string, int64_t>>& by_state) {
  for (const auto& [state, n] : by_state) {
    jobs_->Add({{"state", state}}).Set(static_cast<double>(n));
  }
}

void Metrics::SetQueueOldestAge(double seconds) { queue_oldest_age_->Set(seconds); }

void Metrics::SetDeadJobs(int64_t dead) { dead_jobs_->Set(static_cast<double>(dead)); }

std::vector<prometheus::MetricFamily> Metrics::Collect() const { return registry_->Collect(); }

std::string Metrics::Serialize() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

}  // namespace ingest::obs
