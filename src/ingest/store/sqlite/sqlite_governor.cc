// Governor rows: reservations, budgets, shared rate buckets, provider state, waking deferred
// jobs. Every read-modify-write runs inside one BEGIN IMMEDIATE transaction: SQLite's write lock
// serialises it against every other connection and process, which is what makes Reserve's
// check-then-insert safe (DESIGN §5: a hard budget is never exceeded, with any number of
// workers).
#include <string>
#include <utility>

#include "ingest/store/governor_rules.h"
#include "ingest/store/sqlite/rows.h"
#include "ingest/store/sqlite/sqlite_store_impl.h"

namespace ingest::store::sqlite {
namespace {

const std::string& SelectLedgerById() {
  static const std::string sql =
      std::string("SELECT ").append(kLedgerColumns).append(" FROM ledger WHERE id = ?");
  return sql;
}

Result<std::optional<LedgerEntry>> FindLedger(Connection& conn, std::string_view id) {
  INGEST_ASSIGN_OR_RETURN(Stmt q, conn.Prepare(SelectLedgerById()));
  q.Bind(1, id);
  INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<LedgerEntry>();
  INGEST_ASSIGN_OR_RETURN(LedgerEntry e, ReadLedger(q));
  return std::optional<LedgerEntry>(std::move(e));
}

// Every budget, in ListBudgetStatus order.
Result<std::vector<Budget>> ReadBudgets(Connection& conn) {
  INGEST_ASSIGN_OR_RETURN(Stmt q, conn.Prepare("SELECT scope, scope_key, period, limit_nanos, "
                                               "soft_ratio, updated_at, stopped_at, "
                                               "overrun_nanos, stop_reason FROM budgets"));
  std::vector<Budget> out;
  for (;;) {
    INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    Budget b;
    auto scope = ParseBudgetScope(q.TextView(0));
    if (!scope.ok()) return DataLoss(scope.status().message(), "bad_row");
    auto period = ParseBudgetPeriod(q.TextView(2));
    if (!period.ok()) return DataLoss(period.status().message(), "bad_row");
    b.scope = *scope;
    b.scope_key = q.Text(1);
    b.period = *period;
    b.hard_nanos = q.Int(3);
    b.soft_ratio = q.Real(4);
    b.updated_at = q.Int(5);
    b.stopped_at = q.Int(6);
    b.overrun_nanos = q.Int(7);
    b.stop_reason = q.Text(8);
    out.push_back(std::move(b));
  }
  SortBudgets(&out);
  return out;
}

// `budget`'s spend in its window at `now`. One statement per scope so each can use its index
// (ledger_created, ledger_tenant_time, ledger_service_time).
Result<BudgetStatus> Spend(Connection& conn, const Budget& budget, UnixMillis now) {
  static constexpr std::string_view kSum =
      "SELECT COALESCE(SUM(CASE WHEN state = 'settled' THEN cost_nanos ELSE 0 END), 0), "
      "COALESCE(SUM(CASE WHEN state = 'reserved' THEN cost_nanos ELSE 0 END), 0) FROM ledger "
      "WHERE created_at >= ?1 AND created_at < ?2 AND state IN ('reserved', 'settled')";
  static const std::string global(kSum);
  static const std::string tenant = std::string(kSum) + " AND tenant = ?3";
  static const std::string service = std::string(kSum) + " AND service = ?3";
  BudgetStatus st;
  st.budget = budget;
  st.window = PeriodWindowAt(budget.period, now);
  const std::string* sql = &global;
  if (budget.scope == BudgetScope::kTenant) sql = &tenant;
  if (budget.scope == BudgetScope::kService) sql = &service;
  INGEST_ASSIGN_OR_RETURN(Stmt q, conn.Prepare(*sql));
  q.Bind(1, st.window.start).Bind(2, st.window.end);
  if (budget.scope != BudgetScope::kGlobal) q.Bind(3, budget.scope_key);
  INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
  if (row) {
    st.settled_nanos = q.Int(0);
    st.reserved_nanos = q.Int(1);
  }
  return st;
}

RateBucket ReadBucket(const Stmt& q) {
  RateBucket b;
  b.key = q.Text(0);
  b.kind = q.Text(1);
  b.capacity = q.Real(2);
  b.available = q.Real(3);
  b.refill_per_sec = q.Real(4);
  b.blocked_until = q.Int(5);
  b.updated_at = q.Int(6);
  return b;
}

constexpr std::string_view kBucketColumns =
    "provider_key, kind, capacity, available, refill_per_sec, blocked_until, updated_at";

Status WriteBucket(Connection& conn, const RateBucket& b) {
  INGEST_ASSIGN_OR_RETURN(
      Stmt u,
      conn.Prepare("UPDATE limits SET capacity = ?, available = ?, refill_per_sec = ?, "
                   "blocked_until = ?, updated_at = ? WHERE provider_key = ? AND kind = ?"));
  u.Bind(1, b.capacity).Bind(2, b.available).Bind(3, b.refill_per_sec).Bind(4, b.blocked_until);
  u.Bind(5, b.updated_at).Bind(6, b.key).Bind(7, b.kind);
  return u.Exec();
}

Result<std::vector<RateBucket>> ReadBuckets(Connection& conn, std::optional<std::string_view> key,
                                            std::optional<std::string_view> kind) {
  static const std::string sql =
      std::string("SELECT ")
          .append(kBucketColumns)
          .append(
              " FROM limits WHERE (?1 IS NULL OR provider_key = ?1) AND (?2 IS NULL OR kind = ?2) "
              "ORDER BY provider_key, kind");
  INGEST_ASSIGN_OR_RETURN(Stmt q, conn.Prepare(sql));
  if (key) {
    q.Bind(1, *key);
  } else {
    q.BindNull(1);
  }
  if (kind) {
    q.Bind(2, *kind);
  } else {
    q.BindNull(2);
  }
  std::vector<RateBucket> out;
  for (;;) {
    INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(ReadBucket(q));
  }
  return out;
}

}  // namespace

Result<ReserveResult> SqliteStore::Reserve(const LedgerEntry& entry, UnixMillis now) {
  if (entry.id.empty()) return InvalidArgument("ledger entry id must not be empty", "missing_id");
  if (entry.cost_nanos < 0) {
    return InvalidArgument("reservation cost must be >= 0", "negative_cost");
  }
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  INGEST_ASSIGN_OR_RETURN(std::vector<Budget> budgets, ReadBudgets(*w.conn));
  for (const Budget& b : budgets) {
    if (!BudgetApplies(b, entry)) continue;
    INGEST_ASSIGN_OR_RETURN(BudgetStatus st, Spend(*w.conn, b, now));
    const int64_t spent = st.settled_nanos + st.reserved_nanos;
    if (b.stopped_at > 0 || entry.cost_nanos > b.hard_nanos - spent) {
      ReserveResult refused;
      refused.blocked_by = std::move(st);
      return refused;  // rolls back: nothing was written
    }
  }
  LedgerEntry row = entry;
  row.state = LedgerState::kReserved;
  row.estimate_nanos = entry.cost_nanos;
  row.created_at = now;
  row.updated_at = now;
  row.sent_at = 0;
  static const std::string sql = std::string("INSERT INTO ledger (")
                                     .append(kLedgerColumns)
                                     .append(") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  INGEST_ASSIGN_OR_RETURN(Stmt u, w->Prepare(sql));
  BindLedger(u, row);
  INGEST_RETURN_IF_ERROR(u.Exec());
  INGEST_RETURN_IF_ERROR(w.txn->Commit());
  ReserveResult ok;
  ok.reserved = true;
  return ok;
}

Status SqliteStore::SettleLedger(const LedgerEntry& entry, UnixMillis now) {
  if (entry.id.empty()) return InvalidArgument("ledger entry id must not be empty", "missing_id");
  LedgerEntry row = entry;
  row.state = LedgerState::kSettled;
  row.created_at = now;
  row.updated_at = now;
  row.expires_at = 0;  // only a reservation expires
  static const std::string sql =
      std::string("INSERT INTO ledger (")
          .append(kLedgerColumns)
          .append(
              ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET "
              "tokens = excluded.tokens, pages = excluded.pages, credits = excluded.credits, "
              "requests = excluded.requests, cost_nanos = excluded.cost_nanos, "
              "state = 'settled', provider_request_id = excluded.provider_request_id, "
              "note = excluded.note, updated_at = excluded.updated_at");
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  INGEST_ASSIGN_OR_RETURN(Stmt u, w->Prepare(sql));
  BindLedger(u, row);
  INGEST_RETURN_IF_ERROR(u.Exec());
  return w.txn->Commit();
}

Status SqliteStore::ReleaseLedger(std::string_view id, std::string_view note, UnixMillis now) {
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  INGEST_ASSIGN_OR_RETURN(Stmt u, w->Prepare("UPDATE ledger SET state = 'released', "
                                             "cost_nanos = 0, note = ?, updated_at = ? "
                                             "WHERE id = ? AND state = 'reserved'"));
  u.Bind(1, note).Bind(2, now).Bind(3, id);
  INGEST_RETURN_IF_ERROR(u.Exec());
  if (u.Changes() == 0) {
    INGEST_ASSIGN_OR_RETURN(std::optional<LedgerEntry> current, FindLedger(*w.conn, id));
    if (!current) return NotFound("ledger entry " + std::string(id) + " not found");
    return FailedPrecondition("ledger entry " + std::string(id) + " is " +
                                  std::string(LedgerStateName(current->state)) + ", not reserved",
                              "not_reserved");
  }
  return w.txn->Commit();
}

Status SqliteStore::MarkLedgerSent(std::string_view id, UnixMillis now) {
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  INGEST_ASSIGN_OR_RETURN(Stmt u, w->Prepare("UPDATE ledger SET sent_at = CASE WHEN sent_at > 0 "
                                             "THEN sent_at ELSE ? END, updated_at = ? "
                                             "WHERE id = ? AND state = 'reserved'"));
  u.Bind(1, now).Bind(2, now).Bind(3, id);
  INGEST_RETURN_IF_ERROR(u.Exec());
  if (u.Changes() == 0) {
    INGEST_ASSIGN_OR_RETURN(std::optional<LedgerEntry> current, FindLedger(*w.conn, id));
    if (!current) return NotFound("ledger entry " + std::string(id) + " not found");
    return FailedPrecondition("ledger entry " + std::string(id) + " is " +
                                  std::string(LedgerStateName(current->state)) +
                                  ", not reserved: its call must not be sent",
                              "not_reserved");
  }
  return w.txn->Commit();
}

Result<std::vector<LedgerEntry>> SqliteStore::ListExpiredReservations(UnixMillis now) {
  static const std::string sql =
      std::string("SELECT ")
          .append(kLedgerColumns)
          .append(
              " FROM ledger WHERE state = 'reserved' AND expires_at > 0 AND expires_at <= ? "
              "ORDER BY expires_at, id");
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  INGEST_ASSIGN_OR_RETURN(Stmt q, conn->Prepare(sql));
  q.Bind(1, now);
  std::vector<LedgerEntry> out;
  for (;;) {
    INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    INGEST_ASSIGN_OR_RETURN(LedgerEntry e, ReadLedger(q));
    out.push_back(std::move(e));
  }
  return out;
}

Status SqliteStore::PutBudget(const Budget& b) {
  INGEST_RETURN_IF_ERROR(ValidateBudget(b));
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  INGEST_ASSIGN_OR_RETURN(
      Stmt u, w->Prepare("INSERT INTO budgets (scope, scope_key, period, limit_nanos, "
                         "soft_ratio, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
                         "ON CONFLICT (scope, scope_key, period) DO UPDATE SET "
                         "limit_nanos = excluded.limit_nanos, "
                         "soft_ratio = excluded.soft_ratio, updated_at = excluded.updated_at"));
  u.Bind(1, BudgetScopeName(b.scope)).Bind(2, b.scope_key).Bind(3, BudgetPeriodName(b.period));
  u.Bind(4, b.hard_nanos).Bind(5, b.soft_ratio);
  u.Bind(6, b.updated_at != 0 ? b.updated_at : Now());
  INGEST_RETURN_IF_ERROR(u.Exec());
  return w.txn->Commit();
}

Status SqliteStore::DeleteBudget(BudgetScope scope, std::string_view scope_key,
                                 BudgetPeriod period) {
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  INGEST_ASSIGN_OR_RETURN(Stmt u, w->Prepare("DELETE FROM budgets WHERE scope = ? AND "
                                             "scope_key = ? AND period = ?"));
  u.Bind(1, BudgetScopeName(scope)).Bind(2, scope_key).Bind(3, BudgetPeriodName(period));
  INGEST_RETURN_IF_ERROR(u.Exec());
  if (u.Changes() == 0) {
    return NotFound("no " + std::string(BudgetPeriodName(period)) + " budget for " +
                    std::string(BudgetScopeName(scope)) + " \"" + std::string(scope_key) + "\"");
  }
  return w.txn->Commit();
}

Result<int64_t> SqliteStore::StopBudgets(const LedgerEntry& row, int64_t overrun_nanos,
                                         std::string_view reason, UnixMillis now) {
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  INGEST_ASSIGN_OR_RETURN(std::vector<Budget> budgets, ReadBudgets(*w.conn));
  int64_t n = 0;
  for (const Budget& b : budgets) {
    if (!BudgetApplies(b, row)) continue;
    INGEST_ASSIGN_OR_RETURN(
        Stmt u, w->Prepare("UPDATE budgets SET stopped_at = CASE WHEN stopped_at = 0 THEN ? "
                           "ELSE stopped_at END, overrun_nanos = overrun_nanos + ?, "
                           "stop_reason = ?, updated_at = ? WHERE scope = ? AND scope_key = ? "
                           "AND period = ?"));
    u.Bind(1, now).Bind(2, overrun_nanos).Bind(3, reason).Bind(4, now);
    u.Bind(5, BudgetScopeName(b.scope)).Bind(6, b.scope_key).Bind(7, BudgetPeriodName(b.period));
    INGEST_RETURN_IF_ERROR(u.Exec());
    ++n;
  }
  INGEST_RETURN_IF_ERROR(w.txn->Commit());
  return n;
}

Result<int64_t> SqliteStore::AckBudgets(std::optional<BudgetScope> scope,
                                        std::string_view scope_key, BudgetPeriod period,
                                        UnixMillis now) {
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  INGEST_ASSIGN_OR_RETURN(std::vector<Budget> budgets, ReadBudgets(*w.conn));
  int64_t found = 0, stopped = 0;
  for (const Budget& b : budgets) {
    if (scope && (b.scope != *scope || b.scope_key != scope_key || b.period != period)) continue;
    ++found;
    if (b.stopped_at == 0) continue;
    ++stopped;
    INGEST_ASSIGN_OR_RETURN(
        Stmt u, w->Prepare("UPDATE budgets SET stopped_at = 0, overrun_nanos = 0, "
                           "stop_reason = '', updated_at = ? WHERE scope = ? AND scope_key = ? "
                           "AND period = ?"));
    u.Bind(1, now).Bind(2, BudgetScopeName(b.scope)).Bind(3, b.scope_key);
    u.Bind(4, BudgetPeriodName(b.period));
    INGEST_RETURN_IF_ERROR(u.Exec());
  }
  if (scope && found == 0) {
    return NotFound("no " + std::string(BudgetPeriodName(period)) + " budget for " +
                    std::string(BudgetScopeName(*scope)) + " \"" + std::string(scope_key) + "\"");
  }
  INGEST_RETURN_IF_ERROR(w.txn->Commit());
  return stopped;
}

// One read transaction, so every budget's spend comes from the same snapshot.
Result<std::vector<BudgetStatus>> SqliteStore::ListBudgetStatus(UnixMillis now) {
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  INGEST_ASSIGN_OR_RETURN(std::unique_ptr<Txn> txn, Txn::Begin(&*conn, Txn::Kind::kRead));
  INGEST_ASSIGN_OR_RETURN(std::vector<Budget> budgets, ReadBudgets(*conn));
  std::vector<BudgetStatus> out;
  out.reserve(budgets.size());
  for (const Budget& b : budgets) {
    INGEST_ASSIGN_OR_RETURN(BudgetStatus st, Spend(*conn, b, now));
    out.push_back(std::move(st));
  }
  INGEST_RETURN_IF_ERROR(txn->Commit());
  return out;
}

Status SqliteStore::ConfigureRateBucket(std::string_view key, std::string_view kind,
                                        double capacity, double refill_per_sec, UnixMillis now) {
  if (!(capacity >= 0) || !(refill_per_sec >= 0)) {
    return InvalidArgument("rate bucket capacity and refill must be >= 0", "bad_rate_bucket");
  }
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  INGEST_ASSIGN_OR_RETURN(std::vector<RateBucket> existing, ReadBuckets(*w.conn, key, kind));
  if (existing.empty()) {
    static const std::string sql = std::string("INSERT INTO limits (")
                                       .append(kBucketColumns)
                                       .append(") VALUES (?, ?, ?, ?, ?, 0, ?)");
    INGEST_ASSIGN_OR_RETURN(Stmt u, w->Prepare(sql));
    u.Bind(1, key).Bind(2, kind).Bind(3, capacity).Bind(4, capacity).Bind(5, refill_per_sec);
    u.Bind(6, now);
    INGEST_RETURN_IF_ERROR(u.Exec());
  } else {
    INGEST_RETURN_IF_ERROR(
        WriteBucket(*w.conn, ReconfigureBucket(existing[0], capacity, refill_per_sec, now)));
  }
  return w.txn->Commit();
}

Result<RateGrant> SqliteStore::AcquireRate(std::string_view key,
                                           std::span<const RateDemand> demands, Duration max_wait,
                                           UnixMillis now) {
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  INGEST_ASSIGN_OR_RETURN(std::vector<RateBucket> buckets, ReadBuckets(*w.conn, key, std::nullopt));
  RatePlan plan = PlanAcquire(buckets, demands, max_wait, now);
  for (const RateBucket& b : plan.updated) INGEST_RETURN_IF_ERROR(WriteBucket(*w.conn, b));
  INGEST_RETURN_IF_ERROR(w.txn->Commit());
  return plan.grant;
}

Status SqliteStore::ObserveRate(std::string_view key, std::string_view kind,
                                std::optional<double> remaining, UnixMillis blocked_until,
                                UnixMillis now) {
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  INGEST_ASSIGN_OR_RETURN(std::vector<RateBucket> buckets, ReadBuckets(*w.conn, key, kind));
  if (buckets.empty()) return w.txn->Commit();  // unknown bucket: nothing to adjust
  INGEST_RETURN_IF_ERROR(
      WriteBucket(*w.conn, ObserveBucket(buckets[0], remaining, blocked_until, now)));
  return w.txn->Commit();
}

Result<std::vector<RateBucket>> SqliteStore::ListRateBuckets(UnixMillis now) {
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  INGEST_ASSIGN_OR_RETURN(std::vector<RateBucket> buckets,
                          ReadBuckets(*conn, std::nullopt, std::nullopt));
  for (RateBucket& b : buckets) b = RefillBucket(std::move(b), now);
  return buckets;
}

Status SqliteStore::PutProviderState(const ProviderState& p) {
  if (p.provider.empty()) return InvalidArgument("provider must not be empty", "missing_id");
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  INGEST_ASSIGN_OR_RETURN(
      Stmt u, w->Prepare("INSERT INTO provider_state (provider, stopped, reason, message, since, "
                         "probe_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                         "ON CONFLICT (provider) DO UPDATE SET stopped = excluded.stopped, "
                         "reason = excluded.reason, message = excluded.message, "
                         "since = excluded.since, probe_at = excluded.probe_at, "
                         "updated_at = excluded.updated_at"));
  u.Bind(1, p.provider).Bind(2, p.stopped ? 1 : 0).Bind(3, p.reason).Bind(4, p.message);
  u.Bind(5, p.since).Bind(6, p.probe_at).Bind(7, p.updated_at != 0 ? p.updated_at : Now());
  INGEST_RETURN_IF_ERROR(u.Exec());
  return w.txn->Commit();
}

Result<std::vector<ProviderState>> SqliteStore::ListProviderStates() {
  INGEST_ASSIGN_OR_RETURN(ConnectionPool::Handle conn, pool_.Acquire());
  INGEST_ASSIGN_OR_RETURN(Stmt q, conn->Prepare("SELECT provider, stopped, reason, message, "
                                                "since, probe_at, updated_at FROM provider_state "
                                                "ORDER BY provider"));
  std::vector<ProviderState> out;
  for (;;) {
    INGEST_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back({q.Text(0), q.Int(1) != 0, q.Text(2), q.Text(3), q.Int(4), q.Int(5), q.Int(6)});
  }
  return out;
}

Result<int64_t> SqliteStore::WakeDeferred(std::span<const std::string> reasons, UnixMillis now) {
  static constexpr std::string_view kWake =
      "UPDATE jobs SET next_attempt_at = ?1, updated_at = ?1, version = version + 1 "
      "WHERE state = 'deferred' AND next_attempt_at > ?1 AND (?2 IS NULL OR defer_reason = ?2)";
  INGEST_ASSIGN_OR_RETURN(WriteScope w, BeginWrite());
  int64_t woken = 0;
  // One UPDATE per reason (all of them with a NULL reason); each Stmt resets when it goes.
  const size_t rounds = reasons.empty() ? 1 : reasons.size();
  for (size_t i = 0; i < rounds; ++i) {
    INGEST_ASSIGN_OR_RETURN(Stmt u, w->Prepare(kWake));
    u.Bind(1, now);
    if (reasons.empty()) {
      u.BindNull(2);
    } else {
      u.Bind(2, reasons[i]);
    }
    INGEST_RETURN_IF_ERROR(u.Exec());
    woken += u.Changes();
  }
  INGEST_RETURN_IF_ERROR(w.txn->Commit());
  return woken;
}

}  // namespace ingest::store::sqlite
