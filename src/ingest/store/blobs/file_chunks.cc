#include "ingest/store/blobs/file_chunks.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ingest::store::blobs {

Result<int64_t> ReadFilePieces(const std::string& path, size_t piece_bytes,
                               const std::function<Status(std::string_view)>& piece) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    std::string msg = "open " + path + ": " + std::strerror(err);
    if (err == ENOENT) return NotFound(std::move(msg), "file_not_found");
    return Unavailable(std::move(msg), "io_error");
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  std::string buf(piece_bytes, '\0');
  int64_t total = 0;
  for (;;) {
    // Fill the buffer completely (short reads happen on pipes and network filesystems), so
    // every piece but the last has exactly piece_bytes: PostgreSQL chunk numbering relies on it.
    size_t filled = 0;
    while (filled < buf.size()) {
      const ssize_t n = ::read(fd, buf.data() + filled, buf.size() - filled);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Unavailable("read " + path + ": " + std::strerror(errno), "io_error");
      }
      if (n == 0) break;
      filled += static_cast<size_t>(n);
    }
    if (filled == 0) break;
    total += static_cast<int64_t>(filled);
    INGEST_RETURN_IF_ERROR(piece(std::string_view(buf.data(), filled)));
    if (filled < buf.size()) break;
  }
  return total;
}

std::string MaskUrlPassword(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const size_t at = url.find('@', scheme + 3);
  const size_t slash = url.find('/', scheme + 3);
  if (at == std::string_view::npos || (slash != std::string_view::npos && slash < at)) {
    return std::string(url);
  }
  const size_t colon = url.find(':', scheme + 3);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return std::string(url.substr(0, colon + 1)) + "***" + std::string(url.substr(at));
}

}  // namespace ingest::store::blobs
