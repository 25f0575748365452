// Store conformance for full-text search (Store::SearchText, docs/search.md): matching and
// ranking, the index kept in step with chunk writes, deletions and version swaps, the same
// tenant scoping and filters as ScanIndex, query text that looks like query syntax, and the
// backfill of chunks written before the full-text migration. Runs on every backend.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ingest/common/hash.h"
#include "ingest/common/ids.h"
#include "ingest/store/store.h"
#include "store_factories_support.h"

namespace ingest::store {
namespace {

using ::ingest::testing::StoreFactory;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

const VectorSpace kSpace{"lexical-v1", 2};
const VectorSpace kOtherSpace{"other-model", 2};

int FtsVersion(const Store& store) {
  for (const Migration& m : store.KnownMigrations()) {
    if (m.name == "fts") return m.version;
  }
  return 0;
}

class StoreTextSearch : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam().make(&clock_);
    ASSERT_NE(store_, nullptr);
    ASSERT_GT(FtsVersion(*store_), 0);
    if (!MigrateBeforeFts()) {
      ASSERT_TRUE(store_->MigrateTo(store_->KnownMigrations().back().version).ok());
    }
  }
  virtual bool MigrateBeforeFts() const { return false; }
  UnixMillis Now() const { return clock_.NowMillis(); }

  std::string Submit(const std::string& content, const std::string& external_id = "",
                     const std::string& metadata = "", const std::string& tenant = "default") {
    Document d;
    d.tenant = tenant;
    d.sha256 = Sha256Hex(content);
    d.id = DocumentId(tenant, d.sha256);
    d.filename = content + ".md";
    d.bytes = static_cast<int64_t>(content.size());
    d.blob_key = d.sha256;
    d.external_id = external_id;
    d.metadata_json = metadata;
    Job j;
    j.id = JobId(d.id);
    j.document_id = d.id;
    j.next_attempt_at = Now();
    auto r = store_->SubmitDocument(d, j);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    clock_.Advance(Duration(10));
    return d.id;
  }

  void Index(const std::string& doc, const std::vector<std::string>& texts, bool index = true,
             const VectorSpace& space = kSpace) {
    std::vector<Chunk> chunks;
    std::vector<StoredVector> vecs;
    for (size_t i = 0; i < texts.size(); ++i) {
      Chunk c;
      c.id = ChunkId(doc, "test@1", static_cast<int>(i));
      c.document_id = doc;
      c.ordinal = static_cast<int>(i);
      c.text = texts[i];
      c.text_sha256 = Sha256Hex(texts[i]);
      c.page_start = c.page_end = static_cast<int>(i) + 1;
      chunks.push_back(c);
      vecs.push_back(StoredVector{c.text_sha256, "local", {1.0f, static_cast<float>(i)}});
    }
    ASSERT_TRUE(store_->ReplaceChunks(doc, chunks).ok());
    ASSERT_TRUE(store_->PutVectors(space, vecs).ok());
    if (index) {
      Status st = store_->MarkIndexed(doc, space, Now());
      ASSERT_TRUE(st.ok()) << st.ToString();
    }
  }

  std::vector<TextMatch> Search(const std::vector<std::string>& terms,
                                const IndexFilter& filter = {},
                                const std::optional<VectorSpace>& space = std::nullopt,
                                int limit = 10) {
    auto r = store_->SearchText(terms, filter, space, limit);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<TextMatch>{};
  }
  std::vector<std::string> Texts(const std::vector<std::string>& terms,
                                 const IndexFilter& filter = {},
                                 const std::optional<VectorSpace>& space = std::nullopt) {
    std::vector<std::string> out;
    for (const TextMatch& m : Search(terms, filter, space)) out.push_back(m.chunk.text);
    return out;
  }

