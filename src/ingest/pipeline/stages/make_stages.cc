#include "ingest/pipeline/stages/stages.h"

namespace ingest::pipeline {

StageSet MakeStages(const PipelineDeps& deps) {
  StageSet s;
  s[static_cast<size_t>(store::Stage::kReceive)] = std::make_unique<ReceiveStage>(deps);
  s[static_cast<size_t>(store::Stage::kParse)] = std::make_unique<ParseStage>(deps);
  s[static_cast<size_t>(store::Stage::kValidate)] = std::make_unique<ValidateStage>(deps);
  s[static_cast<size_t>(store::Stage::kChunk)] = std::make_unique<ChunkStage>(deps);
  s[static_cast<size_t>(store::Stage::kEmbed)] = std::make_unique<EmbedStage>(deps);
  s[static_cast<size_t>(store::Stage::kIndex)] = std::make_unique<IndexStage>(deps);
  s[static_cast<size_t>(store::Stage::kAccount)] = std::make_unique<AccountStage>(deps);
  s[static_cast<size_t>(store::Stage::kFinalize)] = std::make_unique<FinalizeStage>(deps);
  return s;
}

}  // namespace ingest::pipeline
