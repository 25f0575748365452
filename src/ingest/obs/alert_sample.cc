#include "ingest/obs/alert_sample.h"

#include <cmath>
#include <string>

namespace ingest::obs {
namespace {

std::string Label(const prometheus::ClientMetric& m, const std::string& name) {
  for (const auto& l : m.label) {
    if (l.name == name) return l.value;
  }
  return "";
}

HistogramSample ToSample(const prometheus::ClientMetric::Histogram& h) {
  HistogramSample s;
  for (const auto& b : h.bucket) {
    if (std::isinf(b.upper_bound)) continue;
    s.bounds.push_back(b.upper_bound);
    s.counts.push_back(static_cast<double>(b.cumulative_count));
  }
  s.count = static_cast<double>(h.sample_count);
  return s;
}

}  // namespace

void AddMetricsToSample(const Metrics& metrics, AlertSample* sample) {
  for (const prometheus::MetricFamily& f : metrics.Collect()) {
    for (const prometheus::ClientMetric& m : f.metric) {
      if (f.name == "ingestd_documents_total") {
        sample->documents[Label(m, "state")] = m.counter.value;
      } else if (f.name == "ingestd_stage_duration_seconds") {
        sample->stage_latency[Label(m, "stage")] = ToSample(m.histogram);
      } else if (f.name == "ingestd_provider_requests_total") {
        sample->providers[Label(m, "provider")].requests[Label(m, "outcome")] = m.counter.value;
      } else if (f.name == "ingestd_provider_latency_seconds") {
        sample->providers[Label(m, "provider")].latency = ToSample(m.histogram);
      } else if (f.name == "ingestd_circuit_state") {
        sample->providers[Label(m, "provider")].circuit_state = static_cast<int>(m.gauge.value);
      }
    }
  }
}

}  // namespace ingest::obs
