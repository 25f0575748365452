// Hybrid mode's parse fallback (DESIGN §4): a RemoteParser (LlamaParse, or `auto` routing over
// it) whose documents are parsed by the local parser instead when the remote service is down or
// over budget, so ingestion goes on with a worse parse rather than stopping. The document says
// so: the fallback result carries detail_json["parse_note"], which the parse stage writes to
// Document.parse_note ("fell back to local parser: llamaparse unavailable (...)"), shown by
// `ingestd jobs show` and the API.
//
// When (FallbackRule):
//   - at once, on any attempt: the service cannot be used for a while whatever we do — its
//     credits are exhausted (resource_exhausted[insufficient_quota], HTTP 402), or the governor
//     refuses the call (reasons circuit_open, provider_stopped, budget_exceeded, over_budget),
//     or it cannot be reached (connection_failed: refused or DNS; tls_error), which stops the
//     provider as a configuration error;
//   - on the parse stage's `after_attempts`-th attempt (default 3): the service is unavailable —
//     kUnavailable (connection reset, 5xx, 429, a remote job that ended in ERROR) or
//     kDeadlineExceeded (timeouts, the poll deadline passed), and kCancelled[remote_job_cancelled].
//     Earlier attempts return the error so the state machine retries with backoff: a short
//     outage costs a delay, not the LlamaParse quality;
//   - never: errors of the document itself (kInvalidArgument: unsupported type, protected PDF,
//     no data; resource_exhausted[file_too_large]) — the local parser would fail or do no
//     better — and configuration errors (kUnauthenticated: a wrong key is fixed, not hidden),
//     and anything else (bugs, store errors).
// When the local parser cannot parse the document either (e.g. an image only LlamaParse reads),
// there is no fallback: the remote error stands.
//
// Fallback results are cached like any parse (the later stages read them from the cache) but the
// parse stage does not reuse one on a cache hit: a requeue, or the same file uploaded again,
// asks the remote service again.
//
// Thread-safe: immutable; both parsers are thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ingest/parse/parser.h"

namespace ingest::parse {

struct ParseFallbackOptions {
  // Config parse.fallback_after_attempts: transient failures fall back on this attempt of the
  // parse stage (1 = on the first failure). Must not exceed pipeline.max_attempts, or the job
  // goes dead before it can fall back.
  int after_attempts = 3;
};

enum class FallbackRule { kNever, kNow, kAfterRetries };

// Which rule `error` from the remote parser falls under (see the header comment).
FallbackRule FallbackRuleFor(const Status& error);

// The fallback note in a parser's (or a parse record's) detail_json, "" when there is none.
std::string FallbackNote(std::string_view detail_json);

class FallbackParser final : public RemoteParser {
 public:
  // Owns both. `primary` does the real work; `local` is used only on a fallback.
  FallbackParser(std::unique_ptr<const RemoteParser> primary, std::unique_ptr<const Parser> local,
                 ParseFallbackOptions options = {});

  // The primary's name and hash: switching the fallback on or off changes no cache key.
  std::string_view Name() const override { return primary_->Name(); }
  std::string ConfigHash() const override { return primary_->ConfigHash(); }
  // Synchronous form: the primary's Parse, falling back as on the last allowed attempt.
  Result<ParsedDocument> Parse(const ParseInput& input) const override;
  Result<std::optional<ParsedDocument>> ParseWithoutRemote(const ParseInput& input) const override {
    return primary_->ParseWithoutRemote(input);
  }
  Result<std::string> Submit(const ParseInput& input) const override {
    return primary_->Submit(input);
  }
  Result<RemoteParseStatus> Poll(const ParseInput& input,
                                 std::string_view remote_job_id) const override {
    return primary_->Poll(input, remote_job_id);
  }
  std::chrono::milliseconds PollDeadline() const override { return primary_->PollDeadline(); }
  Result<SubmitEstimate> EstimateSubmit(const ParseInput& input) const override {
    return primary_->EstimateSubmit(input);
  }
  Result<std::optional<ParsedDocument>> Fallback(const ParseInput& input, const Status& error,
                                                 int attempt) const override;

 private:
  std::unique_ptr<const RemoteParser> primary_;
  std::unique_ptr<const Parser> local_;
  ParseFallbackOptions options_;
};

}  // namespace ingest::parse
