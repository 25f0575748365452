// Store conformance: every Store implementation must pass this suite unchanged. It speaks only
// the Store interface (no SQL), so a new backend joins by adding a factory in
// store_factories_support.cc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ingest/common/hash.h"
#include "ingest/common/ids.h"
#include "ingest/store/store.h"
#include "store_factories_support.h"

namespace ingest::store {
namespace {

using ::ingest::testing::StoreFactory;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

constexpr Duration kTtl{30'000};

class StoreConformance : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam().make(&clock_);
    ASSERT_NE(store_, nullptr);
    ASSERT_TRUE(store_->MigrateTo(Latest()).ok());
  }

  int Latest() const { return store_->KnownMigrations().back().version; }
  UnixMillis Now() const { return clock_.NowMillis(); }

  // A document + job for `name` in `tenant`, due now.
  SubmitResult Submit(const std::string& name, const std::string& tenant = "default",
                      Lane lane = Lane::kBulk, int priority = 0, UnixMillis due = -1) {
    Document d;
    d.tenant = tenant;
    d.sha256 = Sha256Hex(tenant + "/" + name);
    d.id = DocumentId(tenant, d.sha256);
    d.filename = name;
    d.mime = "text/plain";
    d.bytes = static_cast<int64_t>(name.size());
    d.blob_key = d.sha256;
    d.created_at = Now();
    d.updated_at = Now();
    Job j;
    j.id = JobId(d.id);
    j.document_id = d.id;
    j.lane = lane;
    j.priority = priority;
    j.next_attempt_at = due < 0 ? Now() : due;
    j.correlation_id = "corr-" + name;
    j.created_at = Now();
    j.updated_at = Now();
    auto r = store_->SubmitDocument(d, j);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : SubmitResult{};
  }

  Lease MustLease(const std::string& owner) {
    auto l = store_->LeaseNext(owner, kTtl, Now());
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    EXPECT_TRUE(l.ok() && l->has_value());
    return (l.ok() && l->has_value()) ? **l : Lease{};
  }

  static JobUpdate Update(Stage stage, JobState state, int attempts = 0) {
    JobUpdate u;
    u.stage = stage;
    u.state = state;
    u.attempts = attempts;
    return u;
  }

  static Chunk MakeChunk(const std::string& doc, int ordinal, const std::string& text) {
    Chunk c;
    c.id = ChunkId(doc, "test@1", ordinal);
    c.document_id = doc;
    c.ordinal = ordinal;
    c.text = text;
    c.text_sha256 = Sha256Hex(text);
    c.token_count = static_cast<int>(text.size() / 4) + 1;
    c.heading_path = "Title > Section";
    c.page_start = ordinal + 1;
    c.page_end = ordinal + 2;
    return c;
  }

  static StoredVector MakeVector(const std::string& text_sha, int dims, float seed) {
    StoredVector v;
    v.text_sha256 = text_sha;
    v.provider = "local";
    for (int i = 0; i < dims; ++i) v.values.push_back(seed + static_cast<float>(i) * 0.25f);
    return v;
  }

  FakeClock clock_;
  std::unique_ptr<Store> store_;
};

// --- schema ---------------------------------------------------------------------------------

TEST_P(StoreConformance, MigratesDownToZeroAndBackUp) {
  const auto known = store_->KnownMigrations();
  ASSERT_GE(known.size(), 2u);
  for (size_t i = 0; i < known.size(); ++i) EXPECT_EQ(known[i].version, static_cast<int>(i) + 1);
  EXPECT_EQ(*store_->SchemaVersion(), Latest());
  EXPECT_TRUE(store_->CheckSchemaCurrent().ok());

  ASSERT_TRUE(store_->MigrateTo(1).ok());
  EXPECT_EQ(*store_->SchemaVersion(), 1);
  Status st = store_->CheckSchemaCurrent();
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);

  ASSERT_TRUE(store_->MigrateTo(0).ok());
  EXPECT_EQ(*store_->SchemaVersion(), 0);
  EXPECT_FALSE(store_->GetJob("nope").ok());  // no tables: an error, not "not found"
  EXPECT_NE(store_->GetJob("nope").status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(store_->MigrateTo(Latest()).ok());
  EXPECT_EQ(*store_->SchemaVersion(), Latest());
  EXPECT_TRUE(store_->CheckSchemaCurrent().ok());
  // Migrating to the current version is a no-op.
  EXPECT_TRUE(store_->MigrateTo(Latest()).ok());
  EXPECT_EQ(store_->MigrateTo(Latest() + 1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->MigrateTo(-1).code(), StatusCode::kInvalidArgument);

  SubmitResult r = Submit("after-remigrate.txt");
  EXPECT_TRUE(r.created);
}

// Rolling back past migration 1 would drop every table: refused on a store holding data
// (migrations/step_traits.h), done only with allow_data_loss.
TEST_P(StoreConformance, DownMigrationRefusesToDropDataUnlessAllowed) {
  SubmitResult r = Submit("a.txt");
  Status refused = store_->MigrateTo(0);
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.reason(), "data_loss_refused") << refused.ToString();
  EXPECT_GE(*store_->SchemaVersion(), 1);
  ASSERT_TRUE(store_->MigrateTo(Latest()).ok());
  EXPECT_TRUE(store_->GetJob(r.job.id).ok());

  ASSERT_TRUE(store_->MigrateTo(0, /*allow_data_loss=*/true).ok());
  ASSERT_TRUE(store_->MigrateTo(Latest()).ok());
  EXPECT_EQ(store_->GetJob(r.job.id).status().code(), StatusCode::kNotFound);
}

// --- documents and jobs ---------------------------------------------------------------------

TEST_P(StoreConformance, SubmitIsIdempotent) {
  SubmitResult first = Submit("report.pdf", "acme");
  EXPECT_TRUE(first.created);
  EXPECT_EQ(first.job.state, JobState::kQueued);
  EXPECT_EQ(first.job.stage, Stage::kReceive);

  clock_.Advance(Duration(5000));
  SubmitResult second = Submit("report.pdf", "acme");
  EXPECT_FALSE(second.created);
  EXPECT_EQ(second.document.id, first.document.id);
  EXPECT_EQ(second.job.id, first.job.id);
  EXPECT_EQ(second.document.created_at, first.document.created_at);  // nothing rewritten
  EXPECT_EQ(second.job.created_at, first.job.created_at);

  auto doc = store_->GetDocument(first.document.id);
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->filename, "report.pdf");
  EXPECT_EQ(doc->tenant, "acme");
  EXPECT_EQ(doc->sha256, first.document.sha256);
  auto job = store_->GetJob(first.job.id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->document_id, first.document.id);
  EXPECT_EQ(job->correlation_id, "corr-report.pdf");

  // Same content, other tenant: a different document.
  SubmitResult other = Submit("report.pdf", "globex");
  EXPECT_TRUE(other.created);
  EXPECT_NE(other.document.id, first.document.id);
}

