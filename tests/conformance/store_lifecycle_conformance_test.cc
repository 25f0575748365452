// Store conformance for documents as a living collection (issue 18, docs/documents.md):
// metadata and external_id, versions and the atomic version swap, deletion (tombstones),
// listing with filters and pagination, metadata filters in ScanIndex. Runs on every backend.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <nlohmann/json.hpp>
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
using ::testing::UnorderedElementsAre;

const VectorSpace kSpace{"lexical-v1", 2};

class StoreLifecycle : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam().make(&clock_);
    ASSERT_NE(store_, nullptr);
    ASSERT_TRUE(store_->MigrateTo(store_->KnownMigrations().back().version).ok());
  }
  UnixMillis Now() const { return clock_.NowMillis(); }

  // Submits the bytes `content` as `name`, with metadata/external_id as given.
  SubmitResult Submit(const std::string& content, const std::string& external_id = "",
                      const std::string& metadata = "", const std::string& tenant = "default",
                      const std::string& job_id = "") {
    Document d;
    d.tenant = tenant;
    d.sha256 = Sha256Hex(content);
    d.id = DocumentId(tenant, d.sha256);
    d.filename = content + ".md";
    d.mime = "text/markdown";
    d.bytes = static_cast<int64_t>(content.size());
    d.blob_key = d.sha256;
    d.external_id = external_id;
    d.metadata_json = metadata;
    Job j;
    j.id = job_id.empty() ? JobId(d.id) : job_id;
    j.document_id = d.id;
    j.next_attempt_at = Now();
    auto r = store_->SubmitDocument(d, j);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    clock_.Advance(Duration(10));
    return r.ok() ? *r : SubmitResult{};
  }

  // Chunks with these texts, their vectors, and (when `index`) the index entry.
  void Index(const std::string& doc, const std::vector<std::string>& texts, bool index = true) {
    std::vector<Chunk> chunks;
    std::vector<StoredVector> vecs;
    for (size_t i = 0; i < texts.size(); ++i) {
      Chunk c;
      c.id = ChunkId(doc, "test@1", static_cast<int>(i));
      c.document_id = doc;
      c.ordinal = static_cast<int>(i);
      c.text = texts[i];
      c.text_sha256 = Sha256Hex(texts[i]);
      chunks.push_back(c);
      vecs.push_back(StoredVector{c.text_sha256, "local", {1.0f, static_cast<float>(i)}});
    }
    ASSERT_TRUE(store_->ReplaceChunks(doc, chunks).ok());
    ASSERT_TRUE(store_->PutVectors(kSpace, vecs).ok());
    if (index) {
      Status st = store_->MarkIndexed(doc, kSpace, Now());
      ASSERT_TRUE(st.ok()) << st.ToString();
    }
  }

  struct Seen {
    std::string document_id, text, external_id;
    nlohmann::json metadata;
  };
  std::vector<Seen> Scan(const IndexFilter& filter = {}) {
    std::vector<Seen> out;
    Status st = store_->ScanIndex(kSpace, filter, [&](const IndexedChunk& c) {
      out.push_back({c.chunk->document_id, c.chunk->text, std::string(c.external_id),
                     nlohmann::json::parse(c.metadata_json)});
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }
  std::multiset<std::string> Texts(const IndexFilter& filter = {}) {
    std::multiset<std::string> out;
    for (const Seen& s : Scan(filter)) out.insert(s.text);
    return out;
  }
  bool HasVector(const std::string& text) {
    auto v = store_->GetVector(kSpace, Sha256Hex(text));
    EXPECT_TRUE(v.ok());
    return v.ok() && v->has_value();
  }

  FakeClock clock_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreLifecycle, MetadataAndExternalIdRoundTripAndReachTheIndex) {
  SubmitResult a = Submit("alpha", "docs/a.md", R"({"team":"claims","year":2024})");
  EXPECT_TRUE(a.created);
  EXPECT_EQ(a.document.version, 1);
  auto got = store_->GetDocument(a.document.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->external_id, "docs/a.md");
  EXPECT_EQ(nlohmann::json::parse(got->metadata_json),
            nlohmann::json::parse(R"({"team":"claims","year":2024})"));
  EXPECT_EQ(got->deleted_at, 0);
  SubmitResult plain = Submit("plain");
  EXPECT_EQ(nlohmann::json::parse(plain.document.metadata_json), nlohmann::json::object());
  EXPECT_EQ(plain.document.external_id, "");

  Index(a.document.id, {"a0", "a1"});
  std::vector<Seen> seen = Scan();
  ASSERT_EQ(seen.size(), 2u);
  for (const Seen& s : seen) {
    EXPECT_EQ(s.external_id, "docs/a.md");
    EXPECT_EQ(s.metadata["team"], "claims");  // chunks inherit the document's metadata
  }

  // Same bytes again: no new job; metadata replaced when given, kept when not.
  SubmitResult again = Submit("alpha", "docs/a.md", "");
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.job.id, a.job.id);
  EXPECT_EQ(nlohmann::json::parse(again.document.metadata_json)["team"], "claims");
  SubmitResult relabel = Submit("alpha", "docs/a.md", R"({"team":"legal"})");
  EXPECT_FALSE(relabel.created);
  EXPECT_EQ(nlohmann::json::parse(relabel.document.metadata_json)["team"], "legal");
  EXPECT_EQ(Scan().front().metadata["team"], "legal");
}