  FakeClock clock_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreTextSearch, AnyTermMatchesAndBetterMatchesRankFirst) {
  const std::string doc = Submit("manual");
  Index(doc, {"The refund window is thirty days after delivery.",
              "Refunds are paid to the original card.", "Shipping takes five days.",
              "Unrelated text about llamas."});
  auto hits = Search({"refund", "window"});
  ASSERT_EQ(hits.size(), 2u);
  // Both words beat one (stemmed: refunds finds refund).
  EXPECT_EQ(hits[0].chunk.ordinal, 0);
  EXPECT_EQ(hits[1].chunk.ordinal, 1);
  EXPECT_GT(hits[0].score, hits[1].score);
  EXPECT_GT(hits[1].score, 0);
  // Fields come with the chunk.
  EXPECT_EQ(hits[0].chunk.document_id, doc);
  EXPECT_EQ(hits[0].chunk.page_start, 1);
  EXPECT_EQ(hits[0].filename, "manual.md");
  EXPECT_EQ(hits[0].metadata_json, "{}");
  // Stemming: "day" finds "days".
  EXPECT_THAT(Texts({"day"}),
              UnorderedElementsAre("The refund window is thirty days after delivery.",
                                   "Shipping takes five days."));
  EXPECT_THAT(Texts({"nothing", "matches"}), IsEmpty());
  EXPECT_THAT(Texts({}), IsEmpty());
  // The limit.
  EXPECT_EQ(Search({"refund", "days", "llamas"}, {}, std::nullopt, 2).size(), 2u);
  auto bad = store_->SearchText(std::vector<std::string>{"x"}, {}, std::nullopt, 0);
  EXPECT_EQ(bad.status().reason(), "invalid_k");
}

// Text that is query syntax in FTS5 or tsquery is searched as words, never parsed.
TEST_P(StoreTextSearch, SyntaxInTermsIsNeverParsed) {
  const std::string doc = Submit("syntax");
  Index(doc, {"foo and bar near baz", "quotes \" and 'apostrophes' and back\\slash"});
  for (const char* t : {"\"foo",
                        "AND(",
                        "NEAR(foo bar, 2)",
                        "foo*",
                        "^foo",
                        "text:foo",
                        "foo'",
                        "'",
                        "\"",
                        "\\",
                        "!foo",
                        "foo & bar",
                        "foo | bar",
                        "foo <-> bar",
                        "(",
                        ")",
                        "*",
                        ":",
                        "-",
                        "+",
                        "OR",
                        "NOT",
                        "\"\"",
                        "",
                        "   ",
                        "foo\"bar",
                        "{text}: foo",
                        "'\\''",
                        "\u201c",
                        "\u2014 \u2014",
                        "NEAR(\u201cfoo\u201d)"}) {
    auto r = store_->SearchText(std::vector<std::string>{t}, {}, std::nullopt, 10);
    EXPECT_TRUE(r.ok()) << "term [" << t << "]: " << r.status().ToString();
  }
  EXPECT_THAT(Texts({"\"foo"}), ElementsAre("foo and bar near baz"));
  EXPECT_THAT(Texts({"baz)"}), ElementsAre("foo and bar near baz"));
  EXPECT_THAT(Texts({"apostrophes'"}), ElementsAre("quotes \" and 'apostrophes' and back\\slash"));
}

TEST_P(StoreTextSearch, OnlyIndexedLiveDocumentsInTheSpaceAsked) {
  const std::string indexed = Submit("a");
  Index(indexed, {"alpha indexed"});
  const std::string pending = Submit("b");
  Index(pending, {"alpha pending"}, /*index=*/false);  // chunked, not yet searchable
  const std::string other = Submit("c");
  Index(other, {"alpha other space"}, true, kOtherSpace);
  EXPECT_THAT(Texts({"alpha"}), UnorderedElementsAre("alpha indexed", "alpha other space"));
  EXPECT_THAT(Texts({"alpha"}, {}, kSpace), ElementsAre("alpha indexed"));
  EXPECT_THAT(Texts({"alpha"}, {}, kOtherSpace), ElementsAre("alpha other space"));
  ASSERT_TRUE(store_->DeleteDocument(indexed, "deleted", Now()).ok());
  EXPECT_THAT(Texts({"alpha"}), ElementsAre("alpha other space"));
  ASSERT_TRUE(store_->MarkIndexed(pending, kSpace, Now()).ok());
  EXPECT_THAT(Texts({"alpha"}, {}, kSpace), ElementsAre("alpha pending"));
}

