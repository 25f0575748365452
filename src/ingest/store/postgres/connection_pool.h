// A bounded pool of libpqxx connections with health checks. Internal to store/postgres.
//
// Thread-safe. A connection is handed to one caller at a time (pqxx connections are not
// thread-safe). Health: before reuse an idle connection's socket is polled; a connection the
// server closed (restart, pg_terminate_backend, idle timeout) is readable or hung up, so it is
// discarded and a fresh one opened, without a round trip. A caller that still hits a broken
// connection mid-call marks it broken; it is closed on release, never returned to the pool.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <pqxx/connection>
#include <string>
#include <vector>

#include "ingest/common/result.h"

namespace ingest::store::postgres {

struct PoolOptions {
  std::string url;
  int size = 8;
  std::chrono::milliseconds connect_timeout{5000};
  std::string schema;            // search_path for every connection; empty: server default
  std::string application_name;  // empty: libpq default
};

class ConnectionPool {
 public:
  // A borrowed connection; returned to the pool (or closed, if broken) on destruction.
  class Handle {
   public:
    Handle(ConnectionPool* pool, std::unique_ptr<pqxx::connection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Handle(Handle&& other) noexcept = default;
    Handle& operator=(Handle&&) = delete;
    ~Handle();
    pqxx::connection& operator*() const { return *conn_; }
    pqxx::connection* operator->() const { return conn_.get(); }
    // The connection failed in a way that may leave it unusable; close it on release.
    void MarkBroken() { broken_ = true; }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<pqxx::connection> conn_;
    bool broken_ = false;
  };

  explicit ConnectionPool(PoolOptions options);
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // A healthy connection: an idle one, or a new one when fewer than `size` are open. Waits up
  // to connect_timeout for one to be released. kUnavailable when the server cannot be reached
  // ("database_unavailable") or the pool stays full ("pool_exhausted").
  Result<Handle> Acquire();

 private:
  void Release(std::unique_ptr<pqxx::connection> conn, bool broken);
  Result<std::unique_ptr<pqxx::connection>> Connect() const;

  const PoolOptions options_;
  const std::string conninfo_;  // url plus connect_timeout when the URL does not set one
  std::mutex mu_;
  std::condition_variable released_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;  // GUARDED_BY(mu_)
  int open_ = 0;                                         // GUARDED_BY(mu_): idle + borrowed
};

// Converts the exception being handled (call only inside a catch block) into a Status, marking
// `conn` broken when the connection can no longer be trusted. `what` names the operation.
// Mapping: lost connection, server shutdown, serialization failure and deadlock -> kUnavailable
// (retry); unique violation -> kAlreadyExists; foreign-key and data errors ->
// kInvalidArgument; missing table -> kFailedPrecondition ("schema_missing"); the rest kInternal.
Status CurrentExceptionToStatus(std::string_view what, ConnectionPool::Handle* conn);

}  // namespace ingest::store::postgres
