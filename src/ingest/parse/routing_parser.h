// `auto` routing (DESIGN §4, §6): parse locally for free, and send a document to the remote
// parser (LlamaParse) only when the local result is poor or impossible:
//   - a PDF whose text layer is thin: average non-space characters per page below
//     min_chars_per_page, or more than half of its pages (when it has at least
//     text::kMinPagesForEmptyPageRule) nearly empty — i.e. scanned pages;
//   - a type the local parser cannot read (invalid_argument[unsupported_type]).
// Every other local error (corrupt PDF, size limits, empty file) is the document's error and is
// returned as is: paying a remote parser would not fix it.
//
// AutoParser is a RemoteParser so the parse stage drives it like LlamaParse without blocking:
// ParseWithoutRemote runs the local parser and returns its document when it is good enough (the
// stage then never submits), nullopt otherwise; Submit/Poll go to the remote parser. The parse
// cache keys on "auto" + ConfigHash (both parsers' hashes and the threshold), and the produced
// document says which parser made it ("local:pdf" or "llamaparse").
//
// Thread-safe: immutable; both parsers are thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ingest/parse/parser.h"

namespace ingest::parse {

struct AutoParserOptions {
  // Config parse.auto_min_chars_per_page. The default equals validate's no-text-layer limit
  // scaled up: a page of real prose carries well over 100 characters, a scanned page a few.
  double min_chars_per_page = 100;
};

// True when local extraction of `doc` (a PDF) is too thin to use; see the header comment.
bool PdfTextLayerIsPoor(const ParsedDocument& doc, double min_chars_per_page);

class AutoParser final : public RemoteParser {
 public:
  // Both parsers must outlive this one.
  AutoParser(const Parser* local, const RemoteParser* remote, AutoParserOptions options = {});
  // Owns both parsers.
  AutoParser(std::unique_ptr<const Parser> local, std::unique_ptr<const RemoteParser> remote,
             AutoParserOptions options = {});

  std::string_view Name() const override { return "auto"; }
  std::string ConfigHash() const override;
  // Synchronous: local, then remote->Parse when routing says so.
  Result<ParsedDocument> Parse(const ParseInput& input) const override;
  Result<std::optional<ParsedDocument>> ParseWithoutRemote(const ParseInput& input) const override;
  Result<std::string> Submit(const ParseInput& input) const override {
    return remote_->Submit(input);
  }
  Result<RemoteParseStatus> Poll(const ParseInput& input,
                                 std::string_view remote_job_id) const override {
    return remote_->Poll(input, remote_job_id);
  }
  Result<SubmitEstimate> EstimateSubmit(const ParseInput& input) const override {
    return remote_->EstimateSubmit(input);
  }
  std::chrono::milliseconds PollDeadline() const override { return remote_->PollDeadline(); }

 private:
  std::unique_ptr<const Parser> owned_local_;  // null when the caller owns them
  std::unique_ptr<const RemoteParser> owned_remote_;
  const Parser* local_;
  const RemoteParser* remote_;
  AutoParserOptions options_;
};

}  // namespace ingest::parse
