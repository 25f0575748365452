// Reading a local file in fixed-size pieces, for the BlobStores that stream uploads.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "ingest/common/result.h"

namespace ingest::store::blobs {

// Calls `piece` with consecutive pieces of the file at `path`, each at most `piece_bytes` long
// (one buffer of that size is the only memory used), until the end of the file or an error.
// Returns the bytes read. kNotFound when the file does not exist.
Result<int64_t> ReadFilePieces(const std::string& path, size_t piece_bytes,
                               const std::function<Status(std::string_view)>& piece);

// "postgresql://user:secret@host/db" -> "postgresql://user:***@host/db"; other text unchanged.
std::string MaskUrlPassword(std::string_view url);

}  // namespace ingest::store::blobs
