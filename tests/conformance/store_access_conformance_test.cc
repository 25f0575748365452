// Store conformance for access control (issue 20, docs/security.md): API keys (lookup by
// prefix, revocation, rotation with a grace period, last use) and the append-only audit log.
// Runs on every backend.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ingest/store/store.h"
#include "store_factories_support.h"

namespace ingest::store {
namespace {

using ::ingest::testing::StoreFactory;

class StoreAccess : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam().make(&clock_);
    ASSERT_NE(store_, nullptr);
    ASSERT_TRUE(store_->MigrateTo(store_->KnownMigrations().back().version).ok());
  }
  UnixMillis Now() const { return clock_.NowMillis(); }

  static ApiKey MakeKey(const std::string& prefix, const std::string& tenant = "acme") {
    ApiKey k;
    k.id = "key_" + prefix;
    k.prefix = prefix;
    k.name = "ci " + prefix;
    k.tenant = tenant;
    k.scopes = "read,ingest";
    k.secret_sha256 = std::string(64, 'a');
    k.rate_limit = "5/s";
    k.created_by = "cli:tester";
    return k;
  }

  FakeClock clock_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreAccess, CreatedKeyIsFoundByIdAndPrefix) {
  ApiKey k = MakeKey("p1");
  k.expires_at = Now() + 1000;
  ASSERT_TRUE(store_->CreateApiKey(k).ok());
  auto got = store_->GetApiKey("key_p1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->tenant, "acme");
  EXPECT_EQ(got->scopes, "read,ingest");
  EXPECT_EQ(got->name, "ci p1");
  EXPECT_EQ(got->rate_limit, "5/s");
  EXPECT_EQ(got->created_by, "cli:tester");
  EXPECT_EQ(got->secret_sha256, std::string(64, 'a'));
  EXPECT_EQ(got->created_at, Now());  // 0 = the store clock's now
  EXPECT_EQ(got->expires_at, Now() + 1000);
  EXPECT_EQ(got->revoked_at, 0);
  EXPECT_EQ(got->grace_until, 0);

  auto by_prefix = store_->FindApiKeyByPrefix("p1");
  ASSERT_TRUE(by_prefix.ok());
  ASSERT_TRUE(by_prefix->has_value());
  EXPECT_EQ((*by_prefix)->id, "key_p1");
  auto none = store_->FindApiKeyByPrefix("p2");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(store_->GetApiKey("key_p2").status().code(), StatusCode::kNotFound);
}

TEST_P(StoreAccess, DuplicateIdOrPrefixAndMissingFieldsAreRefused) {
  ASSERT_TRUE(store_->CreateApiKey(MakeKey("p1")).ok());
  EXPECT_EQ(store_->CreateApiKey(MakeKey("p1")).code(), StatusCode::kAlreadyExists);
  ApiKey same_prefix = MakeKey("p1");
  same_prefix.id = "key_other";
  EXPECT_EQ(store_->CreateApiKey(same_prefix).code(), StatusCode::kAlreadyExists);
  ApiKey no_hash = MakeKey("p3");
  no_hash.secret_sha256 = "";
  EXPECT_EQ(store_->CreateApiKey(no_hash).code(), StatusCode::kInvalidArgument);
  ApiKey no_tenant = MakeKey("p4", "");
  EXPECT_EQ(store_->CreateApiKey(no_tenant).code(), StatusCode::kInvalidArgument);
  auto all = store_->ListApiKeys();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);
}

TEST_P(StoreAccess, ListIsOldestFirst) {
  ASSERT_TRUE(store_->CreateApiKey(MakeKey("zz")).ok());
  clock_.Advance(Duration(5));
  ASSERT_TRUE(store_->CreateApiKey(MakeKey("aa")).ok());
  auto all = store_->ListApiKeys();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, "key_zz");
  EXPECT_EQ((*all)[1].id, "key_aa");
}

TEST_P(StoreAccess, RevokeOnce) {
  ASSERT_TRUE(store_->CreateApiKey(MakeKey("p1")).ok());
  clock_.Advance(Duration(7));
  ASSERT_TRUE(store_->RevokeApiKey("key_p1", Now()).ok());
  EXPECT_EQ(store_->GetApiKey("key_p1")->revoked_at, Now());
  const UnixMillis revoked = Now();
  clock_.Advance(Duration(7));
  Status again = store_->RevokeApiKey("key_p1", Now());
  EXPECT_EQ(again.reason(), "key_revoked") << again.ToString();
  EXPECT_EQ(store_->GetApiKey("key_p1")->revoked_at, revoked);
  EXPECT_EQ(store_->RevokeApiKey("key_nope", Now()).code(), StatusCode::kNotFound);
}

