#include "ingest/search/vector_search.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "ingest/search/dot.h"

namespace ingest::search {
namespace {

using store::Chunk;
using store::VectorSpace;

// Only ScanIndex is real; everything else is outside what SearchExact may use.
class FakeIndexStore : public store::Store {
 public:
  struct Entry {
    Chunk chunk;
    std::string filename;
    std::string tenant;
    VectorSpace space;
    std::vector<float> vector;
  };
  std::vector<Entry> entries;
  std::optional<Status> scan_error;

  using store::Store::ScanIndex;
  Status ScanIndex(const VectorSpace& space, const store::IndexFilter& filter,
                   const std::function<void(const store::IndexedChunk&)>& fn) override {
    if (scan_error) return *scan_error;
    for (const Entry& e : entries) {
      if (!(e.space == space) || (filter.tenant && *filter.tenant != e.tenant)) continue;
      fn(store::IndexedChunk{&e.chunk, e.filename, e.vector.data(), "", "{}"});
    }
    return Status();
  }

  static Status Unused() { return Internal("not used by search"); }
  Result<std::vector<store::IndexedSpace>> ListIndexedSpaces(
      std::optional<std::string_view>) override {
    return Unused();
  }
  std::vector<store::Migration> KnownMigrations() const override { return {}; }
  Result<int> SchemaVersion() override { return Unused(); }
  Status ApplyMigrations(int, bool) override { return Unused(); }
  Result<bool> NewerStepsAreExpandOnly(int) override { return Unused(); }
  Result<store::SubmitResult> SubmitDocument(const store::Document&, const store::Job&) override {
    return Unused();
  }
  Result<store::Document> GetDocument(std::string_view) override { return Unused(); }
  Result<std::vector<store::DocumentListing>> ListDocuments(const store::DocumentFilter&) override {
    return Unused();
  }
  Result<store::DeletedDocument> DeleteDocument(std::string_view, std::string_view,
                                                UnixMillis) override {
    return Unused();
  }
  Result<int64_t> PurgeUnheldContent(std::string_view, std::span<const std::string>) override {
    return Unused();
  }
  Result<std::vector<std::string>> ListOrphanBlobs(int) override { return Unused(); }
  Result<store::UnheldContent> CountUnheldContent() override { return Unused(); }
  Result<store::UnheldContent> DeleteUnheldContent(int) override { return Unused(); }
  Result<bool> ForgetBlob(std::string_view) override { return Unused(); }
  Status UpdateDocumentParseInfo(std::string_view, int, std::string_view,
                                 std::string_view) override {
    return Unused();
  }
  Result<store::Job> GetJob(std::string_view) override { return Unused(); }
  Result<std::vector<store::JobView>> ListJobs(const store::JobFilter&) override {
    return Unused();
  }
  Result<std::vector<std::pair<store::JobState, int64_t>>> CountJobsByState() override {
    return Unused();
  }
  Result<std::optional<UnixMillis>> OldestQueuedAt(UnixMillis) override { return Unused(); }
  Result<std::vector<store::FinishedMinute>> FinishedPerMinute(
      UnixMillis, std::optional<std::string_view>) override {
    return Unused();
  }
  Result<std::optional<store::Lease>> LeaseNext(std::string_view, Duration, UnixMillis) override {
    return Unused();
  }
  Status Heartbeat(store::Lease*, Duration, UnixMillis) override { return Unused(); }
  Result<store::Job> UpdateJob(std::string_view, int64_t, const store::JobUpdate&,
                               UnixMillis) override {
    return Unused();
  }
  Status RecordStageTiming(std::string_view, const store::StageTiming&) override {
    return Unused();
  }
  Result<std::vector<store::StageTiming>> ListStageTimings(std::string_view) override {
    return Unused();
  }
  Result<std::optional<store::ParseRecord>> GetParse(std::string_view, std::string_view,
                                                     std::string_view) override {
    return Unused();
  }
  Result<std::map<std::string, int64_t>> SpendByOperation(
      std::optional<std::string_view>) override {
    return Unused();
  }
  Result<store::JobDetail> GetJobDetail(std::string_view, int) override { return Unused(); }
  Result<store::DocumentDetail> GetDocumentDetail(std::string_view) override { return Unused(); }
  Result<std::optional<std::vector<float>>> GetQueryVector(const VectorSpace&, std::string_view,
                                                           UnixMillis) override {
    return Unused();
  }
  Status PutQueryVector(const VectorSpace&, std::string_view, std::span<const float>, int64_t,
                        UnixMillis) override {
    return Unused();
  }
  Status PutParse(const store::ParseRecord&) override { return Unused(); }
  Status ReplaceChunks(std::string_view, std::span<const Chunk>) override { return Unused(); }
  Result<std::vector<Chunk>> ListChunks(std::string_view) override { return Unused(); }
  Result<std::vector<std::string>> MissingVectors(const VectorSpace&,
                                                  std::span<const std::string>) override {
    return Unused();
  }
  Status PutVectors(const VectorSpace&, std::span<const store::StoredVector>) override {
    return Unused();
  }
  Result<std::vector<std::string>> ClaimTexts(const VectorSpace&, std::span<const std::string>,
                                              std::string_view, Duration, UnixMillis) override {
    return Unused();
  }
  Result<std::optional<store::StoredVector>> GetVector(const VectorSpace&,
                                                       std::string_view) override {
    return Unused();
  }
  Status MarkIndexed(std::string_view, const VectorSpace&, UnixMillis) override { return Unused(); }
  Result<std::vector<store::TextMatch>> SearchText(std::span<const std::string>,
                                                   const store::IndexFilter&,
                                                   const std::optional<VectorSpace>&,
                                                   int) override {
    return Unused();
  }
  Result<std::string> TextSearchLanguage() override { return Unused(); }
  Status SetTextSearchLanguage(std::string_view) override { return Unused(); }
  Status AppendLedger(const store::LedgerEntry&) override { return Unused(); }
  Result<std::vector<store::LedgerEntry>> ListLedger(std::optional<std::string_view>) override {
    return Unused();
  }
  Result<store::ReserveResult> Reserve(const store::LedgerEntry&, UnixMillis) override {
    return Unused();
  }
  Status SettleLedger(const store::LedgerEntry&, UnixMillis) override { return Unused(); }
  Status ReleaseLedger(std::string_view, std::string_view, UnixMillis) override { return Unused(); }
  Status MarkLedgerSent(std::string_view, UnixMillis) override { return Unused(); }
  Result<std::vector<store::LedgerEntry>> ListExpiredReservations(UnixMillis) override {
    return Unused();
  }
  Status PutBudget(const store::Budget&) override { return Unused(); }
  Status DeleteBudget(store::BudgetScope, std::string_view, store::BudgetPeriod) override {
    return Unused();
  }
  Result<int64_t> StopBudgets(const store::LedgerEntry&, int64_t, std::string_view,
                              UnixMillis) override {
    return Unused();
  }
  Result<int64_t> AckBudgets(std::optional<store::BudgetScope>, std::string_view,
                             store::BudgetPeriod, UnixMillis) override {
    return Unused();
  }
  Result<std::vector<store::BudgetStatus>> ListBudgetStatus(UnixMillis) override {
    return Unused();
  }
  Status ConfigureRateBucket(std::string_view, std::string_view, double, double,
                             UnixMillis) override {
    return Unused();
  }
  Result<store::RateGrant> AcquireRate(std::string_view, std::span<const store::RateDemand>,
                                       Duration, UnixMillis) override {
    return Unused();
  }
  Status ObserveRate(std::string_view, std::string_view, std::optional<double>, UnixMillis,
                     UnixMillis) override {
    return Unused();
  }
  Result<std::vector<store::RateBucket>> ListRateBuckets(UnixMillis) override { return Unused(); }
  Status PutProviderState(const store::ProviderState&) override { return Unused(); }
  Result<std::vector<store::ProviderState>> ListProviderStates() override { return Unused(); }
  Result<int64_t> WakeDeferred(std::span<const std::string>, UnixMillis) override {
    return Unused();
  }
  Status AppendEvent(const store::Event&) override { return Unused(); }
  Result<std::vector<store::Event>> ListEvents(std::optional<std::string_view>, int) override {
    return Unused();
  }
  Status UpsertWorker(const store::WorkerInfo&) override { return Unused(); }
  Result<std::vector<store::WorkerInfo>> ListWorkers() override { return Unused(); }
  Status CreateApiKey(const store::ApiKey&) override { return Unused(); }
  Result<store::ApiKey> GetApiKey(std::string_view) override { return Unused(); }
  Result<std::optional<store::ApiKey>> FindApiKeyByPrefix(std::string_view) override {
    return Unused();
  }
  Result<std::vector<store::ApiKey>> ListApiKeys() override { return Unused(); }
  Status RevokeApiKey(std::string_view, UnixMillis) override { return Unused(); }
  Result<store::ApiKey> RotateApiKey(std::string_view, const store::ApiKey&, UnixMillis,
                                     UnixMillis) override {
    return Unused();
  }
  Status TouchApiKey(std::string_view, UnixMillis) override { return Unused(); }
  Status AppendAudit(const store::AuditEntry&) override { return Unused(); }
  Result<std::vector<store::AuditEntry>> ListAudit(const store::AuditFilter&) override {
    return Unused();
  }
};

const VectorSpace kSpace{"lexical-v1", 48};

std::vector<float> RandomUnit(std::mt19937& rng, int dims) {
  std::normal_distribution<float> normal;
  std::vector<float> v(static_cast<size_t>(dims));
  double n2 = 0;
  for (float& x : v) {
    x = normal(rng);
    n2 += static_cast<double>(x) * x;
  }
  for (float& x : v) x = static_cast<float>(x / std::sqrt(n2));
  return v;
}

void AddEntry(FakeIndexStore& store, int i, std::vector<float> vec, std::string tenant = "t1",
              VectorSpace space = kSpace) {
  FakeIndexStore::Entry e;
  char id[32];
  std::snprintf(id, sizeof id, "chunk-%05d", i);
  e.chunk.id = id;
  e.chunk.document_id = "doc-" + std::to_string(i % 7);
  e.chunk.text = "text " + std::to_string(i);
  e.chunk.text_sha256 = "sha-" + std::to_string(i);  // distinct texts
  e.chunk.heading_path = "H > " + std::to_string(i);
  e.chunk.page_start = i % 5 + 1;
  e.chunk.page_end = i % 5 + 2;
  e.filename = "file" + std::to_string(i % 7) + ".pdf";
  e.tenant = std::move(tenant);
  e.space = space;
  e.vector = std::move(vec);
  store.entries.push_back(std::move(e));
}

TEST(DotTest, MatchesDoublePrecisionReference) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1, 1);
  for (size_t n : {0u, 1u, 7u, 8u, 9u, 384u, 1536u, 1537u}) {
    std::vector<float> a(n), b(n);
    double ref = 0;
    for (size_t i = 0; i < n; ++i) {
      a[i] = u(rng);
      b[i] = u(rng);
      ref += static_cast<double>(a[i]) * b[i];
    }
    EXPECT_NEAR(Dot(a.data(), b.data(), n), ref, 1e-4) << n;
  }
}

