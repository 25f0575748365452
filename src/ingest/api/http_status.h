// The one mapping from Status to HTTP (STYLE: "one maps them to HTTP statuses"), and the error
// body every endpoint uses: {"error": {"code": "<reason>", "message": "..."}}.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "ingest/common/status.h"

namespace ingest::api {

// HTTP status for a non-ok Status. The code decides; the only reason-level refinement is that
// a size limit (reasons "file_too_large", "upload_too_large") is 413 rather than the 429 other
// exhausted resources get.
int HttpStatusFor(const Status& status);

// {"error": {"code": status.reason(), "message": status.message()}}.
nlohmann::json ErrorBody(const Status& status);

// The code name used in an error body for a bare HTTP status produced outside a handler (an
// unknown route, a body over httplib's payload limit): "not_found", "payload_too_large"...
std::string_view ReasonForHttpStatus(int http_status);

}  // namespace ingest::api
