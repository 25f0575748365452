#include "ingest/emulate/common/fault_injector.h"

#include <algorithm>
#include <charconv>

namespace ingest::emulate {
namespace {

constexpr std::pair<FaultKind, std::string_view> kNames[] = {
    {FaultKind::kNone, "none"},
    {FaultKind::kRateLimit429, "429"},
    {FaultKind::kServerError500, "500"},
    {FaultKind::kUnavailable503, "503"},
    {FaultKind::kBadGatewayHtml502, "502"},
    {FaultKind::kSlow, "slow"},
    {FaultKind::kMalformedJson, "malformed"},
    {FaultKind::kMissingItem, "missing"},
    {FaultKind::kDropConnection, "drop"},
    {FaultKind::kJobError, "job_error"},
    {FaultKind::kPartialSuccess, "partial"},
};

}  // namespace

std::string_view FaultKindName(FaultKind kind) {
  for (const auto& [k, name] : kNames) {
    if (k == kind) return name;
  }
  return "none";
}

Result<FaultKind> ParseFaultKind(std::string_view name) {
  for (const auto& [k, n] : kNames) {
    if (n == name) return k;
  }
  return InvalidArgument("unknown fault kind '" + std::string(name) + "'");
}

Status ParseEverySpec(std::string_view spec, FaultConfig* config) {
  const size_t colon = spec.rfind(':');
  if (colon == std::string_view::npos) {
    return InvalidArgument("fault schedule must be KIND:N, got '" + std::string(spec) + "'");
  }
  INGEST_ASSIGN_OR_RETURN(FaultKind kind, ParseFaultKind(spec.substr(0, colon)));
  int64_t n = 0;
  const std::string_view num = spec.substr(colon + 1);
  const auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), n);
  if (ec != std::errc() || ptr != num.data() + num.size() || n <= 0) {
    return InvalidArgument("fault schedule N must be a positive integer in '" + std::string(spec) +
                           "'");
  }
  config->every_n[kind] = n;
  return Status::Ok();
}

FaultKind FaultInjector::Pick(uint64_t n) const {
  for (const auto& [kind, every] : config_.every_n) {
    if (every > 0 && n % static_cast<uint64_t>(every) == 0) return kind;
  }
  if (config_.rates.empty()) return FaultKind::kNone;
  uint64_t state = config_.seed ^ (n * 0xd1b54a32d192ed03ULL);
  const double u = static_cast<double>(SplitMix64(state) >> 11) * 0x1.0p-53;
  double acc = 0;
  for (const auto& [kind, p] : config_.rates) {
    acc += p;
    if (u < acc) return kind;
  }
  return FaultKind::kNone;
}

FaultKind FaultInjector::Draw(const std::vector<FaultKind>& allowed) {
  const uint64_t n = ++counter_;
  const FaultKind kind = Pick(n);
  if (std::find(allowed.begin(), allowed.end(), kind) == allowed.end()) return FaultKind::kNone;
  return kind;
}

FaultKind FaultInjector::Draw() { return Pick(++counter_); }

}  // namespace ingest::emulate