TEST(SearchExactTest, IdenticalTextsAreOneResultListingEveryHolder) {
  std::mt19937 rng(11);
  FakeIndexStore store;
  const std::vector<float> shared = RandomUnit(rng, kSpace.dimensions);
  // Chunks 0, 3 and 5 hold one text (two copies of a manual and a repeat in one of them): the
  // store gives them one vector.
  for (int i = 0; i < 8; ++i) {
    const bool same = i == 0 || i == 3 || i == 5;
    AddEntry(store, i, same ? shared : RandomUnit(rng, kSpace.dimensions));
    if (same) {
      store.entries.back().chunk.text = "the shared paragraph";
      store.entries.back().chunk.text_sha256 = "sha-shared";
    }
  }
  auto hits = SearchExact(store, kSpace, shared, 3, std::nullopt);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  ASSERT_EQ(hits->size(), 3u);  // three distinct texts, not three copies of one
  const SearchHit& top = (*hits)[0];
  EXPECT_EQ(top.chunk_id, "chunk-00000");
  EXPECT_NEAR(top.score, 1.0f, 1e-5);
  ASSERT_EQ(top.also_in.size(), 2u);
  EXPECT_EQ(top.also_in[0].chunk_id, "chunk-00003");
  EXPECT_EQ(top.also_in[0].document_id, "doc-3");
  EXPECT_EQ(top.also_in[0].filename, "file3.pdf");
  EXPECT_EQ(top.also_in[1].chunk_id, "chunk-00005");
  for (size_t i = 1; i < hits->size(); ++i) {
    EXPECT_NE((*hits)[i].text, "the shared paragraph");
    EXPECT_TRUE((*hits)[i].also_in.empty());
  }
}

