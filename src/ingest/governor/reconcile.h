// Reconciling the ledger with a provider's usage export (docs/costs.md, "Reconciling with an
// invoice"): both sides are summed per (service, UTC day, model) and compared unit by unit —
// tokens and requests for OpenAI, pages and credits for LlamaParse — so a difference points at
// the day and model to look at. Pure functions; `ingestd costs reconcile` reads the files and
// the ledger.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "ingest/common/result.h"
#include "ingest/governor/pricing.h"
#include "ingest/store/types.h"

namespace ingest::governor {

// Usage of one service on one UTC day for one model ("" for LlamaParse, which bills per job).
struct UsageKey {
  std::string service;  // "openai", "llamaparse"
  std::string day;      // "2026-12-07"
  std::string model;
  auto operator<=>(const UsageKey&) const = default;
};
struct UsageAmounts {
  int64_t tokens = 0;
  int64_t requests = 0;  // OpenAI: model requests; LlamaParse: jobs
  int64_t pages = 0;
  int64_t credits = 0;
  bool operator==(const UsageAmounts&) const = default;
};
using UsageBook = std::map<UsageKey, UsageAmounts>;

// Reads one usage export and adds it to `book`. Formats (detected from the content):
// - OpenAI's Usage API for embeddings (`GET /v1/organization/usage/embeddings?bucket_width=1d
//   &group_by=model`, also what `ingestd emulate openai` serves at /_emulator/usage): a JSON
//   page {"data": [{"start_time": UNIX_S, "results": [{"model", "input_tokens",
//   "num_model_requests"}, ...]}, ...]};
// - LlamaParse usage per day (what `ingestd emulate llamaparse` serves at /_emulator/usage):
//   JSON {"data": [{"date": "YYYY-MM-DD", "pages", "credits", "jobs"?}, ...]};
// - CSV with a header row: `date,model,input_tokens,num_model_requests` (OpenAI; `tokens` and
//   `requests` are accepted names too) or `date,pages,credits[,jobs]` (LlamaParse).
// Credits must be whole numbers. kInvalidArgument (reason "bad_usage_export") naming the
// problem otherwise.
Status ReadUsageExport(std::string_view text, UsageBook* book);

// The ledger's side: settled rows of `services` (those the exports cover), by the UTC day of
// created_at. Released rows billed nothing; reserved rows are not billed yet (counted apart by
// the caller).
// `nanos` (optional) receives the rows' cost per key.
UsageBook LedgerUsage(const std::vector<store::LedgerEntry>& rows,
                      const std::vector<std::string>& services,
                      std::map<UsageKey, int64_t>* nanos = nullptr);

struct UsageDifference {
  UsageKey key;
  UsageAmounts ledger;
  UsageAmounts provider;
  int64_t ledger_nanos = 0;    // the ledger rows' cost
  int64_t provider_nanos = 0;  // the provider's usage priced with `prices` (-1: no price)
};

// What `amounts` of `key` cost at `prices`: tokens × the model's price (OpenAI), credits × the
// credit price (LlamaParse); -1 when the model has no price.
int64_t PriceUsage(const UsageKey& key, const UsageAmounts& amounts, const PriceTable& prices);

// Every key whose amounts differ between the two books (absent = zero), in key order.
// `ledger_nanos` is LedgerUsage's cost per key.
std::vector<UsageDifference> CompareUsage(const UsageBook& ledger, const UsageBook& provider,
                                          const std::map<UsageKey, int64_t>& ledger_nanos,
                                          const PriceTable& prices);

}  // namespace ingest::governor
