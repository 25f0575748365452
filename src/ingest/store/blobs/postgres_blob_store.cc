#include "ingest/store/blobs/postgres_blob_store.h"

#include <chrono>
#include <pqxx/binarystring>
#include <pqxx/pqxx>

#include "ingest/common/hash.h"
#include "ingest/store/blobs/file_chunks.h"
#include "ingest/store/postgres/connection_pool.h"

namespace ingest::store {
namespace {

using postgres::ConnectionPool;
using postgres::CurrentExceptionToStatus;

int64_t NowUnixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status BadKey(std::string_view key) {
  return InvalidArgument("blob key \"" + std::string(key) + "\" is not a sha256 hex digest",
                         "bad_blob_key");
}

class PostgresBlobStore final : public BlobStore {
 public:
  explicit PostgresBlobStore(const PostgresBlobStoreOptions& options)
      : url_(options.url),
        pool_(postgres::PoolOptions{options.url, options.pool_size, options.connect_timeout,
                                    options.schema, "ingestd-blobs"}),
        cache_(options.cache) {}

  // Hashes the file first (the key decides whether anything needs sending), then streams it
  // chunk by chunk into one transaction, hashing again: a file that changed in between is
  // refused rather than stored under the wrong key.
  Result<std::string> PutFile(const std::string& path) override {
    INGEST_ASSIGN_OR_RETURN(std::string key, Sha256File(path));
    if (Exists(key)) return key;
    Sha256 again;
    INGEST_RETURN_IF_ERROR(WriteBlob(
        key,
        [&](const std::function<Status(std::string_view)>& sink) -> Status {
          return blobs::ReadFilePieces(path, static_cast<size_t>(kPostgresBlobChunkBytes), sink)
              .status();
        },
        &again));
    return key;
  }

  Result<std::string> PutBytes(std::string_view bytes) override {
    const std::string key = Sha256Hex(bytes);
    if (Exists(key)) return key;
    Sha256 again;
    INGEST_RETURN_IF_ERROR(WriteBlob(
        key,
        [&](const std::function<Status(std::string_view)>& sink) -> Status {
          for (size_t off = 0; off < bytes.size();
               off += static_cast<size_t>(kPostgresBlobChunkBytes)) {
            INGEST_RETURN_IF_ERROR(
                sink(bytes.substr(off, static_cast<size_t>(kPostgresBlobChunkBytes))));
          }
          return Status::Ok();
        },
        &again));
    return key;
  }

  Result<std::string> LocalPath(std::string_view key) override {
    if (!IsBlobKey(key)) return BadKey(key);
    return cache_.Materialize(key, [&](const blobs::ChunkSink& sink) { return Read(key, sink); });
  }

  bool Exists(std::string_view key) override {
    if (!IsBlobKey(key)) return false;
    auto conn = pool_.Acquire();
    if (!conn.ok()) return false;
    try {
      pqxx::nontransaction tx(**conn);
      return !tx.exec_params("SELECT 1 FROM blobs WHERE key = $1", std::string(key)).empty();
    } catch (...) {
      (void)CurrentExceptionToStatus("blob exists", &*conn);
      return false;
    }
  }

  Status Delete(std::string_view key) override {
    if (!IsBlobKey(key)) return BadKey(key);
    INGEST_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
    try {
      pqxx::work w(*conn);
      w.exec_params("DELETE FROM blobs WHERE key = $1", std::string(key));
      w.exec_params("DELETE FROM blob_chunks WHERE key = $1", std::string(key));
      w.commit();
    } catch (...) {
      return CurrentExceptionToStatus("delete blob", &conn);
    }
    cache_.Forget(key);
    return Status::Ok();
  }

  std::string Describe() const override {
    return "postgresql " + blobs::MaskUrlPassword(url_) +
           " (tables blobs, blob_chunks; local cache " + cache_.options().dir + ", at most " +
           std::to_string(cache_.options().max_bytes >> 20) + " MiB)";
  }

