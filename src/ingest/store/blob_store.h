// BlobStore: original uploads, content-addressed by sha256 (DESIGN §1, receive stage).
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
  // content twice keeps one copy. Writes to a temporary name and renames, so a crash never
  // leaves a partial blob under a real key.
  virtual Result<std::string> PutFile(const std::string& path) = 0;
  virtual Result<std::string> PutBytes(std::string_view bytes) = 0;
  // A local filesystem path from which the blob can be read.
  virtual Result<std::string> LocalPath(std::string_view key) = 0;
  virtual bool Exists(std::string_view key) = 0;
  // Removes the blob (document deletion, docs/documents.md). Removing a missing blob is Ok.
  virtual Status Delete(std::string_view key) = 0;
};

}  // namespace ingest::store
