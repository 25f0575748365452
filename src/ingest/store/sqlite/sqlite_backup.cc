#include "ingest/store/sqlite/sqlite_backup.h"

#include <sqlite3.h>

#include <filesystem>
#include <memory>

#include "ingest/store/sqlite/connection.h"

namespace ingest::store {
namespace {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;

Result<Db> OpenDb(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) return sqlite::ErrorStatus(raw, rc, "open " + path);
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, 10'000);
  return db;
}

Result<int64_t> QueryInt(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
  if (rc != SQLITE_OK) return sqlite::ErrorStatus(db, rc, sql);
  rc = sqlite3_step(stmt);
  const int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
  sqlite3_finalize(stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sqlite::ErrorStatus(db, rc, sql);
  return v;
}

}  // namespace

Status BackupSqliteDatabase(const std::string& src, const std::string& dst) {
  std::error_code ec;
  if (!std::filesystem::exists(src, ec)) {
    return NotFound("no SQLite database at " + src, "store_missing");
  }
  if (std::filesystem::exists(dst, ec)) {
    return AlreadyExists(dst + " exists; a backup never overwrites a file", "backup_exists");
  }
  INGEST_ASSIGN_OR_RETURN(Db from, OpenDb(src, SQLITE_OPEN_READONLY));
  INGEST_ASSIGN_OR_RETURN(Db to, OpenDb(dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  sqlite3_backup* b = sqlite3_backup_init(to.get(), "main", from.get(), "main");
  if (b == nullptr) return sqlite::ErrorStatus(to.get(), sqlite3_errcode(to.get()), "backup init");
  // Every page in one step: the source's read transaction is held for the whole copy, so the
  // copy is one snapshot (a stepwise copy restarts whenever another connection writes).
  int rc = sqlite3_backup_step(b, -1);
  const int finish = sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) return sqlite::ErrorStatus(to.get(), rc, "backup of " + src);
  if (finish != SQLITE_OK) return sqlite::ErrorStatus(to.get(), finish, "backup of " + src);
  // The copy is a plain database file: a single file to move around, no -wal beside it.
  rc = sqlite3_exec(to.get(), "PRAGMA journal_mode=DELETE", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return sqlite::ErrorStatus(to.get(), rc, "journal_mode of " + dst);
  return Status::Ok();
}

Result<SqliteSnapshotInfo> InspectSqliteDatabase(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return NotFound("no SQLite database at " + path, "store_missing");
  }
  INGEST_ASSIGN_OR_RETURN(Db db, OpenDb(path, SQLITE_OPEN_READONLY));
  {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db.get(), "PRAGMA integrity_check", -1, &stmt, nullptr);
    if (rc != SQLITE_OK) return sqlite::ErrorStatus(db.get(), rc, "integrity_check");
    rc = sqlite3_step(stmt);
    std::string answer = rc == SQLITE_ROW
                             ? reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))
                             : "no answer";
    sqlite3_finalize(stmt);
    if (answer != "ok") {
      return DataLoss(path + ": integrity_check: " + answer, "backup_corrupt");
    }
  }
  SqliteSnapshotInfo info;
  INGEST_ASSIGN_OR_RETURN(int64_t has_migrations,
                          QueryInt(db.get(),
                                   "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                   "name = 'schema_migrations'"));
  if (has_migrations == 0) return info;  // an empty database
  INGEST_ASSIGN_OR_RETURN(int64_t version, QueryInt(db.get(),
                                                    "SELECT COALESCE(MAX(version), 0) FROM "
                                                    "schema_migrations"));
  info.schema_version = static_cast<int>(version);
  if (info.schema_version == 0) return info;
  INGEST_ASSIGN_OR_RETURN(info.documents, QueryInt(db.get(), "SELECT count(*) FROM documents"));
  INGEST_ASSIGN_OR_RETURN(info.chunks, QueryInt(db.get(), "SELECT count(*) FROM chunks"));
  INGEST_ASSIGN_OR_RETURN(info.vectors, QueryInt(db.get(), "SELECT count(*) FROM vectors"));
  INGEST_ASSIGN_OR_RETURN(info.ledger_rows, QueryInt(db.get(), "SELECT count(*) FROM ledger"));
  sqlite3_stmt* stmt = nullptr;
  const char* sql =
      "SELECT DISTINCT blob_key FROM documents WHERE blob_key <> '' ORDER BY blob_key";
  int rc = sqlite3_prepare_v2(db.get(), sql, -1, &stmt, nullptr);
  if (rc != SQLITE_OK) return sqlite::ErrorStatus(db.get(), rc, sql);
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    info.blob_keys.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
  }
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) return sqlite::ErrorStatus(db.get(), rc, sql);
  return info;
}

}  // namespace ingest::store
