// Files compiled into the binary (api/CMakeLists.txt generates their definitions from the
// repository at build time), so `ingestd serve` needs nothing on disk to serve them.
#pragma once

#include <string_view>

namespace ingest::api {

// docs/openapi.json: the OpenAPI 3 description of this API.
std::string_view OpenApiDocument();
// web/dashboard/index.html: the dashboard page (HTML, CSS and JS in one file, no CDN).
std::string_view DashboardHtml();

}  // namespace ingest::api
