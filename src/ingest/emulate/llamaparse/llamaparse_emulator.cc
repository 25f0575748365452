#include "ingest/emulate/llamaparse/llamaparse_emulator.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>

#include "ingest/common/hash.h"
#include "ingest/common/ids.h"
#include "ingest/emulate/common/billing_log.h"
#include "ingest/emulate/common/json_text.h"
#include "ingest/emulate/common/server_thread.h"
#include "ingest/emulate/common/token_bucket.h"
#include "ingest/emulate/llamaparse/job.h"
#include "ingest/emulate/llamaparse/page_extractor.h"
#include "ingest/emulate/llamaparse/parse_options.h"
#include "ingest/emulate/llamaparse/webhook_sender.h"

namespace ingest::emulate {
namespace {

using llamaparse::Job;
using nlohmann::json;

constexpr char kJson[] = "application/json";
constexpr char kPrefix[] = R"(/api(?:/v1)?/parsing)";
constexpr char kBadGatewayHtml[] =
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n";

void Detail(httplib::Response& res, int status, const std::string& detail) {
  res.status = status;
  res.set_content(JsonText(json{{"detail", detail}}), kJson);
}

struct CacheEntry {
  int64_t stored_ms = 0;
  std::vector<llamaparse::ParsedPage> pages;
  double credits = 0;  // what the original parse cost
};

}  // namespace

class LlamaParseEmulator::Impl {
 public:
  explicit Impl(LlamaParseEmulatorOptions options)
      : options_(std::move(options)),
        uploads_bucket_(options_.upload_rate_limit, options_.upload_rate_window_ms, options_.clock),
        http_faults_(options_.faults),
        job_faults_(options_.faults),
        thread_(&server_) {
    if (options_.credits_per_page.empty()) {
      options_.credits_per_page = llamaparse::DefaultCreditsPerPage();
    }
    const std::string prefix = kPrefix;
    server_.Post(prefix + "/upload", [this](const httplib::Request& q, httplib::Response& r) {
      Api(q, r, [&] { HandleUpload(q, r); });
    });
    server_.Get(prefix + "/supported_file_extensions", [this](const httplib::Request& q,
                                                              httplib::Response& r) {
      Api(q, r, [&] { r.set_content(JsonText(json(llamaparse::SupportedExtensions())), kJson); });
    });
    server_.Get(prefix + "/job/([^/]+)", [this](const httplib::Request& q, httplib::Response& r) {
      Api(q, r, [&] { HandleStatus(q.matches[1], r); });
    });
    server_.Get(prefix + "/job/([^/]+)/result/(raw/)?(markdown|text|json)",
                [this](const httplib::Request& q, httplib::Response& r) {
                  Api(q, r, [&] { HandleResult(q.matches[1], q.matches[2], q.matches[3], r); });
                });
    // v2 job list (spec §10): the cheapest authenticated call, used by `ingestd doctor --online`.
    server_.Get("/api/v2/parse", [this](const httplib::Request& q, httplib::Response& r) {
      Api(q, r, [&] { HandleList(q, r); });
    });
    server_.Get("/_emulator/stats", [this](const httplib::Request&, httplib::Response& r) {
      r.set_content(JsonText(Stats().ToJson(), 2), kJson);
    });
    server_.Post("/_emulator/reset", [this](const httplib::Request&, httplib::Response& r) {
      Reset();
      r.set_content("{\"reset\":true}", kJson);
    });
    // Billed usage per UTC day ({"data": [{"date", "jobs", "pages", "credits"}]}), the shape
    // `ingestd costs reconcile --usage` reads for LlamaParse.
    server_.Get("/_emulator/usage", [this](const httplib::Request&, httplib::Response& r) {
      r.set_content(JsonText(UsageJson(), 2), kJson);
    });
  }

  json UsageJson() const {
    std::lock_guard<std::mutex> lock(mu_);
    json data = json::array();
    for (const auto& [day, u] : usage_) {
      data.push_back({{"date", FormatIso8601(day).substr(0, 10)},
                      {"jobs", u.jobs},
                      {"pages", u.pages},
                      {"credits", u.credits}});
    }
    return {{"object", "usage"}, {"data", std::move(data)}};
  }

  Status Start(const std::string& host, int port) {
    INGEST_RETURN_IF_ERROR(billing_.Open(options_.billing_log_path));
    return thread_.Start(host, port);
  }
  int port() const { return thread_.port(); }
  void Stop() {
    thread_.Stop();
    webhooks_.Stop();
  }

