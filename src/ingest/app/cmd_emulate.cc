// `ingestd emulate openai|llamaparse`: serve a faithful fake of the OpenAI embeddings API or the
// LlamaParse v1 API (DESIGN §4, docs/emulators.md) for staging, load tests and CI. The first
// line on stdout is "listening on http://HOST:PORT", so scripts using --port 0 can read the port.
// Runs until SIGINT or SIGTERM, then stops the server cleanly.
#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "ingest/app/cli.h"
#include "ingest/emulate/llamaparse/llamaparse_emulator.h"
#include "ingest/emulate/llamaparse/parse_options.h"
#include "ingest/emulate/openai/openai_emulator.h"
#include "ingest/text/tokenizer.h"

namespace ingest::app {
namespace {

using emulate::FaultConfig;
using emulate::FaultKind;

// Fault flags shared by both subcommands.
struct FaultFlags {
  uint64_t seed = 0;
  double p429 = 0, p500 = 0, p503 = 0, p502 = 0, slow = 0, drop = 0;
  double malformed = 0, missing = 0;  // OpenAI only
  double job_error = 0, partial = 0;  // LlamaParse only
  int64_t slow_ms = 30'000;
  std::vector<std::string> every;  // KIND:N

  void Add(CLI::App* cmd, bool openai) {
    cmd->add_option("--seed", seed, "Fault-injection seed (same seed, same faults)");
    cmd->add_option("--fault-rate-429", p429, "Probability of an injected 429");
    cmd->add_option("--fault-rate-500", p500, "Probability of an injected 500");
    cmd->add_option("--fault-rate-503", p503, "Probability of an injected 503");
    cmd->add_option("--fault-rate-502", p502, "Probability of an HTML 502");
    cmd->add_option("--fault-rate-slow", slow, "Probability of a response delayed by --slow-ms");
    cmd->add_option("--slow-ms", slow_ms, "Delay of a slow fault (default 30000)");
    cmd->add_option("--fault-rate-drop", drop, "Probability of a dropped connection");
    if (openai) {
      cmd->add_option("--fault-rate-malformed", malformed, "Probability of a truncated JSON body");
      cmd->add_option("--fault-rate-missing", missing, "Probability of one data[] item missing");
    } else {
      cmd->add_option("--fault-rate-job-error", job_error, "Probability a job ends in ERROR");
      cmd->add_option("--fault-rate-partial", partial, "Probability a job ends in PARTIAL_SUCCESS");
    }
    cmd->add_option("--fault-every", every,
                    "Deterministic schedule KIND:N (every Nth request); KIND is one of 429, 500, "
                    "503, 502, slow, drop, malformed, missing, job_error, partial. Repeatable");
  }

  Status Build(FaultConfig* config) const {
    config->seed = seed;
    config->slow_ms = slow_ms;
    const std::pair<FaultKind, double> rates[] = {{FaultKind::kRateLimit429, p429},
                                                  {FaultKind::kServerError500, p500},
                                                  {FaultKind::kUnavailable503, p503},
                                                  {FaultKind::kBadGatewayHtml502, p502},
                                                  {FaultKind::kSlow, slow},
                                                  {FaultKind::kDropConnection, drop},
                                                  {FaultKind::kMalformedJson, malformed},
                                                  {FaultKind::kMissingItem, missing},
                                                  {FaultKind::kJobError, job_error},
                                                  {FaultKind::kPartialSuccess, partial}};
    double total = 0;
    for (const auto& [kind, p] : rates) {
      if (p < 0 || p > 1) return InvalidArgument("fault rates must be within [0, 1]");
      if (p > 0) config->rates[kind] = p;
      total += p;
    }
    if (total > 1) return InvalidArgument("fault rates sum to more than 1");
    for (const auto& spec : every) INGEST_RETURN_IF_ERROR(emulate::ParseEverySpec(spec, config));
    return Status::Ok();
  }
};

struct ServerFlags {
  std::string host = "127.0.0.1";
  int port = 8081;
  std::vector<std::string> api_keys;
  std::string billing_log;

  void Add(CLI::App* cmd, int default_port) {
    port = default_port;
    cmd->add_option("--host", host, "Address to bind (default 127.0.0.1)");
    cmd->add_option("--port", port, "Port to bind; 0 picks a free one")->capture_default_str();
    cmd->add_option("--api-key", api_keys,
                    "Accepted Bearer key (repeatable); default env INGESTD_EMULATOR_API_KEY; "
                    "none = any key");
    cmd->add_option("--billing-log", billing_log, "Append one JSON line per billed request here");
  }

