#include "ingest/pipeline/pipeline_observer.h"

namespace ingest::pipeline {

CountersSnapshot PipelineCounters::Snapshot() const {
  CountersSnapshot s;
  s.documents_completed = documents_completed.load();
  s.documents_failed = documents_failed.load();
  s.documents_dead = documents_dead.load();
  s.stages_run = stages_run.load();
  s.stage_retries = stage_retries.load();
  s.stage_deferrals = stage_deferrals.load();
  s.leases_lost = leases_lost.load();
  s.pages = pages.load();
  s.parse_cache_hits = parse_cache_hits.load();
  s.chunks = chunks.load();
  s.tokens_embedded = tokens_embedded.load();
  s.vectors_added = vectors_added.load();
  s.vectors_reused = vectors_reused.load();
  return s;
}

}  // namespace ingest::pipeline
