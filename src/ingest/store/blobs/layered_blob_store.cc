#include "ingest/store/blobs/layered_blob_store.h"

namespace ingest::store {

Result<std::string> LayeredBlobStore::LocalPath(std::string_view key) {
  if (!primary_->Exists(key) && older_->Exists(key)) return older_->LocalPath(key);
  return primary_->LocalPath(key);
}

bool LayeredBlobStore::Exists(std::string_view key) {
  return primary_->Exists(key) || older_->Exists(key);
}

Status LayeredBlobStore::Delete(std::string_view key) {
  INGEST_RETURN_IF_ERROR(primary_->Delete(key));
  return older_->Delete(key);
}

std::string LayeredBlobStore::Describe() const {
  return primary_->Describe() + "; also reading " + older_->Describe();
}

}  // namespace ingest::store
