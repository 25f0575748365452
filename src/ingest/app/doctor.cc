#include "ingest/app/doctor.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ingest/api/auth.h"
#include "ingest/api/tls_context.h"
#include "ingest/app/app.h"
#include "ingest/app/build_info.h"
#include "ingest/app/config_budgets.h"
#include "ingest/common/listen_socket.h"
#include "ingest/embed/openai/openai_embedder.h"
#include "ingest/http/http_client.h"
#include "ingest/obs/log.h"
#include "ingest/parse/llamaparse/llamaparse_client.h"
#include "ingest/parse/ocr/ocr.h"
#include "ingest/store/postgres/postgres_store.h"
#include "ingest/store/sqlite/sqlite_store.h"

extern char** environ;

namespace ingest::app {
namespace fs = std::filesystem;

std::string_view CheckStatusName(CheckStatus s) {
  switch (s) {
    case CheckStatus::kOk:
      return "ok";
    case CheckStatus::kWarn:
      return "warn";
    case CheckStatus::kFail:
      return "fail";
  }
  return "fail";
}

namespace {

CheckResult Ok(std::string name, std::string detail) {
  return {std::move(name), CheckStatus::kOk, std::move(detail), ""};
}
CheckResult Warn(std::string name, std::string detail, std::string hint) {
  return {std::move(name), CheckStatus::kWarn, std::move(detail), std::move(hint)};
}
CheckResult Fail(std::string name, std::string detail, std::string hint) {
  return {std::move(name), CheckStatus::kFail, std::move(detail), std::move(hint)};
}

bool IsPostgres(const std::string& url) {
  return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
}

// postgresql://user:secret@host:5432/db?sslmode=x -> postgresql://user@host:5432/db: the
// password and the query (which may carry one) never reach the output.
std::string RedactUrl(const std::string& url) {
  std::string out = url.substr(0, url.find('?'));
  const size_t scheme = out.find("://");
  if (scheme == std::string::npos) return out;
  const size_t at = out.find('@', scheme + 3);
  if (at == std::string::npos) return out;
  const size_t colon = out.find(':', scheme + 3);
  if (colon != std::string::npos && colon < at) out.erase(colon, at - colon);
  return out;
}

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    const size_t eq = kv.find('=');
    if (eq != std::string_view::npos) {
      env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
  }
  return env;
}

const std::map<std::string, std::string>& EnvOf(const DoctorOptions& options,
                                                std::map<std::string, std::string>* storage) {
  if (!options.env.empty()) return options.env;
  *storage = ProcessEnvironment();
  return *storage;
}

std::string Origin(const config::Config& c, const std::string& key) {
  auto it = c.origins.find(key);
  return it == c.origins.end() ? "default" : it->second;
}

// The nearest ancestor of `p` (or `p` itself) that exists.
fs::path ExistingAncestor(fs::path p) {
  std::error_code ec;
  p = fs::absolute(p, ec);
  while (!p.empty() && !fs::exists(p, ec)) {
    if (p == p.parent_path()) break;
    p = p.parent_path();
  }
  return p;
}

// Writes and removes a probe file in `dir`. "" on success, else why not.
std::string ProbeWritable(const fs::path& dir) {
  const fs::path probe = dir / (".ingestd-doctor-" + std::to_string(getpid()));
  {
    std::ofstream out(probe, std::ios::binary);
    if (!out || !(out << "probe") || !out.flush()) {
      return std::string("cannot write in ") + dir.string() + ": " + std::strerror(errno);
    }
  }
  std::error_code ec;
  fs::remove(probe, ec);
  return "";
}

// A directory that must be writable: exists and writable, or creatable under a writable
// ancestor. "" when fine; `*created_later` tells which.
std::string DirUsable(const fs::path& dir, bool* created_later) {
  std::error_code ec;
  *created_later = false;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) return dir.string() + " exists and is not a directory";
    return ProbeWritable(dir);
  }
  const fs::path anc = ExistingAncestor(dir);
  if (!fs::is_directory(anc, ec)) {
    return "cannot create " + dir.string() + ": " + anc.string() + " is not a directory";
  }
  *created_later = true;
  return ProbeWritable(anc).empty()
             ? ""
             : "cannot create " + dir.string() + ": " + anc.string() + " is not writable";
}

