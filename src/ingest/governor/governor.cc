#include "ingest/governor/governor.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <thread>

#include "ingest/common/failpoint.h"
#include "ingest/common/ids.h"
#include "ingest/embed/openai/rate_limits.h"
#include "ingest/governor/retry_policy.h"
#include "ingest/obs/log.h"
#include "ingest/obs/metrics.h"

namespace ingest::governor {
namespace {

std::string Usd(int64_t nanos) { return "$" + UsdText(nanos); }

bool IsQuotaReason(std::string_view r) {
  return r == "insufficient_quota" || r == "quota_exhausted";
}

bool IsUnreachableReason(std::string_view r) {
  return r == "connection_failed" || r == "tls_error";
}

// How long after a stop for `reason` one probe call is let through (0 = never by itself).
Duration ProbeAfter(const ProviderOptions& options, std::string_view reason) {
  if (IsUnreachableReason(reason) && options.unreachable_probe_after.count() > 0) {
    return options.unreachable_probe_after;
  }
  return options.stop_probe_after;
}

std::string OutcomeLabel(const http::CallOutcome& o) {
  if (o.status.ok()) return "ok";
  if (o.response == nullptr) {
    return o.status.code() == StatusCode::kDeadlineExceeded ? "timeout" : "connection_error";
  }
  const int s = o.response->status;
  if (s == 429) return "rate_limited";
  if (s >= 500) return "server_error";
  if (s == 401 || s == 403) return "auth_error";
  if (s == 402 || IsQuotaReason(o.status.reason())) return "quota_exhausted";
  if (s >= 400) return "client_error";
  return "bad_response";  // a 2xx the adapter could not use
}

thread_local CallScope* t_scope = nullptr;

// Set while Gate::Admit reserves its call's budget: Admit has just checked the provider stop
// (and may have taken the one probe call a stopped provider allows), so Reserve must not check
// again, or the probe would be refused by its own second look.
thread_local bool t_admit_checked_provider = false;

}  // namespace

const std::vector<std::string>& Governor::StopReasons() {
  static const std::vector<std::string> kReasons = {std::string(kProviderStopped),
                                                    "insufficient_quota",
                                                    "quota_exhausted",
                                                    "invalid_api_key",
                                                    "unauthenticated",
                                                    "auth_failed",
                                                    "connection_failed",
                                                    "tls_error",
                                                    "endpoint_not_found",
                                                    "model_not_found",
                                                    "model_not_allowed",
                                                    "embeddings_not_supported"};
  return kReasons;
}

CallScope::CallScope(Governor* governor, CallSpec spec)
    : governor_(governor), spec_(std::move(spec)), previous_(t_scope) {
  t_scope = this;
}

CallScope::CallScope(Governor* governor, Reservation adopted)
    : governor_(governor),
      spec_(adopted.spec),
      reservation_(std::move(adopted)),
      previous_(t_scope) {
  t_scope = this;
}

CallScope::~CallScope() { t_scope = previous_; }

Status Governor::ReserveCurrentScope() {
  CallScope* scope = t_scope;
  if (scope == nullptr || scope->governor_ != this || scope->sent_) return Status::Ok();
  if (!scope->reservation_) {
    t_admit_checked_provider = true;
    Result<Reservation> r = Reserve(scope->spec_, &scope->refused_by_);
    t_admit_checked_provider = false;
    if (!r.ok()) return r.status();
    scope->reservation_ = std::move(r).value();
  }
  // Reserved, not yet sent: a process killed here leaves a row that reconciliation releases.
  FailPoint(kFailBeforeSend);
  INGEST_RETURN_IF_ERROR(MarkSent(*scope->reservation_));
  scope->sent_ = true;
  return Status::Ok();
}

Status Governor::MarkSent(const Reservation& r) {
  if (r.unreserved) return Status::Ok();
  return store_->MarkLedgerSent(r.ledger_id, clock_->NowMillis());
}

// The gate of one provider: shared buckets in the Store, a local breaker, the stop state.
class Governor::Gate final : public http::CallGate {
 public:
  Gate(Governor* gov, ProviderOptions options)
      : gov_(gov), options_(std::move(options)), breaker_(options_.breaker) {}

  Status Configure() {
    const UnixMillis now = gov_->clock_->NowMillis();
    const RateLimitOptions& r = options_.rate;
    if (r.requests_per_minute > 0) {
      INGEST_RETURN_IF_ERROR(ConfigureBucket("requests", r.requests_per_minute, now));
    }
    if (r.tokens_per_minute > 0) {
      INGEST_RETURN_IF_ERROR(ConfigureBucket("tokens", r.tokens_per_minute, now));
    }
    return Status::Ok();
  }

