#include "ingest/pipeline/stages/stages.h"

namespace ingest::pipeline {

Result<StageResult> ReceiveStage::Run(JobContext& ctx) const {
  if (!deps_.blobs->Exists(ctx.document.blob_key)) {
    return NotFound("blob " + ctx.document.blob_key + " of document " + ctx.document.id +
                        " is missing; submit the file again",
                    "blob_missing");
  }
  return StageResult::Done();
}

}  // namespace ingest::pipeline
