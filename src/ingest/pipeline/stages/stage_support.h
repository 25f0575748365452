// Small helpers the stages share: events, parse-cache keys. Thread-safe (stateless).
#pragma once

#include <string>
#include <string_view>

#include "ingest/common/result.h"
#include "ingest/parse/parser.h"
#include "ingest/pipeline/pipeline_deps.h"
#include "ingest/pipeline/stages/stage_runner.h"

namespace ingest::pipeline {

// The validate stage stores the normalised pages in the parse cache under this parser name
// (same file sha256 and config hash as the raw parse), so the chunk stage reads them from the
// Store and a re-run of validate is an idempotent upsert. "validated:local", ...
std::string ValidatedParserKey(const parse::Parser& parser);

// Appends an event for ctx's job and document. `detail_json` must be a JSON object.
Status AppendJobEvent(const PipelineDeps& deps, const JobContext& ctx, std::string_view kind,
                      std::string detail_json);

// True when a raw parse record (written by the parse stage) says the source was a PDF.
bool ParseRecordIsPdf(const store::ParseRecord& rec);

// Reads a stage's input from the parse cache; kFailedPrecondition (reason
// "missing_stage_input") when an earlier stage's output is gone, so the operator knows to
// requeue from an earlier stage.
Result<store::ParseRecord> ReadParseRecord(const PipelineDeps& deps, const JobContext& ctx,
                                           std::string_view parser_key,
                                           std::string_view produced_by);

}  // namespace ingest::pipeline