TEST(SearchExactTest, TableOfContentsChunksRankBelowTheTextTheyPointTo) {
  std::mt19937 rng(12);
  FakeIndexStore store;
  const std::vector<float> query = RandomUnit(rng, kSpace.dimensions);
  // The TOC chunk is slightly more similar than the section it lists.
  std::vector<float> near = query;
  near[0] += 0.2f;
  AddEntry(store, 0, query);  // the TOC: identical to the query
  store.entries.back().chunk.text =
      "1 Budgets . . . . . . . . 3\n1.1 Hard limits . . . . . . 4\n1.2 Soft limits . . . . 5\n";
  AddEntry(store, 1, near);  // the section itself
  store.entries.back().chunk.text = "Hard limits stop spending when the budget is reached.";
  auto hits = SearchExact(store, kSpace, query, 2, std::nullopt);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 2u);
  EXPECT_EQ((*hits)[0].chunk_id, "chunk-00001");
  EXPECT_FALSE((*hits)[0].table_of_contents);
  EXPECT_EQ((*hits)[1].chunk_id, "chunk-00000");
  EXPECT_TRUE((*hits)[1].table_of_contents);
  EXPECT_NEAR((*hits)[1].score, 0.5f, 1e-5);  // similarity 1, halved
}

TEST(SearchExactTest, TopKMatchesBruteForceOnRandomVectors) {
  for (uint32_t seed = 1; seed <= 5; ++seed) {
    std::mt19937 rng(seed);
    FakeIndexStore store;
    for (int i = 0; i < 2000; ++i) AddEntry(store, i, RandomUnit(rng, kSpace.dimensions));
    std::vector<float> query = RandomUnit(rng, kSpace.dimensions);
    for (float& x : query) x *= 3.5f;  // not normalised: SearchExact must normalise it

    // Brute force: score everything with the normalised query, sort, take k.
    std::vector<float> unit;
    double n2 = 0;
    for (float x : query) n2 += static_cast<double>(x) * x;
    for (float x : query) unit.push_back(static_cast<float>(x / std::sqrt(n2)));
    std::vector<std::pair<float, std::string>> all;
    for (const auto& e : store.entries) {
      all.emplace_back(Dot(unit.data(), e.vector.data(), unit.size()), e.chunk.id);
    }
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    });

    for (int k : {1, 10, 57}) {
      auto hits = SearchExact(store, kSpace, query, k, std::nullopt);
      ASSERT_TRUE(hits.ok()) << hits.status().ToString();
      ASSERT_EQ(hits->size(), static_cast<size_t>(k));
      for (int r = 0; r < k; ++r) {
        EXPECT_EQ((*hits)[r].chunk_id, all[r].second) << "seed " << seed << " rank " << r;
        EXPECT_NEAR((*hits)[r].score, all[r].first, 1e-5);
        EXPECT_LE((*hits)[r].score, 1.0001f);
      }
    }
  }
}

