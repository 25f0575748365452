#include <nlohmann/json.hpp>

#include "ingest/common/hash.h"
#include "ingest/pipeline/stages/stage_support.h"
#include "ingest/pipeline/stages/stages.h"
#include "ingest/text/normalize.h"

namespace ingest::pipeline {

Result<StageResult> ValidateStage::Run(JobContext& ctx) const {
  INGEST_ASSIGN_OR_RETURN(store::ParseRecord raw,
                          ReadParseRecord(deps_, ctx, deps_.parser->Name(), "parse"));
  store::ParseRecord out;
  out.file_sha256 = raw.file_sha256;
  out.parser = ValidatedParserKey(*deps_.parser);
  out.config_hash = raw.config_hash;
  text::NormalizeStats stats;
  std::string joined;  // all pages, for the parsed-content hash
  for (const auto& page : raw.pages) {
    text::NormalizeStats page_stats;
    store::PageText p{page.page, text::NormalizeText(page.text, &page_stats)};
    stats.invalid_utf8_replaced += page_stats.invalid_utf8_replaced;
    stats.nul_removed += page_stats.nul_removed;
    joined += p.text;
    joined += '\f';  // page separator: moving text across a page boundary changes the hash
    out.pages.push_back(std::move(p));
  }
  INGEST_RETURN_IF_ERROR(text::ValidateParsedText(out.pages, ParseRecordIsPdf(raw)));
  const std::string text_sha256 = Sha256Hex(joined);
  out.detail_json = nlohmann::json{{"source_parser", raw.parser},
                                   {"text_sha256", text_sha256},
                                   {"invalid_utf8_replaced", stats.invalid_utf8_replaced},
                                   {"nul_removed", stats.nul_removed}}
                        .dump();
  out.created_at = deps_.clock->NowMillis();
  INGEST_RETURN_IF_ERROR(deps_.store->PutParse(out));
  INGEST_RETURN_IF_ERROR(AppendJobEvent(
      deps_, ctx, "validate.normalized",
      nlohmann::json{
          {"text_sha256", text_sha256}, {"pages", out.pages.size()}, {"bytes", joined.size()}}
          .dump()));
  return StageResult::Done();
}

}  // namespace ingest::pipeline
