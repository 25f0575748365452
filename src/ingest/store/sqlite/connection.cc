#include "ingest/store/sqlite/connection.h"

#include <string>
#include <utility>

namespace ingest::store::sqlite {

Status ErrorStatus(sqlite3* db, int rc, std::string_view context) {
  const int ext = db ? sqlite3_extended_errcode(db) : rc;
  std::string msg = std::string(context) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Unavailable(std::move(msg), "database_busy");
    case SQLITE_CONSTRAINT:
      if (ext == SQLITE_CONSTRAINT_PRIMARYKEY || ext == SQLITE_CONSTRAINT_UNIQUE) {
        return AlreadyExists(std::move(msg), "duplicate_key");
      }
      if (ext == SQLITE_CONSTRAINT_FOREIGNKEY) {
        return InvalidArgument(std::move(msg), "missing_reference");
      }
      return InvalidArgument(std::move(msg), "constraint_violation");
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLoss(std::move(msg), "database_corrupt");
    case SQLITE_FULL:
      return ResourceExhausted(std::move(msg), "disk_full");
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
      return Unavailable(std::move(msg), "database_io");
    default:
      return Internal(std::move(msg), "database_error");
  }
}

Stmt::~Stmt() {
  if (stmt_) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

Stmt& Stmt::Bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
Stmt& Stmt::Bind(int i, double v) {
  sqlite3_bind_double(stmt_, i, v);
  return *this;
}
Stmt& Stmt::Bind(int i, std::string_view v) {
  sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}
Stmt& Stmt::BindBlob(int i, const void* data, size_t bytes) {
  // A zero-length blob must still be a blob, not NULL.
  if (bytes == 0) {
    sqlite3_bind_zeroblob(stmt_, i, 0);
  } else {
    sqlite3_bind_blob64(stmt_, i, data, bytes, SQLITE_TRANSIENT);
  }
  return *this;
}
Stmt& Stmt::BindNull(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}

Result<bool> Stmt::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return ErrorStatus(db_, rc, sqlite3_sql(stmt_));
}

Status Stmt::Exec() {
  for (;;) {
    INGEST_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

std::string Stmt::Text(int col) const { return std::string(TextView(col)); }

std::string_view Stmt::TextView(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  if (!p) return {};
  return std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

std::span<const std::byte> Stmt::Blob(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  if (!p || n <= 0) return {};
  return {static_cast<const std::byte*>(p), static_cast<size_t>(n)};
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, int busy_timeout_ms) {
  sqlite3* db = nullptr;
  // NOMUTEX: a connection is only ever used by one thread at a time (the pool guarantees it).
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status st = ErrorStatus(db, rc, "open " + path);
    sqlite3_close_v2(db);
    return st;
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, busy_timeout_ms);
  std::unique_ptr<Connection> conn(new Connection(db));
  // WAL lets readers run alongside the single writer (other threads and other processes);
  // synchronous=NORMAL is durable across process crashes in WAL mode, and only the last commits
  // before a power loss may be lost.
  INGEST_RETURN_IF_ERROR(conn->ExecScript(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"));
  return conn;
}

Connection::~Connection() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Result<Stmt> Connection::Prepare(std::string_view sql) {
  auto it = cache_.find(std::string(sql));
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return ErrorStatus(db_, rc, "prepare");
    it = cache_.emplace(std::string(sql), stmt).first;
  }
  return Stmt(db_, it->second);
}

Status Connection::ExecScript(std::string_view sql) {
  char* err = nullptr;
  const std::string text(sql);
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    sqlite3_free(err);
    return ErrorStatus(db_, rc, "exec");
  }
  return Status::Ok();
}

Result<ConnectionPool::Handle> ConnectionPool::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<Connection> c = std::move(idle_.back());
      idle_.pop_back();
      return Handle(this, std::move(c));
    }
  }
  INGEST_ASSIGN_OR_RETURN(std::unique_ptr<Connection> c, Connection::Open(path_, busy_timeout_ms_));
  return Handle(this, std::move(c));
}

void ConnectionPool::Return(std::unique_ptr<Connection> conn) {
  // A connection left inside a transaction (an error path that could not roll back) is not
  // safe to reuse.
  if (!sqlite3_get_autocommit(conn->handle())) return;
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(std::move(conn));
}

Result<std::unique_ptr<Txn>> Txn::Begin(Connection* conn, Kind kind) {
  INGEST_RETURN_IF_ERROR(
      conn->ExecScript(kind == Kind::kWrite ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED"));
  return std::unique_ptr<Txn>(new Txn(conn));
}

Txn::~Txn() {
  if (open_) conn_->ExecScript("ROLLBACK").IgnoreError();
}

Status Txn::Commit() {
  Status st = conn_->ExecScript("COMMIT");
  if (st.ok()) open_ = false;
  return st;
}

}  // namespace ingest::store::sqlite
