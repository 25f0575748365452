// Admission control for the HTTP calls of one paid provider (DESIGN §5). Provider adapters
// (embed/openai, parse/llamaparse) ask the gate before every request and report every outcome
// after it; the governor implements it with the shared rate limiter, the circuit breaker and the
// provider stop (governor/governor.h). Adapters built without a gate (tests, the naive client of
// the rate-limit benchmark) call nothing.
//
// Thread-safe: one gate per provider is shared by every worker thread.
#pragma once

#include <cstdint>

#include "ingest/common/clock.h"
#include "ingest/common/status.h"
#include "ingest/http/http_client.h"

namespace ingest::http {

// What happened to one request.
struct CallOutcome {
  // The response when one arrived (any status), nullptr on a transport failure.
  const HttpResponse* response = nullptr;
  // Ok for a usable answer; otherwise the adapter's error for this attempt (its code and
  // reason say what went wrong: "insufficient_quota", "invalid_api_key", "rate_limited", ...).
  Status status;
  Duration latency{0};
};

class CallGate {
 public:
  virtual ~CallGate() = default;
  // Before a request that will use `tokens` of the provider's token allowance (0 when the
  // provider meters only requests). Blocks the calling thread for the shared rate limit when
  // the wait is short; returns an error instead of sending when the call must not be made now:
  // kResourceExhausted with reason "circuit_open", "provider_stopped" or "rate_limited" (the
  // wait would be too long). The pipeline defers the job on these (governor/retry_policy.h).
  virtual Status Admit(int64_t tokens) = 0;
  // After every attempt Admit allowed, with its outcome.
  virtual void Observe(const CallOutcome& outcome) = 0;
};

}  // namespace ingest::http
