#include "ingest/pipeline/governed_embed.h"

#include "ingest/common/failpoint.h"
#include "ingest/common/ids.h"

namespace ingest::pipeline {

std::string JoinRequestIds(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) {
    if (!out.empty()) out += ',';
    out += id;
  }
  return out;
}

// The settled row carries the provider's usage; a call that failed part-way settles what was
// billed before the failure; one that billed nothing is released.
Result<embed::EmbedOutput> EmbedGoverned(const PipelineDeps& deps, governor::CallSpec spec,
                                         std::span<const std::string> texts,
                                         std::optional<store::BudgetStatus>* refused_by) {
  if (deps.governor == nullptr) {
    return Internal("EmbedGoverned needs a governor", "ungoverned_call");
  }
  const embed::Embedder& embedder = *deps.embedder;
  const text::TokenCounter* counter =
      deps.embed_tokens != nullptr ? deps.embed_tokens : deps.tokens;
  spec.tokens = 0;
  for (const auto& t : texts) spec.tokens += static_cast<int64_t>(counter->Count(t));
  // The provider's gate reserves `spec` right before the first request leaves (CallScope).
  governor::CallScope scope(deps.governor, spec);
  embed::EmbedUsage billed;
  Result<embed::EmbedOutput> out = embedder.EmbedBilled(texts, &billed);
  if (refused_by != nullptr) *refused_by = scope.refused_by();
  // The provider answered (and billed); the vectors are not stored and the row not settled:
  // the next attempt embeds these texts again, the one double payment a crash can cause.
  if (scope.sent()) FailPoint(kFailBeforeSettle);
  const embed::EmbedUsage& usage = out.ok() ? out->usage : billed;
  governor::Usage u;
  u.tokens = usage.tokens;
  u.requests = usage.requests;
  u.provider_request_id = JoinRequestIds(usage.request_ids);
  Status settled;
  if (scope.reservation()) {
    const governor::Reservation& r = *scope.reservation();
    settled = usage.tokens > 0 ? deps.governor->Settle(r, u)
                               : deps.governor->Release(
                                     r, out.ok() ? "no usage reported" : out.status().reason());
  } else if (usage.tokens > 0) {
    // An embedder without a gate (hand-built, not through App) billed without a reservation:
    // recorded all the same, never lost.
    governor::Reservation unreserved{UuidV4(), spec, 0};
    settled = deps.governor->Settle(unreserved, u);
  }
  if (!out.ok()) return out.status();
  INGEST_RETURN_IF_ERROR(settled);
  return out;
}

}  // namespace ingest::pipeline
