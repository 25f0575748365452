// Governor rows: reservations, budgets, shared rate buckets, provider state, waking deferred
// jobs. Reserve serialises on a transaction-scoped advisory lock (budget rows cannot be locked
// instead: a reservation may fall under no budget row yet, and READ COMMITTED would let two
// transactions both see room under the limit); rate buckets are read-modify-written under
// SELECT ... FOR UPDATE row locks.
#include <string>
#include <utility>

#include "ingest/store/governor_rules.h"
#include "ingest/store/postgres/postgres_store_impl.h"
#include "ingest/store/postgres/rows.h"

namespace ingest::store::postgres {
namespace {

// Two-key advisory lock (class, schema hash) held by every Reserve until its transaction ends:
// reservations in one schema queue behind each other, whatever process makes them, while
// ingestd deployments in other schemas of the same database do not contend. Two-key locks live
// in a different key space from the one-key migration lock. ("bdgt" in ASCII.)
constexpr int kReserveLockClass = 0x62646774;

Result<std::vector<Budget>> ReadBudgets(pqxx::work& w) {
  pqxx::result r = w.exec(
      "SELECT scope, scope_key, period, limit_nanos, soft_ratio, updated_at, stopped_at, "
      "overrun_nanos, stop_reason FROM budgets");
  std::vector<Budget> out;
  out.reserve(r.size());
  for (const pqxx::row& row : r) {
    Budget b;
    auto scope = ParseBudgetScope(TextView(row[0]));
    if (!scope.ok()) return DataLoss(scope.status().message(), "bad_row");
    auto period = ParseBudgetPeriod(TextView(row[2]));
    if (!period.ok()) return DataLoss(period.status().message(), "bad_row");
    b.scope = *scope;
    b.scope_key = Text(row[1]);
    b.period = *period;
    b.hard_nanos = Int(row[3]);
    b.soft_ratio = row[4].as<double>();
    b.updated_at = Int(row[5]);
    b.stopped_at = Int(row[6]);
    b.overrun_nanos = Int(row[7]);
    b.stop_reason = Text(row[8]);
    out.push_back(std::move(b));
  }
  SortBudgets(&out);
  return out;
}

// `budget`'s spend in its window at `now`; one statement per scope so each uses its index.
BudgetStatus Spend(pqxx::work& w, const Budget& budget, UnixMillis now) {
  static constexpr std::string_view kSum =
      "SELECT COALESCE(SUM(CASE WHEN state = 'settled' THEN cost_nanos ELSE 0 END), 0), "
      "COALESCE(SUM(CASE WHEN state = 'reserved' THEN cost_nanos ELSE 0 END), 0) FROM ledger "
      "WHERE created_at >= $1 AND created_at < $2 AND state IN ('reserved', 'settled')";
  static const std::string global(kSum);
  static const std::string tenant = Cat({kSum, " AND tenant = $3"});
  static const std::string service = Cat({kSum, " AND service = $3"});
  BudgetStatus st;
  st.budget = budget;
  st.window = PeriodWindowAt(budget.period, now);
  pqxx::row r = budget.scope == BudgetScope::kGlobal
                    ? w.exec_params1(global, st.window.start, st.window.end)
                    : w.exec_params1(budget.scope == BudgetScope::kTenant ? tenant : service,
                                     st.window.start, st.window.end, budget.scope_key);
  st.settled_nanos = Int(r[0]);
  st.reserved_nanos = Int(r[1]);
  return st;
}

constexpr std::string_view kBucketColumns =
    "provider_key, kind, capacity, available, refill_per_sec, blocked_until, updated_at";

RateBucket ReadBucket(const pqxx::row& r) {
  RateBucket b;
  b.key = Text(r[0]);
  b.kind = Text(r[1]);
  b.capacity = r[2].as<double>();
  b.available = r[3].as<double>();
  b.refill_per_sec = r[4].as<double>();
  b.blocked_until = Int(r[5]);
  b.updated_at = Int(r[6]);
  return b;
}

// The buckets of `key` (one kind, or all when kind is null), locked until the transaction
// ends. Ordered by kind so concurrent lockers of several kinds take the locks in one order.
std::vector<RateBucket> LockBuckets(pqxx::work& w, std::string_view key, const char* kind) {
  static const std::string sql =
      Cat({"SELECT ", kBucketColumns,
           " FROM limits WHERE provider_key = $1 AND ($2::text IS NULL OR kind = $2) "
           "ORDER BY kind FOR UPDATE"});
  pqxx::result r = w.exec_params(sql, std::string(key), kind);
  std::vector<RateBucket> out;
  out.reserve(r.size());
  for (const pqxx::row& row : r) out.push_back(ReadBucket(row));
  return out;
}

void WriteBucket(pqxx::work& w, const RateBucket& b) {
  w.exec_params(
      "UPDATE limits SET capacity = $1, available = $2, refill_per_sec = $3, blocked_until = $4, "
      "updated_at = $5 WHERE provider_key = $6 AND kind = $7",
      b.capacity, b.available, b.refill_per_sec, b.blocked_until, b.updated_at, b.key, b.kind);
}

}  // namespace

Result<ReserveResult> PostgresStore::Reserve(const LedgerEntry& entry, UnixMillis now) {
  if (entry.id.empty()) return InvalidArgument("ledger entry id must not be empty", "missing_id");
  if (entry.cost_nanos < 0) {
    return InvalidArgument("reservation cost must be >= 0", "negative_cost");
  }
  static const std::string insert = Cat(
      {"INSERT INTO ledger (", kLedgerColumns,
       ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,'reserved',$13,$14,$14,$15,$16,$17,0)"});
  return Transact("reserve", [&](pqxx::work& w) -> Result<ReserveResult> {
    // Under READ COMMITTED every statement after the lock sees all reservations committed by
    // earlier lock holders, so the sums below include them.
    w.exec_params("SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))",
                  kReserveLockClass);
    INGEST_ASSIGN_OR_RETURN(std::vector<Budget> budgets, ReadBudgets(w));
    for (const Budget& b : budgets) {
      if (!BudgetApplies(b, entry)) continue;
      BudgetStatus st = Spend(w, b, now);
      const int64_t spent = st.settled_nanos + st.reserved_nanos;
      if (b.stopped_at > 0 || entry.cost_nanos > b.hard_nanos - spent) {
        ReserveResult refused;
        refused.blocked_by = std::move(st);
        return refused;
      }
    }
    w.exec_params(insert, entry.id, entry.service, entry.operation, entry.tenant, entry.document_id,
                  entry.job_id, entry.model, entry.tokens, entry.pages, entry.credits,
                  entry.requests, entry.cost_nanos, entry.provider_request_id, now,
                  entry.cost_nanos, entry.expires_at, entry.note);
    ReserveResult ok;
    ok.reserved = true;
    return ok;
  });
}

Status PostgresStore::SettleLedger(const LedgerEntry& e, UnixMillis now) {
  if (e.id.empty()) return InvalidArgument("ledger entry id must not be empty", "missing_id");
  static const std::string sql =
      Cat({"INSERT INTO ledger (", kLedgerColumns,
           ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,'settled',$13,$14,$14,$15,0,$16,$17) "
           "ON CONFLICT (id) DO UPDATE SET tokens = excluded.tokens, pages = excluded.pages, "
           "credits = excluded.credits, requests = excluded.requests, "
           "cost_nanos = excluded.cost_nanos, state = 'settled', "
           "provider_request_id = excluded.provider_request_id, note = excluded.note, "
           "updated_at = excluded.updated_at"});
  return Transact("settle ledger", [&](pqxx::work& w) -> Status {
    w.exec_params(sql, e.id, e.service, e.operation, e.tenant, e.document_id, e.job_id, e.model,
                  e.tokens, e.pages, e.credits, e.requests, e.cost_nanos, e.provider_request_id,
                  now, e.estimate_nanos, e.note, e.sent_at);
    return Status::Ok();
  });
}

Status PostgresStore::ReleaseLedger(std::string_view id, std::string_view note, UnixMillis now) {
  return Transact("release ledger", [&](pqxx::work& w) -> Status {
    pqxx::result r = w.exec_params(
        "UPDATE ledger SET state = 'released', cost_nanos = 0, note = $1, updated_at = $2 "
        "WHERE id = $3 AND state = 'reserved'",
        std::string(note), now, std::string(id));
    if (r.affected_rows() == 1) return Status::Ok();
    pqxx::result cur = w.exec_params("SELECT state FROM ledger WHERE id = $1", std::string(id));
    if (cur.empty()) return NotFound("ledger entry " + std::string(id) + " not found");
    return FailedPrecondition(
        "ledger entry " + std::string(id) + " is " + Text(cur[0][0]) + ", not reserved",
        "not_reserved");
  });
}

Status PostgresStore::MarkLedgerSent(std::string_view id, UnixMillis now) {
  return Transact("mark ledger sent", [&](pqxx::work& w) -> Status {
    pqxx::result r = w.exec_params(
        "UPDATE ledger SET sent_at = CASE WHEN sent_at > 0 THEN sent_at ELSE $1 END, "
        "updated_at = $1 WHERE id = $2 AND state = 'reserved'",
        now, std::string(id));
    if (r.affected_rows() == 1) return Status::Ok();
    pqxx::result cur = w.exec_params("SELECT state FROM ledger WHERE id = $1", std::string(id));
    if (cur.empty()) return NotFound("ledger entry " + std::string(id) + " not found");
    return FailedPrecondition("ledger entry " + std::string(id) + " is " + Text(cur[0][0]) +
                                  ", not reserved: its call must not be sent",
                              "not_reserved");
  });
}

Result<std::vector<LedgerEntry>> PostgresStore::ListExpiredReservations(UnixMillis now) {
  static const std::string sql =
      Cat({"SELECT ", kLedgerColumns,
           " FROM ledger WHERE state = 'reserved' AND expires_at > 0 AND expires_at <= $1 "
           "ORDER BY expires_at, id"});
  return Transact("list expired reservations",
                  [&](pqxx::work& w) -> Result<std::vector<LedgerEntry>> {
                    pqxx::result r = w.exec_params(sql, now);
                    std::vector<LedgerEntry> out;
                    out.reserve(r.size());
                    for (const pqxx::row& row : r) {
                      INGEST_ASSIGN_OR_RETURN(LedgerEntry e, ReadLedger(row));
                      out.push_back(std::move(e));
                    }
                    return out;
                  });
}

Status PostgresStore::PutBudget(const Budget& b) {
  INGEST_RETURN_IF_ERROR(ValidateBudget(b));
  const UnixMillis updated = b.updated_at != 0 ? b.updated_at : Now();
  return Transact("put budget", [&](pqxx::work& w) -> Status {
    w.exec_params(
        "INSERT INTO budgets (scope, scope_key, period, limit_nanos, soft_ratio, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (scope, scope_key, period) DO UPDATE SET "
        "limit_nanos = excluded.limit_nanos, soft_ratio = excluded.soft_ratio, "
        "updated_at = excluded.updated_at",
        std::string(BudgetScopeName(b.scope)), b.scope_key, std::string(BudgetPeriodName(b.period)),
        b.hard_nanos, b.soft_ratio, updated);
    return Status::Ok();
  });
}

Status PostgresStore::DeleteBudget(BudgetScope scope, std::string_view scope_key,
                                   BudgetPeriod period) {
  return Transact("delete budget", [&](pqxx::work& w) -> Status {
    pqxx::result r =
        w.exec_params("DELETE FROM budgets WHERE scope = $1 AND scope_key = $2 AND period = $3",
                      std::string(BudgetScopeName(scope)), std::string(scope_key),
                      std::string(BudgetPeriodName(period)));
    if (r.affected_rows() == 0) {
      return NotFound("no " + std::string(BudgetPeriodName(period)) + " budget for " +
                      std::string(BudgetScopeName(scope)) + " \"" + std::string(scope_key) + "\"");
    }
    return Status::Ok();
  });
}

// Under the Reserve lock, so a stop and a reservation never interleave.
Result<int64_t> PostgresStore::StopBudgets(const LedgerEntry& row, int64_t overrun_nanos,
                                           std::string_view reason, UnixMillis now) {
  return Transact("stop budgets", [&](pqxx::work& w) -> Result<int64_t> {
    w.exec_params("SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))",
                  kReserveLockClass);
    INGEST_ASSIGN_OR_RETURN(std::vector<Budget> budgets, ReadBudgets(w));
    int64_t n = 0;
    for (const Budget& b : budgets) {
      if (!BudgetApplies(b, row)) continue;
      w.exec_params(
          "UPDATE budgets SET stopped_at = CASE WHEN stopped_at = 0 THEN $1 ELSE stopped_at END, "
          "overrun_nanos = overrun_nanos + $2, stop_reason = $3, updated_at = $1 "
          "WHERE scope = $4 AND scope_key = $5 AND period = $6",
          now, overrun_nanos, std::string(reason), std::string(BudgetScopeName(b.scope)),
          b.scope_key, std::string(BudgetPeriodName(b.period)));
      ++n;
    }
    return n;
  });
}

Result<int64_t> PostgresStore::AckBudgets(std::optional<BudgetScope> scope,
                                          std::string_view scope_key, BudgetPeriod period,
                                          UnixMillis now) {
  return Transact("ack budgets", [&](pqxx::work& w) -> Result<int64_t> {
    INGEST_ASSIGN_OR_RETURN(std::vector<Budget> budgets, ReadBudgets(w));
    int64_t found = 0, stopped = 0;
    for (const Budget& b : budgets) {
      if (scope && (b.scope != *scope || b.scope_key != scope_key || b.period != period)) {
        continue;
      }
      ++found;
      if (b.stopped_at == 0) continue;
      ++stopped;
      w.exec_params(
          "UPDATE budgets SET stopped_at = 0, overrun_nanos = 0, stop_reason = '', "
          "updated_at = $1 WHERE scope = $2 AND scope_key = $3 AND period = $4",
          now, std::string(BudgetScopeName(b.scope)), b.scope_key,
          std::string(BudgetPeriodName(b.period)));
    }
    if (scope && found == 0) {
      return NotFound("no " + std::string(BudgetPeriodName(period)) + " budget for " +
                      std::string(BudgetScopeName(*scope)) + " \"" + std::string(scope_key) + "\"");
    }
    return stopped;
  });
}

// REPEATABLE READ would give one snapshot for all sums; READ COMMITTED statements may each see
// newer commits, which for a status listing only means a fresher number.
Result<std::vector<BudgetStatus>> PostgresStore::ListBudgetStatus(UnixMillis now) {
  return Transact("list budget status", [&](pqxx::work& w) -> Result<std::vector<BudgetStatus>> {
    INGEST_ASSIGN_OR_RETURN(std::vector<Budget> budgets, ReadBudgets(w));
    std::vector<BudgetStatus> out;
    out.reserve(budgets.size());
    for (const Budget& b : budgets) out.push_back(Spend(w, b, now));
    return out;
  });
}

Status PostgresStore::ConfigureRateBucket(std::string_view key, std::string_view kind,
                                          double capacity, double refill_per_sec, UnixMillis now) {
  if (!(capacity >= 0) || !(refill_per_sec >= 0)) {
    return InvalidArgument("rate bucket capacity and refill must be >= 0", "bad_rate_bucket");
  }
  const std::string kind_s(kind);
  return Transact("configure rate bucket", [&](pqxx::work& w) -> Status {
    // Insert-if-absent first, so the row exists to be locked; a concurrent creator makes this a
    // no-op and the update below then applies on top of its row.
    pqxx::result created =
        w.exec_params(Cat({"INSERT INTO limits (", kBucketColumns,
                           ") VALUES ($1, $2, $3, $3, $4, 0, $5) ON CONFLICT DO NOTHING"}),
                      std::string(key), kind_s, capacity, refill_per_sec, now);
    if (created.affected_rows() == 1) return Status::Ok();
    std::vector<RateBucket> existing = LockBuckets(w, key, kind_s.c_str());
    if (existing.empty()) return Internal("rate bucket vanished while configuring it");
    WriteBucket(w, ReconfigureBucket(existing[0], capacity, refill_per_sec, now));
    return Status::Ok();
  });
}

Result<RateGrant> PostgresStore::AcquireRate(std::string_view key,
                                             std::span<const RateDemand> demands, Duration max_wait,
                                             UnixMillis now) {
  return Transact("acquire rate", [&](pqxx::work& w) -> Result<RateGrant> {
    std::vector<RateBucket> buckets = LockBuckets(w, key, nullptr);
    RatePlan plan = PlanAcquire(buckets, demands, max_wait, now);
    for (const RateBucket& b : plan.updated) WriteBucket(w, b);
    return plan.grant;
  });
}

Status PostgresStore::ObserveRate(std::string_view key, std::string_view kind,
                                  std::optional<double> remaining, UnixMillis blocked_until,
                                  UnixMillis now) {
  const std::string kind_s(kind);
  return Transact("observe rate", [&](pqxx::work& w) -> Status {
    std::vector<RateBucket> buckets = LockBuckets(w, key, kind_s.c_str());
    if (buckets.empty()) return Status::Ok();  // unknown bucket: nothing to adjust
    WriteBucket(w, ObserveBucket(buckets[0], remaining, blocked_until, now));
    return Status::Ok();
  });
}

Result<std::vector<RateBucket>> PostgresStore::ListRateBuckets(UnixMillis now) {
  return Transact("list rate buckets", [&](pqxx::work& w) -> Result<std::vector<RateBucket>> {
    pqxx::result r =
        w.exec(Cat({"SELECT ", kBucketColumns, " FROM limits ORDER BY provider_key, kind"}));
    std::vector<RateBucket> out;
    out.reserve(r.size());
    for (const pqxx::row& row : r) out.push_back(RefillBucket(ReadBucket(row), now));
    return out;
  });
}

Status PostgresStore::PutProviderState(const ProviderState& p) {
  if (p.provider.empty()) return InvalidArgument("provider must not be empty", "missing_id");
  const UnixMillis updated = p.updated_at != 0 ? p.updated_at : Now();
  return Transact("put provider state", [&](pqxx::work& w) -> Status {
    w.exec_params(
        "INSERT INTO provider_state (provider, stopped, reason, message, since, probe_at, "
        "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (provider) DO UPDATE SET "
        "stopped = excluded.stopped, reason = excluded.reason, message = excluded.message, "
        "since = excluded.since, probe_at = excluded.probe_at, updated_at = excluded.updated_at",
        p.provider, p.stopped, p.reason, p.message, p.since, p.probe_at, updated);
    return Status::Ok();
  });
}

Result<std::vector<ProviderState>> PostgresStore::ListProviderStates() {
  return Transact("list provider states", [&](pqxx::work& w) -> Result<std::vector<ProviderState>> {
    pqxx::result r = w.exec(
        "SELECT provider, stopped, reason, message, since, probe_at, updated_at "
        "FROM provider_state ORDER BY provider");
    std::vector<ProviderState> out;
    out.reserve(r.size());
    for (const pqxx::row& row : r) {
      out.push_back({Text(row[0]), row[1].as<bool>(), Text(row[2]), Text(row[3]), Int(row[4]),
                     Int(row[5]), Int(row[6])});
    }
    return out;
  });
}

Result<int64_t> PostgresStore::WakeDeferred(std::span<const std::string> reasons, UnixMillis now) {
  static constexpr std::string_view kWake =
      "UPDATE jobs SET next_attempt_at = $1, updated_at = $1, version = version + 1 "
      "WHERE state = 'deferred' AND next_attempt_at > $1 AND ($2::text IS NULL OR "
      "defer_reason = $2)";
  return Transact("wake deferred", [&](pqxx::work& w) -> Result<int64_t> {
    int64_t woken = 0;
    if (reasons.empty()) {
      woken =
          w.exec_params(std::string(kWake), now, static_cast<const char*>(nullptr)).affected_rows();
    } else {
      for (const std::string& reason : reasons) {
        woken += w.exec_params(std::string(kWake), now, reason).affected_rows();
      }
    }
    return woken;
  });
}

}  // namespace ingest::store::postgres