TEST_P(StoreLifecycle, ScanIndexFiltersOnMetadataTypeExactly) {
  SubmitResult a = Submit("alpha", "s3://bucket/a", R"({"team":"claims","year":2024,"ok":true})");
  SubmitResult b = Submit("beta", "s3://bucket/b", R"({"team":"legal","year":"2024"})");
  SubmitResult c = Submit("gamma", "", R"({"team":"claims"})", "other-tenant");
  Index(a.document.id, {"a0"});
  Index(b.document.id, {"b0"});
  Index(c.document.id, {"c0"});
  auto with = [](std::vector<MetadataEquals> m, std::optional<std::string> tenant = "default") {
    IndexFilter f;
    f.tenant = tenant;
    f.metadata = std::move(m);
    return f;
  };
  EXPECT_THAT(Texts(with({{"team", "\"claims\""}})), UnorderedElementsAre("a0"));
  EXPECT_THAT(Texts(with({{"team", "\"claims\""}}, std::nullopt)),
              UnorderedElementsAre("a0", "c0"));
  EXPECT_THAT(Texts(with({{"year", "2024"}})), UnorderedElementsAre("a0"));      // the number
  EXPECT_THAT(Texts(with({{"year", "\"2024\""}})), UnorderedElementsAre("b0"));  // the string
  EXPECT_THAT(Texts(with({{"ok", "true"}})), UnorderedElementsAre("a0"));
  EXPECT_THAT(Texts(with({{"ok", "1"}})), UnorderedElementsAre());  // true is not 1
  EXPECT_THAT(Texts(with({{"team", "\"claims\""}, {"year", "\"2024\""}})), UnorderedElementsAre());
  EXPECT_THAT(Texts(with({{"missing", "\"x\""}})), UnorderedElementsAre());
  IndexFilter prefix;
  prefix.external_id_prefix = "s3://bucket/b";
  EXPECT_THAT(Texts(prefix), UnorderedElementsAre("b0"));
  prefix.external_id_prefix = "";  // every document that has an external_id
  EXPECT_THAT(Texts(prefix), UnorderedElementsAre("a0", "b0"));
  IndexFilter one;
  one.document_id = b.document.id;
  EXPECT_THAT(Texts(one), UnorderedElementsAre("b0"));
  Status bad = store_->ScanIndex(kSpace, with({{"bad\"key", "1"}}), [](const IndexedChunk&) {});
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
}