  Status Admit(int64_t tokens) override {
    INGEST_RETURN_IF_ERROR(gov_->CheckProvider(options_.name));
    const UnixMillis now = gov_->clock_->NowMillis();
    if (!breaker_.Allow(now)) {
      if (gov_->metrics_.load() != nullptr)
        gov_->metrics_.load()->CountProviderRequest(options_.name, "refused_by_breaker");
      return ResourceExhausted(options_.name +
                                   " circuit breaker is open after repeated failures; " +
                                   "next probe at " + FormatIso8601(breaker_.RetryAt(now)),
                               std::string(kCircuitOpen));
    }
    if (has_requests_ || has_tokens_) {
      std::vector<store::RateDemand> demands;
      if (has_requests_) demands.push_back({"requests", 1});
      if (has_tokens_ && tokens > 0) demands.push_back({"tokens", static_cast<double>(tokens)});
      Result<store::RateGrant> grant =
          gov_->store_->AcquireRate(options_.bucket_key, demands, options_.rate.max_wait, now);
      if (!grant.ok() || !grant->granted) {
        // The breaker admitted a call that will not be made: free its slot, count nothing.
        breaker_.Cancel(now);
        if (!grant.ok()) return grant.status();
        return ResourceExhausted(
            options_.name + " rate limit: the next slot is " + std::to_string(grant->wait.count()) +
                " ms away, longer than " + std::to_string(options_.rate.max_wait.count()) +
                " ms; deferring",
            std::string(kRateLimited));
      }
      if (grant->wait.count() > 0) {
        if (gov_->metrics_.load() != nullptr) {
          gov_->metrics_.load()->AddRateLimitWait(options_.name, grant->wait.count() / 1000.0);
        }
        std::this_thread::sleep_for(grant->wait);
      }
    }
    // The call's budget reservation, as late as possible, and the mark that its request is
    // leaving: right before it does.
    if (Status reserved = gov_->ReserveCurrentScope(); !reserved.ok()) {
      breaker_.Cancel(gov_->clock_->NowMillis());
      return reserved;
    }
    return Status::Ok();
  }

  void Observe(const http::CallOutcome& o) override {
    const UnixMillis now = gov_->clock_->NowMillis();
    if (gov_->metrics_.load() != nullptr) {
      gov_->metrics_.load()->CountProviderRequest(options_.name, OutcomeLabel(o));
      gov_->metrics_.load()->ObserveProviderLatency(options_.name, o.latency.count() / 1000.0);
    }
    CallResult result = CallResult::kNeutral;
    if (o.status.ok()) {
      result = CallResult::kSuccess;
    } else if (o.response == nullptr || o.response->status >= 500) {
      result = CallResult::kFailure;
    }
    breaker_.Record(result, now);
    if (o.response != nullptr) LearnRateLimits(*o.response, now);
    const std::string reason = o.status.reason();
    // Configuration errors (quota, credentials, a wrong endpoint or model, an unreachable
    // server) stop the provider with their cause; the jobs wait instead of failing.
    if ((!o.status.ok() && Classify(o.status) == ErrorClass::kConfiguration) ||
        (o.response != nullptr && o.response->status == 402)) {
      (void)gov_->StopProvider(options_.name, reason.empty() ? "quota_exhausted" : reason,
                               o.status.message());
    } else if (o.status.ok() && stopped_probe_) {
      stopped_probe_ = false;
      (void)gov_->ResumeProvider(options_.name);
    }
  }

  CircuitState circuit(UnixMillis now) { return breaker_.State(now); }
  const ProviderOptions& options() const { return options_; }
  void set_probe() { stopped_probe_ = true; }

 private:
  Status ConfigureBucket(std::string_view kind, int64_t per_minute, UnixMillis now) {
    const double cap = std::max(1.0, std::floor(per_minute * options_.rate.target_ratio));
    INGEST_RETURN_IF_ERROR(
        gov_->store_->ConfigureRateBucket(options_.bucket_key, kind, cap, cap / 60.0, now));
    (kind == "requests" ? has_requests_ : has_tokens_) = true;
    return Status::Ok();
  }