  EmulatorStats Stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    EmulatorStats s = stats_;
    s.webhooks_delivered = webhooks_.delivered();
    s.webhooks_failed = webhooks_.failed();
    const int64_t now = options_.clock->NowMillis();
    for (const auto& [id, job] : jobs_) ++s.jobs_by_status[llamaparse::StateAt(job, now).status];
    return s;
  }

  void Reset() {
    std::lock_guard<std::mutex> lock(mu_);
    stats_ = EmulatorStats{};
    usage_.clear();
    jobs_.clear();
    cache_.clear();
    uploads_bucket_.Reset();
    http_faults_.Reset();
    job_faults_.Reset();
  }

 private:
  // Auth, HTTP faults and stats around every API endpoint.
  template <typename Handler>
  void Api(const httplib::Request& req, httplib::Response& res, Handler handler) {
    const std::string auth = req.get_header_value("Authorization");
    bool ok = auth.starts_with("Bearer ") && auth.size() > 7;
    if (ok && !options_.api_keys.empty()) {
      ok = std::find(options_.api_keys.begin(), options_.api_keys.end(), auth.substr(7)) !=
           options_.api_keys.end();
    }
    if (!ok) {
      Detail(res, 401, "Invalid authentication credentials");
      return Record(res.status, "unauthenticated", false);
    }
    const FaultKind fault = http_faults_.Draw(
        {FaultKind::kRateLimit429, FaultKind::kServerError500, FaultKind::kUnavailable503,
         FaultKind::kBadGatewayHtml502, FaultKind::kSlow, FaultKind::kDropConnection});
    const std::string outcome = "fault_" + std::string(FaultKindName(fault));
    switch (fault) {
      case FaultKind::kRateLimit429:
        res.set_header("Retry-After", "1");
        Detail(res, 429, "Too many requests, please slow down");
        return Record(429, outcome, true);
      case FaultKind::kServerError500:
        Detail(res, 500, "Internal Server Error");
        return Record(500, outcome, true);
      case FaultKind::kUnavailable503:
        Detail(res, 503, "Service Unavailable");
        return Record(503, outcome, true);
      case FaultKind::kBadGatewayHtml502:
        res.status = 502;
        res.set_content(kBadGatewayHtml, "text/html");
        return Record(502, outcome, true);
      case FaultKind::kDropConnection:
        // See the OpenAI emulator: headers go out, then httplib closes the connection.
        res.status = 200;
        res.set_content_provider(64, kJson,
                                 [](size_t, size_t, httplib::DataSink&) { return false; });
        return Record(0, outcome, true);
      case FaultKind::kSlow:
        std::this_thread::sleep_for(std::chrono::milliseconds(http_faults_.slow_ms()));
        break;
      default:
        break;
    }
    slow_ = fault == FaultKind::kSlow;
    handler();
    if (res.status == -1) res.status = 200;  // httplib fills in 200 only after we return
    Record(res.status, fault == FaultKind::kSlow ? outcome : OutcomeOf(res.status),
           fault == FaultKind::kSlow);
  }

  static std::string OutcomeOf(int status) {
    switch (status) {
      case 200:
        return "ok";
      case 402:
        return "credits_exhausted";
      case 404:
        return "not_found";
      case 413:
        return "too_large";
      case 429:
        return "rate_limited";
      default:
        return status >= 500 ? "server_error" : "invalid_request";
    }
  }

  void Record(int status, const std::string& outcome, bool fault) {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.requests;
    ++stats_.by_status[status];
    ++stats_.by_outcome[outcome];
    if (status == 429) ++stats_.rate_limited;
    if (fault) ++stats_.faults_injected;
  }