TEST_P(StoreLifecycle, NewVersionReplacesTheOldOneWhenIndexed) {
  SubmitResult v1 = Submit("report v1", "reports/q3.pdf", R"({"rev":1})");
  Index(v1.document.id, {"intro", "old numbers"});
  SubmitResult v2 = Submit("report v2", "reports/q3.pdf", R"({"rev":2})");
  ASSERT_TRUE(v2.created);
  EXPECT_NE(v2.document.id, v1.document.id);
  EXPECT_EQ(v2.document.version, 2);
  // Chunked and embedded but not indexed yet: searches still see v1 only.
  Index(v2.document.id, {"intro", "new numbers"}, /*index=*/false);
  EXPECT_THAT(Texts(), UnorderedElementsAre("intro", "old numbers"));
  ASSERT_TRUE(store_->MarkIndexed(v2.document.id, kSpace, Now()).ok());
  EXPECT_THAT(Texts(), UnorderedElementsAre("intro", "new numbers"));
  auto old = store_->GetDocument(v1.document.id);
  ASSERT_TRUE(old.ok());
  EXPECT_NE(old->deleted_at, 0);
  EXPECT_EQ(old->deleted_reason, "superseded");
  EXPECT_TRUE(store_->ListChunks(v1.document.id)->empty());
  // The shared text keeps its vector (v2 reused it); the old-only text's vector is gone.
  EXPECT_TRUE(HasVector("intro"));
  EXPECT_FALSE(HasVector("old numbers"));
  EXPECT_TRUE(HasVector("new numbers"));
  // Listing shows the live version only.
  DocumentFilter f;
  f.external_id = "reports/q3.pdf";
  auto rows = store_->ListDocuments(f);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].document.id, v2.document.id);
}

TEST_P(StoreLifecycle, AnOlderVersionIndexedLastNeverShows) {
  SubmitResult v1 = Submit("one", "k");
  SubmitResult v2 = Submit("two", "k");
  Index(v1.document.id, {"one"}, /*index=*/false);  // chunked and embedded, not yet indexed
  Index(v2.document.id, {"two"});                   // the newer version finishes first
  EXPECT_THAT(Texts(), UnorderedElementsAre("two"));
  auto old = store_->GetDocument(v1.document.id);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->deleted_reason, "superseded");
  // Its index stage comes too late: refused, and search still shows v2 only.
  EXPECT_EQ(store_->MarkIndexed(v1.document.id, kSpace, Now()).reason(), "document_deleted");
  EXPECT_THAT(Texts(), UnorderedElementsAre("two"));
}

TEST_P(StoreLifecycle, DeleteRemovesEverythingButTheTombstone) {
  SubmitResult a = Submit("alpha", "a", R"({"pii":"Jane Doe"})");
  SubmitResult b = Submit("beta");
  Index(a.document.id, {"shared", "only in a"});
  Index(b.document.id, {"shared"});
  ParseRecord parse;
  parse.file_sha256 = a.document.sha256;
  parse.parser = "local";
  parse.config_hash = "h";
  parse.pages = {PageText{1, "alpha"}};
  ASSERT_TRUE(store_->PutParse(parse).ok());

  auto del = store_->DeleteDocument(a.document.id, "deleted", Now());
  ASSERT_TRUE(del.ok()) << del.status().ToString();
  EXPECT_EQ(del->chunks, 2);
  EXPECT_EQ(del->vectors, 1);  // "only in a"; "shared" is still held by b
  EXPECT_TRUE(del->parse_removed);
  EXPECT_THAT(Texts(), UnorderedElementsAre("shared"));
  for (const Seen& s : Scan()) EXPECT_EQ(s.document_id, b.document.id);
  EXPECT_FALSE(HasVector("only in a"));
  EXPECT_TRUE(HasVector("shared"));
  EXPECT_FALSE(store_->GetParse(a.document.sha256, "local", "h")->has_value());
  auto tomb = store_->GetDocument(a.document.id);
  ASSERT_TRUE(tomb.ok());
  EXPECT_NE(tomb->deleted_at, 0);
  EXPECT_EQ(tomb->deleted_reason, "deleted");
  EXPECT_EQ(tomb->metadata_json.find("Jane"), std::string::npos);
  EXPECT_EQ(tomb->filename, "");  // the caller's words go; ids, hashes and dates stay
  EXPECT_EQ(tomb->external_id, "");
  // Gone from listings; a second delete is NotFound; late stage writes are refused.
  auto rows = store_->ListDocuments(DocumentFilter{});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].document.id, b.document.id);
  EXPECT_EQ(store_->DeleteDocument(a.document.id, "deleted", Now()).status().code(),
            StatusCode::kNotFound);
  Chunk late;
  late.id = "late";
  late.document_id = a.document.id;
  late.text = "late";
  late.text_sha256 = Sha256Hex("late");
  Status refused = store_->ReplaceChunks(a.document.id, std::vector<Chunk>{late});
  EXPECT_EQ(refused.reason(), "document_deleted");
  EXPECT_EQ(store_->MarkIndexed(a.document.id, kSpace, Now()).reason(), "document_deleted");
  // The blob is held by the tombstone only: an orphan until forgotten.
  auto orphans = store_->ListOrphanBlobs(10);
  ASSERT_TRUE(orphans.ok());
  EXPECT_THAT(*orphans, ::testing::ElementsAre(a.document.blob_key));
  EXPECT_TRUE(*store_->ForgetBlob(a.document.blob_key));
  EXPECT_TRUE(store_->ListOrphanBlobs(10)->empty());
  EXPECT_EQ(store_->DeleteDocument("no-such-id", "deleted", Now()).status().code(),
            StatusCode::kNotFound);
}

