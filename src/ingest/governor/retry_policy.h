// Error classes and retry backoff (DESIGN §5): the one place that maps a Status to what the
// pipeline does with a failed stage (retry, defer, fail, stop the provider).
//
// Thread-safe: pure functions over values.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "ingest/common/clock.h"
#include "ingest/common/status.h"

namespace ingest::governor {

enum class ErrorClass {
  kTransient,      // timeouts, 5xx, 429, lost connections: retry with backoff
  kThrottled,      // budget exhausted, circuit open, local rate limit: defer, do not count
  kPermanent,      // bad input, 4xx, unparseable or over-limit file: fail the job
  kConfiguration,  // bad credentials or endpoint, quota exhausted: stop the provider, defer, alert
};

// "transient", "throttled", "permanent", "configuration".
std::string_view ErrorClassName(ErrorClass c);

// Reason a Store/worker attaches to kFailedPrecondition when a job's lease was lost. A lost
// lease is not the job's fault: Classify calls it transient (harmless if it ever reaches the
// state machine), and the worker abandons the job without writing anything.
inline constexpr std::string_view kLeaseLostReason = "lease_lost";

// Maps a non-ok Status to its class. A configuration reason (IsConfigurationReason: a wrong
// endpoint, model or credentials) is kConfiguration whatever its code, e.g. a refused connection
// (kUnavailable "connection_failed"); otherwise one switch over StatusCode, refined by reason:
//   kUnavailable, kDeadlineExceeded                          -> transient
//   kCancelled                                               -> transient: a stage is cancelled
//       by shutdown or a lost lease, or a remote job was cancelled by someone else; none of
//       these is the document's fault, so running it again is right (the worker abandons
//       shutdown/lease-lost cancellations before they get here, so no attempt is burnt).
//   kResourceExhausted                                       -> throttled (budget, breaker,
//       rate limit), except input limits ("file_too_large", "too_many_pages",
//       "docx_too_large", "uncompressed_too_large", "document_too_large", "pdf_too_large",
//       "parse_timeout", "parse_too_large") -> permanent, and
//       provider quota ("insufficient_quota", "quota_exhausted") -> configuration
//   kUnauthenticated                                         -> configuration
//   kFailedPrecondition with reason kLeaseLostReason         -> transient
//   kInvalidArgument, kNotFound, kAlreadyExists, kDataLoss,
//   kFailedPrecondition (other), kInternal                   -> permanent
//   kOk (a caller bug)                                       -> permanent
ErrorClass Classify(const Status& status);

// Whether a stored error code (a Status reason) is a configuration error: a wrong provider
// setting ("connection_failed", "tls_error", "endpoint_not_found", "model_not_found",
// "model_not_allowed", "embeddings_not_supported"), credentials ("invalid_api_key") or quota.
// Classify returns kConfiguration for these reasons whatever the code; `ingestd ingest` re-runs
// documents that failed or wait for one of them (the setting may have been fixed since).
bool IsConfigurationReason(std::string_view reason);

struct RetryPolicy {
  // Attempts per stage before a job goes dead. Copied into Job::max_attempts at submission;
  // the state machine uses the job's value so a policy change never strands queued jobs.
  int max_attempts = 5;
  Duration base = std::chrono::seconds(1);
  Duration cap = std::chrono::minutes(5);
  // How long a throttled job is deferred before it is looked at again (the governor may lease
  // it earlier by lowering next_attempt_at; this is the fallback).
  Duration throttle_delay = std::chrono::minutes(1);
  // How long a job hit by a configuration error (bad key, quota) waits: long, because a person
  // has to act; `ingestd jobs retry` releases it at once.
  Duration configuration_delay = std::chrono::minutes(30);
};

// Exponential backoff with full jitter (the AWS "Exponential Backoff and Jitter" scheme):
// uniform in [0, min(cap, base * 2^attempt)], drawn from `random` (any uniformly distributed
// 64-bit value; the caller owns the generator so tests are deterministic). `attempt` is 0 for
// the first retry; negative values are treated as 0. Never overflows.
Duration BackoffDelay(const RetryPolicy& policy, int attempt, uint64_t random);

}  // namespace ingest::governor
