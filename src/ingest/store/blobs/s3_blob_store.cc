#include "ingest/store/blobs/s3_blob_store.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>
#include <mutex>

#include "ingest/common/hash.h"
#include "ingest/store/blobs/file_chunks.h"
#include "ingest/store/blobs/sigv4.h"

namespace ingest::store {
namespace {

constexpr int64_t kMaxSinglePut = int64_t{5} << 30;
constexpr size_t kMaxErrorBody = 4096;
// Every blob object carries its key as user metadata, and a blob exists only when its object
// has it: S3 makes an object visible only when complete, but some S3-compatible servers (s3rver,
// used by the tests) show a half-written object, and write user metadata only at the end.
const char kShaHeader[] = "x-amz-meta-ingestd-sha256";
const char kEmptySha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string AmzDate() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

Status BadKey(std::string_view key) {
  return InvalidArgument("blob key \"" + std::string(key) + "\" is not a sha256 hex digest",
                         "bad_blob_key");
}

// The S3 error code from an error response body ("<Code>NoSuchBucket</Code>"), or "".
std::string ErrorCode(const std::string& body) {
  const size_t b = body.find("<Code>");
  const size_t e = body.find("</Code>");
  if (b == std::string::npos || e == std::string::npos || e < b) return "";
  return body.substr(b + 6, e - b - 6);
}

// What one request sends and receives. The body comes from `upload` (PUT) and goes to `sink`
// (GET, 2xx only); an error response's body is kept (bounded) to name the S3 error code.
struct Exchange {
  std::string method;
  std::string object;  // key within the bucket ("" = the bucket itself)
  std::string payload_sha256 = kEmptySha256;
  int64_t upload_size = -1;
  std::function<size_t(char*, size_t)> upload;  // returns bytes written, or CURL_READFUNC_ABORT
  blobs::ChunkSink sink;
  std::map<std::string, std::string> extra_headers;  // x-amz-* headers to send (and sign)

  long http_status = 0;
  std::map<std::string, std::string> response_headers;  // names lower-case
  std::string error_body;
  Status sink_status;
};

class S3BlobStore final : public BlobStore {
 public:
  explicit S3BlobStore(S3BlobStoreOptions options)
      : options_(std::move(options)), cache_(options_.cache) {
    InitCurlOnce();
    std::string endpoint = options_.endpoint.empty()
                               ? "https://s3." + options_.region + ".amazonaws.com"
                               : options_.endpoint;
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    endpoint_ = endpoint;
    const size_t scheme = endpoint.find("://");
    host_ = scheme == std::string::npos ? endpoint : endpoint.substr(scheme + 3);
    if (const size_t slash = host_.find('/'); slash != std::string::npos) host_.resize(slash);
  }

  // Hashes the file (the key is the object name and the signed payload hash), then streams it
  // in one PUT, hashing again; a file that changed in between aborts the upload, so S3 never
  // completes the object.
  Result<std::string> PutFile(const std::string& path) override {
    INGEST_ASSIGN_OR_RETURN(std::string key, Sha256File(path));
    if (Exists(key)) return key;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Unavailable("open " + path + ": " + std::strerror(errno), "io_error");
    struct Closer {
      int fd;
      ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) return Unavailable("stat " + path, "io_error");
    const int64_t size = st.st_size;
    if (size > kMaxSinglePut) {
      return InvalidArgument(
          "blob of " + std::to_string(size) + " bytes exceeds the 5 GiB an S3 PUT takes",
          "blob_too_large");
    }
    Sha256 again;
    int64_t sent = 0;
    bool changed = false;
    Exchange ex;
    ex.method = "PUT";
    ex.object = ObjectName(key);
    ex.payload_sha256 = key;
    ex.extra_headers[kShaHeader] = key;
    ex.upload_size = size;
    ex.upload = [&](char* buf, size_t cap) -> size_t {
      const size_t want = static_cast<size_t>(std::min<int64_t>(size - sent, cap));
      if (want == 0) return 0;
      ssize_t n;
      do {
        n = ::read(fd, buf, want);
      } while (n < 0 && errno == EINTR);
      if (n <= 0) {
        changed = true;  // shorter than when it was hashed
        return CURL_READFUNC_ABORT;
      }
      again.Update(std::string_view(buf, static_cast<size_t>(n)));
      sent += n;
      if (sent == size && again.FinishHex() != key) {
        changed = true;
        return CURL_READFUNC_ABORT;
      }
      return static_cast<size_t>(n);
    };
    Status st_put = Perform(ex);
    if (changed) {
      return FailedPrecondition("file " + path + " changed while it was stored", "blob_changed");
    }
    INGEST_RETURN_IF_ERROR(st_put);
    INGEST_RETURN_IF_ERROR(ExpectSuccess(ex, "put"));
    return key;
  }