  // x-ratelimit-* and Retry-After: learn the allowance when it was not configured, lower the
  // shared level to what the provider says remains, and block everyone for Retry-After.
  void LearnRateLimits(const http::HttpResponse& res, UnixMillis now) {
    const embed::openai::RateLimitSnapshot s = embed::openai::ParseRateLimitHeaders(res, now);
    if (s.empty()) return;
    std::lock_guard lock(mu_);
    if (s.limit_requests && *s.limit_requests > 0 && !has_requests_) {
      (void)ConfigureBucket("requests", *s.limit_requests, now);
    }
    if (s.limit_tokens && *s.limit_tokens > 0 && !has_tokens_) {
      (void)ConfigureBucket("tokens", *s.limit_tokens, now);
    }
    const UnixMillis blocked = s.retry_after ? now + s.retry_after->count() : 0;
    if (s.remaining_requests || blocked > 0) {
      std::optional<double> rem;
      if (s.remaining_requests) rem = static_cast<double>(*s.remaining_requests);
      (void)gov_->store_->ObserveRate(options_.bucket_key, "requests", rem, blocked, now);
    }
    if (s.remaining_tokens || blocked > 0) {
      std::optional<double> rem;
      if (s.remaining_tokens) rem = static_cast<double>(*s.remaining_tokens);
      (void)gov_->store_->ObserveRate(options_.bucket_key, "tokens", rem, blocked, now);
    }
  }

