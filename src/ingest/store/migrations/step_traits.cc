#include "ingest/store/migrations/step_traits.h"

#include <array>
#include <string>

namespace ingest::store::migrations {
namespace {

constexpr std::array<DownLoss, 9> kLosses = {{
    {1, "every table: documents, jobs, chunks, vectors, the ledger, budgets and events",
     "SELECT (SELECT count(*) FROM documents) + (SELECT count(*) FROM jobs) + "
     "(SELECT count(*) FROM chunks) + (SELECT count(*) FROM vectors) + "
     "(SELECT count(*) FROM ledger) + (SELECT count(*) FROM budgets) + "
     "(SELECT count(*) FROM events)"},
    {3,
     "the governor's state: provider stops (provider_state), Retry-After blocks "
     "(limits.blocked_until) and the ledger's reservation estimates, expiries and notes",
     "SELECT (SELECT count(*) FROM provider_state) + "
     "(SELECT count(*) FROM limits WHERE blocked_until <> 0) + "
     "(SELECT count(*) FROM ledger WHERE estimate_micros <> 0 OR expires_at <> 0 OR note <> '')"},
    {5,
     "nano-dollar precision: ledger amounts that are not whole micro-dollars are rounded up, "
     "budget limits rounded down",
     "SELECT (SELECT count(*) FROM ledger WHERE cost_nanos % 1000 <> 0 OR "
     "estimate_nanos % 1000 <> 0) + (SELECT count(*) FROM budgets WHERE limit_nanos % 1000 <> 0)"},
    {6, "budget stops (stopped_at, overrun_nanos, stop_reason of stopped budgets)",
     "SELECT count(*) FROM budgets WHERE stopped_at <> 0 OR overrun_nanos <> 0 OR "
     "stop_reason <> ''"},
    {7, "the query-vector cache (each cached query would be embedded, and paid for, again)",
     "SELECT count(*) FROM query_vectors"},
    {8,
     "documents' metadata, external_ids and versions, and the tombstones of deleted documents "
     "(they would look live again, without chunks)",
     "SELECT count(*) FROM documents WHERE external_id <> '' OR metadata <> '{}' OR "
     "version <> 1 OR deleted_at <> 0"},
    {9, "the API keys (every key stops working) and the audit log",
     "SELECT (SELECT count(*) FROM api_keys) + (SELECT count(*) FROM audit_log)"},
    {11, "blobs stored in the database (the original uploads of every document using them)",
     "SELECT (SELECT count(*) FROM blobs) + (SELECT count(*) FROM blob_chunks)"},
    {12,
     "which open reservations were never sent (ledger.sent_at): an orphaned one would be "
     "settled at its estimate (over-counted) instead of released",
     "SELECT count(*) FROM ledger WHERE state = 'reserved' AND sent_at = 0"},
}};

// 2 an index; 3 defaulted columns, a table, indexes; 4 a table; 6 defaulted columns; 7 a
// table; 9 two tables; 10 the full-text index (tables, triggers, a column its trigger fills);
// 11 two tables; 12 a defaulted column. Not 1 (everything) nor 5 (renames the amount columns:
// an older binary cannot read them).
constexpr std::array<int, 9> kExpandOnly = {2, 3, 4, 6, 7, 9, 10, 11, 12};

}  // namespace

std::span<const DownLoss> DownLosses() { return kLosses; }

bool IsExpandOnly(int version) {
  for (int v : kExpandOnly) {
    if (v == version) return true;
  }
  return false;
}

const DownLoss* DownLossOf(int version) {
  for (const DownLoss& l : kLosses) {
    if (l.version == version) return &l;
  }
  return nullptr;
}

Status DataLossRefused(const MigrationStep& step, const DownLoss& loss, int64_t rows) {
  return FailedPrecondition(
      "migration " + std::to_string(step.version) + " (" + std::string(step.name) +
          ") down would destroy data: " + std::string(loss.what) + " (" + std::to_string(rows) +
          " row(s) on this database). Nothing of this step was changed. Back up first "
          "(ingestd backup, or pg_dump), then re-run with --allow-data-loss; or stay on this "
          "schema and fix forward",
      "data_loss_refused");
}

}  // namespace ingest::store::migrations
