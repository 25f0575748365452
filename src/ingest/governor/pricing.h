// Prices as data (DESIGN §3, issue 3): what one embedding token or one LlamaParse credit
// costs, in integer micro-dollars (1 USD = 1,000,000 micros). Never floating point.
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
  // Micro-dollars per 1,000,000 tokens, by embedding model (standard API).
  std::map<std::string, int64_t, std::less<>> embedding_per_1m = {
      {"text-embedding-3-small", 20000},   // $0.02 / 1M
      {"text-embedding-3-large", 130000},  // $0.13 / 1M
      {"text-embedding-ada-002", 100000},  // $0.10 / 1M
      {"lexical-v1", 0},                   // the local embedder
  };
  // Micro-dollars per 1,000,000 tokens through the Batch API (half price).
  std::map<std::string, int64_t, std::less<>> embedding_batch_per_1m = {
      {"text-embedding-3-small", 10000},
      {"text-embedding-3-large", 65000},
      {"text-embedding-ada-002", 50000},
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
  // Micro-dollars per 1,000 LlamaParse credits ($1.25).
  int64_t llamaparse_per_1000_credits = 1250000;
};

// ceil(tokens * price_per_1M / 1,000,000) micro-dollars: exact integer arithmetic, rounded UP
// to the next whole micro-dollar (a call is never priced below what it cost). Errors:
// kFailedPrecondition reason "no_price" for a model not in the table (a configuration error:
// prices are never guessed); kInvalidArgument for negative tokens or an overflowing product.
Result<int64_t> EmbeddingCostMicros(const PriceTable& prices, std::string_view model,
                                    int64_t tokens, bool batch = false);

// ceil(credits * price_per_1000_credits / 1000) micro-dollars, same rounding.
Result<int64_t> ParseCostMicros(const PriceTable& prices, int64_t credits);

// pages * credits-per-page of `mode`; kFailedPrecondition "no_price" for an unknown mode.
Result<int64_t> CreditsForPages(const PriceTable& prices, std::string_view mode, int64_t pages);

// 1250000 -> "1.250000": the exact decimal text of a micro-dollar amount (no floating point).
std::string UsdText(int64_t micros);

// "1.25" -> 1250000: a non-negative decimal dollar amount with at most 6 fractional digits,
// parsed exactly (no floating point). kInvalidArgument otherwise.
Result<int64_t> ParseUsdMicros(std::string_view text);

// "fast=1,default=3,premium=45" -> (mode, credits per page) pairs, in order; "" -> none. The
// mode "default" stands for the server's default mode (no parse_mode sent). kInvalidArgument
// reason "bad_price" naming the bad entry (credits must be a whole number >= 0).
Result<std::vector<std::pair<std::string, int64_t>>> ParseModeCreditsList(std::string_view text);

// Applies overrides to `prices`: `embedding_per_1m_usd` is "model=usd,model=usd" (USD per 1M
// tokens, e.g. "text-embedding-3-small=0.02"); the Batch price of an overridden model becomes
// half of it (rounded up). `llamaparse_usd_per_1000_credits` is a dollar amount ("1.25").
// `llamaparse_credits_per_page` is "mode=credits,..." (ParseModeCreditsList).
// Empty strings change nothing. kInvalidArgument naming the bad entry.
Status ApplyPriceOverrides(PriceTable& prices, std::string_view embedding_per_1m_usd,
                           std::string_view llamaparse_usd_per_1000_credits,
                           std::string_view llamaparse_credits_per_page = "");

}  // namespace ingest::governor