std::string HumanBytes(uint64_t b) {
  char buf[32];
  if (b >= (1ull << 30)) {
    std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(b) / (1ull << 30));
  } else {
    std::snprintf(buf, sizeof buf, "%.0f MiB", static_cast<double>(b) / (1ull << 20));
  }
  return buf;
}

// The variable a *_FILE origin names ("file OPENAI_API_KEY_FILE" -> "OPENAI_API_KEY_FILE").
std::string FileVariable(const std::string& origin) {
  return origin.rfind("file ", 0) == 0 ? origin.substr(5) : "";
}

// One secret the configuration needs (or may use).
CheckResult CheckSecret(const config::Config& c, const std::string& key, const std::string& value,
                        bool needed, const std::string& why, const std::string& env_name,
                        const std::map<std::string, std::string>& env) {
  const std::string name = "secret:" + key;
  const std::string origin = Origin(c, key);
  if (value.empty()) {
    if (!needed) return Ok(name, "not needed (" + why + ")");
    return Fail(name, "missing; needed because " + why,
                "set " + env_name +
                    "_FILE to a file holding it (systemd: LoadCredential=; "
                    "Kubernetes: a Secret mounted as a file), or " +
                    env_name);
  }
  const std::string variable = FileVariable(origin);
  if (!variable.empty()) {
    auto it = env.find(variable);
    const std::string path = it == env.end() ? "" : it->second;
    CheckResult r = CheckSecretFile(name, variable, path);
    if (r.status == CheckStatus::kOk) r.detail = "present, from " + variable + " (" + path + ")";
    return r;
  }
  if (origin.rfind("env ", 0) == 0) {
    if (c.profile == "production") {
      return Warn(name, "present, from the environment variable " + origin.substr(4),
                  "in production prefer " + env_name +
                      "_FILE: a file can be rotated with SIGHUP and is not inherited by child "
                      "processes");
    }
    return Ok(name, "present, from the environment variable " + origin.substr(4));
  }
  // A configuration file line: the file is as secret as the key.
  return Warn(name, "present, from the configuration file (" + origin + ")",
              "move it out of the configuration file into " + env_name + "_FILE");
}

Result<std::unique_ptr<store::Store>> OpenForCheck(const config::Config& config) {
  if (IsPostgres(config.store.url)) {
    store::PostgresStoreOptions pg;
    pg.url = config.store.url;
    pg.pool_size = 1;
    pg.application_name = "ingestd doctor";
    return store::OpenPostgresStore(pg, Clock::Real());
  }
  return store::OpenSqliteStore(config::SqlitePath(config), Clock::Real());
}

}  // namespace

Status ParseHostPort(const std::string& listen, std::string* host, int* port) {
  return ingest::ParseHostPort(listen, host, port);
}

CheckResult CheckConfig(const Result<config::Config>& loaded, const std::string& file) {
  if (!loaded.ok()) {
    return Fail("config", loaded.status().message(),
                "fix the configuration (`ingestd config check` validates it; "
                "docs/configuration.md lists every key)");
  }
  std::string detail = "profile " + loaded->profile + ", ";
  detail += file.empty() ? "no configuration file (defaults and environment)" : "file " + file;
  return Ok("config", detail);
}

