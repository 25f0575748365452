// JSON serialisation that never throws: user-supplied strings (uploaded text files, model
// names) may be invalid UTF-8, on which nlohmann::json::dump() would throw. Invalid bytes become
// U+FFFD instead, so a handler can always answer.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace ingest::emulate {

inline std::string JsonText(const nlohmann::json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace ingest::emulate
