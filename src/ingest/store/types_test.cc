#include "ingest/store/types.h"

#include <gtest/gtest.h>

namespace ingest::store {
namespace {

TEST(StoreTypesTest, JobStateNamesRoundTrip) {
  const JobState all[] = {JobState::kQueued,   JobState::kRunning,  JobState::kWaiting,
                          JobState::kDeferred, JobState::kComplete, JobState::kFailed,
                          JobState::kDead,     JobState::kCancelled};
  const char* names[] = {"queued",   "running", "waiting", "deferred",
                         "complete", "failed",  "dead",    "cancelled"};
  for (size_t i = 0; i < std::size(all); ++i) {
    EXPECT_EQ(JobStateName(all[i]), names[i]);
    EXPECT_EQ(*ParseJobState(names[i]), all[i]);
  }
  EXPECT_EQ(ParseJobState("Queued").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseJobState("").status().code(), StatusCode::kInvalidArgument);
}

TEST(StoreTypesTest, TerminalStates) {
  EXPECT_TRUE(IsTerminal(JobState::kComplete));
  EXPECT_TRUE(IsTerminal(JobState::kFailed));
  EXPECT_TRUE(IsTerminal(JobState::kDead));
  EXPECT_TRUE(IsTerminal(JobState::kCancelled));
  EXPECT_FALSE(IsTerminal(JobState::kQueued));
  EXPECT_FALSE(IsTerminal(JobState::kRunning));
  EXPECT_FALSE(IsTerminal(JobState::kWaiting));
  EXPECT_FALSE(IsTerminal(JobState::kDeferred));
}

TEST(StoreTypesTest, StageLaneLedgerNames) {
  const char* stages[] = {"receive", "parse", "validate", "chunk",
                          "embed",   "index", "account",  "finalize"};
  for (size_t i = 0; i < std::size(kAllStages); ++i) {
    EXPECT_EQ(StageName(kAllStages[i]), stages[i]);
    EXPECT_EQ(*ParseStage(stages[i]), kAllStages[i]);
  }
  EXPECT_FALSE(ParseStage("embedding").ok());
  EXPECT_EQ(LaneName(Lane::kInteractive), "interactive");
  EXPECT_EQ(LaneName(Lane::kBulk), "bulk");
  EXPECT_EQ(*ParseLane("bulk"), Lane::kBulk);
  EXPECT_FALSE(ParseLane("fast").ok());
  EXPECT_EQ(LedgerStateName(LedgerState::kReserved), "reserved");
  EXPECT_EQ(LedgerStateName(LedgerState::kSettled), "settled");
  EXPECT_EQ(LedgerStateName(LedgerState::kReleased), "released");
  EXPECT_EQ(*ParseLedgerState("released"), LedgerState::kReleased);
}

TEST(StoreTypesTest, BudgetScopeAndPeriodNamesRoundTrip) {
  const BudgetScope scopes[] = {BudgetScope::kGlobal, BudgetScope::kTenant, BudgetScope::kService};
  const char* scope_names[] = {"global", "tenant", "service"};
  for (size_t i = 0; i < std::size(scopes); ++i) {
    EXPECT_EQ(BudgetScopeName(scopes[i]), scope_names[i]);
    EXPECT_EQ(*ParseBudgetScope(scope_names[i]), scopes[i]);
  }
  const BudgetPeriod periods[] = {BudgetPeriod::kHour, BudgetPeriod::kDay, BudgetPeriod::kMonth};
  const char* period_names[] = {"hour", "day", "month"};
  for (size_t i = 0; i < std::size(periods); ++i) {
    EXPECT_EQ(BudgetPeriodName(periods[i]), period_names[i]);
    EXPECT_EQ(*ParseBudgetPeriod(period_names[i]), periods[i]);
  }
  EXPECT_EQ(ParseBudgetScope("Global").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseBudgetScope("").status().reason(), "unknown_budget_scope");
  EXPECT_EQ(ParseBudgetPeriod("week").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseBudgetPeriod("").status().reason(), "unknown_budget_period");
}

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 24 * kHour;

// Expected values are UTC instants computed independently (Python's datetime with
// timezone.utc), e.g. 2026-11-29T18:00:00Z = 1795975200000.
TEST(StoreTypesTest, HourAndDayWindows) {
  const UnixMillis t = 1795975200000 + 25 * 60'000 + 7'123;  // 2026-11-29T18:25:07.123Z
  PeriodWindow h = PeriodWindowAt(BudgetPeriod::kHour, t);
  EXPECT_EQ(h.start, 1795975200000);
  EXPECT_EQ(h.end, 1795978800000);
  PeriodWindow d = PeriodWindowAt(BudgetPeriod::kDay, t);
  EXPECT_EQ(d.start, 1795910400000);  // 2026-11-29T00:00Z
  EXPECT_EQ(d.end, 1795996800000);    // 2026-11-30T00:00Z
  // Boundaries: start is inside, end is the next window.
  EXPECT_EQ(PeriodWindowAt(BudgetPeriod::kHour, h.start).start, h.start);
  EXPECT_EQ(PeriodWindowAt(BudgetPeriod::kHour, h.end - 1).start, h.start);
  EXPECT_EQ(PeriodWindowAt(BudgetPeriod::kHour, h.end).start, h.end);
  EXPECT_EQ(PeriodWindowAt(BudgetPeriod::kDay, d.end).start, d.end);
  // Before the epoch the window still contains `now` (floor, not truncation).
  PeriodWindow before = PeriodWindowAt(BudgetPeriod::kDay, -1);
  EXPECT_EQ(before.start, -kDay);
  EXPECT_EQ(before.end, 0);
}

TEST(StoreTypesTest, MonthWindowsAtMonthEndsLeapYearsAndYearEnd) {
  struct Case {
    UnixMillis now;
    UnixMillis start, end;
  };
  const Case cases[] = {
      // Leap February 2024: the 29th belongs to February, March 1st does not.
      {1709251200000 - 1, 1706745600000, 1709251200000},
      {1709251200000 - kDay, 1706745600000, 1709251200000},  // 2024-02-29T00:00Z
      {1709251200000, 1709251200000, 1709251200000 + 31 * kDay},
      // February 2023 has 28 days.
      {1675209600000 + 27 * kDay + 5, 1675209600000, 1677628800000},
      // 2000 is a leap year (divisible by 400), 1900 is not.
      {951868800000 - 1, 949363200000, 951868800000},
      {-2203891200000 - 1, -2206310400000, -2203891200000},
      // December → January.
      {1798761600000 - 1, 1796083200000, 1798761600000},
      {1798761600000, 1798761600000, 1798761600000 + 31 * kDay},
      // Around the epoch.
      {-1, -2678400000, 0},
      {0, 0, 31 * kDay},
  };
  for (const Case& c : cases) {
    PeriodWindow w = PeriodWindowAt(BudgetPeriod::kMonth, c.now);
    EXPECT_EQ(w.start, c.start) << "now=" << c.now;
    EXPECT_EQ(w.end, c.end) << "now=" << c.now;
  }
}

// Walks every day from 1899-12-01 to 2101-01-31 with a plain month-length table and checks the
// month window of each day's first and last millisecond against it.
TEST(StoreTypesTest, MonthWindowsAgreeWithDayByDayCalendar) {
  auto is_leap = [](int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; };
  auto month_days = [&](int64_t y, int m) {
    static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
  };
  int64_t year = 1899;
  int month = 12;
  UnixMillis month_start = -2211667200000;  // 1899-12-01T00:00Z
  int checked = 0;
  while (year < 2101 || month < 2) {
    const UnixMillis month_end = month_start + month_days(year, month) * kDay;
    for (UnixMillis day = month_start; day < month_end; day += kDay) {
      for (UnixMillis t : {day, day + kDay - 1}) {
        PeriodWindow w = PeriodWindowAt(BudgetPeriod::kMonth, t);
        ASSERT_EQ(w.start, month_start) << year << "-" << month << " t=" << t;
        ASSERT_EQ(w.end, month_end) << year << "-" << month << " t=" << t;
      }
      ++checked;
    }
    month_start = month_end;
    if (++month == 13) {
      month = 1;
      ++year;
    }
  }
  EXPECT_EQ(month_start, 4136659200000);  // 2101-02-01T00:00Z
  EXPECT_GT(checked, 73'000);
}

}  // namespace
}  // namespace ingest::store
