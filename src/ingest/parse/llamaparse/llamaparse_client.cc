#include "ingest/parse/llamaparse/llamaparse_client.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "ingest/common/failpoint.h"
#include "ingest/common/ids.h"
#include "ingest/parse/detect.h"

namespace ingest::parse {
namespace {

using nlohmann::json;

// FastAPI bodies are {"detail": "..."} or {"detail": [{"msg": ...}]}; anything else is shown
// raw (truncated), so a proxy's HTML error page still says something.
std::string DetailOf(const http::HttpResponse& r) {
  json j = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("detail")) {
    const json& d = j["detail"];
    if (d.is_string()) return d.get<std::string>();
    return d.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  return r.body.substr(0, 200);
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

Status HttpError(const http::HttpResponse& r, std::string_view what) {
  const std::string detail = DetailOf(r);
  const std::string msg =
      "LlamaParse " + std::string(what) + ": HTTP " + std::to_string(r.status) + ": " + detail;
  switch (r.status) {
    case 401:
    case 403:
      return Unauthenticated(msg + " (check LLAMA_CLOUD_API_KEY and the region's base URL)",
                             "unauthenticated");
    case 402:
      return ResourceExhausted(msg, "insufficient_quota");
    case 404:
      return NotFound(msg, "remote_job_not_found");
    case 413:
      return ResourceExhausted(msg, "file_too_large");
    case 429: {
      const std::string after = r.Header("retry-after");
      return Unavailable(msg + (after.empty() ? "" : " (retry after " + after + " s)"),
                         "rate_limited");
    }
    default:
      break;
  }
  if (r.status == 400 || r.status == 422) {
    const std::string l = Lower(detail);
    const bool type = l.find("file type") != std::string::npos ||
                      l.find("extension") != std::string::npos ||
                      l.find("unsupported") != std::string::npos;
    return InvalidArgument(msg, type ? "unsupported_type" : "bad_request");
  }
  if (r.status >= 500) return Unavailable(msg, "server_error");
  return InvalidArgument(msg, "bad_request");
}

Result<json> JsonBody(const http::HttpResponse& r, std::string_view what) {
  json j = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return Unavailable("LlamaParse " + std::string(what) + ": the response is not a JSON object",
                       "bad_response");
  }
  return j;
}

std::string StringOr(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

double NumberOr(const json& j, const char* key, double fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : fallback;
}

// Multipart field names and file names are quoted; a quote or line break in a user's file
// name would break the framing, so those become '_'.
std::string QuoteSafe(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '"' || c == '\r' || c == '\n' || c == '\\') c = '_';
  }
  return out;
}

}  // namespace

std::string_view LlamaParseJobStateName(LlamaParseJobState s) {
  switch (s) {
    case LlamaParseJobState::kPending:
      return "PENDING";
    case LlamaParseJobState::kSuccess:
      return "SUCCESS";
    case LlamaParseJobState::kPartialSuccess:
      return "PARTIAL_SUCCESS";
    case LlamaParseJobState::kError:
      return "ERROR";
    case LlamaParseJobState::kCancelled:
      return "CANCELLED";
  }
  return "PENDING";
}

LlamaParseClient::LlamaParseClient(const http::HttpClient* http, LlamaParseClientOptions options)
    : http_(http), options_(std::move(options)) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/') {
    options_.base_url.pop_back();
  }
}

std::string LlamaParseClient::Url(std::string_view suffix) const {
  return options_.base_url + "/api/v1/parsing/" + std::string(suffix);
}

