// Thin RAII layer over the SQLite C API for the store: connections with a prepared-statement
// cache, statements that reset themselves, transactions that roll back unless committed, and the
// mapping from SQLite result codes to Status.
//
// Not thread-safe: a Connection (and its statements) is used by one thread at a time; the
// ConnectionPool hands connections to threads. The pool itself is thread-safe.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ingest/common/result.h"
#include "ingest/common/status.h"

namespace ingest::store::sqlite {

// Maps a SQLite result code to a Status: BUSY/LOCKED → kUnavailable (retryable), constraint →
// kAlreadyExists (unique/primary key) or kInvalidArgument, CORRUPT/NOTADB → kDataLoss, else
// kInternal. `context` names the operation.
Status ErrorStatus(sqlite3* db, int rc, std::string_view context);

// A cached prepared statement, borrowed from a Connection. Resets and clears its bindings when
// destroyed so the next user starts clean. Bind indexes are 1-based, as in SQLite.
class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Stmt(Stmt&& other) noexcept : db_(other.db_), stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  Stmt& Bind(int i, int64_t v);
  Stmt& Bind(int i, int v) { return Bind(i, static_cast<int64_t>(v)); }
  Stmt& Bind(int i, double v);
  Stmt& Bind(int i, std::string_view v);  // copied (SQLITE_TRANSIENT)
  Stmt& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  Stmt& Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  Stmt& BindBlob(int i, const void* data, size_t bytes);
  Stmt& BindNull(int i);
  template <typename T>
  Stmt& BindOptional(int i, const std::optional<T>& v) {
    return v ? Bind(i, *v) : BindNull(i);
  }

  // Advances: true when a row is available, false when done. Errors become Status.
  Result<bool> Step();
  // Runs a statement that returns no rows.
  Status Exec();

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Real(int col) const { return sqlite3_column_double(stmt_, col); }
  std::string Text(int col) const;
  std::string_view TextView(int col) const;  // valid until the next Step()
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::span<const std::byte> Blob(int col) const;  // valid until the next Step()

  int Changes() const { return sqlite3_changes(db_); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

// One open database handle configured for the store (WAL, synchronous=NORMAL, busy timeout,
// foreign keys) with a cache of prepared statements keyed by SQL text.
class Connection {
 public:
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, int busy_timeout_ms);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // A prepared statement for `sql` (one statement), compiled once per connection.
  Result<Stmt> Prepare(std::string_view sql);
  // Runs one or more statements with no parameters and no result rows (DDL, BEGIN, COMMIT).
  Status ExecScript(std::string_view sql);
  sqlite3* handle() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

// Thread-safe pool: each thread borrows a connection for the duration of one store call. Opens
// connections lazily; idle ones are kept for reuse (at most one per concurrently active thread).
class ConnectionPool {
 public:
  ConnectionPool(std::string path, int busy_timeout_ms)
      : path_(std::move(path)), busy_timeout_ms_(busy_timeout_ms) {}

  class Handle {
   public:
    Handle(ConnectionPool* pool, std::unique_ptr<Connection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Handle(Handle&&) = default;
    ~Handle() {
      if (conn_) pool_->Return(std::move(conn_));
    }
    Connection* operator->() const { return conn_.get(); }
    Connection& operator*() const { return *conn_; }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  Result<Handle> Acquire();

 private:
  void Return(std::unique_ptr<Connection> conn);

  const std::string path_;
  const int busy_timeout_ms_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;  // GUARDED_BY(mu_)
};

// A transaction on one connection; rolls back on destruction unless Commit() succeeded.
// Immediate transactions take SQLite's write lock up front (BEGIN IMMEDIATE): read-modify-write
// sequences then never fail half-way with SQLITE_BUSY on lock upgrade, and the busy timeout
// applies while waiting for other processes.
class Txn {
 public:
  enum class Kind { kRead, kWrite };
  static Result<std::unique_ptr<Txn>> Begin(Connection* conn, Kind kind);
  ~Txn();
  Status Commit();

 private:
  explicit Txn(Connection* conn) : conn_(conn) {}
  Connection* conn_;
  bool open_ = true;
};

}  // namespace ingest::store::sqlite
