#include "ingest/pipeline/delete_document.h"
#include "ingest/pipeline/stages/stages.h"

namespace ingest::pipeline {

Result<StageResult> IndexStage::Run(JobContext& ctx) const {
  INGEST_RETURN_IF_ERROR(
      deps_.store->MarkIndexed(ctx.document.id, deps_.embedder->Space(), deps_.clock->NowMillis()));
  // A version swap leaves the old version's bytes to no one: remove them now. Best effort: a
  // failure leaves the blob for the next purge and does not undo the swap.
  if (!ctx.document.external_id.empty() && deps_.blobs != nullptr) {
    PurgeOrphanBlobs(*deps_.store, *deps_.blobs).status().IgnoreError();
  }
  return StageResult::Done();
}

}  // namespace ingest::pipeline
