// Status and Result<T>: how ingestd reports expected failures.
//
// A Status is a closed `StatusCode` plus a human message and an optional machine `reason`
// (a short snake_case string such as "no_text_layer" or "pdf_corrupt") that the job table stores
// as `last_error_code` and that users see. Codes decide behaviour (retry, defer, fail: see
// governor/retry_policy.h; HTTP status: see api/); reasons tell people what happened.
//
// Library exceptions are caught at the adapter that called the library and converted here;
// nothing throws across a module boundary.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace ingest {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // bad input: corrupt file, malformed request, bad config value
  kNotFound,            // a row, file or remote object does not exist
  kAlreadyExists,       // unique key taken
  kFailedPrecondition,  // state does not allow the operation (lost lease, wrong job state)
  kResourceExhausted,   // budget, quota, rate limit, size limit
  kUnavailable,         // transient: network, 5xx, 429, database restarting
  kDeadlineExceeded,    // a timeout or a wait past its deadline
  kDataLoss,            // stored data is corrupt or does not match its hash
  kCancelled,           // the operation was cancelled (shutdown, operator)
  kUnauthenticated,     // bad or missing credentials
  kInternal,            // a bug or an impossible state reached through bad data
};

// "invalid_argument", "not_found", ...; stable, used in JSON and metrics labels.
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message, std::string reason = {})
      : code_(code), message_(std::move(message)), reason_(std::move(reason)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // Machine-readable detail; falls back to the code name when none was given.
  std::string reason() const {
    return reason_.empty() ? std::string(StatusCodeName(code_)) : reason_;
  }
  bool has_reason() const { return !reason_.empty(); }

  // "code[reason]: message".
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context` (e.g. the file being read).
  Status WithContext(std::string_view context) const;

  // Explicitly drops a status whose failure is acceptable at the call site.
  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string reason_;
};

inline Status InvalidArgument(std::string msg, std::string reason = {}) {
  return {StatusCode::kInvalidArgument, std::move(msg), std::move(reason)};
}
inline Status NotFound(std::string msg, std::string reason = {}) {
  return {StatusCode::kNotFound, std::move(msg), std::move(reason)};
}
inline Status AlreadyExists(std::string msg, std::string reason = {}) {
  return {StatusCode::kAlreadyExists, std::move(msg), std::move(reason)};
}
inline Status FailedPrecondition(std::string msg, std::string reason = {}) {
  return {StatusCode::kFailedPrecondition, std::move(msg), std::move(reason)};
}
inline Status ResourceExhausted(std::string msg, std::string reason = {}) {
  return {StatusCode::kResourceExhausted, std::move(msg), std::move(reason)};
}
inline Status Unavailable(std::string msg, std::string reason = {}) {
  return {StatusCode::kUnavailable, std::move(msg), std::move(reason)};
}
inline Status DeadlineExceeded(std::string msg, std::string reason = {}) {
  return {StatusCode::kDeadlineExceeded, std::move(msg), std::move(reason)};
}
inline Status DataLoss(std::string msg, std::string reason = {}) {
  return {StatusCode::kDataLoss, std::move(msg), std::move(reason)};
}
inline Status Cancelled(std::string msg, std::string reason = {}) {
  return {StatusCode::kCancelled, std::move(msg), std::move(reason)};
}
inline Status Unauthenticated(std::string msg, std::string reason = {}) {
  return {StatusCode::kUnauthenticated, std::move(msg), std::move(reason)};
}
inline Status Internal(std::string msg, std::string reason = {}) {
  return {StatusCode::kInternal, std::move(msg), std::move(reason)};
}

}  // namespace ingest

// Returns early from the enclosing function when `expr` (a Status) is not ok.
#define INGEST_RETURN_IF_ERROR(expr) \
  do {                               \
    ::ingest::Status _st = (expr);   \
    if (!_st.ok()) return _st;       \
  } while (0)

#define INGEST_CONCAT_INNER_(a, b) a##b
#define INGEST_CONCAT_(a, b) INGEST_CONCAT_INNER_(a, b)

// `INGEST_ASSIGN_OR_RETURN(auto x, MakeX());` declares x from a Result<T> or returns its status.
#define INGEST_ASSIGN_OR_RETURN(lhs, rexpr) \
  INGEST_ASSIGN_OR_RETURN_IMPL_(INGEST_CONCAT_(_result_, __LINE__), lhs, rexpr)
#define INGEST_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                  \
  if (!tmp.ok()) return std::move(tmp).status();       \
  lhs = std::move(tmp).value()
