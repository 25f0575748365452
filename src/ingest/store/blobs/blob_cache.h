// A bounded local folder of blob copies, for the remote BlobStores (PostgreSQL, S3): parsers
// read local files, so BlobStore::LocalPath materialises a remote blob here first.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "ingest/common/result.h"

namespace ingest::store::blobs {

struct BlobCacheOptions {
  std::string dir;  // created on first use; one file per blob, named by its key
  // The bound on the bytes of cached blobs. After each new copy the least recently used
  // copies are removed until the total fits, except copies used within `grace` (a parser may
  // be about to open them): the bound can be exceeded by the blobs in use during the last
  // `grace`, and by one blob larger than the bound itself.
  int64_t max_bytes = int64_t{1} << 30;
  std::chrono::seconds grace{600};
};

// Called by BlobCache with each piece of a blob's content, in order.
using ChunkSink = std::function<Status(std::string_view)>;
// Streams one blob's bytes into the sink; kNotFound when the blob does not exist.
using BlobReader = std::function<Status(const ChunkSink&)>;

// Thread-safe, and safe for several processes sharing one folder: a copy is written to a
// unique temporary file in dir/tmp, verified (its sha256 must equal its key), then renamed into
// place, so a reader only ever sees whole, verified copies. "Recently used" is the file's
// modification time, refreshed on every hit, so all processes share one LRU order.
class BlobCache {
 public:
  explicit BlobCache(BlobCacheOptions options) : options_(std::move(options)) {}

  // The cached copy of `key`, fetched through `read` when absent. kDataLoss when the fetched
  // bytes do not hash to `key` (nothing is kept); read's own error otherwise.
  Result<std::string> Materialize(std::string_view key, const BlobReader& read);
  // Drops the cached copy of `key`, if any (the blob was deleted).
  void Forget(std::string_view key);
  // Removes least recently used copies beyond the bound (see BlobCacheOptions), and temporary
  // files abandoned by a crashed writer more than an hour ago.
  void Trim();
  // Total bytes of the cached copies now.
  int64_t Bytes() const;

  const BlobCacheOptions& options() const { return options_; }

 private:
  const BlobCacheOptions options_;
  std::mutex trim_mu_;  // one trim at a time in this process (others may trim concurrently)
};

}  // namespace ingest::store::blobs
