// Response headers that keep browsers safe with the API and the dashboard (docs/security.md).
#pragma once

#include <string>
#include <string_view>

namespace httplib {
class Server;
}

namespace ingest::api {

// The dashboard's Content-Security-Policy: nothing may load or run except the page's own inline
// <script> and <style> blocks, allowed by their sha256 (no 'unsafe-inline'), and fetches to the
// same origin. Computed from the page, so editing the page needs no policy edit.
std::string DashboardContentSecurityPolicy(std::string_view html);

// Adds to every response: X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer,
// X-Frame-Options: DENY, and (unless the route set its own) a Content-Security-Policy that
// allows nothing, which is right for JSON and text.
void InstallSecurityHeaders(httplib::Server& server);

}  // namespace ingest::api
