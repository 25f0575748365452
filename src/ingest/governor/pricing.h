// Prices as data (DESIGN §3, issue 3): what one embedding token or one LlamaParse credit
// costs, in integer nano-dollars (1 USD = 1,000,000,000 nanos). Never floating point.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ingest/common/result.h"

namespace ingest::governor {

struct PriceTable {
  // Nano-dollars per token, by embedding model (standard API). Every published price is a whole
  // number of nano-dollars per token, so a cost is tokens × price with no rounding at all.
  std::map<std::string, int64_t, std::less<>> embedding_per_token = {
      {"text-embedding-3-small", 20},   // $0.02 / 1M
      {"text-embedding-3-large", 130},  // $0.13 / 1M
      {"text-embedding-ada-002", 100},  // $0.10 / 1M
      {"lexical-v1", 0},                // the local embedder
  };
  // Nano-dollars per token through the Batch API (exactly half price).
  std::map<std::string, int64_t, std::less<>> embedding_batch_per_token = {
      {"text-embedding-3-small", 10},
      {"text-embedding-3-large", 65},
      {"text-embedding-ada-002", 50},
      {"lexical-v1", 0},
  };
  // LlamaParse credits per page, by parse mode ("" = the server default, parse_page_with_llm).
  std::map<std::string, int64_t, std::less<>> llamaparse_credits_per_page = {
      // v1 parse_mode values and ingestd's short names.
      {"", 3},
      {"fast", 1},
      {"parse_page_without_llm", 1},
      {"parse_page_with_llm", 3},
      {"agent", 10},
      {"parse_page_with_agent", 10},
      {"premium", 45},
      // v2 tier names for the same rates (specs/llamaparse.md §9.1).
      {"cost_effective", 3},
      {"agentic", 10},
      {"agentic_plus", 45},
  };
  // Nano-dollars per LlamaParse credit ($1.25 per 1,000 credits).
  int64_t llamaparse_per_credit = 1250000;
};

// tokens × nano-dollars per token: exact integer arithmetic, no rounding. Errors:
// kFailedPrecondition reason "no_price" for a model not in the table (a configuration error:
// prices are never guessed); kInvalidArgument for negative tokens or an overflowing product.
Result<int64_t> EmbeddingCostNanos(const PriceTable& prices, std::string_view model, int64_t tokens,
                                   bool batch = false);

// credits × nano-dollars per credit, exact.
Result<int64_t> ParseCostNanos(const PriceTable& prices, int64_t credits);

// pages * credits-per-page of `mode`; kFailedPrecondition "no_price" for an unknown mode.
Result<int64_t> CreditsForPages(const PriceTable& prices, std::string_view mode, int64_t pages);

// 1250000000 -> "1.250000000": the exact decimal text of a nano-dollar amount (no floating
// point). For people: UsdDisplay.
std::string UsdText(int64_t nanos);

// Display rounding, only at the edge (CLI tables, log lines): the amount rounded half up to
// `decimals` (0..9) places, e.g. UsdDisplay(15560, 6) = "0.000016". Never stored or summed.
std::string UsdDisplay(int64_t nanos, int decimals = 6);

// nanos / 1e9 as the double nearest to it, for JSON `*_usd` fields next to the exact
// `*_nanos` integers (and for metrics in base units).
double UsdDouble(int64_t nanos);

// "1.25" -> 1250000000: a non-negative decimal dollar amount with at most 9 fractional digits,
// parsed exactly (no floating point). kInvalidArgument otherwise.
Result<int64_t> ParseUsdNanos(std::string_view text);

// "fast=1,default=3,premium=45" -> (mode, credits per page) pairs, in order; "" -> none. The
// mode "default" stands for the server's default mode (no parse_mode sent). kInvalidArgument
// reason "bad_price" naming the bad entry (credits must be a whole number >= 0).
Result<std::vector<std::pair<std::string, int64_t>>> ParseModeCreditsList(std::string_view text);

// Applies overrides to `prices`: `embedding_per_1m_usd` is "model=usd,model=usd" (USD per 1M
// tokens, e.g. "text-embedding-3-small=0.02", which must come to a whole number of nano-dollars
// per token); the Batch price of an overridden model becomes half of it when that is a whole
// number of nano-dollars per token, else the model has no Batch price (never rounded).
// `llamaparse_usd_per_1000_credits` is a dollar amount ("1.25": whole nano-dollars per credit).
// `llamaparse_credits_per_page` is "mode=credits,..." (ParseModeCreditsList).
// Empty strings change nothing. kInvalidArgument naming the bad entry.
Status ApplyPriceOverrides(PriceTable& prices, std::string_view embedding_per_1m_usd,
                           std::string_view llamaparse_usd_per_1000_credits,
                           std::string_view llamaparse_credits_per_page = "");

}  // namespace ingest::governor
