#include "ingest/parse/zip_archive.h"

#include <zip.h>

#include <algorithm>
#include <cstdint>
#include <utility>

namespace ingest::parse {

struct ZipArchive::Impl {
  zip_t* zip = nullptr;
  std::string corrupt_reason;
  ~Impl() {
    if (zip != nullptr) zip_discard(zip);
  }
};

ZipArchive::ZipArchive(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ZipArchive::ZipArchive(ZipArchive&&) noexcept = default;
ZipArchive& ZipArchive::operator=(ZipArchive&&) noexcept = default;
ZipArchive::~ZipArchive() = default;

Result<ZipArchive> ZipArchive::Open(std::string_view bytes, std::string corrupt_reason) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &err);
  if (src == nullptr) {
    std::string msg = zip_error_strerror(&err);
    zip_error_fini(&err);
    return InvalidArgument("not a readable ZIP archive: " + msg, corrupt_reason);
  }
  // ZIP_CHECKCONS rejects archives whose central directory and local headers disagree, a
  // classic trick for hiding entries from one reader but not another.
  zip_t* z = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err);
  if (z == nullptr) {
    std::string msg = zip_error_strerror(&err);
    zip_error_fini(&err);
    zip_source_free(src);
    return InvalidArgument("not a readable ZIP archive: " + msg, corrupt_reason);
  }
  zip_error_fini(&err);
  auto impl = std::make_unique<Impl>();
  impl->zip = z;
  impl->corrupt_reason = std::move(corrupt_reason);
  return ZipArchive(std::move(impl));
}

bool ZipArchive::Has(const std::string& name) const {
  return zip_name_locate(impl_->zip, name.c_str(), 0) >= 0;
}

uint64_t ZipArchive::DeclaredTotalBytes() const {
  uint64_t total = 0;
  const zip_int64_t n = zip_get_num_entries(impl_->zip, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(impl_->zip, static_cast<zip_uint64_t>(i), 0, &st) == 0 &&
        (st.valid & ZIP_STAT_SIZE) != 0) {
      total += st.size;
    }
  }
  return total;
}

Result<std::string> ZipArchive::ReadEntry(const std::string& name, uint64_t max_bytes,
                                          const std::string& too_large_reason,
                                          uint64_t max_ratio) const {
  const zip_int64_t index = zip_name_locate(impl_->zip, name.c_str(), 0);
  if (index < 0) {
    return InvalidArgument("the archive has no entry " + name, impl_->corrupt_reason);
  }
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(impl_->zip, static_cast<zip_uint64_t>(index), 0, &st) != 0 ||
      (st.valid & ZIP_STAT_SIZE) == 0) {
    return InvalidArgument("cannot stat " + name, impl_->corrupt_reason);
  }
  if (st.size > max_bytes) {
    return ResourceExhausted(name + " declares " + std::to_string(st.size) +
                                 " uncompressed bytes, over the limit of " +
                                 std::to_string(max_bytes),
                             too_large_reason);
  }
  // The ratio allowance: compressed size x max_ratio, never less than the floor.
  const uint64_t compressed = (st.valid & ZIP_STAT_COMP_SIZE) != 0 ? st.comp_size : 0;
  uint64_t ratio_cap = UINT64_MAX;
  if (max_ratio > 0) {
    ratio_cap = compressed > UINT64_MAX / max_ratio ? UINT64_MAX : compressed * max_ratio;
    ratio_cap = std::max(ratio_cap, kRatioFloorBytes);
  }
  auto ratio_error = [&](uint64_t size) {
    return ResourceExhausted(name + " inflates to " + std::to_string(size) + "+ bytes from " +
                                 std::to_string(compressed) +
                                 " compressed, more than the allowed ratio of " +
                                 std::to_string(max_ratio) + ":1 (a decompression bomb)",
                             too_large_reason);
  };
  if (st.size > ratio_cap) return ratio_error(st.size);
  const uint64_t total = DeclaredTotalBytes();
  if (total > max_bytes) {
    return ResourceExhausted("the archive declares " + std::to_string(total) +
                                 " uncompressed bytes in total, over the limit of " +
                                 std::to_string(max_bytes),
                             too_large_reason);
  }
  zip_file_t* f = zip_fopen_index(impl_->zip, static_cast<zip_uint64_t>(index), 0);
  if (f == nullptr) {
    return InvalidArgument("cannot open " + name + ": " + zip_strerror(impl_->zip),
                           impl_->corrupt_reason);
  }
  std::string out;
  // Declared sizes can lie: reserve what was declared only up to what may be inflated.
  out.reserve(static_cast<size_t>(std::min({st.size, max_bytes, ratio_cap})));
  char buf[64 * 1024];
  Status status;
  for (;;) {
    const zip_int64_t n = zip_fread(f, buf, sizeof buf);
    if (n < 0) {
      status = InvalidArgument(
          std::string("cannot inflate ") + name + ": " + zip_error_strerror(zip_file_get_error(f)),
          impl_->corrupt_reason);
      break;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes) {
      status = ResourceExhausted(
          name + " inflates past the limit of " + std::to_string(max_bytes) + " bytes",
          too_large_reason);
      break;
    }
    if (out.size() > ratio_cap) {
      status = ratio_error(out.size());
      break;
    }
  }
  zip_fclose(f);
  if (!status.ok()) return status;
  return out;
}

bool LooksLikeZip(std::string_view head) {
  return head.starts_with(std::string_view("PK\x03\x04", 4)) ||
         head.starts_with(std::string_view("PK\x05\x06", 4));
}

}  // namespace ingest::parse
