// A client for the LlamaParse v1 HTTP API (specs/llamaparse.md §2–§6): upload one file, read the
// job's status, fetch the result as JSON pages. One call is one HTTP exchange: the client never
// retries or sleeps, so its callers (the parse stage, LlamaParseParser::Parse) own the polling
// schedule and the exactly-once rule (an upload is never repeated behind their back).
//
// Errors (code[reason]), from HTTP statuses (spec §6) and job states (spec §3):
//   401, 403        -> kUnauthenticated[unauthenticated]: bad key or wrong region;
//   402             -> kResourceExhausted[insufficient_quota]: plan credits exhausted
//                      (configuration class, never retried);
//   429             -> kUnavailable[rate_limited], the message carries Retry-After when sent;
//   5xx             -> kUnavailable[server_error];
//   400, 422        -> kInvalidArgument[unsupported_type] when the detail names the file type,
//                      else kInvalidArgument[bad_request];
//   413             -> kResourceExhausted[file_too_large] (an input limit: permanent);
//   404             -> kNotFound[remote_job_not_found];
//   unreadable body -> kUnavailable[bad_response];
//   transport       -> whatever HttpClient returns (kUnavailable / kDeadlineExceeded).
// JobError() maps a terminal ERROR/CANCELLED status to a Status the same way.
//
// Thread-safe: immutable after construction; the HttpClient is shared and thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/common/result.h"
#include "ingest/common/secret_cell.h"
#include "ingest/http/call_gate.h"
#include "ingest/http/http_client.h"

namespace ingest::parse {

inline constexpr std::string_view kLlamaParseDefaultBaseUrl = "https://api.cloud.llamaindex.ai";

struct LlamaParseClientOptions {
  // Without "/api/...": the client appends "/api/v1/parsing/...". A trailing '/' is ignored.
  std::string base_url = std::string(kLlamaParseDefaultBaseUrl);
  std::string api_key;  // sent as "Authorization: Bearer <key>"; never logged
  // When set, read per request instead of `api_key` (rotation on SIGHUP).
  std::shared_ptr<const SecretCell> api_key_cell;
  // The governor's gate (rate limit, breaker, provider stop), asked before every request.
  // nullptr = ungoverned.
  http::CallGate* gate = nullptr;
};

// Upload options that change the output (and the price). Empty strings / false are not sent,
// as the official client does (spec §2.2).
struct LlamaParseUploadOptions {
  std::string parse_mode;    // "" = server default (parse_page_with_llm)
  std::string language;      // OCR language, "" = server default ("en")
  std::string target_pages;  // 0-based, "0,2,5-9"; "" = all
  int max_pages = 0;         // 0 = no cap
  // job_timeout_in_seconds (server minimum 120): the server ends the job ERROR[EXPIRED] after
  // it. 0 = server default (30 min). Not an output option: left out of ConfigHash.
  int job_timeout_s = 0;
  bool invalidate_cache = false;
  bool do_not_cache = false;
  // v1 result push (spec §7.1; parse/llamaparse/webhook.h); "" = none. Per upload, not an
  // output option.
  std::string webhook_url;
};

enum class LlamaParseJobState { kPending, kSuccess, kPartialSuccess, kError, kCancelled };
std::string_view LlamaParseJobStateName(LlamaParseJobState s);  // "PENDING", ...

struct LlamaParseJobStatus {
  LlamaParseJobState state = LlamaParseJobState::kPending;
  std::string error_code;  // e.g. "EXPIRED", "" when none
  std::string error_message;

  bool terminal() const { return state != LlamaParseJobState::kPending; }
  bool succeeded() const {
    return state == LlamaParseJobState::kSuccess || state == LlamaParseJobState::kPartialSuccess;
  }
};

// What the server reported about a finished job (result/json's job_metadata).
struct LlamaParseJobMetadata {
  int64_t job_pages = 0;  // pages billed by this job (0 on a cache hit)
  // Credits this job charged (job_credits_usage; 0 on a cache hit). Older servers send only
  // credits_used, which is then taken as the charge.
  double credits_charged = 0;
  // credits_used as reported: on a cache hit the price of the original parse, not a charge.
  double credits_used = 0;
  bool cache_hit = false;
};

struct LlamaParsePage {
  int page = 0;  // 1-based number in the original document
  std::string md;
  bool failed = false;  // page "status" was not OK (PARTIAL_SUCCESS); md may be empty
};

struct LlamaParseResult {
  std::vector<LlamaParsePage> pages;  // in the server's order
  LlamaParseJobMetadata metadata;
};

class LlamaParseClient {
 public:
  // `http` must outlive the client.
  LlamaParseClient(const http::HttpClient* http, LlamaParseClientOptions options);

  // POST /api/v1/parsing/upload: multipart `file` (filename, content type by extension) plus
  // the set options. Returns the remote job id. kNotFound when `path` cannot be read.
  Result<std::string> Upload(const std::string& path, std::string_view filename,
                             const LlamaParseUploadOptions& options) const;
  // GET /api/v1/parsing/job/{id}.
  Result<LlamaParseJobStatus> GetStatus(std::string_view job_id) const;
  // GET /api/v1/parsing/job/{id}/result/json: pages with their 1-based numbers (so page
  // boundaries survive) and job_metadata. Call after a successful terminal status.
  Result<LlamaParseResult> GetMarkdownPages(std::string_view job_id) const;

  // The Status for a terminal job that did not succeed: ERROR[EXPIRED] -> kUnavailable
  // [remote_job_expired] (a re-submit may work); ERROR[UNSUPPORTED_FILE_TYPE] ->
  // kInvalidArgument[unsupported_type]; PDF_IS_PROTECTED -> kInvalidArgument[pdf_protected];
  // NO_DATA_FOUND_IN_FILE -> kInvalidArgument[no_data_found]; other ERROR codes ->
  // kUnavailable[remote_job_failed]; CANCELLED -> kCancelled[remote_job_cancelled].
  static Status JobError(std::string_view job_id, const LlamaParseJobStatus& status);

  // Content type sent for a file name, by extension ("application/pdf", ...);
  // "application/octet-stream" when unknown.
  static std::string_view ContentTypeFor(std::string_view filename);

 private:
  Result<http::HttpResponse> Call(http::HttpRequest request) const;
  std::string Url(std::string_view suffix) const;

  const http::HttpClient* http_;
  LlamaParseClientOptions options_;
};

}  // namespace ingest::parse