TEST(SearchExactTest, HitsCarryChunkFieldsAndTiesBreakByChunkId) {
  FakeIndexStore store;
  std::vector<float> v(48, 0.0f);
  v[0] = 1;
  std::vector<float> w(48, 0.0f);
  w[1] = 1;
  // Identical vectors for 30, 10, 20: equal scores, ordered by id.
  AddEntry(store, 30, v);
  AddEntry(store, 5, w);
  AddEntry(store, 10, v);
  AddEntry(store, 20, v);
  auto hits = SearchExact(store, kSpace, v, 3, std::nullopt);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 3u);
  EXPECT_EQ((*hits)[0].chunk_id, "chunk-00010");
  EXPECT_EQ((*hits)[1].chunk_id, "chunk-00020");
  EXPECT_EQ((*hits)[2].chunk_id, "chunk-00030");
  const SearchHit& h = (*hits)[0];
  EXPECT_FLOAT_EQ(h.score, 1.0f);
  EXPECT_EQ(h.document_id, "doc-3");
  EXPECT_EQ(h.filename, "file3.pdf");
  EXPECT_EQ(h.text, "text 10");
  EXPECT_EQ(h.heading_path, "H > 10");
  EXPECT_EQ(h.page_start, 1);
  EXPECT_EQ(h.page_end, 2);
}

