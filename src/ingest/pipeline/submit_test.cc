#include "ingest/pipeline/submit.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "ingest/common/hash.h"
#include "ingest/common/ids.h"
#include "ingest/pipeline/testing/pipeline_fixture.h"

namespace ingest::pipeline {
namespace {

using store::JobState;
using store::Stage;

class SubmitTest : public testing::PipelineFixture {
 protected:
  // Moves the job to `state` the way a worker would (lease, then write).
  void ForceState(const std::string& job_id, JobState state) {
    auto lease = store_->LeaseNext("w", Duration(1000), clock_.NowMillis());
    ASSERT_TRUE(lease.ok() && lease->has_value());
    ASSERT_EQ((*lease)->job.id, job_id);
    store::JobUpdate u{};
    u.stage = Stage::kFinalize;
    u.state = state;
    ASSERT_TRUE(store_->UpdateJob(job_id, (*lease)->job.version, u, clock_.NowMillis()).ok());
  }
};

TEST_F(SubmitTest, CreatesDocumentAndJobAtParse) {
  const std::string path = WriteFile("notes.md", "# Notes\n\nHello.\n");
  SubmitOptions opts;
  opts.filename = "notes.md";
  opts.lane = store::Lane::kInteractive;
  opts.priority = 5;
  auto out = SubmitFile(deps_, path, "acme", opts);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(out->created);
  EXPECT_EQ(out->existing, SubmitOutcome::Existing::kNone);
  const std::string sha = Sha256File(path).value();
  EXPECT_EQ(out->document.sha256, sha);
  EXPECT_EQ(out->document.blob_key, sha);
  EXPECT_EQ(out->document.id, DocumentId("acme", sha));
  EXPECT_EQ(out->document.tenant, "acme");
  EXPECT_EQ(out->document.filename, "notes.md");
  EXPECT_EQ(out->document.mime, "text/markdown");
  EXPECT_EQ(out->document.bytes, 16);
  EXPECT_TRUE(blobs_->Exists(sha));
  EXPECT_EQ(out->job.id, JobId(out->document.id));
  EXPECT_EQ(out->job.stage, Stage::kParse);
  EXPECT_EQ(out->job.state, JobState::kQueued);
  EXPECT_EQ(out->job.attempts, 0);
  EXPECT_EQ(out->job.max_attempts, 3);
  EXPECT_EQ(out->job.lane, store::Lane::kInteractive);
  EXPECT_EQ(out->job.priority, 5);
  EXPECT_FALSE(out->job.correlation_id.empty());
  auto timings = store_->ListStageTimings(out->job.id).value();
  ASSERT_EQ(timings.size(), 1u);
  EXPECT_EQ(timings[0].stage, Stage::kReceive);
  EXPECT_EQ(timings[0].outcome, "ok");
  auto events = store_->ListEvents(out->job.id, 10).value();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, "job.submitted");
  EXPECT_EQ(events[0].correlation_id, out->job.correlation_id);
}

TEST_F(SubmitTest, ResubmissionReportsTheExistingJobAndNeverRedoesIt) {
  const std::string path = WriteFile("a.txt", "plain text document");
  auto first = SubmitFile(deps_, path, "t1");
  ASSERT_TRUE(first.ok());
  auto again = SubmitFile(deps_, path, "t1");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->existing, SubmitOutcome::Existing::kInProgress);
  EXPECT_EQ(again->job.id, first->job.id);

  ForceState(first->job.id, JobState::kFailed);
  again = SubmitFile(deps_, path, "t1");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->existing, SubmitOutcome::Existing::kNeedsOperator);
  EXPECT_EQ(store_->GetJob(first->job.id).value().state, JobState::kFailed);  // not redone

  // Same bytes under another name are the same document.
  again = SubmitFile(deps_, WriteFile("copy.txt", "plain text document"), "t1");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->document.id, first->document.id);

  // Another tenant gets its own document and job.
  auto other = SubmitFile(deps_, path, "t2");
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->created);
  EXPECT_NE(other->document.id, first->document.id);
}

TEST_F(SubmitTest, CompleteDocumentIsAlreadyIngested) {
  const std::string path = WriteFile("done.md", "# Done\n");
  auto first = SubmitFile(deps_, path, "t1");
  ASSERT_TRUE(first.ok());
  ForceState(first->job.id, JobState::kComplete);
  auto again = SubmitFile(deps_, path, "t1");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->existing, SubmitOutcome::Existing::kAlreadyComplete);
  EXPECT_EQ(again->job.state, JobState::kComplete);
}

TEST_F(SubmitTest, SizeLimitIsCheckedBeforeAnythingIsStored) {
  deps_.limits.max_bytes = 10;
  const std::string path = WriteFile("big.txt", "eleven byte");
  auto out = SubmitFile(deps_, path, "t1");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(out.status().reason(), "file_too_large");
  EXPECT_FALSE(blobs_->Exists(Sha256File(path).value()));
  EXPECT_TRUE(store_->ListJobs(store::JobFilter{}).value().empty());
  deps_.limits.max_bytes = 11;
  EXPECT_TRUE(SubmitFile(deps_, path, "t1").ok());
}

TEST_F(SubmitTest, MissingFilesDirectoriesAndUnknownContent) {
  auto out = SubmitFile(deps_, dir_ + "/nope.pdf", "t1");
  EXPECT_EQ(out.status().code(), StatusCode::kNotFound);
  out = SubmitFile(deps_, dir_, "t1");
  EXPECT_EQ(out.status().reason(), "not_a_file");
  out = SubmitFile(deps_, WriteFile("x.txt", "x"), "");
  EXPECT_EQ(out.status().reason(), "bad_tenant");
  // Unrecognised bytes are accepted; the parse stage reports them with a clear reason.
  out = SubmitFile(deps_, WriteFile("blob.bin", std::string("\x00\x01\x02\xff\xfe", 5)), "t1");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->document.mime, "");
}

}  // namespace
}  // namespace ingest::pipeline
