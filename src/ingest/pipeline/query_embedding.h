// Search queries' embeddings (CLI `ingestd search`, API POST /v1/search): the same governed
// path as ingestion (pipeline/governed_embed.h), plus a query vector cache in the store.
//
// A query is looked up in the store's query vector cache by (vector space, sha256 of the text)
// first: a hit costs nothing and sends nothing. On a miss a paid embedder is called through the
// governor as one call with operation "query", billed to the caller's tenant (no document, no
// job): exact token count, reservation against every applicable budget (global, the tenant's,
// the service's), shared rate limits and breaker, settlement from the provider's usage, one
// ledger row. Over a hard budget the query is refused and nothing is sent. A free embedder
// (local, lexical) writes no ledger row for a query. The vector is then cached (bounded by
// PipelineDeps::query_cache_entries, least recently used evicted first).
//
// Thread-safe (stateless; the store and governor are shared).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/common/result.h"
#include "ingest/pipeline/pipeline_deps.h"
#include "ingest/store/types.h"

namespace ingest::obs {
class Metrics;
}

namespace ingest::pipeline {

struct QueryVector {
  std::vector<float> values;  // deps.embedder->Space().dimensions floats
  bool cached = false;        // from the query vector cache (nothing sent, nothing billed)
  int64_t cost_nanos = 0;     // what embedding this query cost (0: cached or free)
};

// Why a query was refused, when it was: the budget that would have been exceeded.
struct QueryRefusal {
  std::optional<store::BudgetStatus> budget;
};

// Embeds `query` for `tenant`. kResourceExhausted "budget_exceeded" (message naming the budget
// and when it resets; *refusal, if given, receives the budget) when a hard budget would be
// exceeded; "rate_limited", "circuit_open", "provider_stopped" when the governor holds the
// provider back. Nothing is sent in either case. `metrics` may be null.
Result<QueryVector> EmbedQuery(const PipelineDeps& deps, std::string_view query,
                               std::string_view tenant, obs::Metrics* metrics,
                               QueryRefusal* refusal = nullptr);

}  // namespace ingest::pipeline
