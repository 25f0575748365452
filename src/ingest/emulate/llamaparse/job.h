// One emulated v1 parse job. Its outcome is decided when it is created (pages, final status,
// charge); only the moment it becomes visible depends on the clock, so a job's answers are a
// pure function of (upload, options, seed, time).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ingest::emulate::llamaparse {

struct ParsedPage {
  int number = 1;  // 1-based page number in the original document
  std::string text;
  std::string md;
  bool ok = true;  // false: the page failed (PARTIAL_SUCCESS)
};

struct Job {
  std::string id;
  int64_t created_ms = 0;
  int64_t ready_ms = 0;                  // when the final status becomes visible
  int64_t expires_ms = 0;                // job_timeout_in_seconds deadline; 0 = none
  std::string final_status = "SUCCESS";  // SUCCESS | PARTIAL_SUCCESS | ERROR
  std::string error_code;
  std::string error_message;
  std::vector<ParsedPage> pages;
  std::string page_separator = "\n---\n";
  nlohmann::json metadata;  // job_metadata of the result endpoints
};

struct JobState {
  std::string status;  // PENDING | SUCCESS | PARTIAL_SUCCESS | ERROR
  std::string error_code;
  std::string error_message;
};

// PENDING before ready_ms; ERROR/EXPIRED once a deadline that falls before ready_ms passes.
JobState StateAt(const Job& job, int64_t now_ms);
// {"id","status","error_code","error_message"} with nulls for absent codes.
nlohmann::json StatusJson(const Job& job, int64_t now_ms);
// Per-page text or markdown joined with the page separator; "{page_number}" in the separator
// becomes the 1-based number of the page that follows it.
std::string JoinPages(const Job& job, bool markdown);
// result/json "pages" array (spec §4.2 shape).
nlohmann::json PagesJson(const Job& job);

}  // namespace ingest::emulate::llamaparse
