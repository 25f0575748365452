#include "ingest/emulate/llamaparse/job.h"

namespace ingest::emulate::llamaparse {

JobState StateAt(const Job& job, int64_t now_ms) {
  if (job.expires_ms > 0 && job.expires_ms < job.ready_ms) {
    if (now_ms < job.expires_ms) return {"PENDING", "", ""};
    return {"ERROR", "EXPIRED", "The job exceeded job_timeout_in_seconds and was cancelled."};
  }
  if (now_ms < job.ready_ms) return {"PENDING", "", ""};
  return {job.final_status, job.error_code, job.error_message};
}

nlohmann::json StatusJson(const Job& job, int64_t now_ms) {
  const JobState s = StateAt(job, now_ms);
  nlohmann::json j = {
      {"id", job.id}, {"status", s.status}, {"error_code", nullptr}, {"error_message", nullptr}};
  if (!s.error_code.empty()) j["error_code"] = s.error_code;
  if (!s.error_message.empty()) j["error_message"] = s.error_message;
  return j;
}

std::string JoinPages(const Job& job, bool markdown) {
  std::string out;
  for (size_t i = 0; i < job.pages.size(); ++i) {
    const ParsedPage& p = job.pages[i];
    if (i > 0) {
      std::string sep = job.page_separator;
      const std::string token = "{page_number}";
      for (size_t at = sep.find(token); at != std::string::npos; at = sep.find(token, at)) {
        sep.replace(at, token.size(), std::to_string(p.number));
      }
      out += sep;
    }
    out += markdown ? p.md : p.text;
  }
  return out;
}

nlohmann::json PagesJson(const Job& job) {
  nlohmann::json pages = nlohmann::json::array();
  for (const ParsedPage& p : job.pages) {
    pages.push_back({{"page", p.number},
                     {"text", p.text},
                     {"md", p.md},
                     {"images", nlohmann::json::array()},
                     {"charts", nlohmann::json::array()},
                     {"tables", nlohmann::json::array()},
                     {"layout", nlohmann::json::array()},
                     {"items", nlohmann::json::array()},
                     {"status", p.ok ? "OK" : "ERROR"},
                     {"links", nlohmann::json::array()},
                     {"width", 612},
                     {"height", 792},
                     {"triggeredAutoMode", false},
                     {"parsingMode", nullptr},
                     {"structuredData", nullptr},
                     {"noStructuredContent", true},
                     {"noTextContent", p.text.empty()}});
  }
  return pages;
}

}  // namespace ingest::emulate::llamaparse
