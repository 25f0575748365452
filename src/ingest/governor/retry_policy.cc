#include "ingest/governor/retry_policy.h"

#include <algorithm>
#include <array>

namespace ingest::governor {
namespace {

// Resource limits of the input itself: retrying cannot help, the file must change.
// parse_timeout and parse_too_large come from the parse subprocess's limits
// (parse/contained/contained_parser.h): the parser is deterministic, so a retry on the same
// bytes would only burn the same CPU and memory again.
constexpr std::array<std::string_view, 8> kInputLimitReasons = {
    "file_too_large",     "too_many_pages", "docx_too_large", "uncompressed_too_large",
    "document_too_large", "pdf_too_large",  "parse_timeout",  "parse_too_large"};

// Provider account problems: a person must act (top up, raise the quota).
constexpr std::array<std::string_view, 2> kQuotaReasons = {"insufficient_quota", "quota_exhausted"};

// A provider setting is wrong: the endpoint cannot be reached (refused, DNS, TLS), has no such
// route, or does not serve the configured model. Retrying the document cannot help and failing
// it would blame the document; the provider is stopped with the cause until a person fixes it.
constexpr std::array<std::string_view, 7> kSettingReasons = {
    "connection_failed", "tls_error",         "endpoint_not_found",
    "model_not_found",   "model_not_allowed", "embeddings_not_supported",
    "invalid_api_key"};

template <size_t N>
bool Contains(const std::array<std::string_view, N>& set, std::string_view v) {
  return std::find(set.begin(), set.end(), v) != set.end();
}

}  // namespace

std::string_view ErrorClassName(ErrorClass c) {
  switch (c) {
    case ErrorClass::kTransient:
      return "transient";
    case ErrorClass::kThrottled:
      return "throttled";
    case ErrorClass::kPermanent:
      return "permanent";
    case ErrorClass::kConfiguration:
      return "configuration";
  }
  return "permanent";
}

bool IsConfigurationReason(std::string_view reason) {
  return Contains(kSettingReasons, reason) || Contains(kQuotaReasons, reason) ||
         reason == "unauthenticated" || reason == "auth_failed";
}

ErrorClass Classify(const Status& status) {
  const std::string reason = status.reason();
  if (!status.ok() && Contains(kSettingReasons, reason)) return ErrorClass::kConfiguration;
  switch (status.code()) {
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kCancelled:
      return ErrorClass::kTransient;
    case StatusCode::kResourceExhausted:
      if (Contains(kInputLimitReasons, reason)) return ErrorClass::kPermanent;
      if (Contains(kQuotaReasons, reason)) return ErrorClass::kConfiguration;
      return ErrorClass::kThrottled;
    case StatusCode::kUnauthenticated:
      return ErrorClass::kConfiguration;
    case StatusCode::kFailedPrecondition:
      if (reason == kLeaseLostReason) return ErrorClass::kTransient;
      return ErrorClass::kPermanent;
    case StatusCode::kOk:
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kAlreadyExists:
    case StatusCode::kDataLoss:
    case StatusCode::kInternal:
      return ErrorClass::kPermanent;
  }
  return ErrorClass::kPermanent;
}

Duration BackoffDelay(const RetryPolicy& policy, int attempt, uint64_t random) {
  const int64_t base = std::max<int64_t>(policy.base.count(), 0);
  const int64_t cap = std::max<int64_t>(policy.cap.count(), 0);
  // base * 2^attempt, saturating at cap without overflowing int64.
  int64_t ceiling = base;
  for (int i = 0; i < attempt && ceiling > 0 && ceiling < cap; ++i) {
    ceiling = ceiling > cap / 2 ? cap : ceiling * 2;
  }
  ceiling = std::min(ceiling, cap);
  // Uniform in [0, ceiling]; the modulo bias is below 2^-40 for any ceiling under 2^24 ms.
  const uint64_t span = static_cast<uint64_t>(ceiling) + 1;
  return Duration(static_cast<int64_t>(random % span));
}

}  // namespace ingest::governor
