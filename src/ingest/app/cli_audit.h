// Audit rows for CLI commands that change state (docs/security.md "Audit log"): the actor is
// "cli:<unix user>", the source "cli".
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "ingest/common/status.h"
#include "ingest/store/store.h"

namespace ingest::app {

// "cli:" + the effective user's login name (the passwd entry, else $USER, else the uid).
std::string CliActor();

// Appends one row: result "ok" or `outcome`'s reason. A row that cannot be written is reported
// on stderr; the command's own outcome stands (the change has already been made).
void AuditCli(store::Store& store, std::string_view action, std::string_view target,
              const nlohmann::json& detail, const Status& outcome);

}  // namespace ingest::app
