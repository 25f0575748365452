// Kill points for crash tests (issue 12): `INGESTD_FAILPOINT=NAME` makes the process kill
// itself with SIGKILL — exactly as `kill -9` would: no destructor, no flush, no atexit — the
// first time execution reaches `FailPoint(NAME)`. Tests use it to stop a worker at a precise
// instant of a paid call (after the reservation, before the request leaves; after it left,
// before the answer is read; after the answer, before the ledger is settled) and then check
// what the next run makes of the leftovers (tests/scripts/ledger_killpoints_test.sh).
//
// Always compiled in. The variable is read once, at static initialisation; an unarmed
// FailPoint costs one predictable branch. Thread-safe.
#pragma once

#include <string_view>

namespace ingest {

// Points the code defines (docs/costs.md "Crashes between reserve and settle").
inline constexpr std::string_view kFailBeforeSend = "ledger.before_send";
inline constexpr std::string_view kFailAfterSend = "ledger.after_send";
inline constexpr std::string_view kFailBeforeSettle = "ledger.before_settle";

namespace failpoint_internal {
// The armed point's name, or nullptr (INGESTD_FAILPOINT unset or empty).
extern const char* const armed;
[[noreturn]] void Kill(std::string_view name);
bool Matches(std::string_view name);
}  // namespace failpoint_internal

// Kills the process (SIGKILL) when `name` is the armed point; otherwise does nothing.
inline void FailPoint(std::string_view name) {
  if (failpoint_internal::armed != nullptr) [[unlikely]] {
    if (failpoint_internal::Matches(name)) failpoint_internal::Kill(name);
  }
}

}  // namespace ingest
