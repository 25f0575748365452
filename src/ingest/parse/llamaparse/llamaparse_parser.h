// LlamaParse as a RemoteParser (DESIGN §4): Submit uploads the file once and returns the job id;
// Poll looks at the job's status and, when it succeeded, fetches result/json so each LlamaParse
// page becomes one ParsedDocument page with its original 1-based number. Billing facts (job id,
// pages, credits, cache hit, failed pages) go to detail_json; nothing is hidden or invented: a
// page LlamaParse failed on (PARTIAL_SUCCESS) is kept with whatever text it has and listed.
//
// Thread-safe: immutable after construction; the client is thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "ingest/http/http_client.h"
#include "ingest/parse/llamaparse/llamaparse_client.h"
#include "ingest/parse/parser.h"

namespace ingest::parse {

struct LlamaParseParserOptions {
  LlamaParseClientOptions client;
  LlamaParseUploadOptions upload;
  // How long one document may wait for LlamaParse (PollDeadline()): Parse() and the parse
  // stage give up with kDeadlineExceeded after it. Config llamaparse.poll_deadline_s.
  std::chrono::milliseconds poll_deadline = std::chrono::minutes(30);
  ParseLimits limits;  // checked before an upload (nothing is spent on an oversized file)
  // The server is an emulator (mode mock): Name() and the documents' parser are
  // "mock:llamaparse", so emulator output is cached, recorded and billed apart from real
  // LlamaParse output and never served to a real-mode run (DESIGN §1).
  bool mock = false;
  // LlamaParse webhook (parse/llamaparse/webhook.h): the public base URL of `ingestd serve`
  // and the server secret that signs per-job URLs. Both set: each upload of a pipeline job
  // (ParseInput::job_id) carries its webhook_url. Polling continues either way.
  std::string webhook_base_url;
  std::string webhook_secret;
};

class LlamaParseParser final : public RemoteParser {
 public:
  // Bump when the mapping from LlamaParse's result to pages changes.
  static constexpr int kVersion = 1;
  // The bound of one upload of a type LlamaParse paginates itself (text, Markdown, HTML, DOCX,
  // ...): one page per started KiB plus one (a printed page holds about 3 KB of text, and a
  // document shorter than its bound ends in one upload); a longer document is parsed in
  // further bounded uploads (docs/costs.md).
  static constexpr int64_t kBoundBytesPerPage = 1024;
  static constexpr int64_t kMaxBoundPages = 100;

  // `http` must outlive the parser.
  LlamaParseParser(const http::HttpClient* http, LlamaParseParserOptions options);
  // Owns a default HttpClient (for the composition root, which keeps only the parser).
  explicit LlamaParseParser(LlamaParseParserOptions options);

  std::string_view Name() const override {
    return options_.mock ? "mock:llamaparse" : "llamaparse";
  }
  // Covers kVersion and the upload options that change the output (parse mode, language,
  // target pages, max pages); not the key, URL or cache switches.
  std::string ConfigHash() const override;
  // Submit, then Poll on the RemotePollDelay schedule until done or poll_deadline.
  Result<ParsedDocument> Parse(const ParseInput& input) const override;
  // resource_exhausted[file_too_large] before any upload; otherwise LlamaParseClient::Upload,
  // with max_pages = input.max_pages and target_pages = input.first_page.. (0-based) when the
  // input carries a bound and the configuration selects no pages itself.
  Result<std::string> Submit(const ParseInput& input) const override;
  // Pages of a PDF (target_pages and max_pages applied); for other types a conservative bound
  // of 1 + one page per started kBoundBytesPerPage bytes, at most kMaxBoundPages per upload.
  Result<SubmitEstimate> EstimateSubmit(const ParseInput& input) const override;
  // Pending -> next_poll = 1 s (callers with a submit time use RemotePollDelay); success ->
  // the document; a failed job -> LlamaParseClient::JobError; HTTP errors as the client maps
  // them (404 = remote_job_not_found: the job is gone).
  Result<RemoteParseStatus> Poll(const ParseInput& input,
                                 std::string_view remote_job_id) const override;
  std::chrono::milliseconds PollDeadline() const override { return options_.poll_deadline; }

 private:
  LlamaParseParserOptions options_;
  std::unique_ptr<http::HttpClient> owned_http_;  // null when the caller owns the client
  LlamaParseClient client_;
};

}  // namespace ingest::parse
