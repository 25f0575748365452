// BlobStore on a local (or shared) filesystem: blob `k` lives at root/k[0:2]/k[2:4]/k.
#pragma once

#include <string>

#include "ingest/store/blob_store.h"

namespace ingest::store {

// Thread-safe, and safe for several processes sharing one root: every write goes to a unique
// temporary file under root/tmp, is fsynced, then renamed over its final name. rename() is
// atomic, and two writers of one key write identical bytes, so the last rename wins harmlessly.
class FsBlobStore final : public BlobStore {
 public:
  explicit FsBlobStore(std::string root) : root_(std::move(root)) {}

  Result<std::string> PutFile(const std::string& path) override;
  Result<std::string> PutBytes(std::string_view bytes) override;
  // Does not check existence; kInvalidArgument for a key that is not 64 lower-case hex digits.
  Result<std::string> LocalPath(std::string_view key) override;
  bool Exists(std::string_view key) override;
  Status Delete(std::string_view key) override;
  std::string Describe() const override;
  Status CheckReachable() override;

 private:
  // Moves the finished temporary file `tmp` to the key's path (creating the fan-out folders).
  Result<std::string> Publish(const std::string& tmp, const std::string& key);
  Result<std::string> NewTempPath();

  const std::string root_;
};

}  // namespace ingest::store
