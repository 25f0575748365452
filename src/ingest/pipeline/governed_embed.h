// One paid embedding call through the governor (DESIGN §5), shared by the embed stage and by
// search queries, so that every call that spends money takes the same path: exact token count
// → reservation against every applicable budget (made by the provider's gate right before the
// first request leaves, after the shared rate limit and the breaker) → call → settle from the
// provider's `usage` (or release when nothing was billed). Thread-safe (stateless).
#pragma once

#include <optional>
#include <span>
#include <string>

#include "ingest/common/result.h"
#include "ingest/embed/embedder.h"
#include "ingest/governor/governor.h"
#include "ingest/pipeline/pipeline_deps.h"

namespace ingest::pipeline {

// Embeds `texts` with deps.embedder as the paid call `spec` (service, operation, model, tenant,
// document and job set by the caller; spec.tokens is computed here with deps.embed_tokens, the
// provider's tokenizer). Requires deps.governor. Over a hard budget nothing is sent and the
// result is kResourceExhausted "budget_exceeded" (likewise "rate_limited", "circuit_open",
// "provider_stopped" from the gate). A call that failed part-way settles what the provider had
// already billed. The ledger row's id is the reservation's.
// `refused_by`, when given, receives the budget that refused the call.
Result<embed::EmbedOutput> EmbedGoverned(const PipelineDeps& deps, governor::CallSpec spec,
                                         std::span<const std::string> texts,
                                         std::optional<store::BudgetStatus>* refused_by = nullptr);

// The request ids of a call as the ledger stores them (comma-separated).
std::string JoinRequestIds(const std::vector<std::string>& ids);

}  // namespace ingest::pipeline