CheckResult CheckProfileRules(const config::Config& c) {
  const bool shared_profile = c.profile == "production" || c.profile == "staging";
  if (shared_profile && !IsPostgres(c.store.url)) {
    return Warn(
        "profile",
        "profile " + c.profile + " with the embedded SQLite store (" + Origin(c, "store.url") + ")",
        "SQLite serves one machine only; for several workers or replicas set "
        "INGESTD_STORE=postgresql://... (docs/scaling.md)");
  }
  // "auto" writes JSON when stderr is not a terminal, as under systemd or a container runtime.
  if (c.profile == "production" && c.log.format == "text") {
    return Warn("profile", "production logs as " + c.log.format,
                "set log.format = \"json\" so the log pipeline can parse every line");
  }
  if (c.profile == "production" && c.mode.empty() && c.embed.provider == "local") {
    return Warn("profile", "production embeds with the local lexical embedder",
                "set mode = \"real\" or embed.provider = \"openai\" for semantic search");
  }
  return Ok("profile", "profile " + c.profile + ": mode " + (c.mode.empty() ? "-" : c.mode) +
                           ", parser " + c.parse.parser + ", embedder " + c.embed.provider);
}

std::vector<CheckResult> CheckStore(const config::Config& config) {
  std::vector<CheckResult> out;
  const bool pg = IsPostgres(config.store.url);
  const std::string where = pg ? RedactUrl(config.store.url) : config::SqlitePath(config);
  const int latest = LatestSchemaVersion();
  if (!pg) {
    std::error_code ec;
    const fs::path path = config::SqlitePath(config);
    if (!fs::exists(path, ec)) {
      bool later = false;
      const std::string why =
          DirUsable(path.parent_path().empty() ? "." : path.parent_path(), &later);
      if (!why.empty()) {
        out.push_back(Fail("store", "SQLite " + where + ": " + why,
                           "create the directory and give the ingestd user write access, or set "
                           "store.data_dir / INGESTD_STORE"));
        return out;
      }
      out.push_back(Ok("store", "SQLite " + where + " does not exist yet; created at first start"));
      out.push_back(Ok("schema", "new database: created at schema version " +
                                     std::to_string(latest) + " at first start"));
      return out;
    }
  }
  auto store = OpenForCheck(config);
  if (!store.ok()) {
    out.push_back(Fail("store",
                       (pg ? "PostgreSQL " : "SQLite ") + where + ": " + store.status().message(),
                       pg ? "check that PostgreSQL runs and accepts this role from this host, and "
                            "store.url / INGESTD_STORE"
                          : "check the file's permissions and that it is an ingestd database"));
    return out;
  }
  out.push_back(Ok("store", (pg ? "PostgreSQL " : "SQLite ") + where + " reachable"));
  auto version = (*store)->SchemaVersion();
  if (!version.ok()) {
    out.push_back(Fail("schema", "cannot read the schema version: " + version.status().message(),
                       "run `ingestd migrate status` for details"));
    return out;
  }
  const std::string at =
      "schema version " + std::to_string(*version) + ", this build needs " + std::to_string(latest);
  if (*version == latest) {
    out.push_back(Ok("schema", "schema version " + std::to_string(latest) + " (current)"));
  } else if (*version > latest) {
    out.push_back(Fail("schema", at + ": the database is newer than this ingestd",
                       "upgrade ingestd to the version that migrated it, or run that version's "
                       "`ingestd migrate down " +
                           std::to_string(latest) + "`"));
  } else if (pg) {
    out.push_back(Fail("schema",
                       at + " (" + std::to_string(latest - *version) + " pending migration(s))",
                       "run `ingestd migrate up` with the same --config/--profile (a shared "
                       "database is never migrated implicitly)"));
  } else {
    out.push_back(Warn("schema",
                       at + " (" + std::to_string(latest - *version) + " pending migration(s))",
                       "the embedded store is migrated at the next start; back up " + where +
                           " first, or run `ingestd migrate up` now"));
  }
  return out;
}

CheckResult CheckDataDir(const config::Config& config) {
  const fs::path dir = config.store.data_dir;
  bool later = false;
  std::string why = DirUsable(dir, &later);
  if (!why.empty()) {
    return Fail("data_dir", why,
                "create " + dir.string() +
                    " writable by the ingestd user, or set store.data_dir / INGESTD_DATA_DIR");
  }
  if (later) return Ok("data_dir", dir.string() + " does not exist yet; created at first start");
  const std::string folder = config::BlobsFolder(config);
  if (folder.empty()) return Ok("data_dir", dir.string() + " is writable");
  const fs::path blobs = folder;
  why = DirUsable(blobs, &later);
  if (!why.empty()) {
    return Fail("data_dir", "blob store: " + why,
                "give the ingestd user write access to " + blobs.string());
  }
  return Ok("data_dir", dir.string() + " and its blob store are writable");
}

