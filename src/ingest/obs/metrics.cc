#include "ingest/obs/metrics.h"

#include <prometheus/text_serializer.h>

#include <algorithm>
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

// Receipt to terminal state: seconds for a small interactive upload, hours for a backfill held
// back by a budget. 600 s (the freshness objective) must stay a boundary.
const prometheus::Histogram::BucketBoundaries& DocumentLatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400};
  return kBuckets;
}

std::string S(std::string_view v) { return std::string(v); }

}  // namespace

template <typename Builder>
auto& Metrics::Register(Builder builder, const char* name, const char* help) {
  family_names_.emplace_back(name);
  return builder.Name(name).Help(help).Register(*registry_);
}

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  documents_ = &Register(prometheus::BuildCounter(), "ingestd_documents_total",
                         "Documents that reached a terminal state, by state");
  document_latency_ =
      &Register(prometheus::BuildHistogram(), "ingestd_document_latency_seconds",
                "Time from a document's receipt to its terminal state, by state and lane");
  stage_duration_ = &Register(prometheus::BuildHistogram(), "ingestd_stage_duration_seconds",
                              "Wall time of one pipeline stage attempt, by stage");
  tokens_ = &Register(prometheus::BuildCounter(), "ingestd_tokens_total",
                      "Tokens sent to embedding providers, by provider and model");
  pages_ = &Register(prometheus::BuildCounter(), "ingestd_pages_total",
                     "Pages parsed (parse-cache hits excluded), by parser");
  ocr_pages_ = &Register(prometheus::BuildCounter(), "ingestd_ocr_pages_total",
                         "Pages recognised by local OCR (Tesseract)");
  ocr_seconds_ = &Register(prometheus::BuildCounter(), "ingestd_ocr_seconds_total",
                           "Render and recognition time of the pages recognised by local OCR");
  cache_hits_ =
      &Register(prometheus::BuildCounter(), "ingestd_cache_hits_total",
                "Cache hits: parse (documents), vector (chunk texts), query (search queries)");
  http_requests_ = &Register(prometheus::BuildCounter(), "ingestd_http_requests_total",
                             "HTTP API requests, by route template and status code");
  provider_requests_ = &Register(prometheus::BuildCounter(), "ingestd_provider_requests_total",
                                 "Provider call attempts, by provider and outcome");
  provider_latency_ = &Register(prometheus::BuildHistogram(), "ingestd_provider_latency_seconds",
                                "Wall time of provider calls that were sent, by provider");
  circuit_state_ = &Register(prometheus::BuildGauge(), "ingestd_circuit_state",
                             "Circuit breaker state by provider: 0 closed, 1 half-open, 2 open");
  rate_limit_wait_ = &Register(prometheus::BuildCounter(), "ingestd_rate_limit_wait_seconds_total",
                               "Time spent waiting for provider rate limits, by provider");
  cost_usd_ = &Register(prometheus::BuildCounter(), "ingestd_cost_usd_total",
                        "Spend recorded in the cost ledger in USD, by service");
  budget_overrun_usd_ =
      &Register(prometheus::BuildCounter(), "ingestd_budget_overrun_usd_total",
                "What providers billed beyond the reservation of their calls, in USD, by service");
  budget_stopped_ = &Register(prometheus::BuildGauge(), "ingestd_budget_stopped",
                              "1 while a budget is stopped by a provider overrun (until acked)");
  queries_ = &Register(prometheus::BuildCounter(), "ingestd_queries_total",
                       "Search query embeddings, by outcome (cache_hit, embedded, free, "
                       "budget_exceeded, throttled, error)");
  query_embedding_ =
      &Register(prometheus::BuildHistogram(), "ingestd_query_embedding_seconds",
                "Wall time to get a search query's vector, by source (cache, provider, local)");
  query_cost_usd_ = &Register(prometheus::BuildCounter(), "ingestd_query_cost_usd_total",
                              "Spend on search query embeddings in USD (part of "
                              "ingestd_cost_usd_total), by service");
  jobs_ = &Register(prometheus::BuildGauge(), "ingestd_jobs",
                    "Jobs in the store, by state (read at scrape time)");
  budget_spent_ =
      &Register(prometheus::BuildGauge(), "ingestd_budget_spent_usd",
                "Spend charged to each budget in its current period (settled + reserved)");
  budget_limit_ = &Register(prometheus::BuildGauge(), "ingestd_budget_limit_usd",
                            "Hard limit of each budget per period");
  budget_remaining_ = &Register(prometheus::BuildGauge(), "ingestd_budget_remaining_usd",
                                "Hard limit minus spend in the current period (0 when reached)");
  budget_soft_ratio_ = &Register(prometheus::BuildGauge(), "ingestd_budget_soft_ratio",
                                 "Fraction of the hard limit at which a budget alerts");
  rate_remaining_ = &Register(prometheus::BuildGauge(), "ingestd_rate_limit_remaining",
                              "Rate-limit tokens available now, by provider and kind");
  rate_capacity_ = &Register(prometheus::BuildGauge(), "ingestd_rate_limit_capacity",
                             "Rate-limit bucket capacity, by provider and kind");
  provider_stopped_ = &Register(prometheus::BuildGauge(), "ingestd_provider_stopped",
                                "1 when the governor stopped a provider (quota, credentials)");
  queue_oldest_age_ = &Register(prometheus::BuildGauge(), "ingestd_queue_oldest_age_seconds",
                                "Age of the oldest queued, due job; 0 when none is waiting")
                           .Add({});
  dead_jobs_ = &Register(prometheus::BuildGauge(), "ingestd_dead_jobs",
                         "Jobs in the dead-letter queue (retries exhausted)")
                    .Add({});
  // Terminal states the workers count, and the two caches: known label values start at 0.
  for (const char* state : {"complete", "failed", "dead"}) {
    documents_->Add({{"state", state}});
    for (const char* lane : {"interactive", "bulk"}) {
      document_latency_->Add({{"state", state}, {"lane", lane}}, DocumentLatencyBuckets());
    }
  }
  for (const char* cache : {"parse", "vector", "query"}) cache_hits_->Add({{"cache", cache}});
  for (const char* outcome :
       {"cache_hit", "embedded", "free", "budget_exceeded", "throttled", "error"}) {
    queries_->Add({{"outcome", outcome}});
  }
}

