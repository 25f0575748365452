// Prometheus metrics of DESIGN §8, in one registry served at GET /metrics.
//
// Thread-safe: every method may be called from any thread (prometheus-cpp families and metrics
// are internally synchronised; the scrape-time mirrors below hold their own mutex). Counters
// only go up. Gauges that mirror the Store (jobs by state, queue age, dead jobs, budgets, rate
// buckets, stopped providers) are refreshed by the caller at scrape time, not maintained here,
// so several processes sharing one database all report the same, true values. Provider
// families (requests, latency, circuit state, rate-limit waits) and cost are fed by the
// governor as calls happen.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ingest::obs {

// One budget with its spend in the current period, as mirrored at scrape time.
struct BudgetGauge {
  std::string scope;   // global | tenant | service
  std::string key;     // the tenant or service; "" for global
  std::string period;  // hour | day | month
  double spent_usd = 0;
  double limit_usd = 0;
  double soft_ratio = 0;
  bool stopped = false;  // stopped by an overrun until acknowledged
};

// Rate-limit headroom of one provider and kind (requests, tokens), summed over its keys.
struct RateLimitGauge {
  std::string provider;
  std::string kind;
  double remaining = 0;
  double capacity = 0;
};

class Metrics {
 public:
  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // ingestd_documents_total{state}: documents that reached a terminal state in this process.
  void CountDocument(std::string_view state);
  // ingestd_document_latency_seconds{state,lane}: time from a document's receipt (its job's
  // creation) to the terminal state a worker brought it to. The freshness SLO reads it
  // (deploy/prometheus/ingestd-slo.yml); 600 s is a bucket boundary. A job an operator retries
  // after it ended is observed again, measured from the same receipt (for its user it was late).
  void ObserveDocumentLatency(std::string_view state, std::string_view lane, double seconds);
  // ingestd_stage_duration_seconds{stage}: wall time of one stage attempt.
  void ObserveStage(std::string_view stage, double seconds);
  // ingestd_tokens_total{provider,model}: tokens sent to an embedder (provider-reported usage).
  // The Add* methods accept 0, which creates the series at zero (done once for known labels).
  void AddTokens(std::string_view provider, std::string_view model, int64_t tokens);
  // ingestd_pages_total{parser}: pages parsed (parse-cache hits are not parsing).
  void AddPages(std::string_view parser, int64_t pages);
  // ingestd_ocr_pages_total and ingestd_ocr_seconds_total: pages recognised by local OCR and
  // their render + recognition time (seconds per page = the ratio of their rates).
  void AddOcr(int64_t pages, double seconds);
  // ingestd_cache_hits_total{cache}: cache = "parse" (a whole document), "vector" (a chunk) or
  // "query" (a search query's vector).
  void AddCacheHits(std::string_view cache, int64_t hits);
  // ingestd_http_requests_total{route,status}: `route` is a path template, never a raw path,
  // so ids do not explode the label set.
  void CountHttpRequest(std::string_view route, int status);

  // ingestd_provider_requests_total{provider,outcome}: one per provider call attempt, including
  // calls the governor refused before sending. `outcome` is a short closed word: ok,
  // rate_limited, server_error, timeout, client_error, refused_by_breaker, ... (the governor
  // owns the list; never free text, never a message).
  void CountProviderRequest(std::string_view provider, std::string_view outcome);
  // ingestd_provider_latency_seconds{provider}: wall time of one call that reached the provider.
  void ObserveProviderLatency(std::string_view provider, double seconds);
  // ingestd_circuit_state{provider}: 0 closed, 1 half-open, 2 open.
  void SetCircuitState(std::string_view provider, int state);
  // ingestd_rate_limit_wait_seconds_total{provider}: time callers spent waiting for a rate-limit
  // token or a Retry-After before calling. Negative values are ignored.
  void AddRateLimitWait(std::string_view provider, double seconds);
  // ingestd_cost_usd_total{service}: spend recorded in the ledger, given in integer
  // nano-dollars (the ledger's unit) and exposed in USD (nanos / 1e9). Negative values (a
  // refund or correction) are ignored: a counter cannot go down.
  void AddCost(std::string_view service, int64_t nanos);
  // ingestd_budget_overrun_usd_total{service}: what providers billed beyond the reservation of
  // the call (an incident: the budgets stop), from nano-dollars. Negative values are ignored.
  void AddBudgetOverrun(std::string_view service, int64_t nanos);

