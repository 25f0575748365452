// Reads the process's own metrics into an AlertSample: documents by state, stage and provider
// latency histograms, provider request outcomes and circuit states. The store-derived fields
// (queue age, dead and finished jobs, budgets, stopped providers) are the caller's to fill.
#pragma once

#include "ingest/obs/alert_rules.h"
#include "ingest/obs/metrics.h"

namespace ingest::obs {

void AddMetricsToSample(const Metrics& metrics, AlertSample* sample);

}  // namespace ingest::obs
