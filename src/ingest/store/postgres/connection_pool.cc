#include "ingest/store/postgres/connection_pool.h"

#include <poll.h>

#include <algorithm>
#include <pqxx/except>
#include <string>
#include <utility>

namespace ingest::store::postgres {
namespace {

// libpq counts connect_timeout in whole seconds (and treats values below 2 as 2).
std::string WithConnectTimeout(const std::string& url, std::chrono::milliseconds timeout) {
  if (url.find("connect_timeout=") != std::string::npos) return url;
  const long long seconds = std::max<long long>(2, (timeout.count() + 999) / 1000);
  return url + (url.find('?') == std::string::npos ? "?" : "&") +
         "connect_timeout=" + std::to_string(seconds);
}

// An idle connection has nothing to read: the server never speaks unprompted on a session
// without LISTEN. Readable or hung up means it sent a termination notice or closed the socket
// (restart, pg_terminate_backend, idle timeout), so the connection is dead.
bool LooksHealthy(const pqxx::connection& conn) {
  if (!conn.is_open()) return false;
  const int fd = conn.sock();
  if (fd < 0) return false;
  pollfd p{fd, POLLIN, 0};
  const int n = ::poll(&p, 1, 0);
  return n == 0;
}

// Redacts the password from a libpq URI for error messages.
std::string Redact(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url;
  const size_t colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon) + ":***" + url.substr(at);
}

bool IsConnectionSqlState(const std::string& state) {
  // Class 08: connection exception. 57P01-57P03: admin/crash shutdown, cannot connect now.
  return state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03";
}

}  // namespace

ConnectionPool::Handle::~Handle() {
  if (conn_) pool_->Release(std::move(conn_), broken_);
}

ConnectionPool::ConnectionPool(PoolOptions options)
    : options_(std::move(options)),
      conninfo_(WithConnectTimeout(options_.url, options_.connect_timeout)) {}

Result<std::unique_ptr<pqxx::connection>> ConnectionPool::Connect() const {
  try {
    auto conn = std::make_unique<pqxx::connection>(conninfo_);
    // set_variable (not a plain SET) so libpqxx restores them if it ever re-activates the
    // connection itself; a silently reset search_path would point at another deployment.
    if (!options_.schema.empty()) {
      conn->set_variable("search_path", conn->quote_name(options_.schema));
    }
    if (!options_.application_name.empty()) {
      conn->set_variable("application_name", conn->quote(options_.application_name));
    }
    return conn;
  } catch (const std::exception& e) {
    return Unavailable(
        "cannot connect to PostgreSQL at " + Redact(options_.url) + ": " + std::string(e.what()),
        "database_unavailable");
  }
}

Result<ConnectionPool::Handle> ConnectionPool::Acquire() {
  const auto deadline = std::chrono::steady_clock::now() + options_.connect_timeout;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (!idle_.empty()) {
      std::unique_ptr<pqxx::connection> conn = std::move(idle_.back());
      idle_.pop_back();
      if (LooksHealthy(*conn)) return Handle(this, std::move(conn));
      // Dead: close it outside the lock, then open a replacement in its slot.
      --open_;
      lock.unlock();
      conn.reset();
      lock.lock();
      continue;
    }
    if (open_ < options_.size) {
      ++open_;
      lock.unlock();
      Result<std::unique_ptr<pqxx::connection>> conn = Connect();
      if (!conn.ok()) {
        lock.lock();
        --open_;
        released_.notify_one();
        return std::move(conn).status();
      }
      return Handle(this, std::move(conn).value());
    }
    if (released_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= options_.size) {
      return Unavailable("all " + std::to_string(options_.size) +
                             " PostgreSQL connections are busy; raise the pool size",
                         "pool_exhausted");
    }
  }
}

void ConnectionPool::Release(std::unique_ptr<pqxx::connection> conn, bool broken) {
  if (broken || !conn->is_open()) {
    conn.reset();
    std::lock_guard<std::mutex> lock(mu_);
    --open_;
  } else {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(std::move(conn));
  }
  released_.notify_one();
}

Status CurrentExceptionToStatus(std::string_view what, ConnectionPool::Handle* conn) {
  const std::string op(what);
  auto unavailable = [&](const std::exception& e, const char* reason) {
    if (conn) conn->MarkBroken();
    return Unavailable(op + ": " + e.what(), reason);
  };
  try {
    throw;
  } catch (const pqxx::in_doubt_error& e) {
    // The commit may or may not have happened; the connection is gone either way.
    return unavailable(e, "database_unavailable");
  } catch (const pqxx::broken_connection& e) {
    return unavailable(e, "database_unavailable");
  } catch (const pqxx::serialization_failure& e) {
    return Unavailable(op + ": " + e.what(), "serialization_failure");
  } catch (const pqxx::deadlock_detected& e) {
    return Unavailable(op + ": " + e.what(), "deadlock");
  } catch (const pqxx::transaction_rollback& e) {
    return Unavailable(op + ": " + e.what(), "transaction_rollback");
  } catch (const pqxx::unique_violation& e) {
    return AlreadyExists(op + ": " + e.what(), "already_exists");
  } catch (const pqxx::foreign_key_violation& e) {
    return InvalidArgument(op + ": " + e.what(), "foreign_key_violation");
  } catch (const pqxx::undefined_table& e) {
    return FailedPrecondition(op + ": " + e.what() + " (run `ingestd migrate up`)",
                              "schema_missing");
  } catch (const pqxx::data_exception& e) {
    return InvalidArgument(op + ": " + e.what(), "invalid_data");
  } catch (const pqxx::sql_error& e) {
    if (IsConnectionSqlState(e.sqlstate()) || (conn && !(*conn)->is_open())) {
      return unavailable(e, "database_unavailable");
    }
    return Internal(op + ": " + e.what() + " (SQLSTATE " + e.sqlstate() + ")", "database_error");
  } catch (const pqxx::conversion_error& e) {
    return DataLoss(op + ": stored value unreadable: " + e.what(), "bad_row");
  } catch (const std::exception& e) {
    if (conn && !(*conn)->is_open()) return unavailable(e, "database_unavailable");
    return Internal(op + ": " + e.what(), "database_error");
  }
}

}  // namespace ingest::store::postgres
