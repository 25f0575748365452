#include "ingest/pipeline/pipeline_deps.h"

namespace ingest::pipeline {

Status ValidatePipelineDeps(const PipelineDeps& deps) {
  if (deps.store == nullptr) return InvalidArgument("pipeline: no store", "missing_dependency");
  if (deps.blobs == nullptr)
    return InvalidArgument("pipeline: no blob store", "missing_dependency");
  if (deps.parser == nullptr) return InvalidArgument("pipeline: no parser", "missing_dependency");
  if (deps.embedder == nullptr) {
    return InvalidArgument("pipeline: no embedder", "missing_dependency");
  }
  if (deps.tokens == nullptr) {
    return InvalidArgument("pipeline: no token counter", "missing_dependency");
  }
  if (deps.clock == nullptr) return InvalidArgument("pipeline: no clock", "missing_dependency");
  // Paid providers must be priced. Other providers without a table (the local embedder, test
  // fakes) are recorded at cost 0.
  if (deps.prices == nullptr && deps.embedder->Provider() == "openai") {
    return InvalidArgument("pipeline: no price table for embedder provider \"" +
                               std::string(deps.embedder->Provider()) + "\"",
                           "missing_dependency");
  }
  if (deps.embed_batch_size < 1) {
    return InvalidArgument("pipeline: embed_batch_size must be at least 1", "bad_option");
  }
  if (deps.retry.max_attempts < 1) {
    return InvalidArgument("pipeline: retry max_attempts must be at least 1", "bad_option");
  }
  return Status::Ok();
}

}  // namespace ingest::pipeline