TEST_P(StoreConformance, MissingRowsAreNotFound) {
  EXPECT_EQ(store_->GetJob("missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetDocument("missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->UpdateDocumentParseInfo("missing", 1, "local", "").code(),
            StatusCode::kNotFound);
  EXPECT_EQ(store_->UpdateJob("missing", 0, Update(Stage::kParse, JobState::kQueued), Now())
                .status()
                .code(),
            StatusCode::kNotFound);
}

TEST_P(StoreConformance, UpdateDocumentParseInfo) {
  SubmitResult r = Submit("a.pdf");
  ASSERT_TRUE(
      store_->UpdateDocumentParseInfo(r.document.id, 12, "local:pdf", "fell back to local parser")
          .ok());
  auto doc = store_->GetDocument(r.document.id);
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->page_count, 12);
  EXPECT_EQ(doc->parser, "local:pdf");
  EXPECT_EQ(doc->parse_note, "fell back to local parser");
}

TEST_P(StoreConformance, LeaseNextPicksByLanePriorityAndTime) {
  const UnixMillis t0 = Now();
  Submit("bulk-low.txt", "default", Lane::kBulk, 0, t0 - 3000);
  Submit("bulk-high.txt", "default", Lane::kBulk, 5, t0 - 1000);
  Submit("inter-old.txt", "default", Lane::kInteractive, 0, t0 - 2000);
  Submit("inter-new.txt", "default", Lane::kInteractive, 0, t0 - 1000);
  Submit("inter-future.txt", "default", Lane::kInteractive, 9, t0 + 60'000);

  std::vector<std::string> order;
  for (int i = 0; i < 4; ++i) {
    Lease l = MustLease("w1");
    EXPECT_EQ(l.job.state, JobState::kRunning);
    EXPECT_EQ(l.job.lease_owner, "w1");
    EXPECT_EQ(l.owner, "w1");
    EXPECT_EQ(l.job.lease_expires_at, Now() + kTtl.count());
    auto doc = store_->GetDocument(l.job.document_id);
    ASSERT_TRUE(doc.ok());
    order.push_back(doc->filename);
  }
  EXPECT_THAT(order,
              ElementsAre("inter-old.txt", "inter-new.txt", "bulk-high.txt", "bulk-low.txt"));
  // The future job is not due yet; nothing else is runnable.
  auto none = store_->LeaseNext("w1", kTtl, Now());
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  clock_.Advance(Duration(60'000));
  Lease l = MustLease("w1");
  auto doc = store_->GetDocument(l.job.document_id);
  EXPECT_EQ(doc->filename, "inter-future.txt");
}

TEST_P(StoreConformance, LeaseNextTakesDeferredAndWaitingWhenDue) {
  SubmitResult a = Submit("a.txt");
  SubmitResult b = Submit("b.txt");
  Lease la = MustLease("w");
  Lease lb = MustLease("w");
  JobUpdate defer = Update(Stage::kEmbed, JobState::kDeferred);
  defer.next_attempt_at = Now() + 10'000;
  defer.defer_reason = "budget";
  ASSERT_TRUE(store_->UpdateJob(la.job.id, la.job.version, defer, Now()).ok());
  JobUpdate wait = Update(Stage::kParse, JobState::kWaiting);
  wait.next_attempt_at = Now() + 20'000;
  wait.remote_job_id = "remote-1";
  ASSERT_TRUE(store_->UpdateJob(lb.job.id, lb.job.version, wait, Now()).ok());

  EXPECT_FALSE(store_->LeaseNext("w", kTtl, Now())->has_value());
  clock_.Advance(Duration(10'000));
  Lease again = MustLease("w");
  EXPECT_EQ(again.job.id, la.job.id);
  EXPECT_EQ(again.job.stage, Stage::kEmbed);
  EXPECT_EQ(again.job.defer_reason, "budget");
  clock_.Advance(Duration(10'000));
  Lease waiting = MustLease("w");
  EXPECT_EQ(waiting.job.id, lb.job.id);
  EXPECT_EQ(waiting.job.remote_job_id, "remote-1");
}

TEST_P(StoreConformance, TerminalJobsAreNeverLeased) {
  SubmitResult a = Submit("a.txt");
  Lease l = MustLease("w");
  JobUpdate done = Update(Stage::kFinalize, JobState::kComplete);
  done.completed_at = Now();
  auto j = store_->UpdateJob(l.job.id, l.job.version, done, Now());
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->completed_at, Now());
  clock_.Advance(Duration(10 * kTtl.count()));
  EXPECT_FALSE(store_->LeaseNext("w", kTtl, Now())->has_value());
}

// The core safety property: with many workers racing, no job is held by two at once.
TEST_P(StoreConformance, ConcurrentLeasesNeverGrantOneJobTwice) {
  constexpr int kJobs = 120;
  constexpr int kThreads = 8;
  for (int i = 0; i < kJobs; ++i) Submit("doc-" + std::to_string(i) + ".txt");

  std::mutex mu;
  std::map<std::string, std::vector<std::string>> holders;  // job id -> owners
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  const UnixMillis now = Now();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string owner = "worker-" + std::to_string(t);
      int empty_in_a_row = 0;
      while (empty_in_a_row < 3) {
        auto l = store_->LeaseNext(owner, kTtl, now);
        if (!l.ok()) {
          // Busy is allowed (kUnavailable: the caller retries); anything else is a failure.
          if (l.status().code() != StatusCode::kUnavailable) ++errors;
          continue;
        }
        if (!l->has_value()) {
          ++empty_in_a_row;
          continue;
        }
        empty_in_a_row = 0;
        std::lock_guard<std::mutex> lock(mu);
        holders[(*l)->job.id].push_back(owner);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(holders.size(), static_cast<size_t>(kJobs));
  for (const auto& [job, owners] : holders) {
    EXPECT_EQ(owners.size(), 1u) << "job " << job << " leased " << owners.size() << " times";
  }
  auto counts = store_->CountJobsByState();
  ASSERT_TRUE(counts.ok());
  EXPECT_THAT(*counts, ElementsAre(std::pair<JobState, int64_t>(JobState::kRunning, kJobs)));
}

TEST_P(StoreConformance, ExpiredLeaseIsTakenOverAndOldOwnerLosesIt) {
  Submit("a.txt");
  Lease first = MustLease("old");
  // Not expired yet: nobody else can take it.
  clock_.Advance(Duration(kTtl.count() - 1));
  EXPECT_FALSE(store_->LeaseNext("new", kTtl, Now())->has_value());
  // Heartbeat extends the lease.
  ASSERT_TRUE(store_->Heartbeat(&first, kTtl, Now()).ok());
  EXPECT_EQ(first.job.lease_expires_at, Now() + kTtl.count());
  clock_.Advance(Duration(kTtl.count() - 1));
  EXPECT_FALSE(store_->LeaseNext("new", kTtl, Now())->has_value());

  clock_.Advance(Duration(2));  // now past the extended expiry
  Lease second = MustLease("new");
  EXPECT_EQ(second.job.id, first.job.id);
  EXPECT_EQ(second.job.lease_owner, "new");
  EXPECT_GT(second.job.version, first.job.version);

  Status hb = store_->Heartbeat(&first, kTtl, Now());
  EXPECT_EQ(hb.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(hb.reason(), "lease_lost");
  auto upd = store_->UpdateJob(first.job.id, first.job.version,
                               Update(Stage::kParse, JobState::kQueued), Now());
  EXPECT_EQ(upd.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(upd.status().reason(), "lease_lost");

  // The new owner is unaffected.
  const int64_t before = second.job.version;
  ASSERT_TRUE(store_->Heartbeat(&second, kTtl, Now()).ok());
  EXPECT_EQ(second.job.version, before + 1);
  auto ok = store_->UpdateJob(second.job.id, second.job.version,
                              Update(Stage::kParse, JobState::kQueued, 1), Now());
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
}

// Expired leases compete with due jobs on the same urgency order.
TEST_P(StoreConformance, ExpiredLeasesAreRankedWithDueJobs) {
  SubmitResult inter = Submit("inter.txt", "default", Lane::kInteractive, 0);
  Lease held = MustLease("crashed");
  EXPECT_EQ(held.job.id, inter.job.id);
  clock_.Advance(Duration(kTtl.count() + 1));
  SubmitResult bulk = Submit("bulk.txt", "default", Lane::kBulk, 9);
  // The expired interactive job outranks a due bulk job of higher priority.
  Lease first = MustLease("w");
  EXPECT_EQ(first.job.id, inter.job.id);
  Lease second = MustLease("w");
  EXPECT_EQ(second.job.id, bulk.job.id);
  EXPECT_FALSE(store_->LeaseNext("w", kTtl, Now())->has_value());
}

// A re-submitted document returns the job as it is now, not as first submitted.
TEST_P(StoreConformance, ResubmitReturnsCurrentJob) {
  SubmitResult r = Submit("a.txt");
  Lease l = MustLease("w");
  SubmitResult again = Submit("a.txt");
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.job.id, r.job.id);
  EXPECT_EQ(again.job.state, JobState::kRunning);
  EXPECT_EQ(again.job.version, l.job.version);
  EXPECT_EQ(store_->ListJobs({})->size(), 1u);
}

TEST_P(StoreConformance, UpdateJobIsCompareAndSet) {
  SubmitResult r = Submit("a.txt");
  Lease l = MustLease("w");
  JobUpdate u = Update(Stage::kParse, JobState::kRunning, 2);
  u.keep_lease = true;
  u.remote_job_id = "llama-123";
  u.last_error_code = "timeout";
  u.last_error_message = "read timed out";
  u.last_error_stage = "parse";
  clock_.Advance(Duration(7));
  auto j = store_->UpdateJob(l.job.id, l.job.version, u, Now());
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ(j->version, l.job.version + 1);
  EXPECT_EQ(j->stage, Stage::kParse);
  EXPECT_EQ(j->attempts, 2);
  EXPECT_EQ(j->lease_owner, "w");  // kept
  EXPECT_EQ(j->remote_job_id, "llama-123");
  EXPECT_EQ(j->last_error_code, "timeout");
  EXPECT_EQ(j->last_error_message, "read timed out");
  EXPECT_EQ(j->last_error_stage, "parse");
  EXPECT_EQ(j->updated_at, Now());
  EXPECT_EQ(j->created_at, r.job.created_at);

  // Stale version: rejected, row unchanged.
  auto stale =
      store_->UpdateJob(l.job.id, l.job.version, Update(Stage::kChunk, JobState::kQueued), Now());
  EXPECT_EQ(stale.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->GetJob(l.job.id)->stage, Stage::kParse);

  // remote_job_id nullopt leaves it; keep_lease=false clears the lease.
  JobUpdate next = Update(Stage::kValidate, JobState::kQueued, 0);
  next.next_attempt_at = Now() + 100;
  auto j2 = store_->UpdateJob(l.job.id, j->version, next, Now());
  ASSERT_TRUE(j2.ok());
  EXPECT_EQ(j2->remote_job_id, "llama-123");
  EXPECT_EQ(j2->lease_owner, "");
  EXPECT_EQ(j2->lease_expires_at, 0);
  EXPECT_EQ(j2->state, JobState::kQueued);
  EXPECT_EQ(j2->next_attempt_at, Now() + 100);
  EXPECT_EQ(j2->last_error_code, "");

  auto read = store_->GetJob(l.job.id);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->version, j2->version);
  EXPECT_EQ(read->stage, Stage::kValidate);
}

TEST_P(StoreConformance, ListJobsFiltersAndJoins) {
  SubmitResult a = Submit("alpha.pdf", "acme");
  clock_.Advance(Duration(1));
  SubmitResult b = Submit("beta.pdf", "acme");
  clock_.Advance(Duration(1));
  SubmitResult c = Submit("gamma.pdf", "globex");
  Lease l = MustLease("w");  // one of them (all bulk priority 0: the oldest, alpha)
  EXPECT_EQ(l.job.id, a.job.id);

  auto all = store_->ListJobs({});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  std::set<std::string> names;
  for (const JobView& v : *all) names.insert(v.filename);
  EXPECT_THAT(names, UnorderedElementsAre("alpha.pdf", "beta.pdf", "gamma.pdf"));

  JobFilter running;
  running.state = JobState::kRunning;
  auto r = store_->ListJobs(running);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].filename, "alpha.pdf");
  EXPECT_EQ((*r)[0].tenant, "acme");
  EXPECT_EQ((*r)[0].job.lease_owner, "w");

  JobFilter tenant;
  tenant.tenant = "globex";
  auto g = store_->ListJobs(tenant);
  ASSERT_TRUE(g.ok());
  ASSERT_EQ(g->size(), 1u);
  EXPECT_EQ((*g)[0].job.id, c.job.id);

  JobFilter by_doc;
  by_doc.document_id = b.document.id;
  auto bd = store_->ListJobs(by_doc);
  ASSERT_TRUE(bd.ok());
  ASSERT_EQ(bd->size(), 1u);
  EXPECT_EQ((*bd)[0].filename, "beta.pdf");

  JobFilter limited;
  limited.limit = 2;
  EXPECT_EQ(store_->ListJobs(limited)->size(), 2u);

  // cost_nanos: reserved + settled ledger rows of the job; released ones do not count.
  LedgerEntry e;
  e.service = "openai";
  e.operation = "embed";
  e.tenant = "acme";
  e.document_id = a.document.id;
  e.job_id = a.job.id;
  e.id = "l1";
  e.cost_nanos = 300;
  e.state = LedgerState::kSettled;
  ASSERT_TRUE(store_->AppendLedger(e).ok());
  e.id = "l2";
  e.cost_nanos = 50;
  e.state = LedgerState::kReserved;
  ASSERT_TRUE(store_->AppendLedger(e).ok());
  e.id = "l3";
  e.cost_nanos = 1000;
  e.state = LedgerState::kReleased;
  ASSERT_TRUE(store_->AppendLedger(e).ok());
  JobFilter one;
  one.document_id = a.document.id;
  auto withcost = store_->ListJobs(one);
  ASSERT_TRUE(withcost.ok());
  ASSERT_EQ(withcost->size(), 1u);
  EXPECT_EQ((*withcost)[0].cost_nanos, 350);
}

TEST_P(StoreConformance, CountsAndOldestQueued) {
  EXPECT_TRUE(store_->CountJobsByState()->empty());
  EXPECT_FALSE(store_->OldestQueuedAt(Now())->has_value());

  const UnixMillis t0 = Now();
  Submit("a.txt");
  clock_.Advance(Duration(1000));
  Submit("b.txt");
  clock_.Advance(Duration(1000));
  Submit("later.txt", "default", Lane::kBulk, 0, Now() + 100'000);  // queued but not due
  Lease l = MustLease("w");                                         // takes a.txt
  (void)l;

  auto counts = store_->CountJobsByState();
  ASSERT_TRUE(counts.ok());
  std::map<JobState, int64_t> m(counts->begin(), counts->end());
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m[JobState::kQueued], 2);
  EXPECT_EQ(m[JobState::kRunning], 1);

  auto oldest = store_->OldestQueuedAt(Now());
  ASSERT_TRUE(oldest.ok());
  ASSERT_TRUE(oldest->has_value());
  EXPECT_EQ(**oldest, t0 + 1000);  // b.txt; a.txt is running, later.txt not due
}

// The dashboard's throughput: finished jobs per minute, from the store (every worker process).
TEST_P(StoreConformance, FinishedPerMinuteCountsCompleteAndFailedJobs) {
  EXPECT_TRUE(store_->FinishedPerMinute(0, std::nullopt)->empty());
  // Three jobs: one completes in minute m, one fails in minute m+1, one stays queued (the two
  // due ones are leased in an order the test does not rely on: one per tenant).
  clock_.Advance(Duration(60'000 - Now() % 60'000));  // to a minute boundary
  const int64_t m = Now() / 60'000;
  Submit("done.txt", "acme");
  Submit("bad.txt", "globex");
  Submit("waiting.txt", "acme", Lane::kBulk, 0, Now() + 10'000'000);
  Lease first = MustLease("w");
  JobUpdate done = Update(Stage::kFinalize, JobState::kComplete);
  done.completed_at = Now();
  ASSERT_TRUE(store_->UpdateJob(first.job.id, first.job.version, done, Now()).ok());
  clock_.Advance(Duration(61'000));
  Lease second = MustLease("w");
  ASSERT_TRUE(store_
                  ->UpdateJob(second.job.id, second.job.version,
                              Update(Stage::kParse, JobState::kFailed, 1), Now())
                  .ok());

  auto all = store_->FinishedPerMinute(m * 60'000, std::nullopt);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].minute, m);
  EXPECT_EQ((*all)[0].completed + (*all)[0].failed, 1);
  EXPECT_EQ((*all)[1].minute, m + 1);
  EXPECT_EQ((*all)[0].completed + (*all)[1].completed, 1);
  EXPECT_EQ((*all)[0].failed + (*all)[1].failed, 1);

  // `since` cuts older minutes; a tenant sees only its own documents' jobs.
  auto recent = store_->FinishedPerMinute((m + 1) * 60'000, std::nullopt);
  ASSERT_TRUE(recent.ok());
  ASSERT_EQ(recent->size(), 1u);
  EXPECT_EQ((*recent)[0].minute, m + 1);
  auto finished = [&](std::string_view tenant) {
    auto rows = store_->FinishedPerMinute(0, tenant);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    int64_t n = 0;
    if (rows.ok()) {
      for (const FinishedMinute& f : *rows) n += f.completed + f.failed;
    }
    return n;
  };
  const int64_t acme = finished("acme");
  const int64_t globex = finished("globex");
  EXPECT_EQ(acme, 1);
  EXPECT_EQ(globex, 1);
  EXPECT_TRUE(store_->FinishedPerMinute(0, "initech")->empty());
}

TEST_P(StoreConformance, StageTimingsRoundTrip) {
  SubmitResult r = Submit("a.txt");
  ASSERT_TRUE(store_->RecordStageTiming(r.job.id, {Stage::kReceive, 0, 100, 150, "ok"}).ok());
  ASSERT_TRUE(store_->RecordStageTiming(r.job.id, {Stage::kParse, 0, 200, 400, "timeout"}).ok());
  ASSERT_TRUE(store_->RecordStageTiming(r.job.id, {Stage::kParse, 1, 500, 900, "ok"}).ok());
  auto t = store_->ListStageTimings(r.job.id);
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->size(), 3u);
  EXPECT_EQ((*t)[0].stage, Stage::kReceive);
  EXPECT_EQ((*t)[1].stage, Stage::kParse);
  EXPECT_EQ((*t)[1].attempt, 0);
  EXPECT_EQ((*t)[1].outcome, "timeout");
  EXPECT_EQ((*t)[2].attempt, 1);
  EXPECT_EQ((*t)[2].started_at, 500);
  EXPECT_EQ((*t)[2].finished_at, 900);
  EXPECT_TRUE(store_->ListStageTimings("other")->empty());
}

// Attempts that start in the same millisecond (a fast retry) still list in a defined order:
// stage sequence (not name order: "embed" < "parse" alphabetically), then attempt, whatever
// the insertion order. Seen as parse attempts 1, 3, 2 in a worker pool test.
TEST_P(StoreConformance, StageTimingsListInStageThenAttemptOrder) {
  SubmitResult r = Submit("a.txt");
  const std::vector<StageTiming> written = {
      {Stage::kEmbed, 1, 700, 710, "ok"},        {Stage::kParse, 3, 700, 705, "ok"},
      {Stage::kParse, 1, 700, 701, "transient"}, {Stage::kReceive, 1, 800, 801, "ok"},
      {Stage::kParse, 2, 700, 702, "transient"}, {Stage::kChunk, 1, 700, 703, "ok"}};
  for (const StageTiming& t : written) ASSERT_TRUE(store_->RecordStageTiming(r.job.id, t).ok());
  auto t = store_->ListStageTimings(r.job.id);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  std::vector<std::pair<Stage, int>> order;
  for (const StageTiming& x : *t) order.emplace_back(x.stage, x.attempt);
  EXPECT_THAT(order, ElementsAre(std::pair(Stage::kReceive, 1), std::pair(Stage::kParse, 1),
                                 std::pair(Stage::kParse, 2), std::pair(Stage::kParse, 3),
                                 std::pair(Stage::kChunk, 1), std::pair(Stage::kEmbed, 1)));
  auto detail = store_->GetJobDetail(r.job.id, 0);
  ASSERT_TRUE(detail.ok()) << detail.status().ToString();
  std::vector<std::pair<Stage, int>> detail_order;
  for (const StageTiming& x : detail->timings) detail_order.emplace_back(x.stage, x.attempt);
  EXPECT_EQ(detail_order, order);
}

TEST_P(StoreConformance, JobDetailHoldsTheJobItsDocumentTimingsAndEvents) {
  SubmitResult r = Submit("failed.txt", "acme");
  Lease l = MustLease("w1");
  JobUpdate u = Update(Stage::kParse, JobState::kFailed, 1);
  u.last_error_code = "unparseable";
  u.last_error_message = "not a PDF";
  u.last_error_stage = "parse";
  ASSERT_TRUE(store_->UpdateJob(l.job.id, l.job.version, u, Now()).ok());
  ASSERT_TRUE(store_->RecordStageTiming(r.job.id, {Stage::kParse, 1, 10, 20, "failed"}).ok());
  for (int i = 0; i < 3; ++i) {
    Event e;
    e.at = Now() + i;
    e.kind = "job.transition";
    e.job_id = r.job.id;
    e.document_id = r.document.id;
    e.detail_json = "{\"i\":" + std::to_string(i) + "}";
    ASSERT_TRUE(store_->AppendEvent(e).ok());
  }
  auto d = store_->GetJobDetail(r.job.id, 2);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->view.job.id, r.job.id);
  EXPECT_EQ(d->view.job.state, JobState::kFailed);
  EXPECT_EQ(d->view.job.last_error_code, "unparseable");
  EXPECT_EQ(d->view.job.last_error_message, "not a PDF");
  EXPECT_EQ(d->view.job.last_error_stage, "parse");
  EXPECT_EQ(d->view.tenant, "acme");
  EXPECT_EQ(d->view.filename, "failed.txt");
  EXPECT_EQ(d->document.id, r.document.id);
  EXPECT_EQ(d->document.sha256, r.document.sha256);
  ASSERT_EQ(d->timings.size(), 1u);
  EXPECT_EQ(d->timings[0].outcome, "failed");
  ASSERT_EQ(d->events.size(), 2u);  // the newest two, most recent first
  EXPECT_EQ(d->events[0].detail_json, "{\"i\":2}");
  EXPECT_EQ(d->events[1].detail_json, "{\"i\":1}");
  EXPECT_EQ(store_->GetJobDetail(r.job.id, 0)->events.size(), 3u);
  EXPECT_EQ(store_->GetJobDetail("no-such-job", 10).status().code(), StatusCode::kNotFound);
}

// GetJobDetail is one snapshot. A writer records timing i and then event i (two transactions),
// so every snapshot has at least as many timings as events; reads taken one after the other
// (timings, then events a moment later) see more events than timings as soon as the writer
// slips between them.
TEST_P(StoreConformance, JobDetailIsOneSnapshotUnderConcurrentWrites) {
  SubmitResult r = Submit("busy.txt");
  constexpr int kWrites = 300;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 1; i <= kWrites; ++i) {
      EXPECT_TRUE(store_->RecordStageTiming(r.job.id, {Stage::kParse, i, i, i + 1, "ok"}).ok());
      Event e;
      e.at = i;
      e.kind = "tick";
      e.job_id = r.job.id;
      e.detail_json = "{}";
      EXPECT_TRUE(store_->AppendEvent(e).ok());
    }
    done = true;
  });
  int reads = 0;
  while (!done.load() || reads == 0) {
    auto d = store_->GetJobDetail(r.job.id, 0);
    ++reads;
    if (!d.ok()) {
      ADD_FAILURE() << d.status().ToString();
      break;
    }
    if (d->timings.size() < d->events.size()) {
      ADD_FAILURE() << "timings and events from two snapshots: " << d->timings.size() << " < "
                    << d->events.size();
      break;
    }
  }
  writer.join();
  auto last = store_->GetJobDetail(r.job.id, 0);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->timings.size(), static_cast<size_t>(kWrites));
  EXPECT_EQ(last->events.size(), static_cast<size_t>(kWrites));
}

TEST_P(StoreConformance, DocumentDetailHoldsTheNewestJobAndChunkTotals) {
  SubmitResult r = Submit("doc.txt", "acme");
  std::vector<Chunk> chunks = {MakeChunk(r.document.id, 0, "alpha beta gamma"),
                               MakeChunk(r.document.id, 1, "delta epsilon")};
  ASSERT_TRUE(store_->ReplaceChunks(r.document.id, chunks).ok());
  auto d = store_->GetDocumentDetail(r.document.id);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->document.id, r.document.id);
  EXPECT_EQ(d->document.tenant, "acme");
  ASSERT_TRUE(d->job.has_value());
  EXPECT_EQ(d->job->job.id, r.job.id);
  EXPECT_EQ(d->job->filename, "doc.txt");
  EXPECT_EQ(d->chunks, 2);
  EXPECT_EQ(d->chunk_tokens, chunks[0].token_count + chunks[1].token_count);
  EXPECT_EQ(store_->GetDocumentDetail("no-such-doc").status().code(), StatusCode::kNotFound);
}

// --- query vector cache ---------------------------------------------------------------------

TEST_P(StoreConformance, QueryVectorsRoundTripPerSpace) {
  const VectorSpace space{"test-model", 4};
  const VectorSpace other{"test-model", 8};
  const std::string sha = Sha256Hex("what is a lease?");
  auto miss = store_->GetQueryVector(space, sha, 10);
  ASSERT_TRUE(miss.ok()) << miss.status().ToString();
  EXPECT_FALSE(miss->has_value());
  const std::vector<float> v = {0.5f, -0.25f, 0.125f, 1.0f};
  ASSERT_TRUE(store_->PutQueryVector(space, sha, v, 100, 10).ok());
  auto hit = store_->GetQueryVector(space, sha, 11);
  ASSERT_TRUE(hit.ok() && hit->has_value());
  EXPECT_EQ(**hit, v);
  EXPECT_FALSE(store_->GetQueryVector(other, sha, 12)->has_value());
  // First write wins: the vector is a function of (space, text).
  ASSERT_TRUE(store_->PutQueryVector(space, sha, std::vector<float>(4, 9.0f), 100, 13).ok());
  EXPECT_EQ(**store_->GetQueryVector(space, sha, 14), v);
  // Query vectors are not chunk vectors: the index's cache is untouched.
  EXPECT_FALSE(store_->GetVector(space, sha)->has_value());
  EXPECT_EQ(store_->PutQueryVector(space, sha, std::vector<float>(3, 1.0f), 100, 15).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->PutQueryVector(space, sha, v, 0, 15).code(), StatusCode::kInvalidArgument);
}

TEST_P(StoreConformance, QueryVectorsEvictTheLeastRecentlyUsedBeyondTheBound) {
  const VectorSpace space{"test-model", 2};
  const std::vector<float> v = {1.0f, 0.0f};
  const std::string a = Sha256Hex("a"), b = Sha256Hex("b"), c = Sha256Hex("c");
  ASSERT_TRUE(store_->PutQueryVector(space, a, v, 2, 100).ok());
  ASSERT_TRUE(store_->PutQueryVector(space, b, v, 2, 200).ok());
  ASSERT_TRUE(store_->GetQueryVector(space, a, 300)->has_value());  // a is now the newest use
  ASSERT_TRUE(store_->PutQueryVector(space, c, v, 2, 400).ok());    // b goes
  EXPECT_TRUE(store_->GetQueryVector(space, a, 500)->has_value());
  EXPECT_FALSE(store_->GetQueryVector(space, b, 500)->has_value());
  EXPECT_TRUE(store_->GetQueryVector(space, c, 500)->has_value());
  // The bound holds over every space together.
  ASSERT_TRUE(store_->PutQueryVector(VectorSpace{"other-model", 2}, a, v, 2, 600).ok());
  int present = 0;
  for (const std::string& h : {a, c}) present += store_->GetQueryVector(space, h, 700)->has_value();
  EXPECT_EQ(present, 1);
}

// --- parse cache ----------------------------------------------------------------------------

TEST_P(StoreConformance, ParseCacheRoundTripAndUpsert) {
  const std::string sha = Sha256Hex("file");
  EXPECT_FALSE(store_->GetParse(sha, "local", "cfg1")->has_value());
  ParseRecord rec;
  rec.file_sha256 = sha;
  rec.parser = "local";
  rec.config_hash = "cfg1";
  rec.pages = {{1, "# Title\n\nfirst page"}, {3, "third page, \xC3\xA9 \"quoted\"\n"}, {4, ""}};
  rec.detail_json = R"({"pages_billed":3})";
  rec.created_at = 1234;
  ASSERT_TRUE(store_->PutParse(rec).ok());

  auto got = store_->GetParse(sha, "local", "cfg1");
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  const ParseRecord& g = **got;
  ASSERT_EQ(g.pages.size(), 3u);
  EXPECT_EQ(g.pages[0].page, 1);
  EXPECT_EQ(g.pages[0].text, "# Title\n\nfirst page");
  EXPECT_EQ(g.pages[1].page, 3);
  EXPECT_EQ(g.pages[1].text, "third page, \xC3\xA9 \"quoted\"\n");
  EXPECT_EQ(g.pages[2].page, 4);
  EXPECT_EQ(g.pages[2].text, "");
  EXPECT_EQ(g.detail_json, R"({"pages_billed":3})");
  EXPECT_EQ(g.created_at, 1234);

  // Other parser or config: a different entry.
  EXPECT_FALSE(store_->GetParse(sha, "llamaparse", "cfg1")->has_value());
  EXPECT_FALSE(store_->GetParse(sha, "local", "cfg2")->has_value());

  rec.pages = {{1, "replaced"}};
  ASSERT_TRUE(store_->PutParse(rec).ok());
  auto again = store_->GetParse(sha, "local", "cfg1");
  ASSERT_TRUE(again.ok() && again->has_value());
  ASSERT_EQ((*again)->pages.size(), 1u);
  EXPECT_EQ((*again)->pages[0].text, "replaced");
}

// --- chunks, vectors, index -----------------------------------------------------------------

TEST_P(StoreConformance, ReplaceChunksReplacesTheSet) {
  SubmitResult r = Submit("a.md");
  const std::string doc = r.document.id;
  std::vector<Chunk> three = {MakeChunk(doc, 0, "zero"), MakeChunk(doc, 1, "one"),
                              MakeChunk(doc, 2, "two")};
  ASSERT_TRUE(store_->ReplaceChunks(doc, three).ok());
  ASSERT_TRUE(store_->ReplaceChunks(doc, three).ok());  // repeat: no duplicates
  auto got = store_->ListChunks(doc);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[1].id, three[1].id);
  EXPECT_EQ((*got)[1].text, "one");
  EXPECT_EQ((*got)[1].text_sha256, Sha256Hex("one"));
  EXPECT_EQ((*got)[1].heading_path, "Title > Section");
  EXPECT_EQ((*got)[1].page_start, 2);
  EXPECT_EQ((*got)[1].page_end, 3);
  EXPECT_EQ((*got)[1].token_count, three[1].token_count);
  EXPECT_EQ((*got)[1].document_id, doc);

  std::vector<Chunk> two = {MakeChunk(doc, 0, "zero edited"), MakeChunk(doc, 1, "one")};
  ASSERT_TRUE(store_->ReplaceChunks(doc, two).ok());
  got = store_->ListChunks(doc);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].text, "zero edited");
  EXPECT_EQ((*got)[1].text, "one");

  // Another document's chunks are untouched.
  SubmitResult other = Submit("b.md");
  ASSERT_TRUE(store_->ReplaceChunks(other.document.id, {}).ok());
  EXPECT_EQ(store_->ListChunks(doc)->size(), 2u);
  ASSERT_TRUE(store_->ReplaceChunks(doc, {}).ok());
  EXPECT_TRUE(store_->ListChunks(doc)->empty());
}

