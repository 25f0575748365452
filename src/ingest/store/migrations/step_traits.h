// What the runner needs to know about each migration step beyond its SQL
// (docs/operations/runbooks/rollback.md):
//
// Expand-only steps add tables, columns with defaults or indexes and change nothing an older
// binary reads or writes, so the previous release keeps working on the new schema during a
// rolling upgrade. The runner records each such step it applies in `schema_expand_steps`; a
// binary finding the schema newer than it knows runs when every newer step is recorded there
// (Store::CheckSchemaCurrent). Default: a step is not expand-only.
//
// What each down step would destroy, so `ingestd migrate down` can refuse a lossy step unless
// the operator says `--allow-data-loss`.
//
// A down step loses data when it drops a table or column holding values, or narrows values
// (nano- to micro-dollars). For each such step, `count_sql` counts, on the schema as it is just
// before that down step runs, the rows whose data it would destroy; zero means the step loses
// nothing on this database and runs. One SQL text serves both dialects (plain SELECT count(*),
// `<>` and `%`). A step not listed drops nothing that holds data (an index, or a table of
// short-lived leases) — migrations_losses_test.cc checks that every step whose down SQL drops
// or rewrites something is either listed or named there as transient.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "ingest/common/status.h"
#include "ingest/store/migrations/migration.h"

namespace ingest::store::migrations {

struct DownLoss {
  int version;
  std::string_view what;       // for the refusal: what the step would drop
  std::string_view count_sql;  // one row, one integer: rows affected on this database
};

std::span<const DownLoss> DownLosses();

// True for the steps an older binary works with (see above).
bool IsExpandOnly(int version);

// The entry for `version`, or nullptr when its down step loses nothing.
const DownLoss* DownLossOf(int version);

// The refusal of `step`, which would destroy `rows` rows' data: kFailedPrecondition, reason
// "data_loss_refused", naming the step, the loss and the way out.
Status DataLossRefused(const MigrationStep& step, const DownLoss& loss, int64_t rows);

}  // namespace ingest::store::migrations
