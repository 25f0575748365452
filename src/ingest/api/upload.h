// Receiving an upload for POST /v1/documents: the body is streamed to a temporary file in the
// data directory (never held in memory), with a byte limit enforced while reading.
//
// Two shapes are accepted: multipart/form-data with the file in the field "file" (its part's
// filename is the document's name), or a raw body whose name comes from an X-Filename header
// or "Content-Disposition: attachment; filename=...". Besides the file, the text fields
// "metadata" (a JSON object) and "external_id" of a multipart body, or the headers X-Metadata
// and X-External-Id of a raw one, are kept as they came (validated by the caller).
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "ingest/common/result.h"

namespace httplib {
struct Request;
class ContentReader;
}  // namespace httplib

namespace ingest::api {

// A received upload. Owns the temporary file: the destructor deletes it.
class ReceivedUpload {
 public:
  ReceivedUpload(std::string path, std::string filename)
      : path_(std::move(path)), filename_(std::move(filename)) {}
  ~ReceivedUpload();
  ReceivedUpload(ReceivedUpload&& other) noexcept;
  ReceivedUpload& operator=(ReceivedUpload&&) = delete;
  ReceivedUpload(const ReceivedUpload&) = delete;

  const std::string& path() const { return path_; }
  const std::string& filename() const { return filename_; }
  void set_filename(std::string name) { filename_ = std::move(name); }
  // "" when absent.
  const std::string& metadata() const { return metadata_; }
  const std::string& external_id() const { return external_id_; }
  void set_fields(std::string metadata, std::string external_id) {
    metadata_ = std::move(metadata);
    external_id_ = std::move(external_id);
  }

 private:
  std::string path_;
  std::string filename_;
  std::string metadata_;
  std::string external_id_;
};

// Streams the request body into a new file under `tmp_dir` (created if missing). Errors:
// kResourceExhausted "upload_too_large" past `max_bytes` (of file content; checked against
// Content-Length before reading when it is known); kInvalidArgument "missing_file" (multipart
// without a "file" part), "missing_filename" (raw body without a name), "empty_upload",
// "bad_filename", "field_too_large" (a metadata or external_id field over 64 KiB);
// kInvalidArgument "incomplete_body" when the body could not be read (client
// gone, malformed multipart); kInternal when the file cannot be written.
Result<ReceivedUpload> ReceiveUpload(const httplib::Request& req,
                                     const httplib::ContentReader& reader,
                                     const std::string& tmp_dir, int64_t max_bytes);

// The name part of a Content-Disposition header ("attachment; filename=\"a.pdf\"" -> "a.pdf");
// empty when there is none. Exposed for tests.
std::string FilenameFromContentDisposition(const std::string& value);

// Keeps the last path component, drops control characters; empty when nothing usable remains
// (".", "..", ""). Exposed for tests.
std::string SanitizeFilename(const std::string& name);

}  // namespace ingest::api