TEST_P(StoreAccess, RotateCopiesTheKeyAndGivesTheOldOneAGracePeriod) {
  ApiKey old = MakeKey("old");
  old.expires_at = Now() + 100'000;
  ASSERT_TRUE(store_->CreateApiKey(old).ok());
  clock_.Advance(Duration(10));
  ApiKey repl;
  repl.id = "key_new";
  repl.prefix = "new";
  repl.secret_sha256 = std::string(64, 'b');
  repl.created_by = "key_admin";
  repl.tenant = "ignored";  // copied from the old key
  auto rotated = store_->RotateApiKey("key_old", repl, Now() + 5000, Now());
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_EQ(rotated->rotated_from, "key_old");
  EXPECT_EQ(rotated->tenant, "acme");
  EXPECT_EQ(rotated->scopes, "read,ingest");
  EXPECT_EQ(rotated->rate_limit, "5/s");
  EXPECT_EQ(rotated->name, "ci old");
  EXPECT_EQ(rotated->expires_at, old.expires_at);
  EXPECT_EQ(rotated->created_at, Now());
  EXPECT_EQ(rotated->created_by, "key_admin");
  auto stored = store_->GetApiKey("key_new");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->secret_sha256, std::string(64, 'b'));
  EXPECT_EQ(stored->tenant, "acme");
  EXPECT_EQ(store_->GetApiKey("key_old")->grace_until, Now() + 5000);

  // Once rotated, the old key cannot be rotated again (its replacement can).
  ApiKey second = repl;
  second.id = "key_second";
  second.prefix = "second";
  EXPECT_EQ(store_->RotateApiKey("key_old", second, Now() + 5000, Now()).status().reason(),
            "key_rotated");
  EXPECT_TRUE(store_->RotateApiKey("key_new", second, Now(), Now()).ok());
}

TEST_P(StoreAccess, RotateRefusesDeadKeysAndWritesNothingOnConflict) {
  ApiKey expiring = MakeKey("exp");
  expiring.expires_at = Now() + 10;
  ASSERT_TRUE(store_->CreateApiKey(expiring).ok());
  ASSERT_TRUE(store_->CreateApiKey(MakeKey("rev")).ok());
  ASSERT_TRUE(store_->CreateApiKey(MakeKey("live")).ok());
  ASSERT_TRUE(store_->RevokeApiKey("key_rev", Now()).ok());
  clock_.Advance(Duration(10));
  ApiKey repl;
  repl.id = "key_r";
  repl.prefix = "r";
  repl.secret_sha256 = std::string(64, 'c');
  EXPECT_EQ(store_->RotateApiKey("key_exp", repl, Now(), Now()).status().reason(), "key_expired");
  EXPECT_EQ(store_->RotateApiKey("key_rev", repl, Now(), Now()).status().reason(), "key_revoked");
  EXPECT_EQ(store_->RotateApiKey("key_nope", repl, Now(), Now()).status().code(),
            StatusCode::kNotFound);
  // The replacement's prefix is taken: nothing is written, the old key is not in grace.
  repl.prefix = "rev";
  EXPECT_EQ(store_->RotateApiKey("key_live", repl, Now() + 1, Now()).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->GetApiKey("key_live")->grace_until, 0);
  EXPECT_EQ(store_->GetApiKey("key_r").status().code(), StatusCode::kNotFound);
}

TEST_P(StoreAccess, TouchOnlyMovesLastUseForward) {
  ASSERT_TRUE(store_->CreateApiKey(MakeKey("p1")).ok());
  ASSERT_TRUE(store_->TouchApiKey("key_p1", 2000).ok());
  ASSERT_TRUE(store_->TouchApiKey("key_p1", 1000).ok());
  EXPECT_EQ(store_->GetApiKey("key_p1")->last_used_at, 2000);
  EXPECT_TRUE(store_->TouchApiKey("key_nope", 3000).ok());
}

TEST_P(StoreAccess, AuditRowsComeBackInOrderWithFilters) {
  const UnixMillis t0 = Now();
  for (int i = 0; i < 4; ++i) {
    AuditEntry e;
    e.actor = i % 2 == 0 ? "cli:alice" : "key_p1";
    e.action = "job.retry";
    e.target = "job-" + std::to_string(i);
    e.detail_json = i == 0 ? "" : R"({"n":)" + std::to_string(i) + "}";
    e.source = i % 2 == 0 ? "cli" : "127.0.0.1";
    e.result = i == 3 ? "job_not_found" : "ok";
    ASSERT_TRUE(store_->AppendAudit(e).ok());
    clock_.Advance(Duration(100));
  }
  auto all = store_->ListAudit({});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 4u);
  for (size_t i = 0; i < all->size(); ++i) {
    const AuditEntry& e = (*all)[i];
    EXPECT_EQ(e.target, "job-" + std::to_string(i));
    EXPECT_EQ(e.at, t0 + 100 * static_cast<int64_t>(i));
    if (i > 0) {
      EXPECT_GT(e.seq, (*all)[i - 1].seq);
    }
  }
  EXPECT_EQ((*all)[0].detail_json, "{}");
  EXPECT_EQ((*all)[1].detail_json, R"({"n":1})");
  EXPECT_EQ((*all)[1].actor, "key_p1");
  EXPECT_EQ((*all)[1].source, "127.0.0.1");
  EXPECT_EQ((*all)[3].result, "job_not_found");

  AuditFilter since;
  since.since = t0 + 200;
  auto recent = store_->ListAudit(since);
  ASSERT_TRUE(recent.ok());
  ASSERT_EQ(recent->size(), 2u);
  EXPECT_EQ((*recent)[0].target, "job-2");

  AuditFilter page;
  page.after_seq = (*all)[0].seq;
  page.limit = 2;
  auto next = store_->ListAudit(page);
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->size(), 2u);
  EXPECT_EQ((*next)[0].target, "job-1");
  EXPECT_EQ((*next)[1].target, "job-2");

  AuditEntry bad;
  bad.action = "job.retry";
  bad.result = "ok";
  EXPECT_EQ(store_->AppendAudit(bad).code(), StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(AllStores, StoreAccess,
                         ::testing::ValuesIn(ingest::testing::StoreFactories()),
                         [](const ::testing::TestParamInfo<StoreFactory>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace ingest::store
