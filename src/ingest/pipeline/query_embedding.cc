#include "ingest/pipeline/query_embedding.h"

#include <chrono>
#include <span>

#include "ingest/common/hash.h"
#include "ingest/governor/governor.h"
#include "ingest/obs/log.h"
#include "ingest/obs/metrics.h"
#include "ingest/pipeline/governed_embed.h"

namespace ingest::pipeline {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The closed outcome label of a query the governor or the provider did not let through.
std::string_view RefusalOutcome(const Status& st) {
  const std::string reason = st.reason();
  if (reason == governor::kBudgetExceeded) return "budget_exceeded";
  if (reason == governor::kRateLimited || reason == governor::kCircuitOpen ||
      reason == governor::kProviderStopped) {
    return "throttled";
  }
  return "error";
}

}  // namespace

Result<QueryVector> EmbedQuery(const PipelineDeps& deps, std::string_view query,
                               std::string_view tenant, obs::Metrics* metrics,
                               QueryRefusal* refusal) {
  const embed::Embedder& embedder = *deps.embedder;
  const store::VectorSpace& space = embedder.Space();
  const auto t0 = std::chrono::steady_clock::now();
  auto count = [metrics](std::string_view outcome) {
    if (metrics != nullptr) metrics->CountQuery(outcome);
  };
  const std::string text(query);

  // Free embedders: computing the vector is cheaper than a store round trip, and there is no
  // money to record (no ledger row, unlike a free embedder's chunk embeddings in the pipeline:
  // a row per search would grow the ledger by the query rate for $0).
  if (deps.governor == nullptr || embedder.Provider() == "local") {
    Result<embed::EmbedOutput> out = embedder.Embed(std::span<const std::string>(&text, 1));
    if (!out.ok() || out->vectors.size() != 1) {
      count("error");
      if (!out.ok()) return out.status();
      return Internal("embedder returned no vector for the query", "embedder_contract");
    }
    count("free");
    if (metrics != nullptr) metrics->ObserveQueryEmbedding("local", SecondsSince(t0));
    return QueryVector{std::move(out->vectors[0]), false, 0};
  }

  const std::string sha = Sha256Hex(query);
  Result<std::optional<std::vector<float>>> hit =
      deps.store->GetQueryVector(space, sha, deps.clock->NowMillis());
  if (!hit.ok()) {
    count("error");
    return hit.status();
  }
  if (hit->has_value()) {
    count("cache_hit");
    if (metrics != nullptr) {
      metrics->AddCacheHits("query", 1);
      metrics->ObserveQueryEmbedding("cache", SecondsSince(t0));
    }
    return QueryVector{std::move(**hit), true, 0};
  }

  const std::string service(embedder.Provider());
  governor::CallSpec spec;
  spec.service = service;
  spec.operation = "query";
  spec.model = space.model;
  spec.tenant = std::string(tenant);
  std::optional<store::BudgetStatus> refused_by;
  Result<embed::EmbedOutput> out =
      EmbedGoverned(deps, std::move(spec), std::span<const std::string>(&text, 1), &refused_by);
  if (!out.ok()) {
    count(RefusalOutcome(out.status()));
    if (refusal != nullptr) refusal->budget = std::move(refused_by);
    return out.status();
  }
  if (out->vectors.size() != 1 || static_cast<int>(out->vectors[0].size()) != space.dimensions) {
    count("error");
    return Internal("embedder " + embedder.Describe() + " returned no vector of " +
                        std::to_string(space.dimensions) + " floats for the query",
                    "embedder_contract");
  }
  int64_t cost = 0;
  if (deps.prices != nullptr) {
    // The same pricing the governor settled the ledger row with.
    Result<int64_t> priced =
        governor::EmbeddingCostNanos(*deps.prices, space.model, out->usage.tokens);
    if (priced.ok()) cost = *priced;
  }
  count("embedded");
  if (metrics != nullptr) {
    metrics->ObserveQueryEmbedding("provider", SecondsSince(t0));
    metrics->AddQueryCost(service, cost);
  }
  // The money is spent and recorded: a failed cache write costs a later repeat, not this answer.
  if (Status cached = deps.store->PutQueryVector(space, sha, out->vectors[0],
                                                 deps.query_cache_entries, deps.clock->NowMillis());
      !cached.ok()) {
    obs::LogWarn("query vector cache: write failed", {{"error", cached.ToString()}});
  }
  return QueryVector{std::move(out->vectors[0]), false, cost};
}

}  // namespace ingest::pipeline