TEST_P(StoreConformance, VectorsFirstWriteWinsAndRoundTripBitExact) {
  const VectorSpace space{"text-embedding-3-small", 6};
  const std::string h1 = Sha256Hex("one");
  const std::string h2 = Sha256Hex("two");
  const std::string h3 = Sha256Hex("three");
  std::vector<std::string> asked = {h1, h2, h3};
  auto missing = store_->MissingVectors(space, asked);
  ASSERT_TRUE(missing.ok());
  EXPECT_THAT(*missing, UnorderedElementsAre(h1, h2, h3));

  StoredVector v1;
  v1.text_sha256 = h1;
  v1.provider = "openai";
  v1.values = {0.1f,
               -0.0f,
               std::numeric_limits<float>::denorm_min(),
               std::numeric_limits<float>::max(),
               -std::numeric_limits<float>::infinity(),
               std::bit_cast<float>(0x3f8ccccdU)};
  std::vector<StoredVector> batch = {v1, MakeVector(h2, 6, 1.0f)};
  ASSERT_TRUE(store_->PutVectors(space, batch).ok());
  missing = store_->MissingVectors(space, asked);
  ASSERT_TRUE(missing.ok());
  EXPECT_THAT(*missing, ElementsAre(h3));

  auto got = store_->GetVector(space, h1);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->provider, "openai");
  ASSERT_EQ((*got)->values.size(), 6u);
  EXPECT_EQ(std::memcmp((*got)->values.data(), v1.values.data(), 6 * sizeof(float)), 0);

  // First write wins.
  std::vector<StoredVector> overwrite = {MakeVector(h1, 6, 99.0f)};
  ASSERT_TRUE(store_->PutVectors(space, overwrite).ok());
  got = store_->GetVector(space, h1);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(std::memcmp((*got)->values.data(), v1.values.data(), 6 * sizeof(float)), 0);

  // Wrong dimensions: rejected, nothing written.
  std::vector<StoredVector> wrong = {MakeVector(h3, 6, 0.0f), MakeVector(Sha256Hex("x"), 5, 0)};
  EXPECT_EQ(store_->PutVectors(space, wrong).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(store_->GetVector(space, h3)->has_value());

  // Spaces never mix: same model, other dimensions, and other model.
  EXPECT_FALSE(store_->GetVector({"text-embedding-3-small", 3}, h1)->has_value());
  EXPECT_FALSE(store_->GetVector({"lexical-v1", 6}, h1)->has_value());
  EXPECT_EQ(store_->MissingVectors({"lexical-v1", 6}, asked)->size(), 3u);
}

