// A small blocking HTTP client over libcurl for the provider adapters (embed/openai,
// parse/llamaparse). It speaks plain request/response: no redirects are followed, bodies are held
// in memory, and every failure is a Status:
//   - transport failures (refused, reset, DNS, TLS) -> kUnavailable, reason "connection_failed",
//     "connection_reset" or "tls_error": safe to retry;
//   - connect or total timeout                       -> kDeadlineExceeded, reason "timeout";
//   - a URL libcurl cannot use                       -> kInvalidArgument, reason "bad_url".
// An HTTP error status is not a transport failure: Send returns it as a response and the adapter
// decides what it means.
//
// TLS peers are always verified (system CA store); there is deliberately no switch to turn that
// off. Proxies: libcurl reads http_proxy / https_proxy / no_proxy (and ALL_PROXY) from the
// environment by default, and this client leaves that behaviour on, so corporate proxies work
// without configuration.
//
// Thread-safe: one HttpClient is shared by all worker threads. Each Send uses its own easy handle;
// connections, DNS and TLS sessions are reused through a libcurl share object guarded by mutexes,
// so concurrent calls to the same host keep their keep-alive connections warm.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ingest/common/result.h"

namespace ingest::http {

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{5'000};
  // Whole exchange, from connect to the last body byte.
  std::chrono::milliseconds total_timeout{60'000};
  std::string user_agent = "ingestd/0.1";
};

struct HttpRequest {
  std::string method = "GET";  // GET, POST, PUT, DELETE, ...
  std::string url;
  // Sent as given. Never logged (they carry credentials).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;
  // Header names lower-cased; repeated headers keep every value in arrival order.
  std::multimap<std::string, std::string> headers;
  std::string body;

  // First value of header `name` (any case), or "" when absent.
  std::string Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Performs one exchange. Returns the response for any HTTP status, or a Status for transport
  // failures (see the header comment). Logs method, host, status, duration and the provider's
  // x-request-id at debug level; never headers or bodies.
  Result<HttpResponse> Send(const HttpRequest& request) const;

  const HttpClientOptions& options() const { return options_; }

 private:
  struct Share;
  HttpClientOptions options_;
  std::unique_ptr<Share> share_;
};

}  // namespace ingest::http