  void HandleUpload(const httplib::Request& req, httplib::Response& res) {
    const bool slow = slow_;  // a slow-fault upload creates its job but never bills
    const auto decision = uploads_bucket_.TryTake(1);
    if (!decision.allowed) {
      res.set_header("Retry-After", std::to_string((decision.retry_after_ms + 999) / 1000));
      return Detail(res, 429, "Rate limit exceeded: too many parse uploads, retry later");
    }
    std::map<std::string, std::string> fields;
    for (const auto& [name, part] : req.files) {
      if (name != "file") fields[name] = part.content;
    }
    if (!req.has_file("file") || req.get_file_value("file").filename.empty()) {
      if (fields.count("input_url") || fields.count("input_s3_path")) {
        return Detail(res, 400,
                      "input_url and input_s3_path are not supported by the emulator; upload "
                      "the file in the 'file' part");
      }
      return Detail(res, 400, "A file must be provided in the 'file' part (or input_url)");
    }
    const auto& file = req.get_file_value("file");
    const std::string ext = llamaparse::ExtensionOf(file.filename);
    if (!llamaparse::IsSupportedExtension(ext)) {
      return Detail(res, 400,
                    "Unsupported file type: '" + (ext.empty() ? file.filename : ext) +
                        "'. See /api/v1/parsing/supported_file_extensions");
    }
    if (static_cast<int64_t>(file.content.size()) > options_.max_file_bytes) {
      return Detail(res, 413,
                    "File too large: " + std::to_string(file.content.size()) +
                        " bytes, the maximum is " + std::to_string(options_.max_file_bytes));
    }
    auto parsed = llamaparse::ReadParseOptions(fields, options_.credits_per_page);
    if (!parsed.ok()) return Detail(res, 400, parsed.status().message());
    const llamaparse::ParseOptions& opts = parsed.value();
    if (!opts.webhook_url.empty()) {
      if (Status bad = CheckWebhookUrl(opts.webhook_url); !bad.ok()) {
        return Detail(res, 400, bad.message());
      }
    }

    Job job;
    job.id = UuidV4();
    job.page_separator = opts.page_separator;
    job.created_ms = options_.clock->NowMillis();
    const std::string sha = Sha256Hex(file.content);
    const std::string cache_key = opts.CacheKey(sha);

    std::unique_lock<std::mutex> lock(mu_);
    // Pages: from the cache when allowed, else extracted from the bytes.
    bool cache_hit = false;
    double parse_credits = 0;
    if (auto it = cache_.find(cache_key);
        !opts.invalidate_cache && it != cache_.end() &&
        job.created_ms - it->second.stored_ms < options_.cache_ttl_ms) {
      cache_hit = true;
      job.pages = it->second.pages;
      parse_credits = it->second.credits;
    } else {
      lock.unlock();
      const bool ok = SelectPages(file.filename, file.content, opts, &job);
      lock.lock();
      // overbill_pages: a billing fault, charged on pages never parsed.
      parse_credits = ok ? static_cast<double>(static_cast<int64_t>(job.pages.size()) +
                                               options_.overbill_pages) *
                               opts.credits_per_page
                         : 0;
    }
    const FaultKind job_fault =
        job_faults_.Draw({FaultKind::kJobError, FaultKind::kPartialSuccess});
    if (job.final_status == "SUCCESS" && job_fault == FaultKind::kJobError) {
      job.final_status = "ERROR";
      job.error_code = "INTERNAL_ERROR";
      job.error_message = "Injected fault: the job failed";
    } else if (job.final_status == "SUCCESS" && job_fault == FaultKind::kPartialSuccess &&
               !job.pages.empty()) {
      job.final_status = "PARTIAL_SUCCESS";
      auto& last = job.pages.back();
      last.ok = false;
      last.text.clear();
      last.md.clear();
    }
    const int64_t parsed_pages = static_cast<int64_t>(job.pages.size());
    const int64_t pages = parsed_pages + (parsed_pages > 0 ? options_.overbill_pages : 0);
    job.ready_ms =
        job.created_ms + options_.latency_base_ms + options_.latency_per_page_ms * parsed_pages;
    if (opts.job_timeout_s > 0) job.expires_ms = job.created_ms + opts.job_timeout_s * 1000;
    const bool expires = job.expires_ms > 0 && job.expires_ms < job.ready_ms;
    const bool billable =
        job.final_status == "SUCCESS" && !expires && !slow && job_fault == FaultKind::kNone;
    const double charge = billable && !cache_hit ? parse_credits : 0;
    if (options_.credits_cap > 0 && stats_.credits_billed + charge > options_.credits_cap) {
      return Detail(res, 402, "You've exceeded the maximum number of credits for your plan");
    }
    job.metadata = {{"job_pages", cache_hit || !billable ? 0 : pages},
                    {"job_is_cache_hit", cache_hit},
                    {"credits_used", parse_credits},
                    {"job_credits_usage", charge},
                    {"job_auto_mode_triggered_pages", 0}};
    if (options_.credits_cap > 0) job.metadata["credits_max"] = options_.credits_cap;
    ++stats_.uploads;
    if (billable) {
      ++stats_.billed_jobs;
      stats_.credits_billed += charge;
      DayUsage& day = usage_[job.created_ms / 86'400'000 * 86'400'000];
      ++day.jobs;
      day.pages += cache_hit ? 0 : pages;
      day.credits += charge;
      if (!cache_hit) stats_.pages_billed += pages;
      if (!cache_hit && !opts.do_not_cache) {
        cache_[cache_key] = CacheEntry{job.created_ms, job.pages, parse_credits};
      }
      billing_.Append({{"ts_ms", job.created_ms},
                       {"job_id", job.id},
                       {"file_sha256", sha},
                       {"filename", file.filename},
                       {"mode", opts.mode},
                       {"pages", cache_hit ? 0 : pages},
                       {"credits", charge},
                       {"cache_hit", cache_hit}});
    }
    const json body = {
        {"id", job.id}, {"status", "PENDING"}, {"error_code", nullptr}, {"error_message", nullptr}};
    // v1 result push (spec §7.1): sent when a successful job becomes visible.
    if (!opts.webhook_url.empty() && job.final_status != "ERROR" && !expires) {
      const json push = {{"txt", llamaparse::JoinPages(job, false)},
                         {"md", llamaparse::JoinPages(job, true)},
                         {"json", llamaparse::PagesJson(job)},
                         {"images", json::array()}};
      webhooks_.Schedule(opts.webhook_url, JsonText(push), job.ready_ms);
    }
    jobs_.emplace(job.id, std::move(job));
    res.set_content(JsonText(body), kJson);
  }

