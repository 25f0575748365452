// The eight stages of DESIGN §1, one class each (implementations in <name>_stage.cc).
// Every stage is immutable after construction and thread-safe; see stage_runner.h.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "ingest/pipeline/pipeline_deps.h"
#include "ingest/pipeline/stages/stage_runner.h"

namespace ingest::pipeline {

// Base for stages that keep a copy of the dependency pointers.
class DepsStage : public StageRunner {
 public:
  explicit DepsStage(const PipelineDeps& deps) : deps_(deps) {}

 protected:
  const PipelineDeps deps_;
};

// receive: the work (blob + rows) is done by SubmitFile; jobs start at parse. Running it (a job
// can only get here through a hand-edited row) checks that the blob is still there.
class ReceiveStage final : public DepsStage {
 public:
  using DepsStage::DepsStage;
  store::Stage stage() const override { return store::Stage::kReceive; }
  Result<StageResult> Run(JobContext& ctx) const override;
};

// parse: parse-cache lookup by (file sha256, parser name, config hash); on a miss parses the
// blob and stores the result. Records page count and parser on the document. Emits
// "parse.cache_hit" on hits.
class ParseStage final : public DepsStage {
 public:
  using DepsStage::DepsStage;
  store::Stage stage() const override { return store::Stage::kParse; }
  Result<StageResult> Run(JobContext& ctx) const override;
};

// validate: NormalizeText on every page, ValidateParsedText, then stores the normalised pages
// under ValidatedParserKey. Emits "validate.normalized" with the sha256 of the normalised text
// (the parsed-content hash used to spot duplicates).
class ValidateStage final : public DepsStage {
 public:
  using DepsStage::DepsStage;
  store::Stage stage() const override { return store::Stage::kValidate; }
  Result<StageResult> Run(JobContext& ctx) const override;
};

// chunk: ChunkMarkdown over the normalised pages; ReplaceChunks with deterministic ids.
class ChunkStage final : public DepsStage {
 public:
  using DepsStage::DepsStage;
  store::Stage stage() const override { return store::Stage::kChunk; }
  Result<StageResult> Run(JobContext& ctx) const override;
};

// embed: embeds the distinct chunk texts missing from the vector cache, in batches of
// deps.embed_batch_size; one ledger row per Embed call. Texts are claimed first
// (Store::ClaimTexts): a text another job is embedding right now is waited for (10 s) and then
// taken from the vector cache, so two jobs never pay for the same text; still missing after
// the wait, the job is deferred (embed_in_progress). A failed batch fails the stage (the
// batches already stored stay cached, so a retry only embeds the rest).
class EmbedStage final : public DepsStage {
 public:
  using DepsStage::DepsStage;
  store::Stage stage() const override { return store::Stage::kEmbed; }
  Result<StageResult> Run(JobContext& ctx) const override;

 private:
  Result<embed::EmbedOutput> EmbedGoverned(JobContext& ctx,
                                           std::span<const std::string> texts) const;
  Status EmbedTexts(JobContext& ctx, const std::vector<std::string>& todo,
                    const std::unordered_map<std::string, const std::string*>& text_of) const;
};

// index: Store::MarkIndexed in the embedder's vector space.
class IndexStage final : public DepsStage {
 public:
  using DepsStage::DepsStage;
  store::Stage stage() const override { return store::Stage::kIndex; }
  Result<StageResult> Run(JobContext& ctx) const override;
};

// account: reconciles the job's orphaned reservations (a row of this job still `reserved` here
// was left by an attempt that died between reserve and settle: Governor::ReconcileJob releases
// it when its request never left, else settles it at its estimate, presumed billed), then sums
// the document's ledger rows and emits "document.cost".
// Ungoverned (no governor), a reserved row fails the stage ("unsettled_reservation").
class AccountStage final : public DepsStage {
 public:
  using DepsStage::DepsStage;
  store::Stage stage() const override { return store::Stage::kAccount; }
  Result<StageResult> Run(JobContext& ctx) const override;
};

// finalize: emits "document.complete" with pages, chunks, tokens and cost; the worker then
// completes the job through the state machine.
class FinalizeStage final : public DepsStage {
 public:
  using DepsStage::DepsStage;
  store::Stage stage() const override { return store::Stage::kFinalize; }
  Result<StageResult> Run(JobContext& ctx) const override;
};

// One runner per store::Stage, indexed by the enum's value.
using StageSet = std::array<std::unique_ptr<const StageRunner>, 8>;
StageSet MakeStages(const PipelineDeps& deps);

}  // namespace ingest::pipeline
