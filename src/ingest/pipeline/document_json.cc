#include "ingest/pipeline/document_json.h"

#include <cstdio>
#include <ctime>

namespace ingest::pipeline {
namespace {

std::string Iso(UnixMillis t) { return t > 0 ? FormatIso8601(t) : ""; }

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

nlohmann::json MetadataObject(std::string_view metadata_json) {
  nlohmann::json m = nlohmann::json::parse(metadata_json, nullptr, /*allow_exceptions=*/false);
  if (m.is_discarded() || !m.is_object()) return nlohmann::json::object();
  return m;
}

nlohmann::json DocumentJson(const store::Document& d, const std::optional<store::Job>& job) {
  nlohmann::json out = {{"document_id", d.id},
                        {"tenant", d.tenant},
                        {"filename", d.filename},
                        {"external_id", d.external_id},
                        {"version", d.version},
                        {"metadata", MetadataObject(d.metadata_json)},
                        {"mime", d.mime},
                        {"bytes", d.bytes},
                        {"sha256", d.sha256},
                        {"pages", d.page_count},
                        {"parser", d.parser},
                        {"parse_note", d.parse_note},
                        {"created_at", Iso(d.created_at)},
                        {"updated_at", Iso(d.updated_at)}};
  if (job) {
    out["job_id"] = job->id;
    out["state"] = std::string(store::JobStateName(job->state));
    out["stage"] = std::string(store::StageName(job->stage));
  }
  return out;
}

nlohmann::json ChunkJson(const store::Chunk& c, const nlohmann::json& metadata) {
  return {{"chunk_id", c.id},
          {"ordinal", c.ordinal},
          {"text", c.text},
          {"token_count", c.token_count},
          {"heading_path", c.heading_path},
          {"page_start", c.page_start},
          {"page_end", c.page_end},
          {"metadata", metadata}};
}

std::string DocumentCursor(const store::Document& last) {
  return std::to_string(last.created_at) + "_" + last.id;
}

Result<std::pair<UnixMillis, std::string>> ParseDocumentCursor(std::string_view cursor) {
  const size_t sep = cursor.find('_');
  if (sep == std::string_view::npos || !AllDigits(cursor.substr(0, sep)) ||
      sep + 1 >= cursor.size() || sep > 18) {
    return InvalidArgument("not a cursor this server made: \"" + std::string(cursor) + "\"",
                           "invalid_cursor");
  }
  return std::make_pair(static_cast<UnixMillis>(std::stoll(std::string(cursor.substr(0, sep)))),
                        std::string(cursor.substr(sep + 1)));
}

Result<UnixMillis> ParseTimeBound(std::string_view text) {
  const std::string s(text);
  if (AllDigits(s) && s.size() <= 15) return static_cast<UnixMillis>(std::stoll(s));
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0;
  int used = 0;
  bool ok = false;
  if (s.size() == 10 && std::sscanf(s.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &used) == 3 &&
      used == 10) {
    ok = true;
  } else if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
                         &used) == 6) {
    std::string_view rest = std::string_view(s).substr(static_cast<size_t>(used));
    if (rest.size() == 5 && rest[0] == '.' && AllDigits(rest.substr(1, 3)) && rest[4] == 'Z') {
      ms = std::stoi(std::string(rest.substr(1, 3)));
      ok = true;
    } else {
      ok = rest == "Z";
    }
  }
  if (!ok || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) {
    return InvalidArgument(
        "time \"" + s + "\": expected Unix milliseconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ",
        "invalid_time");
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  return static_cast<UnixMillis>(timegm(&tm)) * 1000 + ms;
}

}  // namespace ingest::pipeline
