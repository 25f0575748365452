// The store-mirroring gauges of /metrics (jobs by state, dead jobs, queue age, budgets, rate
// limits, stopped providers), refreshed from the Store just before a scrape. Shared by
// `ingestd serve` (/metrics on the API port) and `ingestd worker --metrics-listen`, so every
// process Prometheus scrapes reports the same values (the alert rules aggregate them with max).
#pragma once

#include "ingest/common/clock.h"
#include "ingest/obs/metrics.h"
#include "ingest/store/store.h"

namespace ingest::api {

// Best effort: a store error leaves the previous value of the gauges it concerns (a scrape
// still answers with the process counters). Thread-safe when `metrics` is (it is).
void RefreshStoreGauges(store::Store& store, UnixMillis now, obs::Metrics& metrics);

}  // namespace ingest::api
