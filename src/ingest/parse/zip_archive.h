// Read-only view of a ZIP archive held in memory (libzip), with the zip-bomb guards DOCX needs.
//
// Thread safety: not thread-safe; one object per parse. Errors are Status values; libzip never
// throws.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ingest/common/result.h"

namespace ingest::parse {

class ZipArchive {
 public:
  // `bytes` must outlive the archive (libzip reads it in place). Fails with
  // invalid_argument[<corrupt_reason>] when the bytes are not a readable ZIP.
  static Result<ZipArchive> Open(std::string_view bytes, std::string corrupt_reason);

  ZipArchive(ZipArchive&&) noexcept;
  ZipArchive& operator=(ZipArchive&&) noexcept;
  ~ZipArchive();

  bool Has(const std::string& name) const;

  // Sum of the declared uncompressed sizes of all entries. Declared sizes can lie (in both
  // directions), so ReadEntry also caps what it actually inflates.
  uint64_t DeclaredTotalBytes() const;

  // Inflates one entry. Fails with resource_exhausted[<too_large_reason>] when the entry's
  // declared size, the archive's declared total, or the bytes actually inflated exceed
  // `max_bytes` (reading stops at max_bytes + 1, so a lying header costs at most that much
  // memory), or when `max_ratio` > 0 and the entry (declared, or as actually inflated) grows
  // past kRatioFloorBytes and more than `max_ratio` times its compressed size (a deflate bomb
  // is stopped after inflating about max(kRatioFloorBytes, max_ratio x its size));
  // invalid_argument[<corrupt_reason>] when it is missing or fails to inflate or its CRC does
  // not match.
  Result<std::string> ReadEntry(const std::string& name, uint64_t max_bytes,
                                const std::string& too_large_reason, uint64_t max_ratio = 0) const;

  // Entries smaller than this are never refused for their compression ratio alone.
  static constexpr uint64_t kRatioFloorBytes = 16 << 20;

 private:
  struct Impl;
  explicit ZipArchive(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// True when `head` starts with a ZIP local-file or empty-archive signature.
bool LooksLikeZip(std::string_view head);

}  // namespace ingest::parse