  // Search queries (pipeline/query_embedding.h). ingestd_queries_total{outcome}: one per query
  // embedding asked for; outcome is cache_hit, embedded (paid, sent), free (a free embedder),
  // budget_exceeded (refused by a hard budget, nothing sent), throttled (rate limit, open
  // breaker, stopped provider: nothing sent) or error.
  void CountQuery(std::string_view outcome);
  // ingestd_query_embedding_seconds{source}: wall time to get a query's vector; source is
  // cache, provider or local.
  void ObserveQueryEmbedding(std::string_view source, double seconds);
  // ingestd_query_cost_usd_total{service}: the share of ingestd_cost_usd_total spent on search
  // queries, given in integer nano-dollars. Negative values are ignored.
  void AddQueryCost(std::string_view service, int64_t nanos);

  // Creates the stage's histogram series with no observations, so a fresh process already
  // exposes it (a series appearing only after its first event breaks rate() and alerts).
  void InitStage(std::string_view stage);

  // Scrape-time mirrors of the Store. `by_state` lists every job state with its count.
  void SetJobs(const std::vector<std::pair<std::string, int64_t>>& by_state);
  void SetQueueOldestAge(double seconds);
  void SetDeadJobs(int64_t dead);
  // ingestd_budget_{spent,limit,remaining}_usd and ingestd_budget_soft_ratio {scope,key,period}.
  // Replaces the whole set: series of budgets no longer listed are removed.
  void SetBudgets(const std::vector<BudgetGauge>& budgets);
  // ingestd_rate_limit_remaining and ingestd_rate_limit_capacity {provider,kind}; replaces the
  // set like SetBudgets.
  void SetRateLimits(const std::vector<RateLimitGauge>& limits);
  // ingestd_provider_stopped{provider}: 1 stopped by the governor (quota, credentials), 0 not.
  // Replaces the set like SetBudgets.
  void SetProvidersStopped(const std::vector<std::pair<std::string, bool>>& stopped);

  // Prometheus text exposition format 0.0.4 of everything registered.
  std::string Serialize() const;
  // Current values of everything registered (what Serialize prints), for in-process readers
  // such as the alert monitor.
  std::vector<prometheus::MetricFamily> Collect() const;
  // Names of every registered family (histograms without the _bucket/_sum/_count suffixes),
  // including families with no series yet, which Serialize omits.
  const std::vector<std::string>& FamilyNames() const;

 private:
  template <typename Builder>
  auto& Register(Builder builder, const char* name, const char* help);

  std::shared_ptr<prometheus::Registry> registry_;
  std::vector<std::string> family_names_;
  prometheus::Family<prometheus::Counter>* documents_;
  prometheus::Family<prometheus::Histogram>* document_latency_;
  prometheus::Family<prometheus::Histogram>* stage_duration_;
  prometheus::Family<prometheus::Counter>* tokens_;
  prometheus::Family<prometheus::Counter>* pages_;
  prometheus::Family<prometheus::Counter>* ocr_pages_;
  prometheus::Family<prometheus::Counter>* ocr_seconds_;
  prometheus::Family<prometheus::Counter>* cache_hits_;
  prometheus::Family<prometheus::Counter>* http_requests_;
  prometheus::Family<prometheus::Counter>* provider_requests_;
  prometheus::Family<prometheus::Histogram>* provider_latency_;
  prometheus::Family<prometheus::Gauge>* circuit_state_;
  prometheus::Family<prometheus::Counter>* rate_limit_wait_;
  prometheus::Family<prometheus::Counter>* cost_usd_;
  prometheus::Family<prometheus::Counter>* budget_overrun_usd_;
  prometheus::Family<prometheus::Gauge>* budget_stopped_;
  prometheus::Family<prometheus::Counter>* queries_;
  prometheus::Family<prometheus::Histogram>* query_embedding_;
  prometheus::Family<prometheus::Counter>* query_cost_usd_;
  prometheus::Family<prometheus::Gauge>* jobs_;
  prometheus::Family<prometheus::Gauge>* budget_spent_;
  prometheus::Family<prometheus::Gauge>* budget_limit_;
  prometheus::Family<prometheus::Gauge>* budget_remaining_;
  prometheus::Family<prometheus::Gauge>* budget_soft_ratio_;
  prometheus::Family<prometheus::Gauge>* rate_remaining_;
  prometheus::Family<prometheus::Gauge>* rate_capacity_;
  prometheus::Family<prometheus::Gauge>* provider_stopped_;
  // The label sets each scrape-time family currently exposes, so a Set* can remove the series
  // that disappeared from the store.
  std::mutex mirror_mu_;
  std::set<std::map<std::string, std::string>> budget_labels_;   // GUARDED_BY(mirror_mu_)
  std::set<std::map<std::string, std::string>> rate_labels_;     // GUARDED_BY(mirror_mu_)
  std::set<std::map<std::string, std::string>> stopped_labels_;  // GUARDED_BY(mirror_mu_)
  prometheus::Gauge* queue_oldest_age_;
  prometheus::Gauge* dead_jobs_;
};

}  // namespace ingest::obs
