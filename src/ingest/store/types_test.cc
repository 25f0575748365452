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

}  // namespace
}  // namespace ingest::store
