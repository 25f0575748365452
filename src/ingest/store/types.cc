#include "ingest/store/types.h"

#include <array>
#include <cstdint>
#include <string>
#include <utility>

#include "ingest/common/check.h"

namespace ingest::store {
namespace {

// One table per enum keeps the names and the parsers from drifting apart. The names are what
// the database stores, so they must never change once written.
template <typename E, size_t N>
Result<E> ParseByName(const std::array<std::pair<E, std::string_view>, N>& table,
                      std::string_view name, std::string_view what) {
  for (const auto& [value, value_name] : table) {
    if (value_name == name) return value;
  }
  return InvalidArgument("unknown " + std::string(what) + " \"" + std::string(name) + "\"",
                         "unknown_" + std::string(what));
}

template <typename E, size_t N>
std::string_view NameOf(const std::array<std::pair<E, std::string_view>, N>& table, E value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return "unknown";
}

constexpr std::array<std::pair<JobState, std::string_view>, 8> kJobStates = {{
    {JobState::kQueued, "queued"},
    {JobState::kRunning, "running"},
    {JobState::kWaiting, "waiting"},
    {JobState::kDeferred, "deferred"},
    {JobState::kComplete, "complete"},
    {JobState::kFailed, "failed"},
    {JobState::kDead, "dead"},
    {JobState::kCancelled, "cancelled"},
}};

constexpr std::array<std::pair<Stage, std::string_view>, 8> kStages = {{
    {Stage::kReceive, "receive"},
    {Stage::kParse, "parse"},
    {Stage::kValidate, "validate"},
    {Stage::kChunk, "chunk"},
    {Stage::kEmbed, "embed"},
    {Stage::kIndex, "index"},
    {Stage::kAccount, "account"},
    {Stage::kFinalize, "finalize"},
}};

constexpr std::array<std::pair<Lane, std::string_view>, 2> kLanes = {{
    {Lane::kInteractive, "interactive"},
    {Lane::kBulk, "bulk"},
}};

constexpr std::array<std::pair<LedgerState, std::string_view>, 3> kLedgerStates = {{
    {LedgerState::kReserved, "reserved"},
    {LedgerState::kSettled, "settled"},
    {LedgerState::kReleased, "released"},
}};

constexpr std::array<std::pair<BudgetScope, std::string_view>, 3> kBudgetScopes = {{
    {BudgetScope::kGlobal, "global"},
    {BudgetScope::kTenant, "tenant"},
    {BudgetScope::kService, "service"},
}};

constexpr std::array<std::pair<BudgetPeriod, std::string_view>, 3> kBudgetPeriods = {{
    {BudgetPeriod::kHour, "hour"},
    {BudgetPeriod::kDay, "day"},
    {BudgetPeriod::kMonth, "month"},
}};

constexpr int64_t kMillisPerHour = 3'600'000;
constexpr int64_t kMillisPerDay = 24 * kMillisPerHour;

// Floor division: periods before 1970 (negative times) still start at or before `a`.
constexpr int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// Proleptic Gregorian calendar arithmetic on day numbers (days since 1970-01-01), after Howard
// Hinnant's public-domain chrono algorithms. Pure integer maths: no time zone, no TZ variable,
// no leap seconds (Unix time has none).
struct CivilDate {
  int64_t year;
  int month;  // 1..12
  int day;    // 1..31
};

constexpr int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = FloorDiv(y, 400);
  const int64_t yoe = y - era * 400;                                   // [0, 399]
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;  // [0, 365]
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           // [0, 146096]
  return era * 146097 + doe - 719468;
}

constexpr CivilDate CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t doe = z - era * 146097;                                       // [0, 146096]
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const int64_t mp = (5 * doy + 2) / 153;                                     // [0, 11]
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (m <= 2), m, d};
}

}  // namespace

std::string_view JobStateName(JobState s) { return NameOf(kJobStates, s); }
Result<JobState> ParseJobState(std::string_view name) {
  return ParseByName(kJobStates, name, "job_state");
}

std::string_view StageName(Stage s) { return NameOf(kStages, s); }
Result<Stage> ParseStage(std::string_view name) { return ParseByName(kStages, name, "stage"); }

bool IsTerminal(JobState s) {
  switch (s) {
    case JobState::kComplete:
    case JobState::kFailed:
    case JobState::kDead:
    case JobState::kCancelled:
      return true;
    case JobState::kQueued:
    case JobState::kRunning:
    case JobState::kWaiting:
    case JobState::kDeferred:
      return false;
  }
  return false;
}

std::string_view LaneName(Lane l) { return NameOf(kLanes, l); }
Result<Lane> ParseLane(std::string_view name) { return ParseByName(kLanes, name, "lane"); }

std::string_view LedgerStateName(LedgerState s) { return NameOf(kLedgerStates, s); }
Result<LedgerState> ParseLedgerState(std::string_view name) {
  return ParseByName(kLedgerStates, name, "ledger_state");
}

std::string_view BudgetScopeName(BudgetScope s) { return NameOf(kBudgetScopes, s); }
Result<BudgetScope> ParseBudgetScope(std::string_view name) {
  return ParseByName(kBudgetScopes, name, "budget_scope");
}

std::string_view BudgetPeriodName(BudgetPeriod p) { return NameOf(kBudgetPeriods, p); }
Result<BudgetPeriod> ParseBudgetPeriod(std::string_view name) {
  return ParseByName(kBudgetPeriods, name, "budget_period");
}

PeriodWindow PeriodWindowAt(BudgetPeriod period, UnixMillis now) {
  switch (period) {
    case BudgetPeriod::kHour: {
      const int64_t start = FloorDiv(now, kMillisPerHour) * kMillisPerHour;
      return {start, start + kMillisPerHour};
    }
    case BudgetPeriod::kDay: {
      const int64_t start = FloorDiv(now, kMillisPerDay) * kMillisPerDay;
      return {start, start + kMillisPerDay};
    }
    case BudgetPeriod::kMonth: {
      const CivilDate today = CivilFromDays(FloorDiv(now, kMillisPerDay));
      const int64_t first = DaysFromCivil(today.year, today.month, 1);
      const int64_t next = today.month == 12 ? DaysFromCivil(today.year + 1, 1, 1)
                                             : DaysFromCivil(today.year, today.month + 1, 1);
      return {first * kMillisPerDay, next * kMillisPerDay};
    }
  }
  INGEST_CHECK(false);
  return {};
}

}  // namespace ingest::store
