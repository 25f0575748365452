#include "ingest/app/cli_audit.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace ingest::app {

std::string CliActor() {
  const uid_t uid = ::geteuid();
  if (const passwd* pw = ::getpwuid(uid); pw != nullptr && pw->pw_name != nullptr) {
    return std::string("cli:") + pw->pw_name;
  }
  if (const char* user = std::getenv("USER"); user != nullptr && *user != '\0') {
    return std::string("cli:") + user;
  }
  return "cli:uid" + std::to_string(uid);
}

void AuditCli(store::Store& store, std::string_view action, std::string_view target,
              const nlohmann::json& detail, const Status& outcome) {
  store::AuditEntry e;
  e.actor = CliActor();
  e.action = std::string(action);
  e.target = std::string(target);
  e.detail_json = detail.is_null()
                      ? "{}"
                      : detail.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  e.source = "cli";
  e.result = outcome.ok() ? "ok" : outcome.reason();
  if (Status st = store.AppendAudit(e); !st.ok()) {
    std::fprintf(stderr, "ingestd: warning: audit row for %s not written: %s\n", e.action.c_str(),
                 st.ToString().c_str());
  }
}

}  // namespace ingest::app