  Status CheckReachable() override {
    INGEST_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
    try {
      pqxx::nontransaction tx(*conn);
      tx.exec("SELECT 1 FROM blobs LIMIT 1");
      tx.exec("SELECT 1 FROM blob_chunks LIMIT 1");
    } catch (...) {
      return CurrentExceptionToStatus("blob tables", &conn);
    }
    return Status::Ok();
  }

 private:
  // One transaction: every chunk (ON CONFLICT DO NOTHING: a concurrent writer of the same
  // content waits on the first one's rows, then finds them), then the blobs row. `produce`
  // feeds the content in pieces of exactly kPostgresBlobChunkBytes but the last; `hash`
  // re-hashes it, and the transaction commits only when that hash is `key`.
  Status WriteBlob(
      const std::string& key,
      const std::function<Status(const std::function<Status(std::string_view)>&)>& produce,
      Sha256* hash) {
    INGEST_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
    try {
      pqxx::work w(*conn);
      int64_t seq = 0;
      int64_t size = 0;
      INGEST_RETURN_IF_ERROR(produce([&](std::string_view piece) -> Status {
        hash->Update(piece);
        w.exec_params(
            "INSERT INTO blob_chunks (key, seq, bytes) VALUES ($1, $2, $3) "
            "ON CONFLICT (key, seq) DO NOTHING",
            key, seq, pqxx::binarystring(piece.data(), piece.size()));
        ++seq;
        size += static_cast<int64_t>(piece.size());
        return Status::Ok();
      }));
      const std::string got = hash->FinishHex();
      if (got != key) {
        return FailedPrecondition(
            "content changed while it was stored (hashed to " + key + ", then to " + got + ")",
            "blob_changed");
      }
      w.exec_params(
          "INSERT INTO blobs (key, size, chunk_bytes, created_at) VALUES ($1, $2, $3, $4) "
          "ON CONFLICT (key) DO NOTHING",
          key, size, kPostgresBlobChunkBytes, NowUnixMillis());
      w.commit();
    } catch (...) {
      return CurrentExceptionToStatus("put blob", &conn);
    }
    return Status::Ok();
  }

  // Streams the chunks of `key` in order, one query (and one chunk in memory) at a time.
  Status Read(std::string_view key, const blobs::ChunkSink& sink) {
    INGEST_ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
    try {
      // One snapshot for the whole read: a concurrent Delete cannot cut it short.
      pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(*conn);
      const std::string k(key);
      pqxx::result head = tx.exec_params("SELECT size, chunk_bytes FROM blobs WHERE key = $1", k);
      if (head.empty()) return NotFound("blob " + k + " is not in the store", "blob_not_found");
      const int64_t size = head[0][0].as<int64_t>();
      const int64_t chunk_bytes = head[0][1].as<int64_t>();
      const int64_t chunks = chunk_bytes > 0 ? (size + chunk_bytes - 1) / chunk_bytes : 0;
      for (int64_t seq = 0; seq < chunks; ++seq) {
        pqxx::result r =
            tx.exec_params("SELECT bytes FROM blob_chunks WHERE key = $1 AND seq = $2", k, seq);
        if (r.empty()) {
          return DataLoss("blob " + k + " lacks chunk " + std::to_string(seq), "blob_corrupt");
        }
        const pqxx::binarystring bytes(r[0][0]);
        INGEST_RETURN_IF_ERROR(sink(std::string_view(bytes.get(), bytes.size())));
      }
      tx.commit();
    } catch (...) {
      return CurrentExceptionToStatus("read blob", &conn);
    }
    return Status::Ok();
  }

  const std::string url_;
  ConnectionPool pool_;
  blobs::BlobCache cache_;
};

}  // namespace

Result<std::unique_ptr<BlobStore>> OpenPostgresBlobStore(const PostgresBlobStoreOptions& options) {
  if (options.url.rfind("postgresql://", 0) != 0 && options.url.rfind("postgres://", 0) != 0) {
    return InvalidArgument(
        "blob store URL must be postgresql://..., got " + blobs::MaskUrlPassword(options.url),
        "bad_blobs_url");
  }
  if (options.pool_size < 1) return InvalidArgument("blob pool_size must be >= 1", "bad_pool");
  return std::unique_ptr<BlobStore>(new PostgresBlobStore(options));
}

}  // namespace ingest::store
