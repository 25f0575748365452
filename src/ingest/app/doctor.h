// `ingestd doctor`: the preflight an operator runs before a first start or after a change
// (docs/deployment.md). Each check answers one question about this host and configuration with
// a status, a one-line detail and a hint naming the fix. `serve` and `worker` run the offline
// checks at start and refuse to start when one fails (RunPreflight).
//
// Checks never print a secret: they say where it came from (an environment variable, a *_FILE,
// a configuration file line) and what is wrong with how it is stored.
//
// The check functions are separate so that each one's ok, warn and fail paths are unit-tested
// (doctor_test.cc); RunDoctor strings them together.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ingest/app/cli.h"
#include "ingest/common/result.h"
#include "ingest/config/config.h"

namespace ingest::http {
class HttpClient;
}

namespace ingest::app {

enum class CheckStatus { kOk, kWarn, kFail };
std::string_view CheckStatusName(CheckStatus s);  // "ok", "warn", "fail"

struct CheckResult {
  std::string name;  // stable identifier, e.g. "schema", "secret:openai.api_key"
  CheckStatus status = CheckStatus::kOk;
  std::string detail;  // one line: what was found
  std::string hint;    // one line: what to do ("" when ok)
};

struct DoctorOptions {
  bool online = false;           // one cheap authenticated call per configured provider
  bool check_listen = true;      // serve: is the listen address free?
  bool check_api_tokens = true;  // serve: are API tokens configured and valid?
  std::string listen;            // "" = api.listen
  // Environment the secrets came from (the *_FILE paths). Empty = the process environment.
  std::map<std::string, std::string> env;
  // Free-space thresholds for the data directory.
  uint64_t warn_free_bytes = 1ull << 30;    // 1 GiB
  uint64_t fail_free_bytes = 100ull << 20;  // 100 MiB
};

// "HOST:PORT", "[V6]:PORT" or ":PORT" (every IPv4 address), port 0..65535; kInvalidArgument
// otherwise. The same parser as `serve` (common/listen_socket.h).
Status ParseHostPort(const std::string& listen, std::string* host, int* port);

// --- individual checks ----------------------------------------------------------------------
// Loading and validating the configuration; `file` is the configuration file given, if any.
CheckResult CheckConfig(const Result<config::Config>& loaded, const std::string& file);
// Rules of the profile that are advice rather than errors (LoadConfig refuses the errors).
CheckResult CheckProfileRules(const config::Config& config);
// Store reachable, then schema current. A PostgreSQL schema behind fails (it is never migrated
// implicitly); an embedded SQLite one warns (serve/worker/ingest migrate it at open).
std::vector<CheckResult> CheckStore(const config::Config& config);
// data_dir and, when blobs are in a folder, that folder exist (or can be created) and are
// writable.
CheckResult CheckDataDir(const config::Config& config);
// Which blob store is in use (blobs.url) and, for PostgreSQL and S3, that it answers: the blob
// tables exist, the bucket answers an authenticated request.
CheckResult CheckBlobs(const config::Config& config);
// Free space on the file system holding data_dir.
CheckResult CheckFreeSpace(const config::Config& config, const DoctorOptions& options);
CheckStatus ClassifyFreeSpace(uint64_t free_bytes, const DoctorOptions& options);
// Every secret the configuration needs is present; *_FILE secrets are not readable by others.
std::vector<CheckResult> CheckSecrets(const config::Config& config, const DoctorOptions& options);
// The API tokens (admin token and INGESTD_API_TOKENS_FILE) for serve.
CheckResult CheckApiTokens(const config::Config& config, const DoctorOptions& options);
// Nothing is listening on the address serve will bind.
CheckResult CheckListen(const std::string& listen);
// Which transport serve will use on `listen`: TLS (files load and match), plain HTTP on
// loopback, plain HTTP allowed by api.allow_plaintext; plain HTTP off loopback fails in the
// production profile and warns otherwise.
CheckResult CheckTls(const config::Config& config, const std::string& listen);
// Local OCR: built in, and every language of parse.ocr_languages loads (a missing pack fails,
// naming the Debian package to install).
CheckResult CheckOcr(const config::Config& config);
// --online: OpenAI GET /v1/models and LlamaParse GET /api/v2/parse?page_size=1 with the
// configured keys. Empty when the provider is not configured.
std::vector<CheckResult> CheckProvidersOnline(const config::Config& config,
                                              const http::HttpClient& client);

// How a *_FILE secret is stored: "fail" when others can read it (file o+r and every parent
// o+x), "warn" when a group other than the process's own can, ok otherwise; a missing file
// fails.
CheckResult CheckSecretFile(const std::string& name, const std::string& variable,
                            const std::string& path);

// --- runs -----------------------------------------------------------------------------------
// Every check, in order; stops after a failed configuration check (nothing else can be known).
std::vector<CheckResult> RunDoctor(const GlobalOptions& global, const DoctorOptions& options);
// The offline checks on an already loaded configuration.
std::vector<CheckResult> RunOfflineChecks(const config::Config& config,
                                          const DoctorOptions& options);
bool AnyFailed(const std::vector<CheckResult>& checks);

// For `serve` and `worker`: runs the offline checks, logs the warnings, and on a failure prints
// every failed check with its hint to stderr and returns false (the command must not start).
bool RunPreflight(const config::Config& config, const DoctorOptions& options);

}  // namespace ingest::app
