#include "ingest/api/security_headers.h"

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <vector>

namespace ingest::api {
namespace {

std::string Sha256Base64(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  unsigned char out[4 * ((SHA256_DIGEST_LENGTH + 2) / 3) + 1];
  const int n = EVP_EncodeBlock(out, digest, SHA256_DIGEST_LENGTH);
  return std::string(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
}

// The contents of every <tag ...>...</tag> block without a src attribute, as CSP hashes them
// (exactly the characters between the tags).
std::vector<std::string> InlineHashes(std::string_view html, std::string_view tag) {
  std::vector<std::string> hashes;
  const std::string open = "<" + std::string(tag);
  const std::string close = "</" + std::string(tag) + ">";
  size_t pos = 0;
  for (;;) {
    const size_t start = html.find(open, pos);
    if (start == std::string_view::npos) break;
    const size_t after_name = start + open.size();
    if (after_name < html.size() && html[after_name] != '>' && html[after_name] != ' ') {
      pos = after_name;  // e.g. <scripts>
      continue;
    }
    const size_t gt = html.find('>', after_name);
    if (gt == std::string_view::npos) break;
    const size_t end = html.find(close, gt + 1);
    if (end == std::string_view::npos) break;
    std::string_view attrs = html.substr(after_name, gt - after_name);
    if (attrs.find("src=") == std::string_view::npos) {
      hashes.push_back("'sha256-" + Sha256Base64(html.substr(gt + 1, end - gt - 1)) + "'");
    }
    pos = end + close.size();
  }
  return hashes;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += " " + s;
  return out;
}

}  // namespace

std::string DashboardContentSecurityPolicy(std::string_view html) {
  const auto scripts = InlineHashes(html, "script");
  const auto styles = InlineHashes(html, "style");
  return "default-src 'none'; script-src" + (scripts.empty() ? " 'none'" : Join(scripts)) +
         "; style-src" + (styles.empty() ? " 'none'" : Join(styles)) +
         "; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
         "frame-ancestors 'none'";
}

void InstallSecurityHeaders(httplib::Server& server) {
  server.set_default_headers({{"X-Content-Type-Options", "nosniff"},
                              {"Referrer-Policy", "no-referrer"},
                              {"X-Frame-Options", "DENY"}});
  server.set_post_routing_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.has_header("Content-Security-Policy")) {
      res.set_header("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    }
  });
}

}  // namespace ingest::api
