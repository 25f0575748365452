// `ingestd serve [--listen HOST:PORT] [--workers N]`: the HTTP API, dashboard and metrics
// (api/) with a worker pool in the same process (DESIGN §7, §9). The first line on stdout is
// "listening on http://HOST:PORT" (the real port when PORT is 0), so scripts can read it.
//
// Shutdown on SIGINT/SIGTERM: the server stops accepting and finishes in-flight requests, then
// the pool stops leasing and lets running stages finish and release their jobs. SIGHUP reloads
// the TLS certificate and key without dropping connections, and the provider API keys
// (*_FILE secrets; App::ReloadSecrets). An address already in use is an
// error (exit 2), never a shared port.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ingest/api/api_server.h"
#include "ingest/api/metrics_observer.h"
#include "ingest/app/app.h"
#include "ingest/app/cli.h"
#include "ingest/app/config_budgets.h"
#include "ingest/app/doctor.h"
#include "ingest/app/worker_process.h"
#include "ingest/common/listen_socket.h"
#include "ingest/embed/embedder.h"
#include "ingest/obs/log.h"
#include "ingest/obs/metrics.h"
#include "ingest/parse/parser.h"
#include "ingest/pipeline/worker_pool.h"

namespace ingest::app {
namespace {

struct ServeArgs {
  std::string listen;  // "" = api.listen from config
  int workers = -1;    // -1 = pipeline.workers from config
};

// True for addresses only this machine can reach.
bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

api::ApiOptions ApiOptionsFor(const config::Config& c) {
  api::ApiOptions o;
  o.backlog = c.api.backlog;
  o.reuse_port = c.api.reuse_port;
  o.limits.threads = c.api.threads;
  o.limits.max_connections = c.api.max_connections;
  o.limits.keep_alive_timeout_s = c.api.keep_alive_timeout_s;
  o.limits.keep_alive_max_requests = c.api.keep_alive_max_requests;
  o.limits.header_timeout_s = c.api.header_timeout_s;
  o.limits.read_timeout_s = c.api.read_timeout_s;
  o.limits.write_timeout_s = c.api.write_timeout_s;
  o.limits.request_timeout_s = c.api.request_timeout_s;
  o.limits.max_header_bytes = static_cast<size_t>(c.api.max_header_bytes);
  o.tls.cert_file = c.api.tls_cert_file;
  o.tls.key_file = c.api.tls_key_file;
  o.tls.client_ca_file = c.api.tls_client_ca_file;
  return o;
}

int RunServe(const GlobalOptions& global, const ServeArgs& args) {
  auto config = LoadConfigFor(global);
  if (!config.ok()) {
    std::fprintf(stderr, "ingestd: %s\n", config.status().message().c_str());
    return 2;
  }
  auto alerting = api::AlertMonitorOptionsFromConfig(*config);
  if (!alerting.ok()) {
    std::fprintf(stderr, "ingestd: %s\n", alerting.status().ToString().c_str());
    return 2;
  }
  std::string host;
  int port = 0;
  const std::string listen = args.listen.empty() ? config->api.listen : args.listen;
  if (Status st = ParseHostPort(listen, &host, &port); !st.ok()) {
    std::fprintf(stderr, "ingestd: %s\n", st.message().c_str());
    return 2;
  }
  const bool tls = !config->api.tls_cert_file.empty();
  if (config->profile == "production" && !tls && !IsLoopback(host) &&
      !config->api.allow_plaintext) {
    std::fprintf(stderr,
                 "ingestd: the production profile refuses plain HTTP on %s: set "
                 "api.tls_cert_file and api.tls_key_file, or api.allow_plaintext = true when a "
                 "TLS-terminating proxy is in front\n",
                 host.c_str());
    return 2;
  }
  // The offline doctor checks: a failure (schema behind, unwritable data dir, a missing or
  // world-readable secret, the address taken...) stops the start with the fix named.
  DoctorOptions preflight;
  preflight.listen = listen;
  if (!RunPreflight(*config, preflight)) return 2;
  StopSignals signals(/*reload=*/true);  // before any thread starts

  auto app_or = App::Open(*config);
  if (!app_or.ok()) {
    std::fprintf(stderr, "ingestd: %s\n", app_or.status().ToString().c_str());
    return 2;
  }
  App& app = **app_or;
  // [[budget]] tables: written at every start; the file wins over `budget set` (config_budgets.h).
  if (Status st = ApplyConfiguredBudgets(global, *config, app.store(), app.clock()); !st.ok()) {
    std::fprintf(stderr, "ingestd: budgets from the configuration: %s\n", st.ToString().c_str());
    return 2;
  }
  obs::Metrics metrics;
  app.governor().SetMetrics(&metrics);
  api::MetricsObserver observer(&metrics, std::string(app.parser().Name()),
                                std::string(app.embedder().Provider()),
                                app.embedder().Space().model);
  pipeline::WorkerPool pool(app.Deps(), WorkerOptionsFor(*config, args.workers), &observer);
  if (Status st = pool.Start(); !st.ok()) {
    std::fprintf(stderr, "ingestd: cannot start workers: %s\n", st.ToString().c_str());
    return 2;
  }

  api::ApiDeps deps;
  deps.pipeline = app.Deps();
  deps.workers = &pool;
  deps.metrics = &metrics;
  deps.admin_token = config->api.admin_token;
  if (const char* f = std::getenv("INGESTD_API_TOKENS_FILE"); f != nullptr) deps.tokens_file = f;
  deps.data_dir = config->store.data_dir;
  deps.max_upload_bytes = config->parse.max_bytes;
  deps.default_tenant = config->pipeline.tenant;
  deps.alerting = *alerting;
  deps.llamaparse_webhook_secret = config->parse.llamaparse_webhook_secret;
  // Validated when the configuration was loaded.
  deps.rate_limit_per_key = ParseRateSpec(config->api.rate_limit_per_key).value();
  deps.rate_limit_per_tenant = ParseRateSpec(config->api.rate_limit_per_tenant).value();
  if (deps.admin_token.empty() && deps.tokens_file.empty()) {
    obs::LogWarn(
        "no admin token or tokens file configured (INGESTD_ADMIN_TOKEN, "
        "INGESTD_API_TOKENS_FILE): /v1 accepts only API keys (ingestd keys create)");
  }
  api::ApiServer server(std::move(deps), ApiOptionsFor(*config));
  if (Status st = server.Start(host, port); !st.ok()) {
    std::fprintf(stderr, "ingestd: %s\n", st.message().c_str());
    pool.RequestStop();
    pool.Join();
    return 2;
  }
  const bool v6 = host.find(':') != std::string::npos;
  std::printf("listening on %s://%s%s%s:%d\n", tls ? "https" : "http", v6 ? "[" : "", host.c_str(),
              v6 ? "]" : "", server.port());
  std::fflush(stdout);
  obs::LogInfo(
      "serving",
      {{"host", host}, {"port", server.port()}, {"tls", tls}, {"workers", pool.thread_count()}});

  // SIGHUP runs every reload hook; anything else stops the server. One handler, one hook per
  // thing that can change under a running server; a hook logs its own outcome and keeps the
  // previous value when its reload fails.
  std::vector<std::function<void()>> reload_hooks;
  // Provider API keys from *_FILE (or the configuration file): the next request uses them.
  reload_hooks.push_back([&global, &app] { ReloadSecretsFromConfig(global, app); });
  // The admin token (INGESTD_ADMIN_TOKEN_FILE) and the tenant tokens file, read again.
  reload_hooks.push_back([&global, &app, &server] {
    auto fresh = LoadConfigFor(global);
    if (!fresh.ok()) return;  // logged and audited by the secrets hook above
    auto tenants = server.ReloadTokens(fresh->api.admin_token);
    store::AuditEntry e;
    e.actor = "signal:SIGHUP";
    e.action = "tokens.reload";
    e.source = "local";
    e.result = tenants.ok() ? "ok" : tenants.status().reason();
    if (tenants.ok()) e.detail_json = nlohmann::json{{"tenant_tokens", *tenants}}.dump();
    if (Status a = app.store().AppendAudit(e); !a.ok()) {
      obs::LogError("audit row not written", {{"action", e.action}, {"error", a.message()}});
    }
    if (!tenants.ok()) {
      obs::LogError("token reload failed; the previous tokens stay in use",
                    {{"error", tenants.status().message()}});
      return;
    }
    obs::LogInfo("API tokens reloaded", {{"tenant_tokens", *tenants}});
  });
  if (tls) {
    reload_hooks.push_back([&server, &config, &app] {
      Status st = server.ReloadTls();
      if (!st.ok()) {
        obs::LogError("reload failed; the previous TLS certificate stays in use",
                      {{"error", st.message()}});
      } else {
        obs::LogInfo("reloaded TLS certificate", {{"cert_file", config->api.tls_cert_file}});
      }
      // Who sent the signal is not known here; the row records that it happened, and how.
      store::AuditEntry e;
      e.actor = "signal:SIGHUP";
      e.action = "tls.reload";
      e.target = config->api.tls_cert_file;
      e.source = "local";
      e.result = st.ok() ? "ok" : st.reason();
      if (Status a = app.store().AppendAudit(e); !a.ok()) {
        obs::LogError("audit row not written", {{"action", e.action}, {"error", a.message()}});
      }
    });
  }
  int sig = 0;
  for (;;) {
    sig = signals.Wait();
    if (sig != SIGHUP) break;
    obs::LogInfo("SIGHUP: reloading", {{"hooks", reload_hooks.size()}});
    for (const auto& hook : reload_hooks) hook();
  }
  obs::LogInfo("stopping", {{"signal", sig}});
  server.Stop();
  pool.RequestStop();
  pool.Join();
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app, GlobalOptions& global, int* exit_code) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand("serve", "HTTP API + dashboard + metrics + workers");
  cmd->add_option("--listen", args->listen,
                  "HOST:PORT, [V6]:PORT or :PORT (all addresses) to bind (port 0 picks a free "
                  "one); default api.listen, env INGESTD_LISTEN");
  cmd->add_option("--workers", args->workers, "Worker threads (0 = one per core)")
      ->check(CLI::Range(0, 1024));
  cmd->callback([&global, exit_code, args] { *exit_code = RunServe(global, *args); });
}

}  // namespace ingest::app
