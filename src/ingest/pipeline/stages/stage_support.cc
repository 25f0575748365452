#include "ingest/pipeline/stages/stage_support.h"

namespace ingest::pipeline {

std::string ValidatedParserKey(const parse::Parser& parser) {
  return "validated:" + std::string(parser.Name());
}

Status AppendJobEvent(const PipelineDeps& deps, const JobContext& ctx, std::string_view kind,
                      std::string detail_json) {
  store::Event e;
  e.at = deps.clock->NowMillis();
  e.kind = std::string(kind);
  e.job_id = ctx.job.id;
  e.document_id = ctx.document.id;
  e.correlation_id = ctx.job.correlation_id;
  e.detail_json = std::move(detail_json);
  return deps.store->AppendEvent(e);
}

Result<store::ParseRecord> ReadParseRecord(const PipelineDeps& deps, const JobContext& ctx,
                                           std::string_view parser_key,
                                           std::string_view produced_by) {
  INGEST_ASSIGN_OR_RETURN(
      auto rec, deps.store->GetParse(ctx.document.sha256, parser_key, deps.parser->ConfigHash()));
  if (!rec) {
    return FailedPrecondition("the " + std::string(produced_by) + " output of document " +
                                  ctx.document.id + " is not in the store; requeue the job from " +
                                  std::string(produced_by),
                              "missing_stage_input");
  }
  return std::move(*rec);
}

}  // namespace ingest::pipeline