CheckResult CheckBlobs(const config::Config& config) {
  auto blobs = OpenBlobStore(config);
  if (!blobs.ok()) {
    return Fail("blobs", blobs.status().message(),
                "set blobs.url / INGESTD_BLOBS_URL (docs/operations/blobs.md)");
  }
  const std::string what = (*blobs)->Describe();
  // The folder store's writability is the data_dir check's; probing it here would create it.
  if (!config::BlobsFolder(config).empty()) return Ok("blobs", what);
  Status reachable = (*blobs)->CheckReachable();
  if (!reachable.ok()) {
    std::string hint = "check blobs.url / INGESTD_BLOBS_URL (docs/operations/blobs.md)";
    if (reachable.reason() == "schema_missing") {
      hint = "run `ingestd migrate up`: the blob tables come with migration blob_chunks";
    } else if (reachable.code() == StatusCode::kUnauthenticated) {
      hint =
          "check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or their *_FILE) and the bucket "
          "policy";
    } else if (reachable.reason() == "no_such_bucket") {
      hint = "create the bucket, or fix the bucket name in blobs.url";
    } else if (reachable.reason() == "blob_store_unavailable") {
      hint = "check blobs.s3_endpoint / INGESTD_BLOBS_S3_ENDPOINT and the network";
    }
    // One line: a server's error may span several ("ERROR: ...\nLINE 1: ...").
    const std::string message = reachable.message();
    return Fail("blobs", what + ": " + message.substr(0, message.find('\n')), hint);
  }
  return Ok("blobs", what + " reachable");
}

CheckStatus ClassifyFreeSpace(uint64_t free_bytes, const DoctorOptions& options) {
  if (free_bytes < options.fail_free_bytes) return CheckStatus::kFail;
  if (free_bytes < options.warn_free_bytes) return CheckStatus::kWarn;
  return CheckStatus::kOk;
}

CheckResult CheckFreeSpace(const config::Config& config, const DoctorOptions& options) {
  const fs::path at = ExistingAncestor(config.store.data_dir);
  struct statvfs vfs {};
  if (statvfs(at.c_str(), &vfs) != 0) {
    return Warn("free_space", "cannot stat " + at.string() + ": " + std::strerror(errno),
                "check the data directory's file system");
  }
  const uint64_t free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  const std::string detail = HumanBytes(free_bytes) + " free for " + at.string();
  switch (ClassifyFreeSpace(free_bytes, options)) {
    case CheckStatus::kOk:
      return Ok("free_space", detail);
    case CheckStatus::kWarn:
      return Warn("free_space", detail + " (below " + HumanBytes(options.warn_free_bytes) + ")",
                  "free space or grow the volume: uploads, SQLite and the WAL need room");
    case CheckStatus::kFail:
      break;
  }
  return Fail("free_space", detail + " (below " + HumanBytes(options.fail_free_bytes) + ")",
              "free space or grow the volume before starting: writes will fail");
}

CheckResult CheckSecretFile(const std::string& name, const std::string& variable,
                            const std::string& path) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) {
    return Fail(name, variable + " names " + (path.empty() ? "nothing" : path) + ", unreadable",
                "point " + variable + " at a readable file");
  }
  // Others can read it when the file is o+r and every directory above it is o+x.
  bool others = (st.st_mode & S_IROTH) != 0;
  for (fs::path p = fs::path(path).parent_path(); others && !p.empty(); p = p.parent_path()) {
    struct stat d {};
    if (::stat(p.c_str(), &d) == 0 && (d.st_mode & S_IXOTH) == 0) others = false;
    if (p == p.parent_path()) break;
  }
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  if (others) {
    return Fail(
        name,
        "present, from " + variable + " (" + path + "), but readable by others (mode " + mode + ")",
        "chmod 600 " + path + " (owned by the ingestd user), or 400");
  }
  // Group-readable is fine when the group is the service's own (Kubernetes fsGroup, systemd
  // credentials); any other group is a wider audience than needed.
  if ((st.st_mode & S_IRGRP) != 0 && st.st_gid != getegid()) {
    return Warn(
        name,
        "present, from " + variable + " (" + path + "), readable by its group (mode " + mode + ")",
        "chmod 600 " + path + " unless the group is the service's own");
  }
  return Ok(name, "present, from " + variable + " (" + path + ")");
}

