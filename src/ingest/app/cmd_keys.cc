// `ingestd keys create|list|revoke|rotate`: API keys for `ingestd serve` (docs/security.md
// "API keys"). A secret is printed once, by create and rotate; the store keeps only its lookup
// prefix and sha256. Every change is written to the audit log as "cli:<unix user>".
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "ingest/api/api_key.h"
#include "ingest/api/scopes.h"
#include "ingest/app/app.h"
#include "ingest/app/cli.h"
#include "ingest/app/cli_audit.h"
#include "ingest/common/rate_spec.h"
#include "ingest/common/time_text.h"

namespace ingest::app {
namespace {

constexpr std::string_view kDefaultGrace = "24h";

struct KeysArgs {
  std::string tenant;
  std::string scopes;
  std::string expires;  // duration from now; "" = never
  std::string name;
  std::string rate_limit;
  std::string id;
  std::string grace{kDefaultGrace};
  bool json = false;
};

int Fail(const Status& s) {
  std::fprintf(stderr, "ingestd: %s\n", s.ToString().c_str());
  return 1;
}

Result<std::unique_ptr<store::Store>> OpenForKeys(const GlobalOptions& global) {
  INGEST_ASSIGN_OR_RETURN(config::Config config, LoadConfigFor(global));
  return OpenStore(config, Clock::Real(), /*auto_migrate=*/true);
}

std::string Time(UnixMillis t) { return t > 0 ? FormatIso8601(t) : ""; }

// active, revoked, expired, rotated (in its grace period) or retired (rotated, grace over).
std::string StateOf(const store::ApiKey& k, UnixMillis now) {
  if (k.revoked_at != 0) return "revoked";
  if (k.expires_at != 0 && now >= k.expires_at) return "expired";
  if (k.grace_until != 0) return now < k.grace_until ? "rotated" : "retired";
  return "active";
}

// Everything about a key but its secret and digest (neither is ever printed by list).
nlohmann::json KeyJson(const store::ApiKey& k, UnixMillis now) {
  return {{"id", k.id},
          {"name", k.name},
          {"tenant", k.tenant},
          {"scopes", k.scopes},
          {"rate_limit", k.rate_limit},
          {"state", StateOf(k, now)},
          {"created_at", Time(k.created_at)},
          {"created_by", k.created_by},
          {"expires_at", Time(k.expires_at)},
          {"revoked_at", Time(k.revoked_at)},
          {"grace_until", Time(k.grace_until)},
          {"rotated_from", k.rotated_from},
          {"last_used_at", Time(k.last_used_at)}};
}

void PrintSecret(const nlohmann::json& j, const std::string& secret, bool json) {
  if (json) {
    std::puts(j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return;
  }
  std::printf("%s\n\nkey %s (tenant %s, scopes %s)\n", secret.c_str(),
              j["id"].get<std::string>().c_str(), j["tenant"].get<std::string>().c_str(),
              j["scopes"].get<std::string>().c_str());
  std::puts("The secret above is shown once and cannot be recovered; store it now.");
}

int Create(const GlobalOptions& global, const KeysArgs& args) {
  if (args.tenant.empty()) return Fail(InvalidArgument("--tenant is required", "bad_arguments"));
  auto scopes = api::ParseScopes(args.scopes);
  if (!scopes.ok()) return Fail(scopes.status().WithContext("--scope"));
  auto rate = ParseRateSpec(args.rate_limit);
  if (!rate.ok()) return Fail(rate.status().WithContext("--rate-limit"));
  const UnixMillis now = Clock::Real()->NowMillis();
  UnixMillis expires_at = 0;
  if (!args.expires.empty()) {
    auto d = ParseDurationMillis(args.expires);
    if (!d.ok() || *d <= 0) {
      return Fail(
          InvalidArgument("--expires: expected a positive duration (90d, 12h)", "bad_arguments"));
    }
    expires_at = now + *d;
  }
  auto secret = api::GenerateApiKeySecret();
  if (!secret.ok()) return Fail(secret.status());
  auto store = OpenForKeys(global);
  if (!store.ok()) return Fail(store.status());
  store::ApiKey k;
  k.id = secret->id;
  k.prefix = secret->prefix;
  k.secret_sha256 = secret->sha256;
  k.name = args.name;
  k.tenant = args.tenant;
  k.scopes = scopes->ToString();
  k.rate_limit = *rate ? (*rate)->ToString() : "";
  k.created_by = CliActor();
  k.created_at = now;
  k.expires_at = expires_at;
  Status created = (*store)->CreateApiKey(k);
  AuditCli(**store, "key.create", k.id,
           {{"tenant", k.tenant},
            {"scopes", k.scopes},
            {"name", k.name},
            {"expires_at", Time(k.expires_at)},
            {"rate_limit", k.rate_limit}},
           created);
  if (!created.ok()) return Fail(created);
  nlohmann::json j = KeyJson(k, now);
  j["secret"] = secret->secret;
  PrintSecret(j, secret->secret, args.json);
  return 0;
}

int List(const GlobalOptions& global, const KeysArgs& args) {
  auto store = OpenForKeys(global);
  if (!store.ok()) return Fail(store.status());
  auto keys = (*store)->ListApiKeys();
  if (!keys.ok()) return Fail(keys.status());
  const UnixMillis now = Clock::Real()->NowMillis();
  if (args.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& k : *keys) out.push_back(KeyJson(k, now));
    std::puts(out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  if (keys->empty()) {
    std::puts("no API keys (ingestd keys create --tenant T --scope read)");
    return 0;
  }
  std::printf("%-16s  %-8s  %-16s  %-24s  %-8s  %-24s  %s\n", "ID", "STATE", "TENANT", "SCOPES",
              "RATE", "EXPIRES", "NAME");
  for (const auto& k : *keys) {
    std::printf("%-16s  %-8s  %-16s  %-24s  %-8s  %-24s  %s\n", k.id.c_str(),
                StateOf(k, now).c_str(), k.tenant.c_str(), k.scopes.c_str(),
                k.rate_limit.empty() ? "-" : k.rate_limit.c_str(),
                k.expires_at > 0 ? Time(k.expires_at).c_str() : "never", k.name.c_str());
  }
  return 0;
}

int Revoke(const GlobalOptions& global, const KeysArgs& args) {
  auto store = OpenForKeys(global);
  if (!store.ok()) return Fail(store.status());
  Status revoked = (*store)->RevokeApiKey(args.id, Clock::Real()->NowMillis());
  AuditCli(**store, "key.revoke", args.id, nullptr, revoked);
  if (!revoked.ok()) return Fail(revoked);
  if (args.json) {
    std::puts(nlohmann::json{{"id", args.id}, {"state", "revoked"}}.dump(2).c_str());
  } else {
    std::printf("revoked %s: it is refused from the next request on\n", args.id.c_str());
  }
  return 0;
}

int Rotate(const GlobalOptions& global, const KeysArgs& args) {
  auto grace = ParseDurationMillis(args.grace);
  if (!grace.ok()) return Fail(grace.status().WithContext("--grace"));
  auto secret = api::GenerateApiKeySecret();
  if (!secret.ok()) return Fail(secret.status());
  auto store = OpenForKeys(global);
  if (!store.ok()) return Fail(store.status());
  const UnixMillis now = Clock::Real()->NowMillis();
  store::ApiKey repl;
  repl.id = secret->id;
  repl.prefix = secret->prefix;
  repl.secret_sha256 = secret->sha256;
  repl.created_by = CliActor();
  auto rotated = (*store)->RotateApiKey(args.id, repl, now + *grace, now);
  AuditCli(**store, "key.rotate", args.id,
           {{"replacement", rotated.ok() ? rotated->id : ""},
            {"old_valid_until", FormatIso8601(now + *grace)}},
           rotated.ok() ? Status::Ok() : rotated.status());
  if (!rotated.ok()) return Fail(rotated.status());
  nlohmann::json j = KeyJson(*rotated, now);
  j["secret"] = secret->secret;
  j["old_key_valid_until"] = FormatIso8601(now + *grace);
  PrintSecret(j, secret->secret, args.json);
  if (!args.json) {
    std::printf("The old key %s keeps working until %s.\n", args.id.c_str(),
                FormatIso8601(now + *grace).c_str());
  }
  return 0;
}

}  // namespace

void AddKeysCommand(CLI::App& app, GlobalOptions& global, int* exit_code) {
  auto args = std::make_shared<KeysArgs>();
  CLI::App* cmd = app.add_subcommand("keys", "API keys: create, list, revoke, rotate");
  cmd->require_subcommand(1);

  CLI::App* create = cmd->add_subcommand("create", "Create a key; prints its secret once");
  create->add_option("--tenant", args->tenant, "The tenant the key acts for")->required();
  create
      ->add_option("--scope", args->scopes,
                   "Comma-separated scopes: read, ingest, operator, admin (admin: every tenant)")
      ->required();
  create->add_option("--expires", args->expires, "Lifetime (90d, 12h); default: never");
  create->add_option("--name", args->name, "A label for people (who holds it, what for)");
  create->add_option("--rate-limit", args->rate_limit,
                     "Requests per second or minute (5/s, 300/m); default api.rate_limit_per_key");
  create->add_flag("--json", args->json, "JSON output");
  create->callback([&global, exit_code, args] { *exit_code = Create(global, *args); });

  CLI::App* list = cmd->add_subcommand("list", "List keys (never their secrets)");
  list->add_flag("--json", args->json, "JSON output");
  list->callback([&global, exit_code, args] { *exit_code = List(global, *args); });

  CLI::App* revoke = cmd->add_subcommand("revoke", "Revoke a key: refused from the next request");
  revoke->add_option("id", args->id, "Key id (key_...)")->required();
  revoke->add_flag("--json", args->json, "JSON output");
  revoke->callback([&global, exit_code, args] { *exit_code = Revoke(global, *args); });

  CLI::App* rotate = cmd->add_subcommand(
      "rotate", "Replace a key's secret; the old one keeps working for the grace period");
  rotate->add_option("id", args->id, "Key id (key_...)")->required();
  rotate->add_option("--grace", args->grace, "How long the old secret keeps working (0s: not)")
      ->capture_default_str();
  rotate->add_flag("--json", args->json, "JSON output");
  rotate->callback([&global, exit_code, args] { *exit_code = Rotate(global, *args); });
}

}  // namespace ingest::app
