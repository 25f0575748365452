// Times and durations as people type them on the command line and in query strings.
#pragma once

#include <string>
#include <string_view>

#include "ingest/common/clock.h"
#include "ingest/common/result.h"

namespace ingest {

// "90s", "30m", "2h", "7d" as milliseconds (N from 0 to 999999999). kInvalidArgument
// ("bad_duration") otherwise.
Result<int64_t> ParseDurationMillis(std::string_view text);

// A duration before `now` ("2h": two hours ago), or an ISO-8601 UTC date ("2026-12-07") or time
// ("2026-12-07T10:00:00Z"). kInvalidArgument ("bad_arguments") otherwise.
Result<UnixMillis> ParseSince(const std::string& text, UnixMillis now);

}  // namespace ingest