  Governor* const gov_;
  const ProviderOptions options_;
  CircuitBreaker breaker_;
  std::mutex mu_;  // serialises learning from headers
  std::atomic<bool> has_requests_{false};
  std::atomic<bool> has_tokens_{false};
  std::atomic<bool> stopped_probe_{false};
};

Governor::Governor(store::Store* store, Clock* clock, const PriceTable* prices,
                   GovernorOptions options, obs::Metrics* metrics)
    : store_(store), clock_(clock), prices_(prices), options_(options), metrics_(metrics) {}

Governor::~Governor() = default;

Result<http::CallGate*> Governor::AddProvider(ProviderOptions options) {
  if (options.name.empty()) return InvalidArgument("provider name is empty", "invalid_config");
  if (options.bucket_key.empty()) options.bucket_key = options.name;
  auto gate = std::make_unique<Gate>(this, std::move(options));
  INGEST_RETURN_IF_ERROR(gate->Configure());
  std::lock_guard lock(mu_);
  Gate* raw = gate.get();
  gates_[raw->options().name] = std::move(gate);
  return static_cast<http::CallGate*>(raw);
}

Result<int64_t> Governor::Price(const CallSpec& spec, const Usage* usage) const {
  // "query": a search query's embedding, priced exactly as the chunk embeddings of "embed".
  if (spec.operation == "embed" || spec.operation == "query") {
    return EmbeddingCostNanos(*prices_, spec.model, usage ? usage->tokens : spec.tokens);
  }
  if (spec.operation == "parse") {
    return ParseCostNanos(*prices_, usage ? usage->credits : spec.credits);
  }
  return FailedPrecondition("no price for operation \"" + spec.operation + "\"", "no_price");
}

store::LedgerEntry LedgerRow(const CallSpec& spec, const Usage& usage, int64_t cost_nanos) {
  store::LedgerEntry e;
  e.service = spec.service;
  e.operation = spec.operation;
  e.tenant = spec.tenant;
  e.document_id = spec.document_id;
  e.job_id = spec.job_id;
  e.model = spec.model;
  e.tokens = usage.tokens;
  e.pages = usage.pages;
  e.credits = usage.credits;
  e.requests = usage.requests;
  e.cost_nanos = cost_nanos;
  e.provider_request_id = usage.provider_request_id;
  return e;
}

Result<Reservation> Governor::Reserve(const CallSpec& spec,
                                      std::optional<store::BudgetStatus>* blocked_by) {
  if (!t_admit_checked_provider) INGEST_RETURN_IF_ERROR(CheckProvider(spec.service));
  INGEST_ASSIGN_OR_RETURN(int64_t estimate, Price(spec, nullptr));
  const UnixMillis now = clock_->NowMillis();
  Usage estimated;
  estimated.tokens = spec.tokens;
  estimated.pages = spec.pages;
  estimated.credits = spec.credits;
  estimated.requests = spec.requests;
  store::LedgerEntry e = LedgerRow(spec, estimated, estimate);
  e.id = UuidV4();
  e.state = store::LedgerState::kReserved;
  e.expires_at = now + options_.reservation_ttl.count();
  INGEST_ASSIGN_OR_RETURN(store::ReserveResult rr, store_->Reserve(e, now));
  if (!rr.reserved) {
    std::string what = "a budget";
    std::string detail;
    if (blocked_by != nullptr) *blocked_by = rr.blocked_by;
    if (rr.blocked_by) {
      const store::BudgetStatus& b = *rr.blocked_by;
      what = std::string(store::BudgetScopeName(b.budget.scope));
      if (!b.budget.scope_key.empty()) what += " " + b.budget.scope_key;
      what += " " + std::string(store::BudgetPeriodName(b.budget.period)) + " budget";
      if (b.budget.stopped_at > 0) {
        std::string ack = "ingestd budget ack";
        if (b.budget.scope == store::BudgetScope::kTenant) ack += " --tenant " + b.budget.scope_key;
        if (b.budget.scope == store::BudgetScope::kService) {
          ack += " --service " + b.budget.scope_key;
        }
        ack += " --period " + std::string(store::BudgetPeriodName(b.budget.period));
        return ResourceExhausted(
            "the " + what + " is stopped since " + FormatIso8601(b.budget.stopped_at) +
                ": a provider billed " + Usd(b.budget.overrun_nanos) + " more than was reserved (" +
                b.budget.stop_reason + "); run `" + ack + "` once the bill is understood",
            std::string(kBudgetStopped));
      }
      detail = ": spent " + Usd(b.settled_nanos) + " + reserved " + Usd(b.reserved_nanos) +
               " + this call " + Usd(estimate) + " > hard limit " + Usd(b.budget.hard_nanos) +
               "; resumes at " + FormatIso8601(b.window.end) + " or when the limit is raised";
    }
    return ResourceExhausted(
        spec.service + " " + spec.operation + " would exceed the " + what + detail,
        std::string(kBudgetExceeded));
  }
  return Reservation{e.id, spec, estimate};
}

Status Governor::Settle(const Reservation& r, const Usage& usage) {
  const UnixMillis now = clock_->NowMillis();
  if (usage.tokens == 0 && usage.pages == 0 && usage.credits == 0 && usage.requests == 0) {
    return Release(r, "the call billed nothing");
  }
  INGEST_ASSIGN_OR_RETURN(int64_t cost, Price(r.spec, &usage));
  store::LedgerEntry e = LedgerRow(r.spec, usage, cost);
  e.id = r.ledger_id;
  e.estimate_nanos = r.estimate_nanos;
  e.state = store::LedgerState::kSettled;
  INGEST_RETURN_IF_ERROR(store_->SettleLedger(e, now));
  if (metrics_.load() != nullptr) metrics_.load()->AddCost(r.spec.service, cost);
  if (!r.unreserved && cost > r.estimate_nanos) {
    return RecordOverrun(e, cost - r.estimate_nanos);
  }
  return Status::Ok();
}

Status Governor::RecordOverrun(const store::LedgerEntry& e, int64_t overrun_nanos) {
  const UnixMillis now = clock_->NowMillis();
  std::string units;
  if (e.operation == "parse") {
    units = std::to_string(e.pages) + " pages / " + std::to_string(e.credits) + " credits";
  } else {
    units = std::to_string(e.tokens) + " tokens";
  }
  const std::string reason =
      e.service + " " + e.operation + " billed " + Usd(e.cost_nanos) + " (" + units + ") against " +
      Usd(e.estimate_nanos) + " reserved; ledger row " + e.id +
      (e.provider_request_id.empty() ? std::string() : ", request " + e.provider_request_id);
  if (metrics_.load() != nullptr) metrics_.load()->AddBudgetOverrun(e.service, overrun_nanos);
  INGEST_ASSIGN_OR_RETURN(int64_t stopped, store_->StopBudgets(e, overrun_nanos, reason, now));
  store::Event ev;
  ev.at = now;
  ev.kind = "budget.overrun";
  ev.job_id = e.job_id;
  ev.document_id = e.document_id;
  ev.detail_json = nlohmann::json{
      {"service", e.service},
      {"operation", e.operation},
      {"ledger_id", e.id},
      {"provider_request_id", e.provider_request_id},
      {"estimate_nanos", e.estimate_nanos},
      {"billed_nanos", e.cost_nanos},
      {"overrun_nanos", overrun_nanos},
      {"budgets_stopped",
       stopped}}.dump();
  INGEST_RETURN_IF_ERROR(store_->AppendEvent(ev));
  obs::LogError(
      "governor: a provider billed more than was reserved; budgets stopped until "
      "acknowledged (ingestd budget ack)",
      {{"service", e.service},
       {"ledger_id", e.id},
       {"estimate_nanos", e.estimate_nanos},
       {"billed_nanos", e.cost_nanos},
       {"overrun_nanos", overrun_nanos},
       {"budgets_stopped", stopped}});
  return Status::Ok();
}

Status Governor::Release(const Reservation& r, std::string_view note) {
  Status st = store_->ReleaseLedger(r.ledger_id, note, clock_->NowMillis());
  // Already settled by a reconciler that thought the caller dead: its estimate stands.
  if (st.reason() == "not_reserved") return Status::Ok();
  return st;
}

namespace {
// cmd_costs counts rows whose note starts with "reconciled:" as presumed billed.
constexpr std::string_view kReconcileNote =
    "reconciled: the attempt that reserved this call stopped before settling it, after its "
    "request left; settled at its estimate (exact token/page count), presumed billed";
constexpr std::string_view kNeverSentNote =
    "released: never sent (the attempt that reserved this call stopped before its request "
    "left, so the provider never saw it)";
}  // namespace

Result<bool> Governor::ReconcileOrphan(store::LedgerEntry e, std::string_view why) {
  const UnixMillis now = clock_->NowMillis();
  if (e.sent_at == 0) {
    const std::string note = std::string(kNeverSentNote) + std::string(why);
    Status st = store_->ReleaseLedger(e.id, note, now);
    // Settled or released meanwhile by its caller (who was only slow): its outcome stands.
    if (st.reason() == "not_reserved") return true;
    INGEST_RETURN_IF_ERROR(st);
    obs::LogWarn("governor: released an orphaned reservation that was never sent",
                 {{"ledger_id", e.id}, {"job_id", e.job_id}, {"estimate_nanos", e.cost_nanos}});
    return true;
  }
  e.state = store::LedgerState::kSettled;
  e.note = std::string(kReconcileNote) + std::string(why);
  INGEST_RETURN_IF_ERROR(store_->SettleLedger(e, now));
  if (metrics_.load() != nullptr) metrics_.load()->AddCost(e.service, e.cost_nanos);
  obs::LogWarn("governor: settled an orphaned reservation at its estimate (presumed billed)",
               {{"ledger_id", e.id}, {"job_id", e.job_id}, {"cost_nanos", e.cost_nanos}});
  return false;
}

Result<Governor::Reconciled> Governor::ReconcileJob(std::string_view document_id,
                                                    std::string_view job_id) {
  INGEST_ASSIGN_OR_RETURN(auto rows, store_->ListLedger(document_id));
  Reconciled n;
  for (store::LedgerEntry& e : rows) {
    if (e.state != store::LedgerState::kReserved || e.job_id != job_id) continue;
    INGEST_ASSIGN_OR_RETURN(bool released, ReconcileOrphan(std::move(e), ""));
    ++(released ? n.released : n.settled);
  }
  return n;
}

Status Governor::Maintain() {
  const UnixMillis now = clock_->NowMillis();
  INGEST_ASSIGN_OR_RETURN(auto expired, store_->ListExpiredReservations(now));
  for (store::LedgerEntry& e : expired) {
    INGEST_RETURN_IF_ERROR(ReconcileOrphan(std::move(e), " (reservation expired)").status());
  }
  if (metrics_.load() != nullptr) {
    for (const ProviderHealth& h : Health()) {
      metrics_.load()->SetCircuitState(h.name, static_cast<int>(h.circuit));
      // The overrun counter exists at 0 from the start, so increase() sees the first overrun.
      metrics_.load()->AddBudgetOverrun(h.name, 0);
    }
  }
  return Status::Ok();
}

Status Governor::CheckProvider(std::string_view provider) {
  const UnixMillis now = clock_->NowMillis();
  {
    std::lock_guard lock(mu_);
    auto it = stopped_cache_.find(provider);
    if (it != stopped_cache_.end() && now - it->second.first < 1000 && !it->second.second) {
      return Status::Ok();
    }
  }
  INGEST_ASSIGN_OR_RETURN(auto states, store_->ListProviderStates());
  const store::ProviderState* mine = nullptr;
  for (const auto& s : states) {
    if (s.provider == provider) mine = &s;
  }
  const bool stopped = mine != nullptr && mine->stopped;
  Duration probe_after{0};
  bool probing = false;
  {
    std::lock_guard lock(mu_);
    stopped_cache_[std::string(provider)] = {now, stopped};
    if (stopped && mine->probe_at > 0 && now >= mine->probe_at) {
      // One probe call: the gate resumes the provider if it succeeds. The next probe time is
      // pushed forward at once (or cleared: one probe only) so the other workers keep waiting.
      auto g = gates_.find(provider);
      if (g != gates_.end()) {
        g->second->set_probe();
        probing = true;
        probe_after = ProbeAfter(g->second->options(), mine->reason);
      }
    }
  }
  if (probing) {
    store::ProviderState next = *mine;
    next.probe_at = probe_after.count() > 0 ? now + probe_after.count() : 0;
    next.updated_at = now;
    INGEST_RETURN_IF_ERROR(store_->PutProviderState(next));
    return Status::Ok();
  }
  if (!stopped) return Status::Ok();
  return ResourceExhausted(std::string(provider) + " is stopped since " +
                               FormatIso8601(mine->since) + " (" + mine->reason + ": " +
                               mine->message + "); run `ingestd providers resume " +
                               std::string(provider) + "` once fixed",
                           std::string(kProviderStopped));
}

Status Governor::StopProvider(std::string_view provider, std::string_view reason,
                              std::string_view message) {
  const UnixMillis now = clock_->NowMillis();
  Duration probe{0};
  {
    std::lock_guard lock(mu_);
    auto g = gates_.find(provider);
    if (g != gates_.end()) probe = ProbeAfter(g->second->options(), reason);
    stopped_cache_[std::string(provider)] = {now, true};
  }
  store::ProviderState s;
  s.provider = std::string(provider);
  s.stopped = true;
  s.reason = std::string(reason);
  s.message = std::string(message);
  s.since = now;
  s.probe_at = probe.count() > 0 ? now + probe.count() : 0;
  s.updated_at = now;
  INGEST_RETURN_IF_ERROR(store_->PutProviderState(s));
  store::Event ev;
  ev.at = now;
  ev.kind = "provider.stopped";
  ev.detail_json =
      nlohmann::json{{"provider", provider}, {"reason", reason}, {"message", message}}.dump();
  INGEST_RETURN_IF_ERROR(store_->AppendEvent(ev));
  obs::LogError("governor: provider stopped; calls refused until an operator resumes it",
                {{"provider", provider}, {"reason", reason}, {"message", message}});
  return Status::Ok();
}

Status Governor::ResumeProvider(std::string_view provider) {
  const UnixMillis now = clock_->NowMillis();
  store::ProviderState s;
  s.provider = std::string(provider);
  s.stopped = false;
  s.since = now;
  s.updated_at = now;
  INGEST_RETURN_IF_ERROR(store_->PutProviderState(s));
  {
    std::lock_guard lock(mu_);
    stopped_cache_.erase(std::string(provider));
  }
  INGEST_ASSIGN_OR_RETURN(int64_t woken, store_->WakeDeferred(Governor::StopReasons(), now));
  store::Event ev;
  ev.at = now;
  ev.kind = "provider.resumed";
  ev.detail_json = nlohmann::json{{"provider", provider}, {"jobs_woken", woken}}.dump();
  INGEST_RETURN_IF_ERROR(store_->AppendEvent(ev));
  obs::LogInfo("governor: provider resumed", {{"provider", provider}, {"jobs_woken", woken}});
  return Status::Ok();
}

Result<std::vector<std::string>> Governor::ProbeStoppedProviders() {
  const UnixMillis now = clock_->NowMillis();
  INGEST_ASSIGN_OR_RETURN(auto states, store_->ListProviderStates());
  std::vector<std::string> stopped;
  for (store::ProviderState s : states) {
    if (!s.stopped) continue;
    {
      std::lock_guard lock(mu_);
      if (gates_.find(s.provider) == gates_.end()) continue;  // not used by this process
      stopped_cache_.erase(s.provider);
    }
    s.probe_at = now;
    s.updated_at = now;
    INGEST_RETURN_IF_ERROR(store_->PutProviderState(s));
    stopped.push_back(s.provider);
  }
  return stopped;
}

std::vector<Governor::ProviderHealth> Governor::Health() {
  const UnixMillis now = clock_->NowMillis();
  std::vector<ProviderHealth> out;
  std::vector<store::ProviderState> states;
  if (auto st = store_->ListProviderStates(); st.ok()) states = std::move(st).value();
  std::lock_guard lock(mu_);
  for (auto& [name, gate] : gates_) {
    ProviderHealth h;
    h.name = name;
    h.circuit = gate->circuit(now);
    for (const auto& s : states) {
      if (s.provider == name && s.stopped) {
        h.stopped = true;
        h.stop_reason = s.reason;
      }
    }
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace ingest::governor
