#include "ingest/parse/llamaparse/llamaparse_parser.h"

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

}  // namespace

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
  if (options_.webhook_base_url.empty() || options_.webhook_secret.empty() ||
      input.job_id.empty()) {
    return client_.Upload(input.path, input.filename, options_.upload);
  }
  LlamaParseUploadOptions upload = options_.upload;
  upload.webhook_url =
      LlamaParseWebhookUrl(options_.webhook_base_url, options_.webhook_secret, input.job_id);
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