  Result<std::string> PutBytes(std::string_view bytes) override {
    const std::string key = Sha256Hex(bytes);
    if (Exists(key)) return key;
    size_t off = 0;
    Exchange ex;
    ex.method = "PUT";
    ex.object = ObjectName(key);
    ex.payload_sha256 = key;
    ex.extra_headers[kShaHeader] = key;
    ex.upload_size = static_cast<int64_t>(bytes.size());
    ex.upload = [&](char* buf, size_t cap) -> size_t {
      const size_t n = std::min(cap, bytes.size() - off);
      std::memcpy(buf, bytes.data() + off, n);
      off += n;
      return n;
    };
    INGEST_RETURN_IF_ERROR(Perform(ex));
    INGEST_RETURN_IF_ERROR(ExpectSuccess(ex, "put"));
    return key;
  }

  Result<std::string> LocalPath(std::string_view key) override {
    if (!IsBlobKey(key)) return BadKey(key);
    return cache_.Materialize(key, [&](const blobs::ChunkSink& sink) -> Status {
      Exchange ex;
      ex.method = "GET";
      ex.object = ObjectName(key);
      ex.sink = sink;
      INGEST_RETURN_IF_ERROR(Perform(ex));
      INGEST_RETURN_IF_ERROR(ex.sink_status);
      return ExpectSuccess(ex, "get");
    });
  }

  bool Exists(std::string_view key) override {
    if (!IsBlobKey(key)) return false;
    Exchange ex;
    ex.method = "HEAD";
    ex.object = ObjectName(key);
    if (!Perform(ex).ok() || ex.http_status != 200) return false;
    auto it = ex.response_headers.find(kShaHeader);
    return it != ex.response_headers.end() && it->second == key;
  }

  Status Delete(std::string_view key) override {
    if (!IsBlobKey(key)) return BadKey(key);
    Exchange ex;
    ex.method = "DELETE";
    ex.object = ObjectName(key);
    INGEST_RETURN_IF_ERROR(Perform(ex));
    if (ex.http_status != 404) INGEST_RETURN_IF_ERROR(ExpectSuccess(ex, "delete"));
    cache_.Forget(key);
    return Status::Ok();
  }

  std::string Describe() const override {
    return "s3 s3://" + options_.bucket + (options_.prefix.empty() ? "" : "/" + options_.prefix) +
           " at " + endpoint_ + " (region " + options_.region + "; local cache " +
           cache_.options().dir + ", at most " + std::to_string(cache_.options().max_bytes >> 20) +
           " MiB)";
  }

  // HEAD on the bucket: answers 200 only with working credentials and an existing bucket.
  Status CheckReachable() override {
    Exchange ex;
    ex.method = "HEAD";
    INGEST_RETURN_IF_ERROR(Perform(ex));
    return ExpectSuccess(ex, "head bucket");
  }

 private:
  std::string ObjectName(std::string_view key) const {
    return options_.prefix.empty() ? std::string(key) : options_.prefix + "/" + std::string(key);
  }

  static size_t OnRead(char* buf, size_t size, size_t n, void* arg) {
    return static_cast<Exchange*>(arg)->upload(buf, size * n);
  }