TEST_P(StoreConformance, MarkIndexedRequiresEveryVector) {
  const VectorSpace space{"lexical-v1", 4};
  SubmitResult r = Submit("a.md");
  const std::string doc = r.document.id;
  std::vector<Chunk> chunks = {MakeChunk(doc, 0, "alpha"), MakeChunk(doc, 1, "beta")};
  ASSERT_TRUE(store_->ReplaceChunks(doc, chunks).ok());
  std::vector<StoredVector> one = {MakeVector(chunks[0].text_sha256, 4, 1.0f)};
  ASSERT_TRUE(store_->PutVectors(space, one).ok());
  Status st = store_->MarkIndexed(doc, space, Now());
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  int seen = 0;
  ASSERT_TRUE(store_->ScanIndex(space, std::nullopt, [&](const IndexedChunk&) { ++seen; }).ok());
  EXPECT_EQ(seen, 0);

  std::vector<StoredVector> two = {MakeVector(chunks[1].text_sha256, 4, 2.0f)};
  ASSERT_TRUE(store_->PutVectors(space, two).ok());
  EXPECT_TRUE(store_->MarkIndexed(doc, space, Now()).ok());
  EXPECT_TRUE(store_->MarkIndexed(doc, space, Now()).ok());  // idempotent
  EXPECT_EQ(store_->MarkIndexed("no-such-doc", space, Now()).code(), StatusCode::kNotFound);
}

