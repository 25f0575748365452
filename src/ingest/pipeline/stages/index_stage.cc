#include "ingest/pipeline/stages/stages.h"

namespace ingest::pipeline {

Result<StageResult> IndexStage::Run(JobContext& ctx) const {
  INGEST_RETURN_IF_ERROR(
      deps_.store->MarkIndexed(ctx.document.id, deps_.embedder->Space(), deps_.clock->NowMillis()));
  return StageResult::Done();
}

}  // namespace ingest::pipeline
