#include "ingest/governor/pricing.h"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "ingest/config/config.h"

namespace ingest::governor {
namespace {

// ceil(a * b / d) for non-negative a, b and positive d, without overflow of a * b beyond
// int64 (checked) and without floating point.
Result<int64_t> MulDivCeil(int64_t a, int64_t b, int64_t d) {
  if (a < 0 || b < 0) return InvalidArgument("negative quantity or price", "bad_quantity");
  if (a != 0 && b > std::numeric_limits<int64_t>::max() / a) {
    return InvalidArgument("cost overflows int64 micro-dollars", "bad_quantity");
  }
  const int64_t product = a * b;
  return product / d + (product % d != 0 ? 1 : 0);
}

}  // namespace

Result<int64_t> EmbeddingCostMicros(const PriceTable& prices, std::string_view model,
                                    int64_t tokens, bool batch) {
  const auto& table = batch ? prices.embedding_batch_per_1m : prices.embedding_per_1m;
  auto it = table.find(model);
  if (it == table.end()) {
    return FailedPrecondition("no " + std::string(batch ? "Batch API " : "") +
                                  "price for embedding model \"" + std::string(model) +
                                  "\" (set pricing.embedding_per_1m_usd)",
                              "no_price");
  }
  return MulDivCeil(tokens, it->second, 1000000);
}

Result<int64_t> ParseCostMicros(const PriceTable& prices, int64_t credits) {
  return MulDivCeil(credits, prices.llamaparse_per_1000_credits, 1000);
}

Result<int64_t> CreditsForPages(const PriceTable& prices, std::string_view mode, int64_t pages) {
  auto it = prices.llamaparse_credits_per_page.find(mode);
  if (it == prices.llamaparse_credits_per_page.end()) {
    return FailedPrecondition("no credit price for LlamaParse mode \"" + std::string(mode) + "\"",
                              "no_price");
  }
  return MulDivCeil(pages, it->second, 1);
}

std::string UsdText(int64_t micros) {
  const char* sign = micros < 0 ? "-" : "";
  // Negated as unsigned so INT64_MIN does not overflow.
  const uint64_t m = micros < 0 ? 0 - static_cast<uint64_t>(micros) : static_cast<uint64_t>(micros);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s%llu.%06llu", sign,
                static_cast<unsigned long long>(m / 1000000),
                static_cast<unsigned long long>(m % 1000000));
  return buf;
}

Result<int64_t> ParseUsdMicros(std::string_view text) { return config::ParseUsdMicros(text); }

Result<std::vector<std::pair<std::string, int64_t>>> ParseModeCreditsList(std::string_view text) {
  return config::ParseModeCreditsList(text);
}

Status ApplyPriceOverrides(PriceTable& prices, std::string_view embedding_per_1m_usd,
                           std::string_view llamaparse_usd_per_1000_credits,
                           std::string_view llamaparse_credits_per_page) {
  auto credits = ParseModeCreditsList(llamaparse_credits_per_page);
  if (!credits.ok()) return credits.status().WithContext("pricing.llamaparse_credits_per_page");
  for (const auto& [mode, per_page] : *credits) {
    prices.llamaparse_credits_per_page[mode] = per_page;
  }
  auto list = config::ParseModelUsdList(embedding_per_1m_usd);
  if (!list.ok()) return list.status().WithContext("pricing.embedding_per_1m_usd");
  for (const auto& [model, micros] : *list) {
    prices.embedding_per_1m[model] = micros;
    prices.embedding_batch_per_1m[model] = micros / 2 + micros % 2;
  }
  if (!llamaparse_usd_per_1000_credits.empty()) {
    Result<int64_t> micros = ParseUsdMicros(llamaparse_usd_per_1000_credits);
    if (!micros.ok()) {
      return micros.status().WithContext("pricing.llamaparse_usd_per_1000_credits");
    }
    prices.llamaparse_per_1000_credits = *micros;
  }
  return Status::Ok();
}

}  // namespace ingest::governor
