// Copies of a live SQLite store for `ingestd backup` / `ingestd restore` (docs/operations/
// runbooks/backup-restore.md). Only the app's backup command and tests use these.
#pragma once

#include <string>
#include <vector>

#include "ingest/common/result.h"

namespace ingest::store {

// Copies the database at `src` to a new file `dst` with SQLite's online backup API, in one
// pass under one read transaction: `dst` is a consistent snapshot of `src` as of one commit,
// while other threads and processes keep writing (WAL readers do not block the writer). `dst`
// must not exist. kNotFound when `src` does not exist; kUnavailable on an I/O error.
Status BackupSqliteDatabase(const std::string& src, const std::string& dst);

// What a database file holds, read without migrating it: the schema version, the blob key of
// every document, and row counts of the tables a restore is compared by. The file is opened
// read-only. kDataLoss when PRAGMA integrity_check does not answer "ok".
struct SqliteSnapshotInfo {
  int schema_version = 0;
  std::vector<std::string> blob_keys;  // distinct, sorted
  int64_t documents = 0;
  int64_t chunks = 0;
  int64_t vectors = 0;
  int64_t ledger_rows = 0;
};
Result<SqliteSnapshotInfo> InspectSqliteDatabase(const std::string& path);

}  // namespace ingest::store
