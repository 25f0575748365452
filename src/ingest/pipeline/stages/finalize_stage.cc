#include <nlohmann/json.hpp>

#include "ingest/pipeline/stages/stage_support.h"
#include "ingest/pipeline/stages/stages.h"

namespace ingest::pipeline {

Result<StageResult> FinalizeStage::Run(JobContext& ctx) const {
  // Everything is read back from the Store: this stage may run in another process than the
  // stages before it.
  INGEST_ASSIGN_OR_RETURN(store::Document doc, deps_.store->GetDocument(ctx.document.id));
  INGEST_ASSIGN_OR_RETURN(std::vector<store::Chunk> chunks,
                          deps_.store->ListChunks(ctx.document.id));
  INGEST_ASSIGN_OR_RETURN(std::vector<store::LedgerEntry> rows,
                          deps_.store->ListLedger(ctx.document.id));
  int64_t tokens = 0, cost = 0;
  for (const auto& c : chunks) tokens += c.token_count;
  for (const auto& r : rows) {
    if (r.state != store::LedgerState::kReleased) cost += r.cost_nanos;
  }
  INGEST_RETURN_IF_ERROR(AppendJobEvent(deps_, ctx, "document.complete",
                                        nlohmann::json{{"pages", doc.page_count},
                                                       {"chunks", chunks.size()},
                                                       {"chunk_tokens", tokens},
                                                       {"cost_nanos", cost},
                                                       {"parser", doc.parser}}
                                            .dump()));
  return StageResult::Done();
}

}  // namespace ingest::pipeline
