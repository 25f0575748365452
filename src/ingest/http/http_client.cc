#include "ingest/http/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <mutex>

#include "ingest/obs/log.h"

namespace ingest::http {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// curl_global_init is not thread-safe and must run once before any other libcurl call; a
// function-local static gives us exactly that. It is never cleaned up: other threads may still
// hold handles at exit.
void GlobalInitOnce() {
  static const bool initialised = [] {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return true;
  }();
  (void)initialised;
}

size_t WriteBody(char* data, size_t size, size_t nmemb, void* user) {
  static_cast<std::string*>(user)->append(data, size * nmemb);
  return size * nmemb;
}

size_t WriteHeader(char* data, size_t size, size_t nmemb, void* user) {
  auto* response = static_cast<HttpResponse*>(user);
  std::string_view line(data, size * nmemb);
  // A new status line starts a new header block (after "100 Continue" or a proxy CONNECT): only
  // the final block describes the response we return.
  if (line.starts_with("HTTP/")) {
    response->headers.clear();
    return size * nmemb;
  }
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    response->headers.emplace(Lower(Trim(line.substr(0, colon))),
                              std::string(Trim(line.substr(colon + 1))));
  }
  return size * nmemb;
}

// `os_errno` (CURLINFO_OS_ERRNO) names the cause curl's own text may hide, e.g. "connection
// refused" for ECONNREFUSED: it leads the message, since it is what an operator acts on.
Status TransportError(CURLcode code, const char* detail, const std::string& host, int os_errno) {
  std::string msg = "HTTP request to " + host + " failed: ";
  if (os_errno == ECONNREFUSED) {
    msg += "connection refused: ";
  } else if (code == CURLE_COULDNT_RESOLVE_HOST) {
    msg += "DNS lookup failed: ";
  }
  msg += curl_easy_strerror(code);
  if (detail != nullptr && detail[0] != '\0') msg += std::string(" (") + detail + ")";
  msg = obs::ScrubSecrets(msg);
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return DeadlineExceeded(std::move(msg), "timeout");
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return InvalidArgument(std::move(msg), "bad_url");
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
      return Unavailable(std::move(msg), "connection_failed");
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
      return Unavailable(std::move(msg), "tls_error");
    default:
      // Reset by peer, empty reply, truncated body, send/receive errors.
      return Unavailable(std::move(msg), "connection_reset");
  }
}

// scheme://host[:port] of `url`, for logs and messages (never the path or query, which may carry
// tokens on some APIs).
std::string HostOf(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  const size_t end = url.find_first_of("/?#", start);
  return url.substr(0, end);
}

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  auto it = headers.find(Lower(name));
  return it == headers.end() ? std::string() : it->second;
}

bool HttpResponse::HasHeader(std::string_view name) const {
  return headers.find(Lower(name)) != headers.end();
}

// The libcurl share object and one mutex per kind of shared data (libcurl asks for a lock per
// curl_lock_data value; one big lock would serialise DNS lookups behind connection-cache use).
struct HttpClient::Share {
  CURLSH* handle = nullptr;
  std::mutex locks[CURL_LOCK_DATA_LAST];

  static void Lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
    static_cast<Share*>(user)->locks[data].lock();
  }
  static void Unlock(CURL*, curl_lock_data data, void* user) {
    static_cast<Share*>(user)->locks[data].unlock();
  }
};

HttpClient::HttpClient(HttpClientOptions options)
    : options_(std::move(options)), share_(std::make_unique<Share>()) {
  GlobalInitOnce();
  share_->handle = curl_share_init();
  if (share_->handle != nullptr) {
    curl_share_setopt(share_->handle, CURLSHOPT_LOCKFUNC, &Share::Lock);
    curl_share_setopt(share_->handle, CURLSHOPT_UNLOCKFUNC, &Share::Unlock);
    curl_share_setopt(share_->handle, CURLSHOPT_USERDATA, share_.get());
    curl_share_setopt(share_->handle, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(share_->handle, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share_->handle, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  }
}

HttpClient::~HttpClient() {
  if (share_->handle != nullptr) curl_share_cleanup(share_->handle);
}

Result<HttpResponse> HttpClient::Send(const HttpRequest& request) const {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Internal("curl_easy_init failed", "http_client");
  const std::string host = HostOf(request.url);

  HttpResponse response;
  char error[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
  }
  // libcurl would otherwise send "Expect: 100-continue" for bodies over 1 MB and wait up to a
  // second for an answer most API servers never send.
  headers = curl_slist_append(headers, "Expect:");

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // required with timeouts in threaded programs
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.total_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // whatever libcurl can decode
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &WriteHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response);
  if (share_->handle != nullptr) curl_easy_setopt(curl, CURLOPT_SHARE, share_->handle);
  // The shared connection cache is trimmed to this many idle connections when a handle is done;
  // libcurl's default (5) would close warm connections as soon as more than 5 threads are busy.
  curl_easy_setopt(curl, CURLOPT_MAXCONNECTS, 64L);
  if (request.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else {
    if (request.method != "POST") {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  }

  const auto started = std::chrono::steady_clock::now();
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  long os_errno = 0;
  curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
  curl_easy_cleanup(curl);
  curl_slist_free_all(headers);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();

  if (rc != CURLE_OK) {
    obs::LogDebug("http transport error", {{"method", request.method},
                                           {"host", host},
                                           {"ms", ms},
                                           {"error", curl_easy_strerror(rc)}});
    return TransportError(rc, error, host, static_cast<int>(os_errno));
  }
  response.status = static_cast<int>(status);
  if (obs::LogEnabled(obs::LogLevel::kDebug)) {
    obs::LogDebug("http response", {{"method", request.method},
                                    {"host", host},
                                    {"status", response.status},
                                    {"ms", ms},
                                    {"request_id", response.Header("x-request-id")}});
  }
  return response;
}

}  // namespace ingest::http
