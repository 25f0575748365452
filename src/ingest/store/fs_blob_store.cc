#include "ingest/store/fs_blob_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "ingest/common/hash.h"
#include "ingest/common/ids.h"

namespace ingest::store {
namespace {

namespace fs = std::filesystem;

Status ErrnoStatus(std::string_view what, const std::string& path, int err) {
  std::string msg = std::string(what) + " " + path + ": " + std::strerror(err);
  if (err == ENOENT) return NotFound(std::move(msg), "file_not_found");
  if (err == ENOSPC || err == EDQUOT) return ResourceExhausted(std::move(msg), "disk_full");
  if (err == EACCES || err == EPERM) return FailedPrecondition(std::move(msg), "permission");
  return Unavailable(std::move(msg), "io_error");
}

// Owns a file descriptor; on failure paths also removes the temporary file.
class TempFile {
 public:
  TempFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!kept_) ::unlink(path_.c_str());
  }
  Status Write(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("write", path_, errno);
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::Ok();
  }
  // fsync then close: the bytes are durable before the rename makes them visible.
  Status SyncAndClose() {
    if (::fsync(fd_) != 0) return ErrnoStatus("fsync", path_, errno);
    const int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return ErrnoStatus("close", path_, errno);
    return Status::Ok();
  }
  void Keep() { kept_ = true; }
  const std::string& path() const { return path_; }

 private:
  int fd_;
  std::string path_;
  bool kept_ = false;
};

Result<std::unique_ptr<TempFile>> CreateTemp(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("create", path, errno);
  return std::make_unique<TempFile>(fd, path);
}

void SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

Result<std::string> FsBlobStore::NewTempPath() {
  std::error_code ec;
  fs::create_directories(fs::path(root_) / "tmp", ec);
  if (ec) return ErrnoStatus("mkdir", root_ + "/tmp", ec.value());
  // A random name keeps concurrent writers (threads or processes) apart.
  return (fs::path(root_) / "tmp" / (UuidV4() + ".part")).string();
}

Result<std::string> FsBlobStore::LocalPath(std::string_view key) {
  if (!IsBlobKey(key)) {
    return InvalidArgument("blob key \"" + std::string(key) + "\" is not a sha256 hex digest",
                           "bad_blob_key");
  }
  return (fs::path(root_) / key.substr(0, 2) / key.substr(2, 2) / key).string();
}

bool FsBlobStore::Exists(std::string_view key) {
  auto path = LocalPath(key);
  if (!path.ok()) return false;
  std::error_code ec;
  return fs::is_regular_file(*path, ec);
}

Status FsBlobStore::Delete(std::string_view key) {
  INGEST_ASSIGN_OR_RETURN(std::string path, LocalPath(key));
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("unlink", path, errno);
  SyncDir(fs::path(path).parent_path().string());
  return Status::Ok();
}

Result<std::string> FsBlobStore::Publish(const std::string& tmp, const std::string& key) {
  INGEST_ASSIGN_OR_RETURN(std::string dest, LocalPath(key));
  const std::string dir = fs::path(dest).parent_path().string();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return ErrnoStatus("mkdir", dir, ec.value());
  if (::rename(tmp.c_str(), dest.c_str()) != 0) return ErrnoStatus("rename", dest, errno);
  SyncDir(dir);
  return key;
}

Result<std::string> FsBlobStore::PutBytes(std::string_view bytes) {
  const std::string key = Sha256Hex(bytes);
  if (Exists(key)) return key;
  INGEST_ASSIGN_OR_RETURN(std::string tmp_path, NewTempPath());
  INGEST_ASSIGN_OR_RETURN(std::unique_ptr<TempFile> tmp, CreateTemp(tmp_path));
  INGEST_RETURN_IF_ERROR(tmp->Write(bytes));
  INGEST_RETURN_IF_ERROR(tmp->SyncAndClose());
  INGEST_ASSIGN_OR_RETURN(std::string out, Publish(tmp_path, key));
  tmp->Keep();
  return out;
}

// Copies and hashes in one pass, so the key is known only at the end: the copy goes to a
// temporary name first, and a duplicate is simply discarded.
Result<std::string> FsBlobStore::PutFile(const std::string& path) {
  const int in = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return ErrnoStatus("open", path, errno);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{in};

  INGEST_ASSIGN_OR_RETURN(std::string tmp_path, NewTempPath());
  INGEST_ASSIGN_OR_RETURN(std::unique_ptr<TempFile> tmp, CreateTemp(tmp_path));
  Sha256 hash;
  std::string buf(1 << 20, '\0');
  for (;;) {
    const ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read", path, errno);
    }
    if (n == 0) break;
    const std::string_view chunk(buf.data(), static_cast<size_t>(n));
    hash.Update(chunk);
    INGEST_RETURN_IF_ERROR(tmp->Write(chunk));
  }
  const std::string key = hash.FinishHex();
  if (Exists(key)) return key;  // the temporary copy is removed by ~TempFile
  INGEST_RETURN_IF_ERROR(tmp->SyncAndClose());
  INGEST_ASSIGN_OR_RETURN(std::string out, Publish(tmp_path, key));
  tmp->Keep();
  return out;
}

std::string FsBlobStore::Describe() const { return "folder " + root_; }

// Creates the folder if needed and proves it writable with a probe file in root/tmp (the
// folder every write goes through).
Status FsBlobStore::CheckReachable() {
  INGEST_ASSIGN_OR_RETURN(std::string probe, NewTempPath());
  INGEST_ASSIGN_OR_RETURN(std::unique_ptr<TempFile> tmp, CreateTemp(probe));
  INGEST_RETURN_IF_ERROR(tmp->Write("probe"));
  return Status::Ok();  // ~TempFile removes the probe
}

}  // namespace ingest::store
