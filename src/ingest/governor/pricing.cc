#include "ingest/governor/pricing.h"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "ingest/config/config.h"

namespace ingest::governor {
namespace {

// a * b for non-negative a and b, checked against int64 overflow.
Result<int64_t> MulChecked(int64_t a, int64_t b) {
  if (a < 0 || b < 0) return InvalidArgument("negative quantity or price", "bad_quantity");
  if (a != 0 && b > std::numeric_limits<int64_t>::max() / a) {
    return InvalidArgument("cost overflows int64 nano-dollars", "bad_quantity");
  }
  return a * b;
}

}  // namespace

Result<int64_t> EmbeddingCostNanos(const PriceTable& prices, std::string_view model, int64_t tokens,
                                   bool batch) {
  const auto& table = batch ? prices.embedding_batch_per_token : prices.embedding_per_token;
  auto it = table.find(model);
  if (it == table.end()) {
    return FailedPrecondition("no " + std::string(batch ? "Batch API " : "") +
                                  "price for embedding model \"" + std::string(model) +
                                  "\" (set pricing.embedding_per_1m_usd)",
                              "no_price");
  }
  return MulChecked(tokens, it->second);
}

Result<int64_t> ParseCostNanos(const PriceTable& prices, int64_t credits) {
  return MulChecked(credits, prices.llamaparse_per_credit);
}

Result<int64_t> CreditsForPages(const PriceTable& prices, std::string_view mode, int64_t pages) {
  auto it = prices.llamaparse_credits_per_page.find(mode);
  if (it == prices.llamaparse_credits_per_page.end()) {
    return FailedPrecondition("no credit price for LlamaParse mode \"" + std::string(mode) + "\"",
                              "no_price");
  }
  return MulChecked(pages, it->second);
}

namespace {

// Sign and magnitude; negated as unsigned so INT64_MIN does not overflow.
std::pair<const char*, uint64_t> SignMagnitude(int64_t nanos) {
  return {nanos < 0 ? "-" : "",
          nanos < 0 ? 0 - static_cast<uint64_t>(nanos) : static_cast<uint64_t>(nanos)};
}

}  // namespace

std::string UsdText(int64_t nanos) {
  const auto [sign, m] = SignMagnitude(nanos);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s%llu.%09llu", sign,
                static_cast<unsigned long long>(m / 1000000000),
                static_cast<unsigned long long>(m % 1000000000));
  return buf;
}

std::string UsdDisplay(int64_t nanos, int decimals) {
  decimals = std::clamp(decimals, 0, 9);
  auto [sign, m] = SignMagnitude(nanos);
  uint64_t unit = 1;
  for (int i = decimals; i < 9; ++i) unit *= 10;
  const uint64_t rounded = (m / unit + (m % unit >= (unit + 1) / 2 && unit > 1 ? 1 : 0));
  const uint64_t scale = 1000000000 / unit;
  char buf[64];
  if (decimals == 0) {
    std::snprintf(buf, sizeof(buf), "%s%llu", sign, static_cast<unsigned long long>(rounded));
  } else {
    std::snprintf(buf, sizeof(buf), "%s%llu.%0*llu", sign,
                  static_cast<unsigned long long>(rounded / scale), decimals,
                  static_cast<unsigned long long>(rounded % scale));
  }
  return buf;
}

double UsdDouble(int64_t nanos) { return static_cast<double>(nanos) / 1e9; }

Result<int64_t> ParseUsdNanos(std::string_view text) { return config::ParseUsdNanos(text); }

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
  for (const auto& [model, per_token] : *list) {
    prices.embedding_per_token[model] = per_token;
    if (per_token % 2 == 0) {
      prices.embedding_batch_per_token[model] = per_token / 2;
    } else {
      prices.embedding_batch_per_token.erase(model);  // half is not whole: no exact price
    }
  }
  if (!llamaparse_usd_per_1000_credits.empty()) {
    Result<int64_t> per_credit =
        config::ParseUsdPerUnitNanos(llamaparse_usd_per_1000_credits, 1000);
    if (!per_credit.ok()) {
      return per_credit.status().WithContext("pricing.llamaparse_usd_per_1000_credits");
    }
    prices.llamaparse_per_credit = *per_credit;
  }
  return Status::Ok();
}

}  // namespace ingest::governor
