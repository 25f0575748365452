// The governor (DESIGN §5): every paid call goes estimate → reserve → call → settle/release,
// through the provider's gate (shared rate limit, circuit breaker, provider stop).
//
//   Reservation r = governor.Reserve(call)      // one Store transaction against every budget
//   ... adapter calls gate->Admit / Observe around each HTTP request ...
//   governor.Settle(r, usage)  or  governor.Release(r, why)
//
// Crash safety: a reservation whose caller died stays `reserved`. Its row says whether the
// call's request left: the gate marks it sent (Store::MarkLedgerSent) right before the first
// request goes out. Only one worker holds a job's lease, so the next attempt of the same job
// knows any reserved row of that job is orphaned; ReconcileJob releases the ones never sent
// (the provider never saw them) and settles the others at their estimate, presumed billed
// (token counts are exact, so a call that was sent is recorded as billed; never under-counted).
// Rows of jobs that never run again are reconciled the same way by Maintain once they expire.
//
// Thread-safe: one Governor per process, shared by every worker thread.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/common/clock.h"
#include "ingest/common/result.h"
#include "ingest/governor/circuit_breaker.h"
#include "ingest/governor/pricing.h"
#include "ingest/http/call_gate.h"
#include "ingest/store/store.h"

namespace ingest::obs {
class Metrics;
}

namespace ingest::governor {

// Rate limits of one provider key, per minute. 0 = not configured: learned from the
// provider's x-ratelimit-limit-* headers on the first response that carries them.
struct RateLimitOptions {
  int64_t requests_per_minute = 0;
  int64_t tokens_per_minute = 0;
  // Share of the allowance ingestd aims for (a margin for clock skew between us and the
  // provider's window; 0.97 uses 97%).
  double target_ratio = 0.97;
  // A caller never waits longer than this inside Admit; beyond it the job is deferred.
  Duration max_wait = std::chrono::seconds(20);
};

struct ProviderOptions {
  std::string name;  // "openai", "llamaparse"
  // Key for the shared buckets: processes using the same API key share one allowance, so the
  // key is derived from the provider, base URL and a hash of the API key (never the key).
  std::string bucket_key;
  RateLimitOptions rate;
  BreakerOptions breaker;
  // After a quota/auth stop: 0 = wait for `ingestd providers resume`; else let one probe call
  // through after this long.
  Duration stop_probe_after{0};
  // After a stop because the endpoint could not be reached (connection refused, DNS, TLS): one
  // probe call after this long (0 = as stop_probe_after), so a server that comes back resumes
  // the provider by itself while a wrong URL keeps it stopped with its cause.
  Duration unreachable_probe_after{std::chrono::seconds(30)};
};

struct GovernorOptions {
  // How long a reservation may stay open before Maintain presumes its caller dead. Longer than
  // any one call (timeouts × retries) and, for remote parses, than the poll deadline.
  Duration reservation_ttl = std::chrono::hours(2);
};

// One paid call about to be made.
struct CallSpec {
  std::string service;    // "openai", "llamaparse"
  std::string operation;  // "embed", "parse", "query" (a search query's embedding)
  std::string model;      // embedding model or parse mode
  std::string tenant;
  std::string document_id;
  std::string job_id;
  int64_t tokens = 0;   // embed: exact token count of the inputs
  int64_t pages = 0;    // parse: pages to be billed
  int64_t credits = 0;  // parse: credits those pages cost
  int64_t requests = 1;
};

struct Reservation {
  std::string ledger_id;
  CallSpec spec;
  int64_t estimate_nanos = 0;
  // The call's reservation is unknown (its record was lost): Settle records the usage but
  // cannot tell an overrun.
  bool unreserved = false;
};

// What the provider reported for a call.
struct Usage {
  int64_t tokens = 0;
  int64_t pages = 0;
  int64_t credits = 0;
  int64_t requests = 0;
  std::string provider_request_id;
};

// The ledger row of the call `spec` with `usage` (tokens, pages, credits, requests, request id)
// costing `cost_nanos`; id, state and times are the caller's to set.
store::LedgerEntry LedgerRow(const CallSpec& spec, const Usage& usage, int64_t cost_nanos);

class Governor;

// The paid call the current thread is about to make through a provider adapter. A stage opens
// a scope around the adapter call; the provider's gate reserves the scope's spec against the
// budgets in Admit, after any rate-limit wait, and marks the reservation sent right before the
// first request leaves (one Store::MarkLedgerSent), so a process killed before sending leaves
// a reservation that reconciliation releases, and one killed after leaves one it settles at
// its estimate. The stage then settles or releases `reservation()`. A scope may also adopt a
// reservation made beforehand (a LlamaParse upload reserves before choosing its bounds): the
// gate then only marks it sent. Scopes nest (the innermost is current); not copyable.
class CallScope {
 public:
  CallScope(Governor* governor, CallSpec spec);
  CallScope(Governor* governor, Reservation adopted);
  ~CallScope();
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;

  // Set once a gate of `governor` admitted the first request; nullopt when nothing was sent.
  const std::optional<Reservation>& reservation() const { return reservation_; }
  // Set when the reservation was refused by a hard budget (the call was not sent): that
  // budget with its spend, for answers that name it and say when it resets.
  const std::optional<store::BudgetStatus>& refused_by() const { return refused_by_; }
  // True once a gate marked the reservation sent (its first request was about to leave).
  bool sent() const { return sent_; }

