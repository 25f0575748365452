#include "ingest/api/upload.h"

#include <httplib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "ingest/common/ids.h"

namespace ingest::api {

ReceivedUpload::~ReceivedUpload() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

ReceivedUpload::ReceivedUpload(ReceivedUpload&& other) noexcept
    : path_(std::move(other.path_)),
      filename_(std::move(other.filename_)),
      metadata_(std::move(other.metadata_)),
      external_id_(std::move(other.external_id_)) {
  other.path_.clear();
}

std::string SanitizeFilename(const std::string& name) {
  std::string base = name;
  const size_t slash = base.find_last_of("/\\");
  if (slash != std::string::npos) base = base.substr(slash + 1);
  std::string out;
  for (char c : base) {
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) out += c;
  }
  if (out == "." || out == "..") return "";
  if (out.size() > 255) out.resize(255);
  return out;
}

std::string FilenameFromContentDisposition(const std::string& value) {
  // Prefer the RFC 6266 plain form; filename*= (RFC 5987) is not decoded, only its raw
  // value is not used, so a client sending only filename*= gets "missing_filename".
  size_t pos = 0;
  while ((pos = value.find("filename", pos)) != std::string::npos) {
    size_t p = pos + 8;
    if (p < value.size() && value[p] == '*') {
      pos = p;
      continue;
    }
    while (p < value.size() && value[p] == ' ') ++p;
    if (p >= value.size() || value[p] != '=') {
      pos = p;
      continue;
    }
    ++p;
    while (p < value.size() && value[p] == ' ') ++p;
    if (p < value.size() && value[p] == '"') {
      const size_t end = value.find('"', p + 1);
      if (end == std::string::npos) return "";
      return value.substr(p + 1, end - p - 1);
    }
    const size_t end = value.find(';', p);
    std::string v = value.substr(p, end == std::string::npos ? std::string::npos : end - p);
    while (!v.empty() && v.back() == ' ') v.pop_back();
    return v;
  }
  return "";
}

namespace {

// Writes what the reader hands over, counting bytes; stops (returns false) past the limit.
class BoundedFileSink {
 public:
  BoundedFileSink(const std::string& path, int64_t max_bytes)
      : out_(path, std::ios::binary | std::ios::trunc), max_bytes_(max_bytes) {}
  bool ok() const { return static_cast<bool>(out_); }
  bool Write(const char* data, size_t n) {
    written_ += static_cast<int64_t>(n);
    if (written_ > max_bytes_) {
      too_large_ = true;
      return false;
    }
    out_.write(data, static_cast<std::streamsize>(n));
    if (!out_) {
      write_failed_ = true;
      return false;
    }
    return true;
  }
  bool Close() {
    out_.close();
    return !out_.fail();
  }
  int64_t written() const { return written_; }
  bool too_large() const { return too_large_; }
  bool write_failed() const { return write_failed_; }

 private:
  std::ofstream out_;
  const int64_t max_bytes_;
  int64_t written_ = 0;
  bool too_large_ = false;
  bool write_failed_ = false;
};

Status TooLarge(int64_t max_bytes) {
  return ResourceExhausted("upload exceeds the limit of " + std::to_string(max_bytes) + " bytes",
                           "upload_too_large");
}

}  // namespace

Result<ReceivedUpload> ReceiveUpload(const httplib::Request& req,
                                     const httplib::ContentReader& reader,
                                     const std::string& tmp_dir, int64_t max_bytes) {
  const bool multipart = req.is_multipart_form_data();
  std::string filename;
  if (!multipart) {
    filename = req.get_header_value("X-Filename");
    if (filename.empty()) {
      filename = FilenameFromContentDisposition(req.get_header_value("Content-Disposition"));
    }
    if (filename.empty()) {
      return InvalidArgument(
          "raw uploads need a name: X-Filename or Content-Disposition: attachment; filename=...",
          "missing_filename");
    }
    filename = SanitizeFilename(filename);
    if (filename.empty()) return InvalidArgument("unusable filename", "bad_filename");
    // The file is the whole body, so Content-Length alone can refuse it before reading.
    if (req.has_header("Content-Length")) {
      const auto length = req.get_header_value<uint64_t>("Content-Length");
      if (length > static_cast<uint64_t>(max_bytes)) return TooLarge(max_bytes);
    }
  }

  // A multipart body carries boundaries and part headers besides the file; anything beyond
  // this much overhead cannot be a file within the limit.
  constexpr uint64_t kMultipartSlack = 64 * 1024;
  if (multipart && req.has_header("Content-Length") &&
      req.get_header_value<uint64_t>("Content-Length") >
          static_cast<uint64_t>(max_bytes) + kMultipartSlack) {
    return TooLarge(max_bytes);
  }

  std::error_code ec;
  std::filesystem::create_directories(tmp_dir, ec);
  if (ec) return Internal("cannot create " + tmp_dir + ": " + ec.message());
  ReceivedUpload upload(tmp_dir + "/upload-" + UuidV4() + ".part", "");
  BoundedFileSink sink(upload.path(), max_bytes);
  if (!sink.ok()) return Internal("cannot write " + upload.path());

  bool read_ok = false;
  bool saw_file = false;
  // Text fields are small: anything larger is refused rather than held in memory.
  constexpr size_t kMaxFieldBytes = 64 * 1024;
  std::string metadata, external_id;
  bool field_too_large = false;
  if (multipart) {
    bool in_file = false;
    std::string* field = nullptr;
    read_ok = reader(
        [&](const httplib::MultipartFormData& part) {
          // Only the first "file" part is the document; of the other fields only "metadata" and
          // "external_id" are read.
          in_file = part.name == "file" && !saw_file;
          field = nullptr;
          if (in_file) {
            saw_file = true;
            filename = SanitizeFilename(part.filename);
          } else if (part.name == "metadata") {
            field = &metadata;
          } else if (part.name == "external_id") {
            field = &external_id;
          }
          if (field != nullptr) field->clear();
          return true;
        },
        [&](const char* data, size_t n) {
          if (field != nullptr) {
            if (field->size() + n > kMaxFieldBytes) {
              field_too_large = true;
              return false;
            }
            field->append(data, n);
            return true;
          }
          return !in_file || sink.Write(data, n);
        });
  } else {
    metadata = req.get_header_value("X-Metadata");
    external_id = req.get_header_value("X-External-Id");
    saw_file = true;
    read_ok = reader([&](const char* data, size_t n) { return sink.Write(data, n); });
  }
  const bool closed = sink.Close();
  if (field_too_large) {
    return InvalidArgument("a metadata or external_id field is over 64 KiB", "field_too_large");
  }
  if (sink.too_large()) return TooLarge(max_bytes);
  if (sink.write_failed() || !closed) return Internal("cannot write " + upload.path());
  if (!read_ok) return InvalidArgument("the request body could not be read", "incomplete_body");
  if (!saw_file) return InvalidArgument("multipart upload without a \"file\" part", "missing_file");
  if (filename.empty())
    return InvalidArgument("the file part has no usable filename", "bad_filename");
  if (sink.written() == 0) return InvalidArgument("the uploaded file is empty", "empty_upload");
  upload.set_filename(std::move(filename));
  upload.set_fields(std::move(metadata), std::move(external_id));
  return upload;
}

}  // namespace ingest::api
