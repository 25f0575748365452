// `auto` routing (DESIGN §4, §6, §11): parse locally for free — text layer, then local OCR for
// pages without one (parse/ocr/ocr.h, inside the local parser) — and send to the remote parser
// (LlamaParse) only what the local result cannot cover:
//   - per page: pages local OCR read with a mean word confidence below ocr.min_confidence, or
//     could not read at all (timeout, too large), go to the remote parser alone, with
//     target_pages; the other pages keep their local text, and the merged document records
//     the parser of every page (detail "page_parsers": local:pdf, local:ocr, llamaparse);
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

#include <map>
#include <memory>
#include <mutex>
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
  // These three add the pages routing chose (target_pages) when only some pages go remote.
  // The local parse that chose them is kept in memory between ParseWithoutRemote and the
  // final Poll; a process that did not make it (a restart, another worker) parses again (the
  // local parser is deterministic, so the choice and the local pages are the same).
  Result<std::string> Submit(const ParseInput& input) const override;
  // When the remote job is done and only some pages went remote, the document returned is
  // the local one with those pages replaced, the remote's billing facts kept in detail_json.
  Result<RemoteParseStatus> Poll(const ParseInput& input,
                                 std::string_view remote_job_id) const override;
  Result<SubmitEstimate> EstimateSubmit(const ParseInput& input) const override;
  std::chrono::milliseconds PollDeadline() const override { return remote_->PollDeadline(); }

 private:
  std::unique_ptr<const Parser> owned_local_;  // null when the caller owns them
  std::unique_ptr<const RemoteParser> owned_remote_;
  const Parser* local_;
  const RemoteParser* remote_;
  AutoParserOptions options_;

  // The local document and the 1-based pages routed to the remote parser ({} = all pages).
  struct Routed {
    ParsedDocument local;
    std::vector<int> remote_pages;
  };
  // Local parse + routing decision: nullopt = the local document is the answer (`*local_doc`).
  Result<std::optional<Routed>> Route(const ParseInput& input, ParsedDocument* local_doc) const;
  Result<ParseInput> WithTargets(const ParseInput& input) const;
  Result<Routed> RoutedFor(const ParseInput& input) const;
  // The finished remote document merged into the local one when only some pages went remote.
  Result<ParsedDocument> MergeRouted(const ParseInput& input, ParsedDocument remote) const;

  mutable std::mutex mu_;
  mutable std::map<std::string, Routed> routed_;  // by file sha256 (or path); guarded by mu_
};

}  // namespace ingest::parse