TEST(SearchExactTest, FewerEntriesThanKAndTenantAndSpaceFilters) {
  std::mt19937 rng(3);
  FakeIndexStore store;
  AddEntry(store, 1, RandomUnit(rng, 48), "t1");
  AddEntry(store, 2, RandomUnit(rng, 48), "t2");
  AddEntry(store, 3, RandomUnit(rng, 48), "t1");
  AddEntry(store, 4, RandomUnit(rng, 48), "t1", VectorSpace{"other-model", 48});
  auto q = RandomUnit(rng, 48);
  auto all = SearchExact(store, kSpace, q, 10, std::nullopt);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
  auto t2 = SearchExact(store, kSpace, q, 10, "t2");
  ASSERT_TRUE(t2.ok());
  ASSERT_EQ(t2->size(), 1u);
  EXPECT_EQ((*t2)[0].chunk_id, "chunk-00002");
  auto none = SearchExact(store, kSpace, q, 10, "nobody");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(SearchExactTest, InvalidQueriesAndStoreErrors) {
  FakeIndexStore store;
  std::vector<float> q(48, 0.5f);
  auto bad_k = SearchExact(store, kSpace, q, 0, std::nullopt);
  ASSERT_FALSE(bad_k.ok());
  EXPECT_EQ(bad_k.status().reason(), "invalid_k");
  std::vector<float> short_q(47, 0.5f);
  auto dims = SearchExact(store, kSpace, short_q, 5, std::nullopt);
  ASSERT_FALSE(dims.ok());
  EXPECT_EQ(dims.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(dims.status().reason(), "dimension_mismatch");
  std::vector<float> zero(48, 0.0f);
  auto empty = SearchExact(store, kSpace, zero, 5, std::nullopt);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().reason(), "empty_query");
  store.scan_error = Unavailable("database is down", "db_unavailable");
  auto down = SearchExact(store, kSpace, q, 5, std::nullopt);
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(down.status().reason(), "db_unavailable");
}

}  // namespace
}  // namespace ingest::search