std::vector<CheckResult> CheckSecrets(const config::Config& c, const DoctorOptions& options) {
  std::map<std::string, std::string> storage;
  const auto& env = EnvOf(options, &storage);
  std::vector<CheckResult> out;
  const bool mock = c.mode == "mock";
  const bool openai = c.embed.provider == "openai" && !mock;
  out.push_back(CheckSecret(c, "openai.api_key", c.openai.api_key, openai,
                            openai ? "embed.provider = \"openai\""
                            : mock ? "mode mock: the emulators need no key"
                                   : "embed.provider = \"" + c.embed.provider + "\"",
                            "OPENAI_API_KEY", env));
  const bool llama = !mock && c.parse.parser == "llamaparse";
  CheckResult lp = CheckSecret(c, "llamaparse.api_key", c.llamaparse.api_key, llama,
                               llama  ? "parse.parser = \"llamaparse\""
                               : mock ? "mode mock: the emulators need no key"
                                      : "parse.parser = \"" + c.parse.parser + "\"",
                               "LLAMA_CLOUD_API_KEY", env);
  if (!mock && c.parse.parser == "auto" && c.llamaparse.api_key.empty()) {
    lp = Warn(lp.name, "missing: parse.parser = \"auto\" parses locally only",
              "set LLAMA_CLOUD_API_KEY_FILE to send scanned PDFs to LlamaParse, or set "
              "parse.parser = \"local\" to say so");
  }
  out.push_back(lp);
  if (!c.parse.llamaparse_webhook_url.empty()) {
    out.push_back(CheckSecret(c, "llamaparse.webhook_secret", c.parse.llamaparse_webhook_secret,
                              true, "llamaparse.webhook_url is set",
                              "INGESTD_LLAMAPARSE_WEBHOOK_SECRET", env));
  }
  if (!c.embed.fallback_api_key.empty()) {
    out.push_back(CheckSecret(c, "embed.fallback_api_key", c.embed.fallback_api_key, false, "",
                              "INGESTD_EMBED_FALLBACK_API_KEY", env));
  }
  if (!c.alert.webhook_url.empty()) {
    out.push_back(CheckSecret(c, "alert.webhook_url", c.alert.webhook_url, false, "",
                              "INGESTD_ALERT_WEBHOOK_URL", env));
  }
  return out;
}

CheckResult CheckApiTokens(const config::Config& c, const DoctorOptions& options) {
  std::map<std::string, std::string> storage;
  const auto& env = EnvOf(options, &storage);
  auto tf = env.find("INGESTD_API_TOKENS_FILE");
  const std::string tokens_file = tf == env.end() ? "" : tf->second;
  if (c.api.admin_token.empty() && tokens_file.empty()) {
    return Warn("secret:api_tokens",
                "no admin token or tokens file: /v1 accepts only API keys from the store",
                "create keys (ingestd keys create --tenant T --scope read,ingest) and/or set "
                "INGESTD_ADMIN_TOKEN_FILE (admin)");
  }
  std::vector<std::string> parts;
  if (!c.api.admin_token.empty()) {
    CheckResult admin =
        CheckSecret(c, "api.admin_token", c.api.admin_token, true, "", "INGESTD_ADMIN_TOKEN", env);
    if (admin.status != CheckStatus::kOk) return admin;
    parts.push_back("admin token " + admin.detail);
  }
  if (!tokens_file.empty()) {
    CheckResult file = CheckSecretFile("secret:api_tokens", "INGESTD_API_TOKENS_FILE", tokens_file);
    if (file.status == CheckStatus::kFail) return file;
    auto auth = api::TokenAuthenticator::Create("", tokens_file);
    if (!auth.ok()) {
      return Fail("secret:api_tokens", auth.status().message(),
                  "fix the file: one \"<tenant> <token>\" per line, tokens of 16 bytes or more");
    }
    if (file.status == CheckStatus::kWarn) return file;
    parts.push_back(std::to_string(auth->tenant_token_count()) + " tenant token(s) from " +
                    tokens_file + " (deprecated: move them to API keys, docs/security.md)");
  }
  std::string detail;
  for (const auto& p : parts) detail += (detail.empty() ? "" : "; ") + p;
  return Ok("secret:api_tokens", detail);
}

