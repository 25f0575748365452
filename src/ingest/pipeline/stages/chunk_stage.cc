#include "ingest/common/hash.h"
#include "ingest/common/ids.h"
#include "ingest/pipeline/stages/stage_support.h"
#include "ingest/pipeline/stages/stages.h"
#include "ingest/text/chunker.h"

namespace ingest::pipeline {

Result<StageResult> ChunkStage::Run(JobContext& ctx) const {
  INGEST_ASSIGN_OR_RETURN(
      store::ParseRecord rec,
      ReadParseRecord(deps_, ctx, ValidatedParserKey(*deps_.parser), "validate"));
  // PDF text layers and .txt files are plain text, not Markdown (see ChunkerOptions::markdown).
  text::ChunkerOptions options = deps_.chunker;
  options.markdown = ctx.document.mime != "application/pdf" && ctx.document.mime != "text/plain";
  std::vector<text::TextChunk> pieces = text::ChunkMarkdown(rec.pages, options, *deps_.tokens);
  if (pieces.empty()) {
    return InvalidArgument("document " + ctx.document.id + " produced no chunks", "empty_document");
  }
  std::vector<store::Chunk> chunks;
  chunks.reserve(pieces.size());
  for (auto& p : pieces) {
    store::Chunk c;
    c.id = ChunkId(ctx.document.id, text::kChunkerVersion, p.ordinal);
    c.document_id = ctx.document.id;
    c.ordinal = p.ordinal;
    c.text_sha256 = Sha256Hex(p.text);
    c.text = std::move(p.text);
    c.token_count = static_cast<int>(p.token_count);
    c.heading_path = std::move(p.heading_path);
    c.page_start = p.page_start;
    c.page_end = p.page_end;
    ctx.stats.chunk_tokens += c.token_count;
    chunks.push_back(std::move(c));
  }
  INGEST_RETURN_IF_ERROR(deps_.store->ReplaceChunks(ctx.document.id, chunks));
  ctx.stats.chunks = static_cast<int64_t>(chunks.size());
  return StageResult::Done();
}

}  // namespace ingest::pipeline