void Metrics::CountQuery(std::string_view outcome) {
  queries_->Add({{"outcome", S(outcome)}}).Increment();
}

void Metrics::ObserveQueryEmbedding(std::string_view source, double seconds) {
  query_embedding_->Add({{"source", S(source)}}, ProviderBuckets()).Observe(seconds);
}

void Metrics::AddQueryCost(std::string_view service, int64_t nanos) {
  if (nanos < 0) return;
  query_cost_usd_->Add({{"service", S(service)}}).Increment(static_cast<double>(nanos) / 1e9);
}

void Metrics::CountDocument(std::string_view state) {
  documents_->Add({{"state", S(state)}}).Increment();
}

void Metrics::ObserveDocumentLatency(std::string_view state, std::string_view lane,
                                     double seconds) {
  document_latency_->Add({{"state", S(state)}, {"lane", S(lane)}}, DocumentLatencyBuckets())
      .Observe(std::max(0.0, seconds));
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

void Metrics::AddOcr(int64_t pages, double seconds) {
  if (pages < 0 || seconds < 0) return;
  ocr_pages_->Add({}).Increment(static_cast<double>(pages));
  ocr_seconds_->Add({}).Increment(seconds);
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

void Metrics::AddBudgetOverrun(std::string_view service, int64_t nanos) {
  if (nanos < 0) return;
  budget_overrun_usd_->Add({{"service", S(service)}}).Increment(static_cast<double>(nanos) / 1e9);
}

void Metrics::AddCost(std::string_view service, int64_t nanos) {
  if (nanos < 0) return;
  cost_usd_->Add({{"service", S(service)}}).Increment(static_cast<double>(nanos) / 1e9);
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

const std::vector<std::string>& Metrics::FamilyNames() const { return family_names_; }

std::vector<prometheus::MetricFamily> Metrics::Collect() const { return registry_->Collect(); }

namespace {

using Labels = std::map<std::string, std::string>;

// Removes the series of `family` whose labels were in `before` but are not in `now`.
void RemoveStale(prometheus::Family<prometheus::Gauge>* family, const std::set<Labels>& before,
                 const std::set<Labels>& now) {
  for (const Labels& l : before) {
    if (now.count(l) == 0) family->Remove(&family->Add(l));
  }
}

}  // namespace

void Metrics::SetBudgets(const std::vector<BudgetGauge>& budgets) {
  std::lock_guard<std::mutex> lock(mirror_mu_);
  std::set<Labels> now;
  for (const BudgetGauge& b : budgets) {
    Labels l = {{"scope", b.scope}, {"key", b.key}, {"period", b.period}};
    budget_spent_->Add(l).Set(b.spent_usd);
    budget_limit_->Add(l).Set(b.limit_usd);
    budget_remaining_->Add(l).Set(std::max(0.0, b.limit_usd - b.spent_usd));
    budget_soft_ratio_->Add(l).Set(b.soft_ratio);
    budget_stopped_->Add(l).Set(b.stopped ? 1 : 0);
    now.insert(std::move(l));
  }
  for (auto* f :
       {budget_spent_, budget_limit_, budget_remaining_, budget_soft_ratio_, budget_stopped_}) {
    RemoveStale(f, budget_labels_, now);
  }
  budget_labels_ = std::move(now);
}

void Metrics::SetRateLimits(const std::vector<RateLimitGauge>& limits) {
  std::lock_guard<std::mutex> lock(mirror_mu_);
  std::set<Labels> now;
  for (const RateLimitGauge& r : limits) {
    Labels l = {{"provider", r.provider}, {"kind", r.kind}};
    rate_remaining_->Add(l).Set(r.remaining);
    rate_capacity_->Add(l).Set(r.capacity);
    now.insert(std::move(l));
  }
  RemoveStale(rate_remaining_, rate_labels_, now);
  RemoveStale(rate_capacity_, rate_labels_, now);
  rate_labels_ = std::move(now);
}

void Metrics::SetProvidersStopped(const std::vector<std::pair<std::string, bool>>& stopped) {
  std::lock_guard<std::mutex> lock(mirror_mu_);
  std::set<Labels> now;
  for (const auto& [provider, is_stopped] : stopped) {
    Labels l = {{"provider", provider}};
    provider_stopped_->Add(l).Set(is_stopped ? 1 : 0);
    now.insert(std::move(l));
  }
  RemoveStale(provider_stopped_, stopped_labels_, now);
  stopped_labels_ = std::move(now);
}

std::string Metrics::Serialize() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

}  // namespace ingest::obs