 private:
  friend class Governor;
  Governor* const governor_;
  const CallSpec spec_;
  std::optional<Reservation> reservation_;
  std::optional<store::BudgetStatus> refused_by_;
  bool sent_ = false;
  CallScope* const previous_;
};

class Governor {
 public:
  // `store`, `clock` and `prices` must outlive the governor; `metrics` may be null.
  Governor(store::Store* store, Clock* clock, const PriceTable* prices, GovernorOptions options,
           obs::Metrics* metrics = nullptr);
  ~Governor();
  Governor(const Governor&) = delete;
  Governor& operator=(const Governor&) = delete;

  // Metrics to feed (provider requests, latency, circuit state, rate-limit waits, cost); set
  // before workers start. nullptr = none.
  void SetMetrics(obs::Metrics* metrics) { metrics_.store(metrics); }

  // Registers a provider and returns its gate (owned by the governor, valid for its life).
  // Configures the shared buckets when limits are given.
  Result<http::CallGate*> AddProvider(ProviderOptions options);

  // Prices `spec` (kFailedPrecondition "no_price" for an unpriced model/mode: never guessed)
  // and reserves it. Over a hard budget: kResourceExhausted reason "budget_exceeded", message
  // naming the budget, its spend and limit; a budget stopped by an overrun: reason
  // "budget_stopped". A stopped provider: kResourceExhausted
  // "provider_stopped" (nothing is reserved).
  // `blocked_by`, when given, receives the refusing budget.
  Result<Reservation> Reserve(const CallSpec& spec,
                              std::optional<store::BudgetStatus>* blocked_by = nullptr);
  // Settles the reservation with the provider's usage (priced exactly; a call that billed
  // nothing — usage all zero, requests included — is released instead). A provider that billed
  // more than was reserved is an incident, not a rounding (issue 12): the row is settled as
  // billed, the overrun is counted (ingestd_budget_overrun_usd_total{service}), a
  // "budget.overrun" event is recorded and every budget the call counts against is stopped
  // (Store::StopBudgets) until an operator acknowledges it (`ingestd budget ack`).
  Status Settle(const Reservation& r, const Usage& usage);
  Status Release(const Reservation& r, std::string_view note);
  // The reservation's first request is about to leave (Store::MarkLedgerSent). Gates call it
  // for their CallScope; a caller whose adapter has no gate calls it after the fact.
  // kFailedPrecondition "not_reserved" when the row was reconciled meanwhile: do not send.
  Status MarkSent(const Reservation& r);

  // What orphan reconciliation did.
  struct Reconciled {
    int settled = 0;   // sent (or not recorded): settled at the estimate, presumed billed
    int released = 0;  // never sent: released, cost 0, note "released: never sent ..."
    int total() const { return settled + released; }
  };
  // Reconciles the reserved rows of `job_id` left by an attempt that died (the caller holds
  // the job's lease): released when never sent, else settled at their estimate.
  Result<Reconciled> ReconcileJob(std::string_view document_id, std::string_view job_id);
  // Periodic work (every worker process calls it, e.g. from its heartbeat thread): reconciles
  // expired reservations as ReconcileJob does; refreshes circuit-state metrics.
  Status Maintain();

  // kResourceExhausted "provider_stopped" when `provider` is stopped (cached for a second).
  Status CheckProvider(std::string_view provider);
  // Marks the provider stopped (quota/auth), appends a "provider.stopped" alert event, logs.
  Status StopProvider(std::string_view provider, std::string_view reason, std::string_view message);
  // Operator: clears the stop and wakes the jobs deferred because of it.
  Status ResumeProvider(std::string_view provider);
  // Every provider of this governor that is stopped lets one probe call through now (the
  // setting may have been fixed since the stop: `ingestd ingest` calls this when it starts).
  // A successful probe resumes the provider and wakes its jobs; a failed one stops it again.
  // Returns the names of the stopped providers.
  Result<std::vector<std::string>> ProbeStoppedProviders();
  // The defer reasons a provider stop leaves on jobs (ResumeProvider wakes them).
  static const std::vector<std::string>& StopReasons();

  struct ProviderHealth {
    std::string name;
    CircuitState circuit = CircuitState::kClosed;
    bool stopped = false;
    std::string stop_reason;
  };
  std::vector<ProviderHealth> Health();

  Clock* clock() const { return clock_; }
  store::Store* store() const { return store_; }
  const PriceTable& prices() const { return *prices_; }

 private:
  class Gate;
  // Reserves the current thread's open CallScope of this governor, if any, and marks it sent
  // (from Gate::Admit, right before a request leaves).
  Status ReserveCurrentScope();
  // Settles an orphaned reserved row at its estimate, or releases it when it was never sent.
  // Returns true when released.
  Result<bool> ReconcileOrphan(store::LedgerEntry e, std::string_view why);
  Result<int64_t> Price(const CallSpec& spec, const Usage* usage) const;
  Status RecordOverrun(const store::LedgerEntry& settled, int64_t overrun_nanos);

  store::Store* const store_;
  Clock* const clock_;
  const PriceTable* const prices_;
  const GovernorOptions options_;
  std::atomic<obs::Metrics*> metrics_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Gate>, std::less<>> gates_;  // GUARDED_BY(mu_)
  std::map<std::string, std::pair<UnixMillis, bool>, std::less<>>
      stopped_cache_;  // GUARDED_BY(mu_)
};

// Budget-exceeded and provider-stop reasons the pipeline wakes jobs for.
inline constexpr std::string_view kBudgetExceeded = "budget_exceeded";
inline constexpr std::string_view kBudgetStopped = "budget_stopped";
inline constexpr std::string_view kProviderStopped = "provider_stopped";
inline constexpr std::string_view kCircuitOpen = "circuit_open";
inline constexpr std::string_view kRateLimited = "rate_limited";

}  // namespace ingest::governor