CheckResult CheckListen(const std::string& listen) {
  std::string host;
  int port = 0;
  if (Status st = ParseHostPort(listen, &host, &port); !st.ok()) {
    return Fail("listen", st.message(), "set api.listen / INGESTD_LISTEN to HOST:PORT");
  }
  if (port == 0) return Ok("listen", listen + ": an ephemeral port is picked at start");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res);
      rc != 0) {
    return Fail("listen", listen + ": cannot resolve " + host + ": " + gai_strerror(rc),
                "use an address of this host in api.listen / INGESTD_LISTEN");
  }
  std::string error;
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // as the server binds
    const int rc = bind(fd, a->ai_addr, a->ai_addrlen);
    const int err = errno;
    close(fd);
    if (rc == 0) {
      freeaddrinfo(res);
      return Ok("listen", listen + " is free");
    }
    error =
        err == EADDRINUSE ? "address in use (another process listens there)" : std::strerror(err);
  }
  freeaddrinfo(res);
  return Fail("listen", listen + ": " + (error.empty() ? "no usable address" : error),
              "stop what listens there (`ss -ltnp 'sport = :" + service +
                  "'`), or choose another api.listen / --listen");
}

std::vector<CheckResult> CheckProvidersOnline(const config::Config& c,
                                              const http::HttpClient& client) {
  std::vector<CheckResult> out;
  auto call = [&](const std::string& name, const std::string& url, const std::string& key,
                  const std::string& key_env) -> std::pair<CheckResult, std::string> {
    http::HttpRequest req;
    req.url = url;
    req.headers.emplace_back("Authorization", "Bearer " + key);
    auto res = client.Send(req);
    if (!res.ok()) {
      return {Fail(name, "GET " + url + ": " + res.status().message(),
                   "check the base URL, DNS, the proxy (https_proxy) and outbound firewall"),
              ""};
    }
    const std::string request_id = res->Header("x-request-id");
    const std::string tail = " (HTTP " + std::to_string(res->status) +
                             (request_id.empty() ? "" : ", request " + request_id) + ")";
    if (res->status == 200) return {Ok(name, "GET " + url + tail), res->body};
    if (res->status == 401 || res->status == 403) {
      return {Fail(name, "GET " + url + ": key rejected" + tail,
                   "replace the key in " + key_env +
                       "_FILE and reload (systemctl reload "
                       "ingestd / SIGHUP)"),
              ""};
    }
    if (res->status == 429) {
      return {Warn(name, "GET " + url + ": rate limited" + tail,
                   "the key works but is at its rate limit; check the provider's dashboard"),
              ""};
    }
    return {Fail(name, "GET " + url + ": unexpected answer" + tail,
                 "check the provider's status page and the base URL"),
            ""};
  };
  if (c.embed.provider == "openai" && !(c.mode == "mock" && c.openai.base_url.empty())) {
    std::string base =
        c.openai.base_url.empty() ? std::string(embed::kOpenAiDefaultBaseUrl) : c.openai.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    const std::string key =
        c.openai.api_key.empty() && c.mode == "mock" ? "mock" : c.openai.api_key;
    auto [r, body] = call("online:openai", base + "/models", key, "OPENAI_API_KEY");
    if (r.status == CheckStatus::kOk) {
      bool listed = false;
      try {
        const auto j = nlohmann::json::parse(body);
        for (const auto& m : j.at("data")) listed = listed || m.value("id", "") == c.embed.model;
      } catch (const std::exception&) {
        r = Fail(r.name, r.detail + ": not a model list", "check openai.base_url (ends in /v1)");
      }
      if (r.status == CheckStatus::kOk && !listed) {
        r = Warn(r.name, r.detail + ": embed.model " + c.embed.model + " not offered",
                 "set embed.model to a model this endpoint serves");
      }
    }
    out.push_back(r);
  }
  const bool llama = (c.parse.parser == "llamaparse" || c.parse.parser == "auto") &&
                     !c.llamaparse.api_key.empty() &&
                     !(c.mode == "mock" && c.llamaparse.base_url.empty());
  if (llama) {
    std::string base = c.llamaparse.base_url.empty() ? std::string(parse::kLlamaParseDefaultBaseUrl)
                                                     : c.llamaparse.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    out.push_back(call("online:llamaparse", base + "/api/v2/parse?page_size=1",
                       c.llamaparse.api_key, "LLAMA_CLOUD_API_KEY")
                      .first);
  }
  return out;
}