  // Extracts and selects pages into job->pages; on failure sets the job's final ERROR instead.
  bool SelectPages(const std::string& filename, const std::string& bytes,
                   const llamaparse::ParseOptions& opts, Job* job) {
    auto extracted = llamaparse::ExtractPages(filename, bytes, options_.non_pdf_page_bytes);
    if (!extracted.ok()) {
      job->final_status = "ERROR";
      job->error_code = extracted.status().reason();
      job->error_message = extracted.status().message();
      return false;
    }
    const auto& all = extracted.value();
    for (size_t i = 0; i < all.size(); ++i) {
      if (!opts.target_pages.empty() && !options_.ignore_max_pages &&
          !opts.target_pages.count(static_cast<int>(i))) {
        continue;
      }
      if (opts.max_pages > 0 && !options_.ignore_max_pages &&
          static_cast<int64_t>(job->pages.size()) >= opts.max_pages) {
        break;
      }
      job->pages.push_back({static_cast<int>(i) + 1, all[i].text, all[i].md, true});
    }
    if (job->pages.empty()) {
      job->final_status = "ERROR";
      job->error_code = "NO_DATA_FOUND_IN_FILE";
      job->error_message = "No data found in the file for the requested pages";
      return false;
    }
    return true;
  }

  // GET /api/v2/parse?page_size=N&page_token=T: jobs newest first, v2 statuses, cursor paging
  // (the token is the offset of the next page).
  void HandleList(const httplib::Request& req, httplib::Response& res) {
    auto int_param = [&](const char* name, long fallback) {
      if (!req.has_param(name)) return fallback;
      const std::string v = req.get_param_value(name);
      char* end = nullptr;
      const long n = std::strtol(v.c_str(), &end, 10);
      return end != v.c_str() && *end == '\0' ? n : -1;
    };
    const long page_size = int_param("page_size", 10);
    const long offset = int_param("page_token", 0);
    if (page_size < 1 || page_size > 100 || offset < 0) {
      return Detail(res, 422,
                    "page_size must be 1..100 and page_token a token from a previous page");
    }
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<const Job*> all;
    for (const auto& [id, job] : jobs_) all.push_back(&job);
    std::sort(all.begin(), all.end(), [](const Job* a, const Job* b) {
      return a->created_ms != b->created_ms ? a->created_ms > b->created_ms : a->id < b->id;
    });
    const int64_t now = options_.clock->NowMillis();
    json items = json::array();
    for (size_t i = static_cast<size_t>(offset);
         i < all.size() && items.size() < static_cast<size_t>(page_size); ++i) {
      const std::string v1 = llamaparse::StateAt(*all[i], now).status;
      const std::string v2 = v1 == "SUCCESS" || v1 == "PARTIAL_SUCCESS" ? "COMPLETED"
                             : v1 == "ERROR"                            ? "FAILED"
                                                                        : v1;
      items.push_back({{"id", all[i]->id}, {"status", v2}, {"tier", nullptr}});
    }
    const size_t next = static_cast<size_t>(offset) + items.size();
    json body = {
        {"items", items},
        {"next_page_token", next < all.size() ? json(std::to_string(next)) : json(nullptr)}};
    res.set_content(JsonText(body), kJson);
  }

