// Feeds the pipeline's per-stage reports into obs::Metrics.
//
// It lives in api/ rather than obs/ because obs sits below pipeline in the module order
// (pipeline links obs), so obs cannot implement a pipeline interface without a cycle.
//
// Thread-safe (called concurrently by worker threads; Metrics is thread-safe).
#pragma once

#include <string>

#include "ingest/obs/metrics.h"
#include "ingest/pipeline/pipeline_observer.h"

namespace ingest::api {

class MetricsObserver final : public pipeline::PipelineObserver {
 public:
  // `parser` labels ingestd_pages_total (the configured parser's name); `embed_provider` and
  // `embed_model` label ingestd_tokens_total. `metrics` must outlive this observer.
  // Creates every series it will feed at zero, so they exist before the first document.
  MetricsObserver(obs::Metrics* metrics, std::string parser, std::string embed_provider,
                  std::string embed_model);

  void OnStageFinished(const store::Job& before, const store::Job& after, const Status& status,
                       const pipeline::StageStats& stats, Duration elapsed) override;

 private:
  obs::Metrics* const metrics_;
  const std::string parser_;
  const std::string embed_provider_;
  const std::string embed_model_;
};

}  // namespace ingest::api