Result<http::HttpResponse> LlamaParseClient::Call(http::HttpRequest request) const {
  request.headers.emplace_back(
      "Authorization",
      "Bearer " + (options_.api_key_cell ? options_.api_key_cell->Get() : options_.api_key));
  request.headers.emplace_back("Accept", "application/json");
  http::CallGate* gate = options_.gate;
  if (gate == nullptr) return http_->Send(request);
  INGEST_RETURN_IF_ERROR(gate->Admit(0));
  const auto started = std::chrono::steady_clock::now();
  Result<http::HttpResponse> sent = http_->Send(request);
  http::CallOutcome outcome;
  outcome.latency =
      std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - started);
  if (!sent.ok()) {
    outcome.status = sent.status();
  } else {
    outcome.response = &*sent;
    if (sent->status < 200 || sent->status >= 300) outcome.status = HttpError(*sent, "request");
  }
  gate->Observe(outcome);
  return sent;
}

std::string_view LlamaParseClient::ContentTypeFor(std::string_view filename) {
  static const std::pair<std::string_view, std::string_view> kTypes[] = {
      {"pdf", "application/pdf"},
      {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
      {"doc", "application/msword"},
      {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
      {"ppt", "application/vnd.ms-powerpoint"},
      {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
      {"xls", "application/vnd.ms-excel"},
      {"csv", "text/csv"},
      {"txt", "text/plain"},
      {"md", "text/markdown"},
      {"html", "text/html"},
      {"htm", "text/html"},
      {"rtf", "application/rtf"},
      {"epub", "application/epub+zip"},
      {"xml", "application/xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"bmp", "image/bmp"},
      {"tiff", "image/tiff"},
      {"webp", "image/webp"},
      {"svg", "image/svg+xml"},
  };
  const std::string ext = LowerExtension(filename);
  for (const auto& [e, type] : kTypes) {
    if (e == ext) return type;
  }
  return "application/octet-stream";
}

Result<std::string> LlamaParseClient::Upload(const std::string& path, std::string_view filename,
                                             const LlamaParseUploadOptions& options) const {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read the document file " + path, "not_found");
  std::ostringstream bytes;
  bytes << in.rdbuf();

  const std::string boundary = "ingestd-" + UuidV4();
  std::string body;
  auto field = [&](std::string_view name, std::string_view value) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + QuoteSafe(name) +
            "\"\r\n\r\n" + std::string(value) + "\r\n";
  };
  if (!options.parse_mode.empty()) field("parse_mode", options.parse_mode);
  if (!options.language.empty()) field("language", options.language);
  if (!options.target_pages.empty()) field("target_pages", options.target_pages);
  if (options.max_pages > 0) field("max_pages", std::to_string(options.max_pages));
  if (options.job_timeout_s > 0) {
    field("job_timeout_in_seconds", std::to_string(options.job_timeout_s));
  }
  if (options.invalidate_cache) field("invalidate_cache", "true");
  if (options.do_not_cache) field("do_not_cache", "true");
  if (!options.webhook_url.empty()) field("webhook_url", options.webhook_url);
  body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" +
          QuoteSafe(filename) + "\"\r\nContent-Type: " + std::string(ContentTypeFor(filename)) +
          "\r\n\r\n";
  body += bytes.str();
  body += "\r\n--" + boundary + "--\r\n";

  http::HttpRequest req;
  req.method = "POST";
  req.url = Url("upload");
  req.headers.emplace_back("Content-Type", "multipart/form-data; boundary=" + boundary);
  req.body = std::move(body);
  INGEST_ASSIGN_OR_RETURN(http::HttpResponse r, Call(std::move(req)));
  // The upload left (the service may have created a job that will bill); its id is not read.
  FailPoint(kFailAfterSend);
  if (r.status != 200) return HttpError(r, "upload");
  INGEST_ASSIGN_OR_RETURN(json j, JsonBody(r, "upload"));
  std::string id = StringOr(j, "id");
  if (id.empty())
    return Unavailable("LlamaParse upload: the response has no job id", "bad_response");
  return id;
}

Result<LlamaParseJobStatus> LlamaParseClient::GetStatus(std::string_view job_id) const {
  http::HttpRequest req;
  req.url = Url("job/" + std::string(job_id));
  INGEST_ASSIGN_OR_RETURN(http::HttpResponse r, Call(std::move(req)));
  if (r.status != 200) return HttpError(r, "job status");
  INGEST_ASSIGN_OR_RETURN(json j, JsonBody(r, "job status"));
  const std::string s = StringOr(j, "status");
  LlamaParseJobStatus out;
  if (s == "PENDING") {
    out.state = LlamaParseJobState::kPending;
  } else if (s == "SUCCESS") {
    out.state = LlamaParseJobState::kSuccess;
  } else if (s == "PARTIAL_SUCCESS") {
    out.state = LlamaParseJobState::kPartialSuccess;
  } else if (s == "ERROR") {
    out.state = LlamaParseJobState::kError;
  } else if (s == "CANCELLED") {
    out.state = LlamaParseJobState::kCancelled;
  } else {
    return Unavailable("LlamaParse job status: unknown status \"" + s + "\"", "bad_response");
  }
  out.error_code = StringOr(j, "error_code");
  out.error_message = StringOr(j, "error_message");
  return out;
}

Result<LlamaParseResult> LlamaParseClient::GetMarkdownPages(std::string_view job_id) const {
  http::HttpRequest req;
  req.url = Url("job/" + std::string(job_id) + "/result/json");
  INGEST_ASSIGN_OR_RETURN(http::HttpResponse r, Call(std::move(req)));
  if (r.status != 200) return HttpError(r, "json result");
  INGEST_ASSIGN_OR_RETURN(json j, JsonBody(r, "json result"));
  auto pages = j.find("pages");
  if (pages == j.end() || !pages->is_array()) {
    return Unavailable("LlamaParse json result: no pages array", "bad_response");
  }
  LlamaParseResult out;
  for (const json& p : *pages) {
    if (!p.is_object() || !p.contains("page") || !p["page"].is_number_integer() ||
        p["page"].get<int64_t>() < 1) {
      return Unavailable("LlamaParse json result: a page without a positive page number",
                         "bad_response");
    }
    LlamaParsePage page;
    page.page = p["page"].get<int>();
    page.md = StringOr(p, "md");
    const std::string status = StringOr(p, "status");
    page.failed = !status.empty() && status != "OK";
    out.pages.push_back(std::move(page));
  }
  if (auto m = j.find("job_metadata"); m != j.end() && m->is_object()) {
    auto& meta = out.metadata;
    meta.job_pages = static_cast<int64_t>(NumberOr(*m, "job_pages", 0));
    meta.credits_used = NumberOr(*m, "credits_used", 0);
    // job_credits_usage is what this job charged (0 on a cache hit, spec §4.1); credits_used
    // alone (older servers) is the best available figure for the charge.
    meta.credits_charged = NumberOr(*m, "job_credits_usage", meta.credits_used);
    auto hit = m->find("job_is_cache_hit");
    meta.cache_hit = hit != m->end() && hit->is_boolean() && hit->get<bool>();
  }
  return out;
}

Status LlamaParseClient::JobError(std::string_view job_id, const LlamaParseJobStatus& status) {
  const std::string msg = "LlamaParse job " + std::string(job_id) + " ended " +
                          std::string(LlamaParseJobStateName(status.state)) +
                          (status.error_code.empty() ? "" : " [" + status.error_code + "]") +
                          (status.error_message.empty() ? "" : ": " + status.error_message);
  if (status.state == LlamaParseJobState::kCancelled) {
    return Cancelled(msg, "remote_job_cancelled");
  }
  const std::string& code = status.error_code;
  if (code == "EXPIRED") return Unavailable(msg, "remote_job_expired");
  if (code == "UNSUPPORTED_FILE_TYPE") return InvalidArgument(msg, "unsupported_type");
  if (code == "PDF_IS_PROTECTED") return InvalidArgument(msg, "pdf_protected");
  if (code == "NO_DATA_FOUND_IN_FILE") return InvalidArgument(msg, "no_data_found");
  return Unavailable(msg, "remote_job_failed");
}

}  // namespace ingest::parse
