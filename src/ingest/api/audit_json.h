// The JSON shape of one audit row, shared by GET /v1/audit and `ingestd audit --json`:
// {"seq", "at" (ISO-8601), "actor", "action", "target", "detail" (object), "source", "result"}.
#pragma once

#include <nlohmann/json.hpp>

#include "ingest/store/types.h"

namespace ingest::api {

nlohmann::json AuditEntryJson(const store::AuditEntry& e);

}  // namespace ingest::api