  // Runs one signed request. Transport failures are kUnavailable; the HTTP status is left in
  // ex.http_status for the caller (ExpectSuccess) to judge.
  Status Perform(Exchange& ex) {
    CURL* curl = curl_easy_init();
    if (curl == nullptr) return Internal("curl_easy_init failed", "curl");
    struct Cleanup {
      CURL* c;
      curl_slist* h = nullptr;
      ~Cleanup() {
        curl_slist_free_all(h);
        curl_easy_cleanup(c);
      }
    } cleanup{curl};

    const std::string path = "/" + options_.bucket + (ex.object.empty() ? "" : "/" + ex.object);
    const std::string canonical_uri = blobs::UriEncode(path, /*keep_slash=*/true);
    const std::string amz_date = AmzDate();
    blobs::SigV4Request sig;
    sig.method = ex.method;
    sig.canonical_uri = canonical_uri;
    sig.payload_sha256 = ex.payload_sha256;
    sig.headers = {
        {"host", host_}, {"x-amz-content-sha256", ex.payload_sha256}, {"x-amz-date", amz_date}};
    if (!options_.session_token.empty()) {
      sig.headers["x-amz-security-token"] = options_.session_token;
    }
    for (const auto& [name, value] : ex.extra_headers) sig.headers[name] = value;
    const std::string authorization = blobs::SigV4Authorization(
        sig, {options_.access_key_id, options_.secret_access_key}, options_.region, "s3", amz_date);
    for (const auto& [name, value] : sig.headers) {
      if (name == "host") continue;  // curl sends Host from the URL
      cleanup.h = curl_slist_append(cleanup.h, (name + ": " + value).c_str());
    }
    cleanup.h = curl_slist_append(cleanup.h, ("Authorization: " + authorization).c_str());

    const std::string url = endpoint_ + canonical_uri;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT,
                     static_cast<long>(options_.connect_timeout.count()));
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                     static_cast<long>(options_.low_speed_timeout.count()));
    if (ex.method == "PUT") {
      cleanup.h = curl_slist_append(cleanup.h, "Content-Type: application/octet-stream");
      curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(ex.upload_size));
      curl_easy_setopt(curl, CURLOPT_READFUNCTION, &S3BlobStore::OnRead);
      curl_easy_setopt(curl, CURLOPT_READDATA, &ex);
    } else if (ex.method == "HEAD") {
      curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (ex.method != "GET") {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, ex.method.c_str());
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, cleanup.h);
    struct WriteState {
      Exchange* ex;
      CURL* curl;
    } ws{&ex, curl};
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &ws);
    curl_easy_setopt(
        curl, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t n, void* arg) -> size_t {
          auto* w = static_cast<WriteState*>(arg);
          const size_t len = size * n;
          long code = 0;
          curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &code);
          if (code >= 200 && code < 300 && w->ex->sink) {
            w->ex->sink_status = w->ex->sink(std::string_view(data, len));
            return w->ex->sink_status.ok() ? len : 0;  // 0 aborts the transfer
          }
          if (w->ex->error_body.size() < kMaxErrorBody) w->ex->error_body.append(data, len);
          return len;
        });
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &ex);
    curl_easy_setopt(
        curl, CURLOPT_HEADERFUNCTION, +[](char* data, size_t size, size_t n, void* arg) -> size_t {
          auto* e = static_cast<Exchange*>(arg);
          const size_t len = size * n;
          std::string_view line(data, len);
          const size_t colon = line.find(':');
          if (colon != std::string_view::npos) {
            std::string name(line.substr(0, colon));
            for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            std::string_view value = line.substr(colon + 1);
            while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
              value.remove_prefix(1);
            }
            while (!value.empty() &&
                   (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
              value.remove_suffix(1);
            }
            e->response_headers[name] = std::string(value);
          }
          return len;
        });
    const CURLcode rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &ex.http_status);
    if (rc != CURLE_OK) {
      if (!ex.sink_status.ok()) return ex.sink_status;
      return Unavailable("s3 " + ex.method + " " + path + ": " + curl_easy_strerror(rc),
                         "blob_store_unavailable");
    }
    return Status::Ok();
  }

  // Maps a completed request's HTTP status to a Status naming the S3 error code.
  Status ExpectSuccess(const Exchange& ex, std::string_view what) const {
    if (ex.http_status >= 200 && ex.http_status < 300) return Status::Ok();
    const std::string code = ErrorCode(ex.error_body);
    std::string msg = "s3 " + std::string(what) + " s3://" + options_.bucket + "/" + ex.object +
                      ": HTTP " + std::to_string(ex.http_status) + (code.empty() ? "" : " " + code);
    if (ex.http_status == 404) {
      if (code == "NoSuchBucket") return FailedPrecondition(std::move(msg), "no_such_bucket");
      return NotFound(std::move(msg), "blob_not_found");
    }
    if (ex.http_status == 401 || ex.http_status == 403) {
      return Unauthenticated(std::move(msg), "blob_store_denied");
    }
    if (ex.http_status == 400 && code == "BadDigest") return DataLoss(std::move(msg), "bad_digest");
    if (ex.http_status >= 500 || ex.http_status == 429) {
      return Unavailable(std::move(msg), "blob_store_unavailable");
    }
    return FailedPrecondition(std::move(msg), "blob_store_error");
  }

  const S3BlobStoreOptions options_;
  std::string endpoint_;
  std::string host_;
  blobs::BlobCache cache_;
};

}  // namespace

Status ParseS3Url(std::string_view url, S3BlobStoreOptions* options) {
  if (url.rfind("s3://", 0) != 0) {
    return InvalidArgument("blobs.url \"" + std::string(url) + "\" is not s3://bucket/prefix",
                           "bad_blobs_url");
  }
  std::string_view rest = url.substr(5);
  const size_t slash = rest.find('/');
  std::string_view bucket = rest.substr(0, slash);
  std::string_view prefix = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  if (bucket.empty()) {
    return InvalidArgument("blobs.url \"" + std::string(url) + "\" names no bucket",
                           "bad_blobs_url");
  }
  options->bucket = std::string(bucket);
  options->prefix = std::string(prefix);
  return Status::Ok();
}

Result<std::unique_ptr<BlobStore>> OpenS3BlobStore(const S3BlobStoreOptions& options) {
  if (options.bucket.empty())
    return InvalidArgument("s3 blob store needs a bucket", "bad_blobs_url");
  if (options.access_key_id.empty() || options.secret_access_key.empty()) {
    return InvalidArgument(
        "s3 blob store needs credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or their "
        "*_FILE variants)",
        "blob_credentials_missing");
  }
  return std::unique_ptr<BlobStore>(new S3BlobStore(options));
}

}  // namespace ingest::store
