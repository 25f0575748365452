#include "ingest/store/blobs/blob_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "ingest/common/hash.h"
#include "ingest/common/ids.h"
#include "ingest/store/blob_store.h"

namespace ingest::store::blobs {
namespace {

namespace fs = std::filesystem;

Status IoError(std::string_view what, const std::string& path, int err) {
  std::string msg = std::string(what) + " " + path + ": " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) return ResourceExhausted(std::move(msg), "disk_full");
  return Unavailable(std::move(msg), "io_error");
}

// Writes and hashes a temporary copy; removes it unless kept.
class TempCopy {
 public:
  TempCopy(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~TempCopy() {
    if (fd_ >= 0) ::close(fd_);
    if (!kept_) ::unlink(path_.c_str());
  }
  Status Append(std::string_view data) {
    hash_.Update(data);
    bytes_ += static_cast<int64_t>(data.size());
    while (!data.empty()) {
      const ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return IoError("write", path_, errno);
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::Ok();
  }
  Status Close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return IoError("close", path_, errno);
    return Status::Ok();
  }
  std::string FinishHex() { return hash_.FinishHex(); }
  int64_t bytes() const { return bytes_; }
  void Keep() { kept_ = true; }

 private:
  int fd_;
  std::string path_;
  Sha256 hash_;
  int64_t bytes_ = 0;
  bool kept_ = false;
};

void Touch(const std::string& path) { ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0); }

}  // namespace

Result<std::string> BlobCache::Materialize(std::string_view key, const BlobReader& read) {
  if (!IsBlobKey(key)) {
    return InvalidArgument("blob key \"" + std::string(key) + "\" is not a sha256 hex digest",
                           "bad_blob_key");
  }
  const std::string path = (fs::path(options_.dir) / key).string();
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    Touch(path);
    return path;
  }
  const fs::path tmp_dir = fs::path(options_.dir) / "tmp";
  std::error_code ec;
  fs::create_directories(tmp_dir, ec);
  if (ec) return IoError("mkdir", tmp_dir.string(), ec.value());
  const std::string tmp_path = (tmp_dir / (UuidV4() + ".part")).string();
  const int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("create", tmp_path, errno);
  TempCopy copy(fd, tmp_path);
  INGEST_RETURN_IF_ERROR(read([&copy](std::string_view piece) { return copy.Append(piece); }));
  INGEST_RETURN_IF_ERROR(copy.Close());
  const std::string got = copy.FinishHex();
  if (got != key) {
    return DataLoss("blob " + std::string(key) + " read back as " + std::to_string(copy.bytes()) +
                        " bytes hashing to " + got,
                    "blob_corrupt");
  }
  if (::rename(tmp_path.c_str(), path.c_str()) != 0) return IoError("rename", path, errno);
  copy.Keep();
  Trim();
  return path;
}

void BlobCache::Forget(std::string_view key) {
  if (!IsBlobKey(key)) return;
  ::unlink((fs::path(options_.dir) / key).c_str());
}

int64_t BlobCache::Bytes() const {
  int64_t total = 0;
  std::error_code ec;
  for (fs::directory_iterator it(options_.dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!IsBlobKey(it->path().filename().string())) continue;
    struct stat st {};
    if (::stat(it->path().c_str(), &st) == 0) total += st.st_size;
  }
  return total;
}

void BlobCache::Trim() {
  std::lock_guard<std::mutex> lock(trim_mu_);
  struct Entry {
    std::string path;
    int64_t bytes;
    struct timespec used;
  };
  std::vector<Entry> entries;
  int64_t total = 0;
  std::error_code ec;
  for (fs::directory_iterator it(options_.dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!IsBlobKey(it->path().filename().string())) continue;
    struct stat st {};
    if (::stat(it->path().c_str(), &st) != 0) continue;  // removed by another process
    entries.push_back({it->path().string(), st.st_size, st.st_mtim});
    total += st.st_size;
  }
  const time_t now = ::time(nullptr);
  if (total > options_.max_bytes) {
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      if (a.used.tv_sec != b.used.tv_sec) return a.used.tv_sec < b.used.tv_sec;
      return a.used.tv_nsec < b.used.tv_nsec;
    });
    for (const Entry& e : entries) {
      if (total <= options_.max_bytes) break;
      if (now - e.used.tv_sec < options_.grace.count()) break;  // the rest are newer still
      if (::unlink(e.path.c_str()) == 0 || errno == ENOENT) total -= e.bytes;
    }
  }
  // Copies abandoned mid-write (a killed process) are removed after an hour.
  const fs::path tmp_dir = fs::path(options_.dir) / "tmp";
  for (fs::directory_iterator it(tmp_dir, ec), end; !ec && it != end; it.increment(ec)) {
    struct stat st {};
    if (::stat(it->path().c_str(), &st) == 0 && now - st.st_mtim.tv_sec > 3600) {
      ::unlink(it->path().c_str());
    }
  }
}

}  // namespace ingest::store::blobs
