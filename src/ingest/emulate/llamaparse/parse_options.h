// The v1 upload form fields the LlamaParse emulator interprets (spec §2.2), the credit table
// (spec §9.1) and the supported-extension list (spec §9.4). Unknown fields are ignored, as the
// real service has historically done.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "ingest/common/result.h"

namespace ingest::emulate::llamaparse {

// Credits per page by resolved mode name. Keys: the v1 parse_mode values plus "fast_mode" and
// "premium_mode" for the legacy booleans.
std::map<std::string, double> DefaultCreditsPerPage();

struct ParseOptions {
  std::string mode = "parse_page_with_llm";  // resolved mode: a key of the credit table
  double credits_per_page = 3;
  std::string target_pages_spec;  // as sent (part of the cache key)
  std::set<int> target_pages;     // 0-based; empty = all pages
  int64_t max_pages = 0;          // 0 = no cap
  std::string page_separator = "\n---\n";
  bool invalidate_cache = false;
  bool do_not_cache = false;
  std::string webhook_url;    // result push when the job succeeds (webhook_sender.h)
  int64_t job_timeout_s = 0;  // 0 = none

  // Options that change the parse output; the content-hash cache is keyed on them.
  std::string CacheKey(std::string_view file_sha256) const;
};

// Reads the form fields. kInvalidArgument (message suitable for {"detail": ...}) for an unknown
// parse_mode, a malformed target_pages/max_pages, or job_timeout_in_seconds below 120.
Result<ParseOptions> ReadParseOptions(const std::map<std::string, std::string>& fields,
                                      const std::map<std::string, double>& credits_per_page);

// "0,2,5-9" → {0,2,5,6,7,8,9}.
Result<std::set<int>> ParseTargetPages(std::string_view spec);

// Extensions the emulator accepts: the client's SUPPORTED_FILE_TYPES plus ".md".
bool IsSupportedExtension(std::string_view ext);
const std::set<std::string>& SupportedExtensions();

}  // namespace ingest::emulate::llamaparse