TEST_P(StoreConformance, ScanIndexReturnsOnlyIndexedDocsOfSpaceAndTenant) {
  const VectorSpace space{"lexical-v1", 3};
  const VectorSpace other_space{"text-embedding-3-small", 3};
  auto add = [&](const std::string& name, const std::string& tenant,
                 const std::vector<std::string>& texts, bool index, const VectorSpace& sp) {
    SubmitResult r = Submit(name, tenant);
    std::vector<Chunk> chunks;
    std::vector<StoredVector> vecs;
    for (size_t i = 0; i < texts.size(); ++i) {
      chunks.push_back(MakeChunk(r.document.id, static_cast<int>(i), texts[i]));
      vecs.push_back(MakeVector(chunks.back().text_sha256, 3, static_cast<float>(i)));
    }
    EXPECT_TRUE(store_->ReplaceChunks(r.document.id, chunks).ok());
    EXPECT_TRUE(store_->PutVectors(sp, vecs).ok());
    if (index) {
      EXPECT_TRUE(store_->MarkIndexed(r.document.id, sp, Now()).ok());
    }
    return r.document.id;
  };
  add("a.md", "acme", {"a0", "a1"}, true, space);
  add("b.md", "globex", {"b0"}, true, space);
  add("c.md", "acme", {"c0"}, false, space);       // not indexed
  add("d.md", "acme", {"d0"}, true, other_space);  // other space
  add("e.md", "acme", {"a0", "e1"}, true, space);  // shares a vector with a.md

  // The spaces documents are indexed in, most documents first; per tenant when asked.
  auto spaces = store_->ListIndexedSpaces(std::nullopt);
  ASSERT_TRUE(spaces.ok()) << spaces.status().ToString();
  ASSERT_EQ(spaces->size(), 2u);
  EXPECT_EQ((*spaces)[0].space, space);
  EXPECT_EQ((*spaces)[0].documents, 3);  // a, b, e (c is not indexed)
  EXPECT_EQ((*spaces)[1].space, other_space);
  EXPECT_EQ((*spaces)[1].documents, 1);
  auto globex = store_->ListIndexedSpaces(std::string_view("globex"));
  ASSERT_TRUE(globex.ok());
  ASSERT_EQ(globex->size(), 1u);
  EXPECT_EQ((*globex)[0].space, space);
  EXPECT_EQ((*globex)[0].documents, 1);
  auto nobody = store_->ListIndexedSpaces(std::string_view("initech"));
  ASSERT_TRUE(nobody.ok());
  EXPECT_TRUE(nobody->empty());

  struct Seen {
    std::string filename, text;
    std::vector<float> vec;
  };
  auto scan = [&](std::optional<std::string_view> tenant) {
    std::vector<Seen> out;
    Status st = store_->ScanIndex(space, tenant, [&](const IndexedChunk& c) {
      out.push_back(
          {std::string(c.filename), c.chunk->text, std::vector<float>(c.vector, c.vector + 3)});
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  };
  std::vector<Seen> all = scan(std::nullopt);
  std::multiset<std::string> texts;
  for (const Seen& s : all) texts.insert(s.filename + ":" + s.text);
  EXPECT_THAT(texts, UnorderedElementsAre("a.md:a0", "a.md:a1", "b.md:b0", "e.md:a0", "e.md:e1"));
  for (const Seen& s : all) {
    if (s.text == "a1") {
      EXPECT_THAT(s.vec, ElementsAre(1.0f, 1.25f, 1.5f));
    }
  }
  std::vector<Seen> acme = scan("acme");
  EXPECT_EQ(acme.size(), 4u);
  for (const Seen& s : acme) EXPECT_NE(s.filename, "b.md");
  EXPECT_TRUE(scan("nobody").empty());
}

TEST_P(StoreConformance, ReplaceChunksRejectsDuplicateIds) {
  SubmitResult r = Submit("a.md");
  std::vector<Chunk> dup = {MakeChunk(r.document.id, 0, "x"), MakeChunk(r.document.id, 0, "y")};
  EXPECT_EQ(store_->ReplaceChunks(r.document.id, dup).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_->ListChunks(r.document.id)->empty());
}

// Search may look things up while streaming; the store must allow calls from the callback.
TEST_P(StoreConformance, ScanIndexCallbackMayUseTheStore) {
  const VectorSpace space{"lexical-v1", 2};
  SubmitResult r = Submit("a.md");
  std::vector<Chunk> chunks = {MakeChunk(r.document.id, 0, "alpha")};
  ASSERT_TRUE(store_->ReplaceChunks(r.document.id, chunks).ok());
  std::vector<StoredVector> v = {MakeVector(chunks[0].text_sha256, 2, 1.0f)};
  ASSERT_TRUE(store_->PutVectors(space, v).ok());
  ASSERT_TRUE(store_->MarkIndexed(r.document.id, space, Now()).ok());
  int calls = 0;
  Status st = store_->ScanIndex(space, std::nullopt, [&](const IndexedChunk& c) {
    auto doc = store_->GetDocument(c.chunk->document_id);
    EXPECT_TRUE(doc.ok());
    Event e;
    e.kind = "search.hit";
    e.document_id = c.chunk->document_id;
    EXPECT_TRUE(store_->AppendEvent(e).ok());
    ++calls;
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(store_->ListEvents(std::nullopt, 10)->size(), 1u);
}

// --- ledger, events, workers ----------------------------------------------------------------

// Ingestion and search-query spend apart (the dashboard's tiles): settled and reserved rows
// count, released ones do not; optionally one tenant's.
TEST_P(StoreConformance, SpendByOperationSumsSettledAndReservedRows) {
  auto row = [&](std::string id, std::string operation, std::string tenant, int64_t micros,
                 LedgerState state) {
    LedgerEntry e;
    e.id = std::move(id);
    e.service = "openai";
    e.operation = std::move(operation);
    e.tenant = std::move(tenant);
    e.model = "text-embedding-3-small";
    e.tokens = 10;
    e.requests = 1;
    e.cost_nanos = micros;
    e.state = state;
    e.created_at = 1000;
    e.updated_at = 1000;
    ASSERT_TRUE(store_->AppendLedger(e).ok());
  };
  row("q1", "query", "acme", 3, LedgerState::kSettled);
  row("q2", "query", "beta", 5, LedgerState::kReserved);
  row("q3", "query", "acme", 700, LedgerState::kReleased);
  row("e1", "embed", "acme", 11, LedgerState::kSettled);
  row("p1", "parse", "beta", 13'000, LedgerState::kSettled);
  auto all = store_->SpendByOperation(std::nullopt);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(*all, (std::map<std::string, int64_t>{{"embed", 11}, {"parse", 13'000}, {"query", 8}}));
  auto acme = store_->SpendByOperation("acme");
  ASSERT_TRUE(acme.ok());
  EXPECT_EQ(*acme, (std::map<std::string, int64_t>{{"embed", 11}, {"query", 3}}));
  EXPECT_TRUE(store_->SpendByOperation("nobody")->empty());
}

TEST_P(StoreConformance, LedgerAppendAndList) {
  LedgerEntry e;
  e.id = "l-1";
  e.service = "llamaparse";
  e.operation = "parse";
  e.tenant = "acme";
  e.document_id = "doc-1";
  e.job_id = "job-1";
  e.model = "agentic";
  e.pages = 12;
  e.credits = 36;
  e.requests = 1;
  e.cost_nanos = 135'000;
  e.state = LedgerState::kReserved;
  e.provider_request_id = "req-9";
  e.created_at = 1000;
  e.updated_at = 1000;
  ASSERT_TRUE(store_->AppendLedger(e).ok());
  LedgerEntry f = e;
  f.id = "l-2";
  f.document_id = "doc-2";
  f.service = "openai";
  f.tokens = 5000;
  f.state = LedgerState::kSettled;
  f.created_at = 2000;
  ASSERT_TRUE(store_->AppendLedger(f).ok());
  EXPECT_EQ(store_->AppendLedger(e).code(), StatusCode::kAlreadyExists);

  auto all = store_->ListLedger(std::nullopt);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  const LedgerEntry& g = (*all)[0];
  EXPECT_EQ(g.id, "l-1");
  EXPECT_EQ(g.service, "llamaparse");
  EXPECT_EQ(g.operation, "parse");
  EXPECT_EQ(g.tenant, "acme");
  EXPECT_EQ(g.job_id, "job-1");
  EXPECT_EQ(g.model, "agentic");
  EXPECT_EQ(g.pages, 12);
  EXPECT_EQ(g.credits, 36);
  EXPECT_EQ(g.requests, 1);
  EXPECT_EQ(g.cost_nanos, 135'000);
  EXPECT_EQ(g.state, LedgerState::kReserved);
  EXPECT_EQ(g.provider_request_id, "req-9");
  EXPECT_EQ(g.created_at, 1000);
  EXPECT_EQ((*all)[1].tokens, 5000);
  EXPECT_EQ((*all)[1].state, LedgerState::kSettled);

  auto d2 = store_->ListLedger("doc-2");
  ASSERT_TRUE(d2.ok());
  ASSERT_EQ(d2->size(), 1u);
  EXPECT_EQ((*d2)[0].id, "l-2");
}

TEST_P(StoreConformance, EventsAreListedNewestFirst) {
  for (int i = 0; i < 5; ++i) {
    Event e;
    e.at = 1000 + i;
    e.kind = "job.transition";
    e.job_id = i % 2 == 0 ? "job-even" : "job-odd";
    e.document_id = "doc";
    e.correlation_id = "corr";
    e.detail_json = R"({"i":)" + std::to_string(i) + "}";
    ASSERT_TRUE(store_->AppendEvent(e).ok());
  }
  auto all = store_->ListEvents(std::nullopt, 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 5u);
  for (size_t i = 0; i + 1 < all->size(); ++i) EXPECT_GT((*all)[i].id, (*all)[i + 1].id);
  EXPECT_EQ((*all)[0].detail_json, R"({"i":4})");
  EXPECT_EQ((*all)[0].at, 1004);
  EXPECT_EQ((*all)[0].kind, "job.transition");
  EXPECT_EQ((*all)[0].correlation_id, "corr");

  auto even = store_->ListEvents("job-even", 2);
  ASSERT_TRUE(even.ok());
  ASSERT_EQ(even->size(), 2u);
  EXPECT_EQ((*even)[0].detail_json, R"({"i":4})");
  EXPECT_EQ((*even)[1].detail_json, R"({"i":2})");
}

TEST_P(StoreConformance, WorkersUpsert) {
  WorkerInfo w{"w-1", "host-a", 100, "0.1.0", 1000, 1000, 0};
  ASSERT_TRUE(store_->UpsertWorker(w).ok());
  w.last_seen = 5000;
  w.in_flight = 3;
  ASSERT_TRUE(store_->UpsertWorker(w).ok());
  ASSERT_TRUE(store_->UpsertWorker({"w-2", "host-b", 200, "0.1.0", 2000, 2000, 1}).ok());
  auto ws = store_->ListWorkers();
  ASSERT_TRUE(ws.ok());
  ASSERT_EQ(ws->size(), 2u);
  EXPECT_EQ((*ws)[0].id, "w-1");
  EXPECT_EQ((*ws)[0].host, "host-a");
  EXPECT_EQ((*ws)[0].pid, 100);
  EXPECT_EQ((*ws)[0].started_at, 1000);
  EXPECT_EQ((*ws)[0].last_seen, 5000);
  EXPECT_EQ((*ws)[0].in_flight, 3);
  EXPECT_EQ((*ws)[1].id, "w-2");
}

INSTANTIATE_TEST_SUITE_P(AllStores, StoreConformance,
                         ::testing::ValuesIn(ingest::testing::StoreFactories()),
                         [](const ::testing::TestParamInfo<StoreFactory>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace ingest::store
