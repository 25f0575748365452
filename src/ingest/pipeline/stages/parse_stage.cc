#include <nlohmann/json.hpp>

#include "ingest/pipeline/stages/stage_support.h"
#include "ingest/pipeline/stages/stages.h"

namespace ingest::pipeline {
namespace {

// Keys the pipeline adds to the parser's detail_json in the parse cache, so a cache hit still
// knows which concrete parser produced the pages and whether the source was a PDF (validate's
// no-text-layer rule).
constexpr const char* kParserKey = "ingestd_parser";
constexpr const char* kIsPdfKey = "ingestd_is_pdf";

std::string RecordDetail(const parse::ParsedDocument& parsed) {
  nlohmann::json j = nlohmann::json::parse(parsed.detail_json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    nlohmann::json wrapped = nlohmann::json::object();
    wrapped["parser_detail"] = parsed.detail_json;
    j = std::move(wrapped);
  }
  j[kParserKey] = parsed.parser;
  j[kIsPdfKey] = parsed.type == parse::DocType::kPdf;
  return j.dump();
}

}  // namespace

bool ParseRecordIsPdf(const store::ParseRecord& rec) {
  nlohmann::json j = nlohmann::json::parse(rec.detail_json, nullptr, false);
  return j.is_object() && j.value(kIsPdfKey, false);
}

Result<StageResult> ParseStage::Run(JobContext& ctx) const {
  const parse::Parser& parser = *deps_.parser;
  const std::string config_hash = parser.ConfigHash();
  INGEST_ASSIGN_OR_RETURN(auto cached,
                          deps_.store->GetParse(ctx.document.sha256, parser.Name(), config_hash));
  store::ParseRecord rec;
  if (cached) {
    rec = std::move(*cached);
    ctx.stats.parse_cache_hit = true;
    INGEST_RETURN_IF_ERROR(AppendJobEvent(
        deps_, ctx, "parse.cache_hit",
        nlohmann::json{{"parser", parser.Name()}, {"pages", rec.pages.size()}}.dump()));
  } else {
    INGEST_ASSIGN_OR_RETURN(std::string path, deps_.blobs->LocalPath(ctx.document.blob_key));
    parse::ParseInput input;
    input.path = path;
    input.filename = ctx.document.filename;
    input.sha256 = ctx.document.sha256;
    INGEST_ASSIGN_OR_RETURN(parse::ParsedDocument parsed, parser.Parse(input));
    if (ctx.Cancelled()) return Cancelled("job abandoned during parse", "abandoned");
    rec.file_sha256 = ctx.document.sha256;
    rec.parser = std::string(parser.Name());
    rec.config_hash = config_hash;
    rec.detail_json = RecordDetail(parsed);
    rec.pages = std::move(parsed.pages);
    rec.created_at = deps_.clock->NowMillis();
    INGEST_RETURN_IF_ERROR(deps_.store->PutParse(rec));
  }
  nlohmann::json detail = nlohmann::json::parse(rec.detail_json, nullptr, false);
  std::string produced_by =
      detail.is_object() ? detail.value(kParserKey, std::string()) : std::string();
  if (produced_by.empty()) produced_by = rec.parser;
  int page_count = 0;
  for (const auto& p : rec.pages) page_count = std::max(page_count, p.page);
  INGEST_RETURN_IF_ERROR(
      deps_.store->UpdateDocumentParseInfo(ctx.document.id, page_count, produced_by, ""));
  ctx.document.page_count = page_count;
  ctx.document.parser = produced_by;
  ctx.stats.pages = page_count;
  return StageResult::Done();
}

}  // namespace ingest::pipeline
