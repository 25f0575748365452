// A BlobStore that writes to one store and also reads an older one: how a deployment moves its
// blobs to another store without moving the old files first. PostgreSQL deployments from before
// blobs lived in the database keep theirs in <data_dir>/blobs; app/ layers that folder under the
// PostgreSQL store, so documents stored before the upgrade stay readable (docs/operations/
// blobs.md, "Changing the blob store").
#pragma once

#include <memory>

#include "ingest/store/blob_store.h"

namespace ingest::store {

// Thread-safe when both stores are. Puts go to `primary` only; Exists and LocalPath answer from
// `primary` first, then from `older`; Delete removes the blob from both.
class LayeredBlobStore final : public BlobStore {
 public:
  LayeredBlobStore(std::unique_ptr<BlobStore> primary, std::unique_ptr<BlobStore> older)
      : primary_(std::move(primary)), older_(std::move(older)) {}

  Result<std::string> PutFile(const std::string& path) override { return primary_->PutFile(path); }
  Result<std::string> PutBytes(std::string_view bytes) override {
    return primary_->PutBytes(bytes);
  }
  Result<std::string> LocalPath(std::string_view key) override;
  bool Exists(std::string_view key) override;
  Status Delete(std::string_view key) override;
  std::string Describe() const override;
  Status CheckReachable() override { return primary_->CheckReachable(); }

 private:
  std::unique_ptr<BlobStore> primary_;
  std::unique_ptr<BlobStore> older_;
};

}  // namespace ingest::store
