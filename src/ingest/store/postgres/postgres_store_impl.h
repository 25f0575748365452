// PostgresStore: the Store over PostgreSQL. Split by concern across postgres_store.cc (open,
// schema), postgres_jobs.cc (documents, jobs, timings), postgres_content.cc (parses, chunks,
// vectors, index) and postgres_audit.cc (ledger, events, workers). Internal to store/postgres.
//
// Thread-safe. Each call borrows a pooled connection and runs in one READ COMMITTED
// transaction; row locks (FOR UPDATE SKIP LOCKED in LeaseNext) and compare-and-set on
// jobs.version give the same guarantees across processes as across threads. libpqxx exceptions
// are caught here (Transact) and never leave the store.
#pragma once

#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <utility>

#include "ingest/store/postgres/connection_pool.h"
#include "ingest/store/postgres/postgres_store.h"

namespace ingest::store::postgres {

class PostgresStore final : public Store {
 public:
  PostgresStore(const PostgresStoreOptions& options, Clock* clock);

  // Opens one connection eagerly so a bad URL fails at open time.
  Status Init();

  std::vector<Migration> KnownMigrations() const override;
  Result<int> SchemaVersion() override;
  Status ApplyMigrations(int version, bool allow_data_loss) override;
  Result<bool> NewerStepsAreExpandOnly(int known_latest) override;

  Result<SubmitResult> SubmitDocument(const Document& doc, const Job& job) override;
  Result<Document> GetDocument(std::string_view document_id) override;
  Result<std::vector<DocumentListing>> ListDocuments(const DocumentFilter& filter) override;
  Result<DeletedDocument> DeleteDocument(std::string_view document_id, std::string_view reason,
                                         UnixMillis now) override;
  Result<int64_t> PurgeUnheldContent(std::string_view file_sha256,
                                     std::span<const std::string> text_sha256s) override;
  Result<std::vector<std::string>> ListOrphanBlobs(int limit) override;
  Result<bool> ForgetBlob(std::string_view key) override;
  Result<UnheldContent> CountUnheldContent() override;
  Result<UnheldContent> DeleteUnheldContent(int limit) override;
  Status UpdateDocumentParseInfo(std::string_view document_id, int page_count,
                                 std::string_view parser, std::string_view parse_note) override;
  Result<Job> GetJob(std::string_view job_id) override;
  Result<std::vector<JobView>> ListJobs(const JobFilter& filter) override;
  Result<std::vector<std::pair<JobState, int64_t>>> CountJobsByState() override;
  Result<std::optional<UnixMillis>> OldestQueuedAt(UnixMillis now) override;
  Result<std::vector<FinishedMinute>> FinishedPerMinute(
      UnixMillis since, std::optional<std::string_view> tenant) override;
  Result<std::optional<Lease>> LeaseNext(std::string_view owner, Duration ttl,
                                         UnixMillis now) override;
  Status Heartbeat(Lease* lease, Duration ttl, UnixMillis now) override;
  Result<Job> UpdateJob(std::string_view job_id, int64_t expected_version, const JobUpdate& update,
                        UnixMillis now) override;
  Status RecordStageTiming(std::string_view job_id, const StageTiming& timing) override;
  Result<std::vector<StageTiming>> ListStageTimings(std::string_view job_id) override;
  Result<JobDetail> GetJobDetail(std::string_view job_id, int max_events) override;
  Result<DocumentDetail> GetDocumentDetail(std::string_view document_id) override;

  Result<std::optional<ParseRecord>> GetParse(std::string_view file_sha256, std::string_view parser,
                                              std::string_view config_hash) override;
  Status PutParse(const ParseRecord& record) override;
  Status ReplaceChunks(std::string_view document_id, std::span<const Chunk> chunks) override;
  Result<std::vector<Chunk>> ListChunks(std::string_view document_id) override;
  Result<std::vector<std::string>> MissingVectors(
      const VectorSpace& space, std::span<const std::string> text_sha256s) override;
  Result<std::vector<std::string>> ClaimTexts(const VectorSpace& space,
                                              std::span<const std::string> text_sha256s,
                                              std::string_view owner, Duration ttl,
                                              UnixMillis now) override;
  Status PutVectors(const VectorSpace& space, std::span<const StoredVector> vectors) override;
  Result<std::optional<StoredVector>> GetVector(const VectorSpace& space,
                                                std::string_view text_sha256) override;
  Result<std::optional<std::vector<float>>> GetQueryVector(const VectorSpace& space,
                                                           std::string_view text_sha256,
                                                           UnixMillis now) override;
  Status PutQueryVector(const VectorSpace& space, std::string_view text_sha256,
                        std::span<const float> vector, int64_t max_entries,
                        UnixMillis now) override;
  Status MarkIndexed(std::string_view document_id, const VectorSpace& space,
                     UnixMillis now) override;
  using Store::ScanIndex;
  Status ScanIndex(const VectorSpace& space, const IndexFilter& filter,
                   const std::function<void(const IndexedChunk&)>& fn) override;
  Result<std::vector<IndexedSpace>> ListIndexedSpaces(
      std::optional<std::string_view> tenant) override;

