#include "ingest/api/metrics_observer.h"

#include <chrono>

namespace ingest::api {

MetricsObserver::MetricsObserver(obs::Metrics* metrics, std::string parser,
                                 std::string embed_provider, std::string embed_model)
    : metrics_(metrics),
      parser_(std::move(parser)),
      embed_provider_(std::move(embed_provider)),
      embed_model_(std::move(embed_model)) {
  for (store::Stage stage : store::kAllStages) {
    // Receive runs in the request (SubmitFile), not in a worker; it has no worker timing.
    if (stage != store::Stage::kReceive) metrics_->InitStage(store::StageName(stage));
  }
  metrics_->AddPages(parser_, 0);
  metrics_->AddOcr(0, 0);
  metrics_->AddTokens(embed_provider_, embed_model_, 0);
}

void MetricsObserver::OnStageFinished(const store::Job& before, const store::Job& after,
                                      const Status& status, const pipeline::StageStats& stats,
                                      Duration elapsed) {
  (void)status;
  metrics_->ObserveStage(store::StageName(before.stage),
                         std::chrono::duration<double>(elapsed).count());
  if (stats.parse_cache_hit) {
    metrics_->AddCacheHits("parse", 1);
  } else {
    metrics_->AddPages(parser_, stats.pages);
    metrics_->AddOcr(stats.ocr_pages, stats.ocr_seconds);
  }
  metrics_->AddCacheHits("vector", stats.vectors_reused);
  metrics_->AddTokens(embed_provider_, embed_model_, stats.embedded_tokens);
  if (store::IsTerminal(after.state) && !store::IsTerminal(before.state)) {
    metrics_->CountDocument(store::JobStateName(after.state));
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    metrics_->ObserveDocumentLatency(store::JobStateName(after.state), store::LaneName(after.lane),
                                     static_cast<double>(now_ms - after.created_at) / 1000.0);
  }
}

}  // namespace ingest::api
