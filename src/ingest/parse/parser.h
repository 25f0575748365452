// Parser: bytes of one document in, Markdown pages out (DESIGN §1, parse stage).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/common/result.h"
#include "ingest/store/types.h"

namespace ingest::parse {

// Detected from content first (magic bytes, structure), the extension only as a tie-break.
// Images (PNG, JPEG, TIFF) are read by OCR (parse/ocr/ocr.h).
enum class DocType { kText, kMarkdown, kHtml, kPdf, kDocx, kPng, kJpeg, kTiff, kUnknown };
// "text", "markdown", "html", "pdf", "docx", "png", "jpeg", "tiff", "unknown"
std::string_view DocTypeName(DocType t);
std::string_view DocTypeMime(DocType t);  // "text/plain", ...

// Limits checked before any parsing work starts (and enforced during it where only parsing can
// tell, e.g. the page count of a PDF or the uncompressed size of a DOCX).
struct ParseLimits {
  int64_t max_bytes = 256ll << 20;               // file size
  int max_pages = 5000;                          // PDF pages (and TIFF pages)
  int64_t max_uncompressed_bytes = 512ll << 20;  // DOCX (zip bomb guard)
  // DOCX: an entry may inflate to at most this many times its compressed size (checked while
  // inflating, once it passes 16 MiB). Word's XML compresses 5-20x; a deflate bomb ~1000x.
  int64_t max_compression_ratio = 100;
};

struct ParseInput {
  std::string path;                  // local file with the document's bytes (a blob)
  std::string filename;              // original name, for the extension tie-break and messages
  std::string sha256;                // of the bytes
  DocType type = DocType::kUnknown;  // kUnknown: the parser detects
  std::string job_id = {};           // the pipeline job parsing it ("" outside the pipeline)
  // A remote parser's provider-side bound for one upload (issue 12): the service may bill at
  // most `max_pages` pages, starting at 0-based page `first_page`. 0 = no bound (the
  // parser's configuration decides), e.g. outside the governed pipeline.
  int64_t first_page = 0;
  int64_t max_pages = 0;
  // Pages a router chose for the remote parser, 0-based ("1,4-5", LlamaParse's target_pages
  // syntax); "" = the parser's configuration decides. Set by AutoParser for the pages local
  // OCR could not read well; overrides a configured selection.
  std::string target_pages = {};
};

struct ParsedDocument {
  std::vector<store::PageText> pages;  // ascending page numbers, 1-based
  DocType type = DocType::kUnknown;
  std::string parser;              // "local:pdf", "llamaparse", ...
  std::string detail_json = "{}";  // billing facts etc.
};

// Thread-safe; shared by all workers. Errors use Status reasons users can act on, e.g.
// invalid_argument[pdf_corrupt], invalid_argument[unsupported_type],
// resource_exhausted[too_many_pages], resource_exhausted[file_too_large].
class Parser {
 public:
  virtual ~Parser() = default;
  // Cache key part: "local", "llamaparse".
  virtual std::string_view Name() const = 0;
  // Hash of every setting that changes the output (parse cache key).
  virtual std::string ConfigHash() const = 0;
  virtual Result<ParsedDocument> Parse(const ParseInput& input) const = 0;
};

// What a remote parse job is doing: still pending (look again after `next_poll`), or done.
struct RemoteParseStatus {
  std::optional<ParsedDocument> document;  // set when done
  std::chrono::milliseconds next_poll{1000};

  bool done() const { return document.has_value(); }
};

// The polling schedule for remote jobs (specs/llamaparse.md §5): the first look 1 s after
// submitting, then +1 s per look up to 5 s. Given the time since the submit, returns the gap
// before the next look, so a caller needs no poll counter (the schedule survives restarts).
inline std::chrono::milliseconds RemotePollDelay(std::chrono::milliseconds since_submit) {
  std::chrono::milliseconds at{0}, gap{1000};
  while (gap < std::chrono::milliseconds(5000) && at + gap <= since_submit) {
    at += gap;
    gap += std::chrono::milliseconds(1000);
  }
  return gap;
}

// A parser whose work runs on a remote service, split so that no worker blocks on it: the
// parse stage calls Submit once, persists the returned id (StageResult::Waiting) and calls Poll
// on later leases until the job is done (DESIGN §1: submit once, persist the id before
// waiting). Parse() is the synchronous form (submit, then poll with backoff under a deadline)
// for callers that want one call. Thread-safe, like Parser.
class RemoteParser : public Parser {
 public:
  // Starts a remote job for `input`; returns its id. Called once per (document, config): a
  // retry after a failed Submit may call it again, a pending id is never re-submitted.
  virtual Result<std::string> Submit(const ParseInput& input) const = 0;
  // Called before a first Submit: a document that needs no remote job (e.g. auto routing found
  // the local parse good enough), or nullopt when Submit must run. Default: always nullopt.
  virtual Result<std::optional<ParsedDocument>> ParseWithoutRemote(const ParseInput& input) const {
    (void)input;
    return std::optional<ParsedDocument>();
  }
  // One look at a submitted job. `input` is the same as at Submit (type detection, names).
  // Errors: the job failed (see the implementation's mapping), or the service could not be
  // asked (transient; the caller keeps polling until its own deadline).
  virtual Result<RemoteParseStatus> Poll(const ParseInput& input,
                                         std::string_view remote_job_id) const = 0;
  // How to bound the uploads of `input` before anything is uploaded (the governor reserves each
  // one against the budgets and the upload carries the reservation as its max_pages): the
  // service, its billing mode (a price-table key) and the pages of the first upload. For a PDF
  // the page count is known (total_pages, after max_pages) and `pages` is all of it; for types
  // whose page count only the service knows, `pages` is a conservative bound and the document
  // is parsed in further bounded uploads while the service keeps returning full ones.
  // Default: kFailedPrecondition "no_estimate" (a remote parser that cannot estimate cannot be
  // governed, so it is refused rather than guessed).
  struct SubmitEstimate {
    std::string service;
    std::string mode;
    int64_t pages = 0;        // bound of one upload (the reservation and its max_pages)
    int64_t total_pages = 0;  // pages of the whole document when known (PDF); 0 = unknown
    // The configuration selects pages itself (target_pages): one upload of exactly `pages`
    // pages, never split.
    bool fixed_selection = false;
    // Most pages the whole document may have parsed (configured max_pages); 0 = no cap.
    int64_t max_total_pages = 0;
  };
  virtual Result<SubmitEstimate> EstimateSubmit(const ParseInput& input) const {
    (void)input;
    return FailedPrecondition(std::string(Name()) + " cannot estimate what a parse will cost",
                              "no_estimate");
  }
  // How long a caller waits for one document's remote work, counted from the first Submit
  // (re-submits of an expired job included); past it the wait ends with kDeadlineExceeded.
  virtual std::chrono::milliseconds PollDeadline() const = 0;
  // Remote work for `input` failed with `error` on the parse stage's `attempt`-th try
  // (1-based) at it: a document made without the remote service (parse/fallback_parser.h), or
  // nullopt to let `error` stand. A fallback document carries its reason in
  // detail_json["parse_note"] (see FallbackNote). Default: never.
  virtual Result<std::optional<ParsedDocument>> Fallback(const ParseInput& input,
                                                         const Status& error, int attempt) const {
    (void)input;
    (void)error;
    (void)attempt;
    return std::optional<ParsedDocument>();
  }
};

}  // namespace ingest::parse