  Result<std::vector<TextMatch>> SearchText(std::span<const std::string> terms,
                                            const IndexFilter& filter,
                                            const std::optional<VectorSpace>& space,
                                            int limit) override;
  Result<std::string> TextSearchLanguage() override;
  Status SetTextSearchLanguage(std::string_view language) override;

  Status AppendLedger(const LedgerEntry& entry) override;
  Result<std::vector<LedgerEntry>> ListLedger(std::optional<std::string_view> document_id) override;
  Result<std::map<std::string, int64_t>> SpendByOperation(
      std::optional<std::string_view> tenant) override;

  Result<ReserveResult> Reserve(const LedgerEntry& entry, UnixMillis now) override;
  Status SettleLedger(const LedgerEntry& entry, UnixMillis now) override;
  Status ReleaseLedger(std::string_view id, std::string_view note, UnixMillis now) override;
  Status MarkLedgerSent(std::string_view id, UnixMillis now) override;
  Result<std::vector<LedgerEntry>> ListExpiredReservations(UnixMillis now) override;
  Status PutBudget(const Budget& budget) override;
  Status DeleteBudget(BudgetScope scope, std::string_view scope_key, BudgetPeriod period) override;
  Result<std::vector<BudgetStatus>> ListBudgetStatus(UnixMillis now) override;
  Result<int64_t> StopBudgets(const LedgerEntry& row, int64_t overrun_nanos,
                              std::string_view reason, UnixMillis now) override;
  Result<int64_t> AckBudgets(std::optional<BudgetScope> scope, std::string_view scope_key,
                             BudgetPeriod period, UnixMillis now) override;
  Status ConfigureRateBucket(std::string_view key, std::string_view kind, double capacity,
                             double refill_per_sec, UnixMillis now) override;
  Result<RateGrant> AcquireRate(std::string_view key, std::span<const RateDemand> demands,
                                Duration max_wait, UnixMillis now) override;
  Status ObserveRate(std::string_view key, std::string_view kind, std::optional<double> remaining,
                     UnixMillis blocked_until, UnixMillis now) override;
  Result<std::vector<RateBucket>> ListRateBuckets(UnixMillis now) override;
  Status PutProviderState(const ProviderState& state) override;
  Result<std::vector<ProviderState>> ListProviderStates() override;
  Result<int64_t> WakeDeferred(std::span<const std::string> reasons, UnixMillis now) override;
  Status AppendEvent(const Event& event) override;
  Result<std::vector<Event>> ListEvents(std::optional<std::string_view> job_id, int limit) override;
  Status UpsertWorker(const WorkerInfo& worker) override;
  Result<std::vector<WorkerInfo>> ListWorkers() override;

  Status CreateApiKey(const ApiKey& key) override;
  Result<ApiKey> GetApiKey(std::string_view id) override;
  Result<std::optional<ApiKey>> FindApiKeyByPrefix(std::string_view prefix) override;
  Result<std::vector<ApiKey>> ListApiKeys() override;
  Status RevokeApiKey(std::string_view id, UnixMillis now) override;
  Result<ApiKey> RotateApiKey(std::string_view old_id, const ApiKey& replacement,
                              UnixMillis grace_until, UnixMillis now) override;
  Status TouchApiKey(std::string_view id, UnixMillis now) override;
  Status AppendAudit(const AuditEntry& entry) override;
  Result<std::vector<AuditEntry>> ListAudit(const AuditFilter& filter) override;

 private:
  // Runs fn(pqxx::work&) -> Status or Result<T> in one transaction on a pooled connection and
  // commits when it returns ok (rolls back otherwise). Exceptions become Status values; a
  // broken connection is dropped from the pool and reported as kUnavailable.
  template <typename Fn>
  auto Transact(std::string_view what, Fn&& fn) -> decltype(fn(std::declval<pqxx::work&>())) {
    using R = decltype(fn(std::declval<pqxx::work&>()));
    Result<ConnectionPool::Handle> conn = pool_.Acquire();
    if (!conn.ok()) return std::move(conn).status();
    try {
      pqxx::work w(**conn);
      R r = fn(w);
      if (r.ok()) w.commit();
      return r;
    } catch (...) {
      return CurrentExceptionToStatus(what, &*conn);
    }
  }

  // Refreshes `table`'s planner statistics after a bulk write when modifications since the
  // last ANALYZE reach the table's size (at least kAnalyzeMinRows). See postgres_content.cc.
  void AnalyzeIfGrown(std::string_view table, size_t rows_written);

  UnixMillis Now() const { return clock_->NowMillis(); }

  Clock* const clock_;
  ConnectionPool pool_;
};

}  // namespace ingest::store::postgres