CheckResult CheckTls(const config::Config& c, const std::string& listen) {
  std::string host;
  int port = 0;
  if (!ParseHostPort(listen, &host, &port).ok()) host = listen;
  if (!c.api.tls_cert_file.empty()) {
    api::TlsFiles files{c.api.tls_cert_file, c.api.tls_key_file, c.api.tls_client_ca_file};
    auto tls = api::TlsContext::Load(files);
    if (!tls.ok()) {
      return Fail("tls", tls.status().message(),
                  "fix api.tls_cert_file / api.tls_key_file (PEM, the key must match the "
                  "certificate); docs/security.md");
    }
    return Ok("tls", "HTTPS (TLS 1.2+) with " + c.api.tls_cert_file +
                         (c.api.tls_client_ca_file.empty() ? ""
                                                           : "; client certificates required (" +
                                                                 c.api.tls_client_ca_file + ")"));
  }
  const bool loopback = host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
  if (loopback) return Ok("tls", "plain HTTP on loopback (" + host + ")");
  if (c.api.allow_plaintext) {
    return Ok("tls", "plain HTTP on " + host +
                         ": api.allow_plaintext (a TLS-terminating proxy is in front)");
  }
  const std::string fix =
      "set api.tls_cert_file and api.tls_key_file, or api.allow_plaintext = true behind a "
      "TLS-terminating proxy (docs/security.md)";
  if (c.profile == "production") {
    return Fail("tls", "plain HTTP on " + host + " is refused in the production profile", fix);
  }
  return Warn(
      "tls", "plain HTTP on " + host + ": tokens and documents cross the network unencrypted", fix);
}