  void HandleStatus(const std::string& id, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return Detail(res, 404, "Job not found");
    res.set_content(JsonText(llamaparse::StatusJson(it->second, options_.clock->NowMillis())),
                    kJson);
  }

  void HandleResult(const std::string& id, const std::string& raw, const std::string& kind,
                    httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return Detail(res, 404, "Job not found");
    const Job& job = it->second;
    const auto state = llamaparse::StateAt(job, options_.clock->NowMillis());
    if (state.status == "PENDING") return Detail(res, 400, "Job not completed yet");
    if (state.status != "SUCCESS" && state.status != "PARTIAL_SUCCESS") {
      return Detail(res, 400, "Job failed: " + state.error_code + ": " + state.error_message);
    }
    if (!raw.empty()) {
      if (kind == "json") return Detail(res, 404, "Not Found");
      return res.set_content(llamaparse::JoinPages(job, kind == "markdown"),
                             kind == "markdown" ? "text/markdown" : "text/plain");
    }
    json body;
    if (kind == "markdown") body["markdown"] = llamaparse::JoinPages(job, true);
    if (kind == "text") body["text"] = llamaparse::JoinPages(job, false);
    if (kind == "json") body["pages"] = llamaparse::PagesJson(job);
    body["job_metadata"] = job.metadata;
    res.set_content(JsonText(body), kJson);
  }

  // The service's constraints on webhook_url (spec §7.1): https, a domain name (not an IP),
  // under 200 characters. webhooks_allow_http relaxes the first two for loopback tests.
  Status CheckWebhookUrl(const std::string& url) const {
    if (url.size() >= 200)
      return InvalidArgument("webhook_url must be shorter than 200 characters");
    const bool https = url.starts_with("https://");
    if (!https && !(options_.webhooks_allow_http && url.starts_with("http://"))) {
      return InvalidArgument("webhook_url must be an https URL");
    }
    if (options_.webhooks_allow_http) return Status::Ok();
    const std::string host = url.substr(8, url.find_first_of(":/?#", 8) - 8);
    const bool ip = !host.empty() && (host.front() == '[' ||
                                      host.find_first_not_of("0123456789.") == std::string::npos);
    if (host.empty() || ip) return InvalidArgument("webhook_url must name a domain, not an IP");
    return Status::Ok();
  }

  LlamaParseEmulatorOptions options_;
  TokenBucket uploads_bucket_;
  FaultInjector http_faults_;
  FaultInjector job_faults_;
  BillingLog billing_;
  mutable std::mutex mu_;
  EmulatorStats stats_;  // GUARDED_BY(mu_)
  struct DayUsage {
    int64_t jobs = 0;
    int64_t pages = 0;
    double credits = 0;
  };
  std::map<int64_t, DayUsage> usage_;          // by UTC day start (Unix ms). GUARDED_BY(mu_)
  std::unordered_map<std::string, Job> jobs_;  // GUARDED_BY(mu_)
  std::unordered_map<std::string, CacheEntry> cache_;  // GUARDED_BY(mu_)
  static thread_local bool slow_;  // set by Api() for the handler it runs on this thread
  httplib::Server server_;
  ServerThread thread_;
  llamaparse::WebhookSender webhooks_{options_.clock};
};

thread_local bool LlamaParseEmulator::Impl::slow_ = false;

LlamaParseEmulator::LlamaParseEmulator(LlamaParseEmulatorOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
LlamaParseEmulator::~LlamaParseEmulator() { impl_->Stop(); }
Status LlamaParseEmulator::Start(const std::string& host, int port) {
  return impl_->Start(host, port);
}
int LlamaParseEmulator::port() const { return impl_->port(); }
void LlamaParseEmulator::Stop() { impl_->Stop(); }
EmulatorStats LlamaParseEmulator::Stats() const { return impl_->Stats(); }
void LlamaParseEmulator::Reset() { impl_->Reset(); }

}  // namespace ingest::emulate