  std::vector<std::string> Keys() const {
    if (!api_keys.empty()) return api_keys;
    if (const char* env = std::getenv("INGESTD_EMULATOR_API_KEY"); env != nullptr && *env) {
      return {env};
    }
    return {};
  }
};

// Blocks SIGINT/SIGTERM in this thread before any server thread starts (threads inherit the
// mask), so the signal is only ever taken by the sigwait below: no async handler, clean stop.
sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

template <typename Emulator>
int Serve(Emulator& emulator, const std::string& host, int port, const char* name) {
  sigset_t set = BlockStopSignals();
  if (Status st = emulator.Start(host, port); !st.ok()) {
    std::cerr << "ingestd emulate " << name << ": " << st.ToString() << "\n";
    return 1;
  }
  std::printf("listening on http://%s:%d\n", host.c_str(), emulator.port());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  emulator.Stop();
  const auto stats = emulator.Stats();
  std::cerr << "ingestd emulate " << name << ": stopped; " << stats.ToJson().dump() << "\n";
  return 0;
}

struct OpenAiFlags {
  ServerFlags server;
  FaultFlags faults;
  int64_t rpm = 0, tpm = 0, quota_tokens = 0, latency_ms = 0;
  int64_t max_inputs = 2048, max_tokens_per_input = 8192, max_tokens_per_request = 300'000;
  bool reject_all_keys = false;
};

int RunOpenAi(const OpenAiFlags& f) {
  emulate::OpenAiEmulatorOptions o;
  o.api_keys = f.server.Keys();
  o.reject_all_keys = f.reject_all_keys;
  o.rpm = f.rpm;
  o.tpm = f.tpm;
  o.quota_tokens = f.quota_tokens;
  o.latency_ms = f.latency_ms;
  o.limits.max_inputs = f.max_inputs;
  o.limits.max_tokens_per_input = f.max_tokens_per_input;
  o.limits.max_tokens_per_request = f.max_tokens_per_request;
  o.billing_log_path = f.server.billing_log;
  if (Status st = f.faults.Build(&o.faults); !st.ok()) {
    std::cerr << "ingestd emulate openai: " << st.message() << "\n";
    return 2;
  }
  // The real API bills cl100k_base tokens for all three embedding models.
  Result<const text::Tokenizer*> tokenizer = text::Tokenizer::Get(text::Encoding::kCl100kBase);
  if (!tokenizer.ok()) {
    std::cerr << "ingestd emulate openai: " << tokenizer.status().ToString() << "\n";
    return 1;
  }
  emulate::OpenAiEmulator emulator(std::move(o), *tokenizer);
  return Serve(emulator, f.server.host, f.server.port, "openai");
}

struct LlamaParseFlags {
  ServerFlags server;
  FaultFlags faults;
  double credits_cap = 0;
  int64_t upload_rate = 50;
  int64_t upload_window_ms = 10'000;
  int64_t latency_ms = 1000, latency_ms_per_page = 200;
  int64_t max_file_mb = 512;
  std::vector<std::string> credits;  // MODE=CREDITS overrides
  bool webhook_allow_http = false;
  int64_t non_pdf_page_bytes = 0;
  int64_t overbill_pages = 0;
  bool ignore_max_pages = false;
};

int RunLlamaParse(const LlamaParseFlags& f) {
  emulate::LlamaParseEmulatorOptions o;
  o.api_keys = f.server.Keys();
  o.credits_cap = f.credits_cap;
  o.upload_rate_limit = f.upload_rate;
  o.upload_rate_window_ms = f.upload_window_ms;
  o.latency_base_ms = f.latency_ms;
  o.latency_per_page_ms = f.latency_ms_per_page;
  o.max_file_bytes = f.max_file_mb * 1024 * 1024;
  o.billing_log_path = f.server.billing_log;
  o.webhooks_allow_http = f.webhook_allow_http;
  o.non_pdf_page_bytes = f.non_pdf_page_bytes;
  o.overbill_pages = f.overbill_pages;
  o.ignore_max_pages = f.ignore_max_pages;
  o.credits_per_page = emulate::llamaparse::DefaultCreditsPerPage();
  for (const auto& spec : f.credits) {
    const size_t eq = spec.find('=');
    char* end = nullptr;
    const double value = eq == std::string::npos ? -1 : std::strtod(spec.c_str() + eq + 1, &end);
    if (eq == std::string::npos || end == spec.c_str() + eq + 1 || *end != '\0' || value < 0) {
      std::cerr << "ingestd emulate llamaparse: --credits must be MODE=CREDITS, got " << spec
                << "\n";
      return 2;
    }
    o.credits_per_page[spec.substr(0, eq)] = value;
  }
  if (Status st = f.faults.Build(&o.faults); !st.ok()) {
    std::cerr << "ingestd emulate llamaparse: " << st.message() << "\n";
    return 2;
  }
  emulate::LlamaParseEmulator emulator(std::move(o));
  return Serve(emulator, f.server.host, f.server.port, "llamaparse");
}

}  // namespace

void AddEmulateCommand(CLI::App& app, GlobalOptions& /*global*/, int* exit_code) {
  CLI::App* cmd =
      app.add_subcommand("emulate", "Serve a local emulator of a paid API (see docs/emulators.md)");
  cmd->require_subcommand(1);

  auto oa = std::make_shared<OpenAiFlags>();
  CLI::App* openai = cmd->add_subcommand(
      "openai", "OpenAI embeddings API emulator (POST /v1/embeddings, GET /v1/models)");
  oa->server.Add(openai, 8081);
  oa->faults.Add(openai, /*openai=*/true);
  openai->add_option("--rpm", oa->rpm, "Requests per minute; 0 = unlimited");
  openai->add_option("--tpm", oa->tpm, "Tokens per minute; 0 = unlimited");
  openai->add_option("--quota-tokens", oa->quota_tokens,
                     "Billable tokens before 429 insufficient_quota; 0 = unlimited");
  openai->add_option("--latency-ms", oa->latency_ms, "Added latency per request");
  openai->add_option("--max-inputs", oa->max_inputs, "Inputs per request (default 2048)");
  openai->add_option("--max-tokens-per-input", oa->max_tokens_per_input, "Default 8192");
  openai->add_option("--max-tokens-per-request", oa->max_tokens_per_request, "Default 300000");
  openai->add_flag("--fault-invalid-key", oa->reject_all_keys,
                   "Answer every request 401 invalid_api_key");
  openai->callback([oa, exit_code] { *exit_code = RunOpenAi(*oa); });

  auto lp = std::make_shared<LlamaParseFlags>();
  CLI::App* llama = cmd->add_subcommand(
      "llamaparse", "LlamaParse v1 API emulator (/api/parsing/* and /api/v1/parsing/*)");
  lp->server.Add(llama, 8082);
  lp->faults.Add(llama, /*openai=*/false);
  llama->add_option("--credits-cap", lp->credits_cap,
                    "Plan credit cap; uploads past it get 402. 0 = none");
  llama->add_option("--upload-rate", lp->upload_rate, "Uploads per window (default 50); 0 = off");
  llama->add_option("--upload-window-ms", lp->upload_window_ms, "Upload window (default 10000)");
  llama->add_option("--latency-ms", lp->latency_ms, "Job latency base (default 1000)");
  llama->add_option("--latency-ms-per-page", lp->latency_ms_per_page,
                    "Job latency per page (default 200)");
  llama->add_option("--max-file-mb", lp->max_file_mb, "Upload size cap, 413 above (default 512)");
  llama->add_option("--credits", lp->credits,
                    "Credits per page override MODE=CREDITS, e.g. premium_mode=45 (repeatable)");
  llama->add_flag("--webhook-allow-http", lp->webhook_allow_http,
                  "Accept http:// and IP-address webhook_url uploads (loopback tests); the "
                  "service, like the default, requires https and a domain name");
  llama->add_option("--non-pdf-page-bytes", lp->non_pdf_page_bytes,
                    "Paginate every non-PDF file at one page per started N bytes (0 = default: "
                    "text one page, other types one per 100 KiB)");
  llama->add_option("--overbill-pages", lp->overbill_pages,
                    "Billing fault: bill N pages more than parsed on every billed job");
  llama->add_flag(
      "--ignore-max-pages", lp->ignore_max_pages,
      "Billing fault: parse and bill every page whatever max_pages and target_pages say");
  llama->callback([lp, exit_code] { *exit_code = RunLlamaParse(*lp); });
}

}  // namespace ingest::app