// `ingestd gc`: cache rows nothing live holds are counted, then deleted in batches; rows a
// live document or a chunk holds stay.
TEST_P(StoreLifecycle, UnheldContentIsCountedAndDeleted) {
  EXPECT_EQ(store_->CountUnheldContent()->parses + store_->CountUnheldContent()->vectors, 0);
  SubmitResult a = Submit("alpha");
  Index(a.document.id, {"held"});
  ParseRecord parse;
  parse.parser = "local";
  parse.config_hash = "h";
  parse.pages = {PageText{1, "alpha"}};
  parse.file_sha256 = a.document.sha256;
  ASSERT_TRUE(store_->PutParse(parse).ok());  // held by the live document
  parse.file_sha256 = Sha256Hex("bytes nobody holds");
  ASSERT_TRUE(store_->PutParse(parse).ok());
  std::vector<StoredVector> stray = {{Sha256Hex("stray one"), "local", {1.0f, 2.0f}},
                                     {Sha256Hex("stray two"), "local", {3.0f, 4.0f}}};
  ASSERT_TRUE(store_->PutVectors(kSpace, stray).ok());

  auto counted = store_->CountUnheldContent();
  ASSERT_TRUE(counted.ok()) << counted.status().ToString();
  EXPECT_EQ(counted->parses, 1);
  EXPECT_GT(counted->parse_bytes, 0);
  EXPECT_EQ(counted->vectors, 2);
  EXPECT_GT(counted->vector_bytes, 0);

  auto first = store_->DeleteUnheldContent(1);  // at most one of each kind
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->parses, 1);
  EXPECT_EQ(first->parse_bytes, counted->parse_bytes);
  EXPECT_EQ(first->vectors, 1);
  auto rest = store_->DeleteUnheldContent(0);  // no limit
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->parses, 0);
  EXPECT_EQ(rest->vectors, 1);
  EXPECT_EQ(first->vector_bytes + rest->vector_bytes, counted->vector_bytes);
  auto after = store_->CountUnheldContent();
  EXPECT_EQ(after->parses + after->vectors, 0);
  // What is held stays.
  EXPECT_TRUE(HasVector("held"));
  EXPECT_TRUE(store_->GetParse(a.document.sha256, "local", "h")->has_value());
  EXPECT_THAT(Texts(), UnorderedElementsAre("held"));
}

TEST_P(StoreLifecycle, SameBytesAfterDeleteReviveTheDocumentWithANewJob) {
  SubmitResult a = Submit("alpha", "a", R"({"v":1})");
  Index(a.document.id, {"a0"});
  ASSERT_TRUE(store_->DeleteDocument(a.document.id, "deleted", Now()).ok());
  SubmitResult back = Submit("alpha", "a", R"({"v":2})", "default", "job-revived");
  EXPECT_TRUE(back.created);
  EXPECT_EQ(back.document.id, a.document.id);
  EXPECT_EQ(back.job.id, "job-revived");
  EXPECT_EQ(back.document.deleted_at, 0);
  EXPECT_EQ(back.document.version, 1);  // the deleted one's external_id went with it
  EXPECT_EQ(back.document.blob_key, a.document.blob_key);
  auto got = store_->GetDocument(a.document.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->deleted_at, 0);
  EXPECT_EQ(nlohmann::json::parse(got->metadata_json)["v"], 2);
  // Its newest job is the new one; the blob is live again.
  SubmitResult again = Submit("alpha", "a");
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.job.id, "job-revived");
  EXPECT_TRUE(store_->ListOrphanBlobs(10)->empty());
  Index(a.document.id, {"a0"});
  EXPECT_THAT(Texts(), UnorderedElementsAre("a0"));
}

