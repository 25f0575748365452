// `ingestd healthcheck [--url URL]`: GET /healthz of a running `ingestd serve` and exit 0 when
// it answers 200, 1 otherwise. For container HEALTHCHECKs and other probes on hosts without
// curl (the container image holds the binary and its libraries only). The default URL is
// api.listen with a wildcard host replaced by the loopback address.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "ingest/app/app.h"
#include "ingest/app/cli.h"
#include "ingest/app/doctor.h"
#include "ingest/http/http_client.h"

namespace ingest::app {
namespace {

int RunHealthcheck(const GlobalOptions& global, std::string url, int timeout_ms) {
  if (url.empty()) {
    auto config = LoadConfigFor(global);
    if (!config.ok()) {
      std::fprintf(stderr, "ingestd: %s\n", config.status().message().c_str());
      return 1;
    }
    std::string host;
    int port = 0;
    if (Status st = ParseHostPort(config->api.listen, &host, &port); !st.ok() || port == 0) {
      std::fprintf(stderr, "ingestd: api.listen %s has no fixed port; give --url\n",
                   config->api.listen.c_str());
      return 1;
    }
    if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
    if (host == "::") host = "::1";
    const bool v6 = host.find(':') != std::string::npos;
    url = "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + "/healthz";
  }
  http::HttpClientOptions options;
  options.connect_timeout = std::chrono::milliseconds(timeout_ms);
  options.total_timeout = std::chrono::milliseconds(timeout_ms);
  http::HttpClient client(options);
  http::HttpRequest req;
  req.url = url;
  auto res = client.Send(req);
  if (!res.ok()) {
    std::fprintf(stderr, "unhealthy: %s: %s\n", url.c_str(), res.status().message().c_str());
    return 1;
  }
  if (res->status != 200) {
    std::fprintf(stderr, "unhealthy: %s answered HTTP %d\n", url.c_str(), res->status);
    return 1;
  }
  std::printf("healthy: %s\n", url.c_str());
  return 0;
}

}  // namespace

void AddHealthcheckCommand(CLI::App& app, GlobalOptions& global, int* exit_code) {
  auto url = std::make_shared<std::string>();
  auto timeout_ms = std::make_shared<int>(3000);
  CLI::App* cmd = app.add_subcommand(
      "healthcheck", "GET /healthz of a running serve; exit 0 when healthy (container probes)");
  cmd->add_option("--url", *url, "URL to probe (default http://<api.listen>/healthz)");
  cmd->add_option("--timeout-ms", *timeout_ms, "Whole-request timeout")->capture_default_str();
  cmd->callback([&global, exit_code, url, timeout_ms] {
    *exit_code = RunHealthcheck(global, *url, *timeout_ms);
  });
}

}  // namespace ingest::app
