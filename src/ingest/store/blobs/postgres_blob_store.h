// BlobStore in PostgreSQL: blobs as rows of 1 MiB chunks in the store's database, so machines
// running workers share nothing but the database (DESIGN §9; the default on a PostgreSQL store).
//
// Schema (migration blob_chunks): blob_chunks(key, seq, bytes) holds the content, chunk `seq`
// covering bytes [seq * chunk_bytes, (seq + 1) * chunk_bytes); blobs(key, size, chunk_bytes,
// created_at) is the commit marker: a blob exists exactly when its blobs row does. Both are
// written in one transaction, the blobs row last, so a crash or error part way rolls back
// every chunk and no reader ever sees a partial blob.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "ingest/common/result.h"
#include "ingest/store/blob_store.h"
#include "ingest/store/blobs/blob_cache.h"

namespace ingest::store {

struct PostgresBlobStoreOptions {
  std::string url;     // libpq URI (postgresql://...), normally the store's own
  std::string schema;  // search_path for its connections; empty: server default
  // Connections held at most: each Put or read uses one for its duration.
  int pool_size = 4;
  std::chrono::milliseconds connect_timeout{5000};
  // Where LocalPath copies blobs (normally <data_dir>/tmp/blob-cache) and its bound.
  blobs::BlobCacheOptions cache;
};

// Thread-safe. Memory per call is bounded by one chunk (plus libpq's hex form of it while it is
// sent or received), whatever the blob's size. Does not connect until first used.
// kInvalidArgument for a URL that is not postgresql:// or postgres://.
Result<std::unique_ptr<BlobStore>> OpenPostgresBlobStore(const PostgresBlobStoreOptions& options);

// The chunk size new blobs are written with. Readers use the size recorded in each blobs row.
inline constexpr int64_t kPostgresBlobChunkBytes = int64_t{1} << 20;

}  // namespace ingest::store