TEST_P(StoreLifecycle, ListDocumentsFiltersAndPages) {
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    const std::string meta = i % 2 == 0 ? R"({"team":"claims"})" : R"({"team":"legal"})";
    ids.push_back(
        Submit("doc" + std::to_string(i), "folder/" + std::to_string(i), meta).document.id);
  }
  Submit("elsewhere", "other/x", R"({"team":"claims"})");
  Submit("foreign", "folder/9", "", "acme");
  DocumentFilter f;
  f.tenant = "default";
  f.external_id_prefix = "folder/";
  f.limit = 3;
  std::vector<std::string> seen;
  for (int page = 0; page < 5; ++page) {
    auto rows = store_->ListDocuments(f);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    for (const auto& r : *rows) {
      seen.push_back(r.document.id);
      ASSERT_TRUE(r.job.has_value());
      EXPECT_EQ(r.job->state, JobState::kQueued);
    }
    if (rows->size() < 3) break;
    f.before = std::make_pair(rows->back().document.created_at, rows->back().document.id);
  }
  // Newest first, every one once.
  EXPECT_EQ(seen, std::vector<std::string>(ids.rbegin(), ids.rend()));

  DocumentFilter claims;
  claims.tenant = "default";
  claims.metadata = {{"team", "\"claims\""}};
  EXPECT_EQ(store_->ListDocuments(claims)->size(), 5u);  // doc0, 2, 4, 6 and elsewhere
  claims.external_id_prefix = "folder/";
  EXPECT_EQ(store_->ListDocuments(claims)->size(), 4u);

  auto first = store_->GetDocument(ids[0]);
  DocumentFilter range;
  range.tenant = "default";
  range.created_from = first->created_at + 1;
  range.created_until = first->created_at + 25;  // doc1 and doc2 (10 ms apart)
  EXPECT_EQ(store_->ListDocuments(range)->size(), 2u);

  DocumentFilter state;
  state.state = JobState::kComplete;
  EXPECT_TRUE(store_->ListDocuments(state)->empty());
}

// A search never sees two versions of a document, nor none, while versions replace each other.
TEST_P(StoreLifecycle, VersionSwapIsAtomicUnderConcurrentScans) {
  constexpr int kVersions = 12;
  SubmitResult first = Submit("v0", "live.md");
  Index(first.document.id, {"v0 a", "v0 b", "v0 c"});
  std::atomic<bool> done{false};
  std::atomic<int> scans{0}, bad{0};
  std::thread reader([&] {
    while (!done.load()) {
      std::set<std::string> docs;
      int rows = 0;
      Status st = store_->ScanIndex(kSpace, IndexFilter{}, [&](const IndexedChunk& c) {
        docs.insert(std::string(c.chunk->document_id));
        ++rows;
      });
      if (!st.ok() || docs.size() != 1 || rows != 3) bad.fetch_add(1);
      scans.fetch_add(1);
    }
  });
  for (int v = 1; v <= kVersions; ++v) {
    const std::string tag = "v" + std::to_string(v);
    SubmitResult next = Submit(tag, "live.md");
    Index(next.document.id, {tag + " a", tag + " b", "v0 c"});
  }
  // At least a few scans after the last swap.
  const int after = scans.load();
  while (scans.load() < after + 3) std::this_thread::yield();
  done.store(true);
  reader.join();
  EXPECT_EQ(bad.load(), 0) << "of " << scans.load() << " scans";
  EXPECT_THAT(Texts(), UnorderedElementsAre("v12 a", "v12 b", "v0 c"));
}

INSTANTIATE_TEST_SUITE_P(AllStores, StoreLifecycle,
                         ::testing::ValuesIn(ingest::testing::StoreFactories()),
                         [](const ::testing::TestParamInfo<StoreFactory>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace ingest::store
