#include "ingest/governor/reconcile.h"

#include <gtest/gtest.h>

namespace ingest::governor {
namespace {

constexpr UnixMillis kDec7 = 1'796'601'600'000;  // 2026-12-07T00:00:00Z

store::LedgerEntry Row(std::string service, std::string model, int64_t tokens, int64_t pages,
                       int64_t credits, int64_t nanos, UnixMillis at,
                       store::LedgerState state = store::LedgerState::kSettled) {
  store::LedgerEntry e;
  e.service = std::move(service);
  e.model = std::move(model);
  e.tokens = tokens;
  e.pages = pages;
  e.credits = credits;
  e.requests = 1;
  e.cost_nanos = nanos;
  e.created_at = at;
  e.state = state;
  return e;
}

TEST(ReconcileTest, OpenAiUsageApiBucketsAndLlamaParseDaysAreRead) {
  UsageBook book;
  ASSERT_TRUE(ReadUsageExport(R"({"object": "page", "data": [
      {"object": "bucket", "start_time": 1796601600, "end_time": 1796688000, "results": [
        {"object": "organization.usage.embeddings.result", "model": "text-embedding-3-small",
         "input_tokens": 778, "num_model_requests": 6}]},
      {"object": "bucket", "start_time": 1796688000, "end_time": 1796774400, "results": []}],
      "has_more": false})",
                              &book)
                  .ok());
  ASSERT_TRUE(
      ReadUsageExport(
          R"({"data": [{"date": "2026-12-07", "pages": 12, "credits": 36, "jobs": 2}]})", &book)
          .ok());
  ASSERT_EQ(book.size(), 2u);
  const UsageAmounts& o = book.at({"openai", "2026-12-07", "text-embedding-3-small"});
  EXPECT_EQ(o.tokens, 778);
  EXPECT_EQ(o.requests, 6);
  const UsageAmounts& l = book.at({"llamaparse", "2026-12-07", ""});
  EXPECT_EQ(l.pages, 12);
  EXPECT_EQ(l.credits, 36);
  EXPECT_EQ(l.requests, 2);
}

TEST(ReconcileTest, CsvExportsOfBothKinds) {
  UsageBook book;
  ASSERT_TRUE(ReadUsageExport("date,model,input_tokens,num_model_requests\n"
                              "2026-12-07,text-embedding-3-small,700,5\n"
                              "2026-12-07,text-embedding-3-small,78,1\n",
                              &book)
                  .ok());
  ASSERT_TRUE(ReadUsageExport("Date,Pages,Credits\n2026-12-07T00:00:00Z,4,12\n", &book).ok());
  EXPECT_EQ(book.at({"openai", "2026-12-07", "text-embedding-3-small"}).tokens, 778);
  EXPECT_EQ(book.at({"llamaparse", "2026-12-07", ""}).credits, 12);
  for (const char* bad :
       {"", "date,foo\n2026-12-07,1\n", "date,pages,credits\nnope,1,2\n",
        "date,pages,credits\n2026-12-07,1,2.5\n", "{\"data\": [{\"x\": 1}]}", "{not json"}) {
    UsageBook b;
    EXPECT_EQ(ReadUsageExport(bad, &b).reason(), "bad_usage_export") << bad;
  }
}

TEST(ReconcileTest, EqualBooksHaveNoDifferenceAndDifferencesArePriced) {
  const PriceTable prices;
  std::vector<store::LedgerEntry> rows = {
      Row("openai", "text-embedding-3-small", 700, 0, 0, 14'000, kDec7 + 1000),
      Row("openai", "text-embedding-3-small", 78, 0, 0, 1'560, kDec7 + 2000),
      Row("openai", "text-embedding-3-small", 50, 0, 0, 1'000, kDec7 + 3000,
          store::LedgerState::kReleased),  // billed nothing
      Row("llamaparse", "", 0, 4, 12, 15'000'000, kDec7 + 4000),
      Row("local", "lexical-v1", 999, 0, 0, 0, kDec7),  // not covered by the exports
  };
  std::map<UsageKey, int64_t> nanos;
  const UsageBook ledger = LedgerUsage(rows, {"openai", "llamaparse"}, &nanos);
  EXPECT_EQ(nanos.at({"openai", "2026-12-07", "text-embedding-3-small"}), 15'560);

  UsageBook bill;
  bill[{"openai", "2026-12-07", "text-embedding-3-small"}] = {778, 2, 0, 0};
  bill[{"llamaparse", "2026-12-07", ""}] = {0, 0, 4, 12};  // jobs not exported: not compared
  EXPECT_TRUE(CompareUsage(ledger, bill, nanos, prices).empty());

  bill[{"openai", "2026-12-07", "text-embedding-3-small"}].tokens = 800;
  bill[{"openai", "2026-12-08", "text-embedding-3-small"}] = {10, 1, 0, 0};
  auto diffs = CompareUsage(ledger, bill, nanos, prices);
  ASSERT_EQ(diffs.size(), 2u);
  EXPECT_EQ(diffs[0].key.day, "2026-12-07");
  EXPECT_EQ(diffs[0].ledger.tokens, 778);
  EXPECT_EQ(diffs[0].provider.tokens, 800);
  EXPECT_EQ(diffs[0].ledger_nanos, 15'560);
  EXPECT_EQ(diffs[0].provider_nanos, 16'000);
  EXPECT_EQ(diffs[1].key.day, "2026-12-08");
  EXPECT_EQ(diffs[1].ledger.tokens, 0);
  EXPECT_EQ(diffs[1].provider_nanos, 200);
}

}  // namespace
}  // namespace ingest::governor
