#include "ingest/governor/pricing.h"

#include <limits>

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

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
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

Result<int64_t> ParseUsdMicros(std::string_view text) {
  const std::string_view s = Trim(text);
  auto bad = [&](std::string why) -> Status {
    return InvalidArgument("bad dollar amount \"" + std::string(text) + "\": " + why, "bad_price");
  };
  if (s.empty()) return bad("empty");
  int64_t whole = 0;
  int64_t frac = 0;
  int frac_digits = 0;
  bool seen_dot = false;
  bool any_digit = false;
  for (char c : s) {
    if (c == '.') {
      if (seen_dot) return bad("two decimal points");
      seen_dot = true;
      continue;
    }
    if (c < '0' || c > '9') return bad("not a non-negative decimal number");
    any_digit = true;
    const int d = c - '0';
    if (seen_dot) {
      if (++frac_digits > 6) return bad("more than 6 decimal places (micro-dollars)");
      frac = frac * 10 + d;
    } else {
      if (whole > (std::numeric_limits<int64_t>::max() / 1000000 - d) / 10) {
        return bad("too large");
      }
      whole = whole * 10 + d;
    }
  }
  if (!any_digit) return bad("no digits");
  for (int i = frac_digits; i < 6; ++i) frac *= 10;
  return whole * 1000000 + frac;
}

Status ApplyPriceOverrides(PriceTable& prices, std::string_view embedding_per_1m_usd,
                           std::string_view llamaparse_usd_per_1000_credits) {
  std::string_view rest = embedding_per_1m_usd;
  while (!Trim(rest).empty()) {
    const size_t comma = rest.find(',');
    const std::string_view entry = Trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const size_t eq = entry.find('=');
    const std::string_view model = Trim(entry.substr(0, eq == std::string_view::npos ? 0 : eq));
    if (eq == std::string_view::npos || model.empty()) {
      return InvalidArgument(
          "pricing.embedding_per_1m_usd: entry \"" + std::string(entry) + "\" is not model=usd",
          "bad_price");
    }
    Result<int64_t> micros = ParseUsdMicros(entry.substr(eq + 1));
    if (!micros.ok()) {
      return micros.status().WithContext("pricing.embedding_per_1m_usd (" + std::string(model) +
                                         ")");
    }
    prices.embedding_per_1m[std::string(model)] = *micros;
    prices.embedding_batch_per_1m[std::string(model)] = *micros / 2 + *micros % 2;
  }
  if (!Trim(llamaparse_usd_per_1000_credits).empty()) {
    Result<int64_t> micros = ParseUsdMicros(llamaparse_usd_per_1000_credits);
    if (!micros.ok()) {
      return micros.status().WithContext("pricing.llamaparse_usd_per_1000_credits");
    }
    prices.llamaparse_per_1000_credits = *micros;
  }
  return Status::Ok();
}

}  // namespace ingest::governor
