#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "ingest/common/ids.h"
#include "ingest/pipeline/governed_embed.h"
#include "ingest/pipeline/stages/stage_support.h"
#include "ingest/pipeline/stages/stages.h"

namespace ingest::pipeline {
namespace {

// How long an embedding claim holds a text for its job (a job that dies holding claims gets
// them back when it is retried; other jobs take them over after this long), and how long a job
// waits for texts another job is embedding before it is deferred.
constexpr Duration kEmbedClaimTtl = std::chrono::minutes(5);
constexpr std::chrono::seconds kEmbedClaimWait{10};

}  // namespace

// A paid embedder goes estimate → reserve → call → settle (pipeline/governed_embed.h, the
// path search queries take too): the estimate is the exact token count of the inputs, so a
// budget's hard limit holds.
Result<embed::EmbedOutput> EmbedStage::EmbedGoverned(JobContext& ctx,
                                                     std::span<const std::string> texts) const {
  const embed::Embedder& embedder = *deps_.embedder;
  if (deps_.governor == nullptr || embedder.Provider() == "local") return embedder.Embed(texts);
  governor::CallSpec spec;
  spec.service = std::string(embedder.Provider());
  spec.operation = "embed";
  spec.model = embedder.Space().model;
  spec.tenant = ctx.document.tenant;
  spec.document_id = ctx.document.id;
  spec.job_id = ctx.job.id;
  return pipeline::EmbedGoverned(deps_, std::move(spec), texts);
}

// Embeds `todo` (hashes of distinct texts, in order) in batches and stores their vectors.
Status EmbedStage::EmbedTexts(
    JobContext& ctx, const std::vector<std::string>& todo,
    const std::unordered_map<std::string, const std::string*>& text_of) const {
  const embed::Embedder& embedder = *deps_.embedder;
  const store::VectorSpace& space = embedder.Space();
  const size_t batch = static_cast<size_t>(std::max(deps_.embed_batch_size, 1));
  for (size_t begin = 0; begin < todo.size(); begin += batch) {
    if (ctx.Cancelled()) return Cancelled("job abandoned during embed", "abandoned");
    const size_t end = std::min(todo.size(), begin + batch);
    std::vector<std::string> texts;
    texts.reserve(end - begin);
    for (size_t i = begin; i < end; ++i) texts.push_back(*text_of.at(todo[i]));

    const UnixMillis started = deps_.clock->NowMillis();
    INGEST_ASSIGN_OR_RETURN(embed::EmbedOutput out, EmbedGoverned(ctx, texts));
    if (out.vectors.size() != texts.size()) {
      return Internal("embedder " + embedder.Describe() + " returned " +
                          std::to_string(out.vectors.size()) + " vectors for " +
                          std::to_string(texts.size()) + " texts",
                      "embedder_contract");
    }
    std::vector<store::StoredVector> vectors;
    vectors.reserve(texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
      if (static_cast<int>(out.vectors[i].size()) != space.dimensions) {
        return Internal("embedder " + embedder.Describe() + " returned a vector of " +
                            std::to_string(out.vectors[i].size()) + " floats, expected " +
                            std::to_string(space.dimensions),
                        "embedder_contract");
      }
      vectors.push_back(store::StoredVector{todo[begin + i], std::string(embedder.Provider()),
                                            std::move(out.vectors[i])});
    }
    if (deps_.governor == nullptr || embedder.Provider() == "local") {
      // Ungoverned or free: one settled row per call, written before the vectors (the
      // provider has billed it whether or not the store write below succeeds).
      store::LedgerEntry entry;
      entry.id = UuidV4();
      entry.service = std::string(embedder.Provider());
      entry.operation = "embed";
      entry.tenant = ctx.document.tenant;
      entry.document_id = ctx.document.id;
      entry.job_id = ctx.job.id;
      entry.model = space.model;
      entry.tokens = out.usage.tokens;
      entry.requests = out.usage.requests;
      // Priced exactly: tokens × nano-dollars per token (governor::EmbeddingCostNanos).
      // Without a price table only the local embedder may run (ValidatePipelineDeps).
      entry.cost_nanos = 0;
      if (deps_.prices != nullptr) {
        INGEST_ASSIGN_OR_RETURN(
            entry.cost_nanos,
            governor::EmbeddingCostNanos(*deps_.prices, space.model, out.usage.tokens));
      }
      entry.state = store::LedgerState::kSettled;
      entry.provider_request_id = JoinRequestIds(out.usage.request_ids);
      entry.created_at = started;
      INGEST_RETURN_IF_ERROR(deps_.store->AppendLedger(entry));
    }
    INGEST_RETURN_IF_ERROR(deps_.store->PutVectors(space, vectors));
    for (const auto& v : vectors) ctx.texts_written.push_back(v.text_sha256);
    ctx.stats.embedded_tokens += out.usage.tokens;
    ctx.stats.vectors_added += static_cast<int64_t>(vectors.size());
  }
  return Status::Ok();
}

Result<StageResult> EmbedStage::Run(JobContext& ctx) const {
  const embed::Embedder& embedder = *deps_.embedder;
  const store::VectorSpace& space = embedder.Space();
  INGEST_ASSIGN_OR_RETURN(std::vector<store::Chunk> chunks,
                          deps_.store->ListChunks(ctx.document.id));
  if (chunks.empty()) {
    return FailedPrecondition(
        "document " + ctx.document.id + " has no chunks; requeue the job from chunk",
        "missing_stage_input");
  }
  // Distinct texts in chunk order: identical text is embedded once, ever (vector cache).
  std::vector<std::string> hashes;
  std::unordered_map<std::string, const std::string*> text_of;
  for (const auto& c : chunks) {
    if (text_of.emplace(c.text_sha256, &c.text).second) hashes.push_back(c.text_sha256);
  }
  INGEST_ASSIGN_OR_RETURN(std::vector<std::string> missing,
                          deps_.store->MissingVectors(space, hashes));
  // Keep the chunk order for the missing ones (stable batches across retries).
  const std::unordered_set<std::string> missing_set(missing.begin(), missing.end());
  std::vector<std::string> todo;
  for (const auto& h : hashes) {
    if (missing_set.count(h)) todo.push_back(h);
  }
  ctx.stats.vectors_reused = static_cast<int64_t>(hashes.size() - todo.size());

  // Claim the texts before paying for them: a text another job is embedding right now (the
  // same paragraph in two documents) is left to it and picked up from the vector cache.
  std::vector<std::string> others;
  if (!todo.empty()) {
    INGEST_ASSIGN_OR_RETURN(
        std::vector<std::string> claimed,
        deps_.store->ClaimTexts(space, todo, ctx.job.id, kEmbedClaimTtl, deps_.clock->NowMillis()));
    const std::unordered_set<std::string> mine(claimed.begin(), claimed.end());
    for (const auto& h : todo) {
      if (!mine.count(h)) others.push_back(h);
    }
    todo = std::move(claimed);
  }
  INGEST_RETURN_IF_ERROR(EmbedTexts(ctx, todo, text_of));
  // Wait briefly for the other jobs' vectors, taking over any text whose claim lapses.
  const auto give_up = std::chrono::steady_clock::now() + kEmbedClaimWait;
  while (!others.empty()) {
    INGEST_ASSIGN_OR_RETURN(others, deps_.store->MissingVectors(space, others));
    if (others.empty()) break;
    INGEST_ASSIGN_OR_RETURN(std::vector<std::string> taken,
                            deps_.store->ClaimTexts(space, others, ctx.job.id, kEmbedClaimTtl,
                                                    deps_.clock->NowMillis()));
    if (!taken.empty()) {
      INGEST_RETURN_IF_ERROR(EmbedTexts(ctx, taken, text_of));
      continue;
    }
    if (ctx.Cancelled()) return Cancelled("job abandoned during embed", "abandoned");
    if (std::chrono::steady_clock::now() >= give_up) {
      return ResourceExhausted(std::to_string(others.size()) +
                                   " chunk text(s) of this document are being embedded by another "
                                   "job; looking again later (their vectors will be reused)",
                               "embed_in_progress");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return StageResult::Done();
}

}  // namespace ingest::pipeline
