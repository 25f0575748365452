#include "ingest/pipeline/reclaim.h"

#include <gtest/gtest.h>

#include "ingest/pipeline/submit.h"
#include "ingest/pipeline/testing/pipeline_fixture.h"

namespace ingest::pipeline {
namespace {

using store::JobState;

TEST(ParseLeaseOwnerTest, HostPidIdThread) {
  std::string host;
  int64_t pid = 0;
  ASSERT_TRUE(ParseLeaseOwner("build-7:4242:ab12cd34/3", &host, &pid));
  EXPECT_EQ(host, "build-7");
  EXPECT_EQ(pid, 4242);
  EXPECT_FALSE(ParseLeaseOwner("w", &host, &pid));
  EXPECT_FALSE(ParseLeaseOwner("host:notapid:x/0", &host, &pid));
}

class ReclaimTest : public testing::PipelineFixture {
 protected:
  std::string SubmitAndLease(const std::string& name, const std::string& owner) {
    auto out = SubmitFile(deps_, WriteFile(name, "# " + name + "\n\ntext\n"), "t1");
    EXPECT_TRUE(out.ok());
    auto lease = store_->LeaseNext(owner, Duration(30'000), clock_.NowMillis());
    EXPECT_TRUE(lease.ok() && lease->has_value());
    EXPECT_EQ((*lease)->job.id, out->job.id);
    return out->job.id;
  }
};

TEST_F(ReclaimTest, DeadLocalOwnersLoseTheirLeasesAtOnceOthersAreReported) {
  const std::string dead = SubmitAndLease("a.md", "here:111:aaaa/0");
  const std::string live = SubmitAndLease("b.md", "here:222:bbbb/1");
  const std::string remote = SubmitAndLease("c.md", "there:111:cccc/0");
  const std::string self = SubmitAndLease("d.md", "here:333:dddd/0");
  auto alive = [](int64_t pid) { return pid == 222 || pid == 333; };
  auto report = ReclaimDeadLocalLeases(*store_, clock_, "here", 333, alive);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->reclaimed, 1);
  EXPECT_EQ(report->dead_pids, std::vector<int64_t>{111});
  EXPECT_EQ(report->held, 3);
  EXPECT_EQ(report->held_until, clock_.NowMillis() + 30'000);

  const store::Job reclaimed = store_->GetJob(dead).value();
  EXPECT_EQ(reclaimed.state, JobState::kQueued);
  EXPECT_EQ(reclaimed.lease_owner, "");
  EXPECT_EQ(reclaimed.next_attempt_at, clock_.NowMillis());
  EXPECT_EQ(store_->ListEvents(dead, 1).value()[0].kind, "job.reclaimed");
  for (const std::string& id : {live, remote, self}) {
    EXPECT_EQ(store_->GetJob(id).value().state, JobState::kRunning) << id;
  }
  // The reclaimed job is leasable now, without waiting for the 30 s expiry.
  auto next = store_->LeaseNext("here:333:dddd/1", Duration(30'000), clock_.NowMillis());
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ((*next)->job.id, dead);
}

TEST_F(ReclaimTest, ExpiredLeasesAreLeftToTheNormalTakeover) {
  SubmitAndLease("a.md", "here:111:aaaa/0");
  clock_.Advance(Duration(31'000));
  auto report = ReclaimDeadLocalLeases(*store_, clock_, "here", 1, [](int64_t) { return false; });
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->reclaimed, 0);
  EXPECT_EQ(report->held, 0);
}

}  // namespace
}  // namespace ingest::pipeline