TEST_P(StoreTextSearch, IndexFollowsChunkRewrites) {
  const std::string doc = Submit("doc");
  Index(doc, {"original wording", "stays the same"});
  EXPECT_THAT(Texts({"original"}), ElementsAre("original wording"));
  // The same chunk ids with new text (a re-chunk), and one chunk fewer.
  Index(doc, {"rewritten wording"});
  EXPECT_THAT(Texts({"original"}), IsEmpty());
  EXPECT_THAT(Texts({"stays"}), IsEmpty());
  EXPECT_THAT(Texts({"rewritten"}), ElementsAre("rewritten wording"));
  EXPECT_THAT(Texts({"wording"}), ElementsAre("rewritten wording"));
  // Rewriting the same text again changes nothing.
  Index(doc, {"rewritten wording"});
  EXPECT_THAT(Texts({"wording"}), ElementsAre("rewritten wording"));
}

TEST_P(StoreTextSearch, VersionSwapShowsOnlyTheNewVersion) {
  const std::string v1 = Submit("v1", "policy.md");
  Index(v1, {"policy version one", "shared paragraph"});
  const std::string v2 = Submit("v2", "policy.md");
  Index(v2, {"policy version two", "shared paragraph"}, /*index=*/false);
  EXPECT_THAT(Texts({"policy"}), ElementsAre("policy version one"));
  ASSERT_TRUE(store_->MarkIndexed(v2, kSpace, Now()).ok());
  EXPECT_THAT(Texts({"policy"}), ElementsAre("policy version two"));
  auto shared = Search({"shared"});
  ASSERT_EQ(shared.size(), 1u);
  EXPECT_EQ(shared[0].chunk.document_id, v2);
}

TEST_P(StoreTextSearch, FiltersAsScanIndex) {
  const std::string a = Submit("a", "claims/1.pdf", R"({"team":"claims","year":2024})");
  Index(a, {"premium claims note"});
  const std::string b = Submit("b", "legal/1.pdf", R"({"team":"legal","year":"2024"})");
  Index(b, {"premium legal note"});
  const std::string c = Submit("c", "", "", "other-tenant");
  Index(c, {"premium other tenant"});
  IndexFilter tenant;
  tenant.tenant = "default";
  EXPECT_THAT(Texts({"premium"}, tenant),
              UnorderedElementsAre("premium claims note", "premium legal note"));
  IndexFilter team = tenant;
  team.metadata.push_back({"team", "\"claims\""});
  auto hits = Search({"premium"}, team);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].external_id, "claims/1.pdf");
  EXPECT_NE(hits[0].metadata_json.find("claims"), std::string::npos);
  IndexFilter year;
  year.metadata.push_back({"year", "2024"});  // the number, not the string
  EXPECT_THAT(Texts({"premium"}, year), ElementsAre("premium claims note"));
  IndexFilter prefix;
  prefix.external_id_prefix = "legal/";
  EXPECT_THAT(Texts({"premium"}, prefix), ElementsAre("premium legal note"));
  IndexFilter one;
  one.document_id = c;
  EXPECT_THAT(Texts({"premium"}, one), ElementsAre("premium other tenant"));
  IndexFilter bad;
  bad.metadata.push_back({"bad\"key", "1"});
  EXPECT_EQ(store_->SearchText(std::vector<std::string>{"premium"}, bad, std::nullopt, 5)
                .status()
                .reason(),
            "invalid_metadata_key");
}

