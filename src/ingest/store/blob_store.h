// BlobStore: original uploads, content-addressed by sha256 (DESIGN §1, receive stage).
//
// Implementations, all passing tests/conformance/blob_store_conformance_test.cc:
//   FsBlobStore        a local (or shared) folder; the default on SQLite
//   PostgresBlobStore  chunked rows in the store's database; the default on PostgreSQL
//   S3BlobStore        S3-compatible object storage (blobs.url = "s3://bucket/prefix")
// docs/operations/blobs.md says how to choose.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "ingest/common/result.h"

namespace ingest::store {

// Thread-safe. Keys are lower-case hex sha256 of the content.
class BlobStore {
 public:
  virtual ~BlobStore() = default;
  // Copies the file at `path` into the store; returns its key. Idempotent: storing the same
  // content twice keeps one copy. The file is streamed, never held whole in memory, and a
  // crash (or error) part way never leaves a partial blob visible under a real key.
  virtual Result<std::string> PutFile(const std::string& path) = 0;
  virtual Result<std::string> PutBytes(std::string_view bytes) = 0;
  // A local filesystem path from which the blob can be read. Remote stores copy the blob into
  // a bounded local cache first (verified against its key); the path stays readable at least
  // while it is open, and is not evicted for a grace period after this call.
  // kInvalidArgument for a key that is not 64 lower-case hex digits; remote stores answer
  // kNotFound for a missing blob (the folder store does not check).
  virtual Result<std::string> LocalPath(std::string_view key) = 0;
  virtual bool Exists(std::string_view key) = 0;
  // Removes the blob (document deletion, docs/documents.md). Removing a missing blob is Ok.
  virtual Status Delete(std::string_view key) = 0;
  // Which store this is, for `ingestd doctor` and logs, e.g. "folder /var/lib/ingestd/blobs".
  // Never contains a secret (passwords in URLs are masked).
  virtual std::string Describe() const = 0;
  // One cheap round trip proving the store can be used (the folder exists and is writable;
  // the table answers; the bucket answers an authenticated request). For `ingestd doctor`.
  virtual Status CheckReachable() = 0;
};

// True when `key` is a blob key: 64 lower-case hex digits.
bool IsBlobKey(std::string_view key);

}  // namespace ingest::store