CheckResult CheckOcr(const config::Config& c) {
  if (!c.parse.ocr) {
    return Ok("ocr", "off (parse.ocr = false): scanned pages and images are not read locally");
  }
  if (!parse::OcrBuiltIn()) {
    return Warn("ocr", "parse.ocr is on but this ingestd was built without OCR",
                "scanned pages stay empty (no_text_layer) and images are unsupported; build "
                "with -DINGEST_WITH_OCR=ON (libtesseract-dev) or set parse.ocr = false");
  }
  parse::OcrOptions ocr = OcrOptionsFor(c);
  if (Status s = parse::CheckOcrLanguages(ocr); !s.ok()) {
    std::string packs;
    for (size_t start = 0; start <= c.parse.ocr_languages.size();) {
      size_t end = c.parse.ocr_languages.find('+', start);
      if (end == std::string::npos) end = c.parse.ocr_languages.size();
      std::string lang = c.parse.ocr_languages.substr(start, end - start);
      std::replace(lang.begin(), lang.end(), '_', '-');
      std::transform(lang.begin(), lang.end(), lang.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      packs += (packs.empty() ? "" : " ") + ("tesseract-ocr-" + lang);
      start = end + 1;
    }
    return Fail("ocr", s.message(),
                "install the language packs (Debian: apt-get install " + packs +
                    ") or change parse.ocr_languages" +
                    (c.parse.ocr_tessdata_dir.empty() ? "" : " / parse.ocr_tessdata_dir"));
  }
  return Ok("ocr", parse::OcrEngineVersion() + ", languages " + c.parse.ocr_languages + " at " +
                       std::to_string(c.parse.ocr_dpi) + " DPI, " +
                       std::to_string(c.parse.ocr_threads) + " thread(s) per document");
}

std::vector<CheckResult> RunOfflineChecks(const config::Config& config,
                                          const DoctorOptions& options) {
  std::vector<CheckResult> out;
  out.push_back(CheckProfileRules(config));
  for (auto& r : CheckStore(config)) out.push_back(std::move(r));
  out.push_back(CheckDataDir(config));
  out.push_back(CheckBlobs(config));
  out.push_back(CheckFreeSpace(config, options));
  for (auto& r : CheckSecrets(config, options)) out.push_back(std::move(r));
  out.push_back(CheckOcr(config));
  if (options.check_api_tokens) out.push_back(CheckApiTokens(config, options));
  if (options.check_listen) {
    out.push_back(CheckListen(options.listen.empty() ? config.api.listen : options.listen));
    out.push_back(CheckTls(config, options.listen.empty() ? config.api.listen : options.listen));
  }
  return out;
}

std::vector<CheckResult> RunDoctor(const GlobalOptions& global, const DoctorOptions& options) {
  std::vector<CheckResult> out;
  config::LoadOptions load;
  load.file = global.config_file;
  load.profile = global.profile;
  if (!options.env.empty()) {
    load.env = options.env;
    load.use_process_env = false;
  }
  Result<config::Config> config = config::LoadConfig(load);
  std::string file = global.config_file;
  if (file.empty()) {
    if (const char* f = std::getenv("INGESTD_CONFIG"); f != nullptr) file = f;
  }
  out.push_back(CheckConfig(config, file));
  if (!config.ok()) return out;
  if (auto budgets = LoadBudgetTables(file, config->profile); !budgets.ok()) {
    out.push_back(Fail("budgets", budgets.status().message(),
                       "fix the [[budget]] table (docs/costs.md, \"Budgets in the "
                       "configuration\")"));
  } else {
    out.push_back(
        Ok("budgets",
           budgets->empty()
               ? "no [[budget]] tables (budgets only from `ingestd budget set`)"
               : std::to_string(budgets->size()) + " [[budget]] table(s), applied at every start"));
  }
  for (auto& r : RunOfflineChecks(*config, options)) out.push_back(std::move(r));
  if (options.online) {
    http::HttpClientOptions http_options;
    http_options.total_timeout = std::chrono::seconds(15);
    http::HttpClient client(http_options);
    for (auto& r : CheckProvidersOnline(*config, client)) out.push_back(std::move(r));
  }
  return out;
}

bool AnyFailed(const std::vector<CheckResult>& checks) {
  for (const auto& c : checks) {
    if (c.status == CheckStatus::kFail) return true;
  }
  return false;
}

bool RunPreflight(const config::Config& config, const DoctorOptions& options) {
  const std::vector<CheckResult> checks = RunOfflineChecks(config, options);
  for (const auto& c : checks) {
    if (c.status == CheckStatus::kWarn) {
      obs::LogWarn("preflight: " + c.name, {{"detail", c.detail}, {"hint", c.hint}});
    }
  }
  if (!AnyFailed(checks)) return true;
  for (const auto& c : checks) {
    if (c.status != CheckStatus::kFail) continue;
    std::fprintf(stderr, "ingestd: preflight check %s failed: %s\n  fix: %s\n", c.name.c_str(),
                 c.detail.c_str(), c.hint.c_str());
  }
  std::fprintf(stderr, "ingestd: not starting (run `ingestd doctor` for every check)\n");
  return false;
}

}  // namespace ingest::app
