#include "ingest/parse/llamaparse/llamaparse_parser.h"

#include <poppler-document.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "ingest/common/hash.h"
#include "ingest/parse/detect.h"
#include "ingest/parse/llamaparse/webhook.h"

namespace ingest::parse {
namespace {

// The document type, for the pipeline's PDF rules (validate's no-text-layer check); LlamaParse
// itself detects by extension.
DocType DetectFileType(const ParseInput& input) {
  if (input.type != DocType::kUnknown) return input.type;
  std::ifstream in(input.path, std::ios::binary);
  std::string head(kDetectHeadBytes, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  return DetectType(head, input.filename);
}

// Pages selected by a 0-based target_pages list ("0,2,5-9") out of `total`; every page when
// the list is empty or unreadable (an upper bound: the service bills what it parses).
int64_t TargetPageCount(std::string_view list, int64_t total) {
  if (list.empty()) return total;
  std::vector<bool> picked(static_cast<size_t>(total), false);
  size_t pos = 0;
  while (pos <= list.size()) {
    const size_t comma = std::min(list.find(',', pos), list.size());
    const std::string part(list.substr(pos, comma - pos));
    pos = comma + 1;
    if (part.empty()) continue;
    int64_t a = 0, b = 0;
    const size_t dash = part.find('-');
    try {
      a = std::stoll(part.substr(0, dash));
      b = dash == std::string::npos ? a : std::stoll(part.substr(dash + 1));
    } catch (...) {
      return total;
    }
    for (int64_t p = std::max<int64_t>(a, 0); p <= b && p < total; ++p) {
      picked[static_cast<size_t>(p)] = true;
    }
  }
  return std::count(picked.begin(), picked.end(), true);
}

}  // namespace

Result<RemoteParser::SubmitEstimate> LlamaParseParser::EstimateSubmit(
    const ParseInput& input) const {
  SubmitEstimate est;
  est.service = std::string(Name());  // "mock:llamaparse" against an emulator
  est.mode = options_.upload.parse_mode;
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(input.path, ec);
  if (ec) return NotFound("cannot read the document file " + input.path + ": " + ec.message());
  int64_t pages = 0;
  const std::string& selection =
      input.target_pages.empty() ? options_.upload.target_pages : input.target_pages;
  if (DetectFileType(input) == DocType::kPdf) {
    std::unique_ptr<poppler::document> doc(poppler::document::load_from_file(input.path));
    // A PDF poppler cannot open is estimated like other types; the service decides.
    if (doc != nullptr && !doc->is_locked()) {
      pages = TargetPageCount(selection, doc->pages());
      est.total_pages = pages;
    }
  }
  if (pages == 0 && !selection.empty()) {
    // The selection bounds the pages whatever the type: count what it lists.
    pages = TargetPageCount(selection, options_.limits.max_pages);
  }
  if (pages == 0) {
    // Only the service knows how it paginates other types: a conservative bound per upload.
    pages = std::min<int64_t>(
        kMaxBoundPages,
        1 + (static_cast<int64_t>(size) + kBoundBytesPerPage - 1) / kBoundBytesPerPage);
  }
  est.fixed_selection = !selection.empty();
  est.max_total_pages = options_.upload.max_pages > 0 ? options_.upload.max_pages : 0;
  if (options_.upload.max_pages > 0) pages = std::min<int64_t>(pages, options_.upload.max_pages);
  pages = std::min<int64_t>(pages, options_.limits.max_pages);
  est.pages = std::max<int64_t>(pages, 1);
  if (est.total_pages > 0) est.total_pages = std::min(est.total_pages, est.pages);
  return est;
}

LlamaParseParser::LlamaParseParser(const http::HttpClient* http, LlamaParseParserOptions options)
    : options_(std::move(options)), client_(http, options_.client) {}

LlamaParseParser::LlamaParseParser(LlamaParseParserOptions options)
    : options_(std::move(options)),
      owned_http_(std::make_unique<http::HttpClient>()),
      client_(owned_http_.get(), options_.client) {}

std::string LlamaParseParser::ConfigHash() const {
  const auto& u = options_.upload;
  return Sha256Hex(std::string(Name()) + "@" + std::to_string(kVersion) + ";api=v1;result=json" +
                   ";parse_mode=" + u.parse_mode + ";language=" + u.language +
                   ";target_pages=" + u.target_pages + ";max_pages=" + std::to_string(u.max_pages));
}

Result<std::string> LlamaParseParser::Submit(const ParseInput& input) const {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(input.path, ec);
  if (ec) return NotFound("cannot read the document file " + input.path + ": " + ec.message());
  if (static_cast<int64_t>(size) > options_.limits.max_bytes) {
    return ResourceExhausted(input.filename + " is " + std::to_string(size) +
                                 " bytes, over the limit of " +
                                 std::to_string(options_.limits.max_bytes),
                             "file_too_large");
  }
  LlamaParseUploadOptions upload = options_.upload;
  if (!input.target_pages.empty()) upload.target_pages = input.target_pages;
  if (input.max_pages > 0) {
    // The provider-side bound of the reservation (issue 12): the service may not bill more.
    upload.max_pages = static_cast<int>(input.max_pages);
    if (upload.target_pages.empty()) {
      upload.target_pages = std::to_string(input.first_page) + "-" +
                            std::to_string(input.first_page + input.max_pages - 1);
    }
  }
  if (!options_.webhook_base_url.empty() && !options_.webhook_secret.empty() &&
      !input.job_id.empty()) {
    upload.webhook_url =
        LlamaParseWebhookUrl(options_.webhook_base_url, options_.webhook_secret, input.job_id);
  }
  return client_.Upload(input.path, input.filename, upload);
}

Result<RemoteParseStatus> LlamaParseParser::Poll(const ParseInput& input,
                                                 std::string_view remote_job_id) const {
  INGEST_ASSIGN_OR_RETURN(LlamaParseJobStatus status, client_.GetStatus(remote_job_id));
  RemoteParseStatus out;
  if (!status.terminal()) return out;
  if (!status.succeeded()) return LlamaParseClient::JobError(remote_job_id, status);
  INGEST_ASSIGN_OR_RETURN(LlamaParseResult result, client_.GetMarkdownPages(remote_job_id));

  ParsedDocument doc;
  doc.type = DetectFileType(input);
  doc.parser = std::string(Name());
  nlohmann::json failed = nlohmann::json::array();
  std::sort(result.pages.begin(), result.pages.end(),
            [](const LlamaParsePage& a, const LlamaParsePage& b) { return a.page < b.page; });
  for (auto& p : result.pages) {
    if (p.failed) failed.push_back(p.page);
    if (!doc.pages.empty() && doc.pages.back().page == p.page) {
      return Unavailable("LlamaParse job " + std::string(remote_job_id) + " returned page " +
                             std::to_string(p.page) + " twice",
                         "bad_response");
    }
    doc.pages.push_back(store::PageText{p.page, std::move(p.md)});
  }
  const auto& m = result.metadata;
  doc.detail_json = nlohmann::json{
      {"remote_job_id", remote_job_id},
      {"status", LlamaParseJobStateName(status.state)},
      {"parse_mode", options_.upload.parse_mode},
      {"pages", doc.pages.size()},
      {"job_pages", m.job_pages},
      {"credits", m.credits_charged},
      {"credits_used", m.credits_used},
      {"cache_hit", m.cache_hit},
      {"failed_pages",
       failed}}.dump();
  out.document = std::move(doc);
  return out;
}

Result<ParsedDocument> LlamaParseParser::Parse(const ParseInput& input) const {
  INGEST_ASSIGN_OR_RETURN(std::string id, Submit(input));
  const auto start = std::chrono::steady_clock::now();
  while (true) {
    const auto since = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    const auto gap = RemotePollDelay(since);
    if (since + gap > options_.poll_deadline) {
      return DeadlineExceeded("LlamaParse job " + id + " is still pending after " +
                                  std::to_string(since.count()) + " ms",
                              "remote_deadline");
    }
    std::this_thread::sleep_for(gap);
    Result<RemoteParseStatus> st = Poll(input, id);
    // The status endpoint's transient errors do not end the wait (spec §5: the official
    // client keeps polling until its deadline); a failed job or a hard error does.
    if (!st.ok()) {
      const StatusCode c = st.status().code();
      const bool transient =
          (c == StatusCode::kUnavailable || c == StatusCode::kDeadlineExceeded) &&
          st.status().reason() != "remote_job_expired" &&
          st.status().reason() != "remote_job_failed";
      if (transient) continue;
      return st.status();
    }
    if (st->done()) return std::move(*st->document);
  }
}

}  // namespace ingest::parse
