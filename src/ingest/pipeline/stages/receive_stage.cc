#include <filesystem>

#include "ingest/pipeline/stages/stages.h"

namespace ingest::pipeline {

Result<StageResult> ReceiveStage::Run(JobContext& ctx) const {
  if (!deps_.blobs->Exists(ctx.document.blob_key)) {
    // Exists cannot tell "missing" from "the database or bucket did not answer"; LocalPath can
    // (remote stores: kNotFound versus kUnavailable), so a blip is retried, not a lost document.
    auto local = deps_.blobs->LocalPath(ctx.document.blob_key);
    std::error_code ec;
    if (local.ok() && std::filesystem::is_regular_file(*local, ec)) return StageResult::Done();
    if (!local.ok() && local.status().code() != StatusCode::kNotFound) return local.status();
    return NotFound("blob " + ctx.document.blob_key + " of document " + ctx.document.id +
                        " is missing; submit the file again",
                    "blob_missing");
  }
  return StageResult::Done();
}

}  // namespace ingest::pipeline