TEST_P(StoreTextSearch, LanguageIsEnglishByDefault) {
  auto lang = store_->TextSearchLanguage();
  ASSERT_TRUE(lang.ok()) << lang.status().ToString();
  EXPECT_EQ(*lang, "english");
  EXPECT_TRUE(store_->SetTextSearchLanguage("english").ok());
  EXPECT_EQ(store_->SetTextSearchLanguage("no_such_language").reason(), "invalid_fts_language");
}

// PostgreSQL re-indexes every chunk in a new language; SQLite has only English (Porter).
TEST_P(StoreTextSearch, ChangingTheLanguageReindexesEveryChunk) {
  const std::string doc = Submit("lang");
  Index(doc, {"the refunds arrive", "a refund"});
  // English: stemmed (refunds = refund), stop words dropped on PostgreSQL.
  EXPECT_THAT(Texts({"refund"}), UnorderedElementsAre("the refunds arrive", "a refund"));
  Status simple = store_->SetTextSearchLanguage("simple");
  if (GetParam().name == "sqlite") {
    EXPECT_EQ(simple.reason(), "invalid_fts_language");
    return;
  }
  ASSERT_TRUE(simple.ok()) << simple.ToString();
  EXPECT_EQ(*store_->TextSearchLanguage(), "simple");
  EXPECT_THAT(Texts({"refund"}), ElementsAre("a refund"));         // no stemming now
  EXPECT_THAT(Texts({"the"}), ElementsAre("the refunds arrive"));  // nor stop words
  Index(doc, {"the refunds arrive", "refunds again"});             // written in the new language
  EXPECT_THAT(Texts({"refunds"}), UnorderedElementsAre("the refunds arrive", "refunds again"));
  ASSERT_TRUE(store_->SetTextSearchLanguage("english").ok());
  EXPECT_THAT(Texts({"refund"}), UnorderedElementsAre("the refunds arrive", "refunds again"));
  EXPECT_THAT(Texts({"the"}), IsEmpty());
}

// Chunks written before the full-text migration are found after it; down and up again too.
class StoreTextSearchBackfill : public StoreTextSearch {
 protected:
  bool MigrateBeforeFts() const override { return true; }
};

TEST_P(StoreTextSearchBackfill, MigrationIndexesExistingChunks) {
  const int fts = FtsVersion(*store_);
  ASSERT_TRUE(store_->MigrateTo(fts - 1).ok());
  const std::string doc = Submit("old");
  Index(doc, {"written before full text search existed", "second old chunk"});
  ASSERT_TRUE(store_->MigrateTo(store_->KnownMigrations().back().version).ok());
  EXPECT_THAT(Texts({"existed"}), ElementsAre("written before full text search existed"));
  EXPECT_THAT(Texts({"second"}), ElementsAre("second old chunk"));
  ASSERT_TRUE(store_->MigrateTo(fts - 1).ok());
  ASSERT_TRUE(store_->MigrateTo(store_->KnownMigrations().back().version).ok());
  EXPECT_THAT(Texts({"old", "existed"}),
              UnorderedElementsAre("written before full text search existed", "second old chunk"));
  ASSERT_TRUE(store_->DeleteDocument(doc, "deleted", Now()).ok());
  EXPECT_THAT(Texts({"old", "existed"}), IsEmpty());
}

auto Name = [](const ::testing::TestParamInfo<StoreFactory>& info) { return info.param.name; };
INSTANTIATE_TEST_SUITE_P(AllStores, StoreTextSearch,
                         ::testing::ValuesIn(ingest::testing::StoreFactories()), Name);
INSTANTIATE_TEST_SUITE_P(AllStores, StoreTextSearchBackfill,
                         ::testing::ValuesIn(ingest::testing::StoreFactories()), Name);

}  // namespace
}  // namespace ingest::store
