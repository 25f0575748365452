#include "ingest/pipeline/operator_actions.h"

#include <gtest/gtest.h>

#include "ingest/pipeline/submit.h"
#include "ingest/pipeline/testing/pipeline_fixture.h"

namespace ingest::pipeline {
namespace {

using store::JobState;
using store::Stage;

class OperatorActionsTest : public testing::PipelineFixture {
 protected:
  std::string Submit() {
    auto out = SubmitFile(deps_, WriteFile("a.md", "# A\n\ntext\n"), "t1");
    EXPECT_TRUE(out.ok());
    return out->job.id;
  }
  void Force(const std::string& id, JobState state, Stage stage, int attempts) {
    auto lease = store_->LeaseNext("w", Duration(1000), clock_.NowMillis());
    ASSERT_TRUE(lease.ok() && lease->has_value());
    store::JobUpdate u{};
    u.stage = stage;
    u.state = state;
    u.attempts = attempts;
    u.last_error_code = "pdf_corrupt";
    ASSERT_TRUE(store_->UpdateJob(id, (*lease)->job.version, u, clock_.NowMillis()).ok());
  }
  std::string LastEventKind(const std::string& id) {
    auto events = store_->ListEvents(id, 1).value();
    return events.empty() ? "" : events[0].kind;
  }
};

TEST_F(OperatorActionsTest, RetryRequeuesAFailedJobAtItsStage) {
  const std::string id = Submit();
  Force(id, JobState::kFailed, Stage::kEmbed, 1);
  auto job = RetryJob(*store_, clock_, id);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(job->state, JobState::kQueued);
  EXPECT_EQ(job->stage, Stage::kEmbed);
  EXPECT_EQ(job->attempts, 0);
  EXPECT_EQ(job->last_error_code, "");
  EXPECT_EQ(job->next_attempt_at, clock_.NowMillis());
  EXPECT_EQ(LastEventKind(id), "job.retry");
  // Retrying a queued job is refused and writes nothing.
  auto again = RetryJob(*store_, clock_, id);
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(again.status().reason(), "illegal_transition");
  EXPECT_EQ(store_->GetJob(id).value().version, job->version);
}

TEST_F(OperatorActionsTest, CancelAnythingButComplete) {
  const std::string id = Submit();
  auto job = CancelJob(*store_, clock_, id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state, JobState::kCancelled);
  EXPECT_EQ(LastEventKind(id), "job.cancel");
  EXPECT_EQ(CancelJob(*store_, clock_, id).status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(RetryJob(*store_, clock_, id).ok());  // cancelled jobs can be retried

  Force(id, JobState::kComplete, Stage::kFinalize, 0);
  EXPECT_EQ(CancelJob(*store_, clock_, id).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->GetJob(id).value().state, JobState::kComplete);
}

TEST_F(OperatorActionsTest, RequeueFromAnyStageButReceive) {
  const std::string id = Submit();
  Force(id, JobState::kComplete, Stage::kFinalize, 0);
  for (Stage done : {Stage::kParse, Stage::kValidate}) {
    ASSERT_TRUE(store_
                    ->RecordStageTiming(id, store::StageTiming{done, 1, clock_.NowMillis(),
                                                               clock_.NowMillis(), "ok"})
                    .ok());
  }
  auto job = RequeueJob(*store_, clock_, id, Stage::kChunk);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(job->state, JobState::kQueued);
  EXPECT_EQ(job->stage, Stage::kChunk);
  EXPECT_EQ(LastEventKind(id), "job.requeue");
  EXPECT_EQ(RequeueJob(*store_, clock_, id, Stage::kReceive).status().code(),
            StatusCode::kInvalidArgument);
  // A live lease blocks requeue; an expired one does not.
  auto lease = store_->LeaseNext("w", Duration(1000), clock_.NowMillis());
  ASSERT_TRUE(lease.ok() && lease->has_value());
  EXPECT_EQ(RequeueJob(*store_, clock_, id, Stage::kParse).status().code(),
            StatusCode::kFailedPrecondition);
  clock_.Advance(Duration(1001));
  job = RequeueJob(*store_, clock_, id, Stage::kParse);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(job->stage, Stage::kParse);
  EXPECT_TRUE(job->lease_owner.empty());
}

TEST_F(OperatorActionsTest, RequeueRefusedWhenAnEarlierStageNeverCompleted) {
  // A job that was never parsed: requeued from finalize it would become complete with no chunks.
  const std::string id = Submit();
  Force(id, JobState::kFailed, Stage::kParse, 1);
  const int64_t version = store_->GetJob(id).value().version;
  auto refused = RequeueJob(*store_, clock_, id, Stage::kFinalize);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().reason(), "stage_output_missing");
  EXPECT_NE(refused.status().message().find("stage parse never completed"), std::string::npos)
      << refused.status().message();
  EXPECT_EQ(store_->GetJob(id).value().version, version);  // nothing written
  // Parsed but not validated: from chunk is refused naming validate; from validate is fine.
  ASSERT_TRUE(store_
                  ->RecordStageTiming(id, store::StageTiming{Stage::kParse, 1, clock_.NowMillis(),
                                                             clock_.NowMillis(), "ok"})
                  .ok());
  auto chunk = RequeueJob(*store_, clock_, id, Stage::kChunk);
  EXPECT_NE(chunk.status().message().find("stage validate never completed"), std::string::npos);
  auto validate = RequeueJob(*store_, clock_, id, Stage::kValidate);
  ASSERT_TRUE(validate.ok()) << validate.status().ToString();
  EXPECT_EQ(validate->stage, Stage::kValidate);
  // From parse needs nothing but the received blob.
  Force(id, JobState::kFailed, Stage::kParse, 1);
  EXPECT_TRUE(RequeueJob(*store_, clock_, id, Stage::kParse).ok());
}

TEST_F(OperatorActionsTest, UnknownJob) {
  EXPECT_EQ(RetryJob(*store_, clock_, "no-such-job").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace ingest::pipeline
