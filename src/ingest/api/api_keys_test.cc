// API keys through the server (docs/security.md): scopes per route (403 naming the missing
// one), revoked / expired / rotated keys (401), per-key and per-tenant rate limits (429 with
// Retry-After), the audit rows of state-changing calls and GET /v1/audit. A real SQLite store
// in a fresh temporary directory, the pipeline's fakes, httplib's client over loopback.
#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "ingest/api/api_key.h"
#include "ingest/api/api_server.h"
#include "ingest/pipeline/testing/pipeline_fixture.h"

namespace ingest::api {
namespace {

using nlohmann::json;

constexpr char kAdmin[] = "admin-token-0123456789";
constexpr char kAlpha[] = "alpha-token-0123456789";

class ApiKeysTest : public pipeline::testing::PipelineFixture {
 protected:
  void SetUp() override {
    PipelineFixture::SetUp();
    tokens_file_ = dir_ + "/tokens";
    std::ofstream(tokens_file_) << "alpha " << kAlpha << "\n";
  }
  void TearDown() override {
    if (server_) server_->Stop();
    server_.reset();
    PipelineFixture::TearDown();
  }

  void StartServer(std::optional<RateSpec> per_key = std::nullopt,
                   std::optional<RateSpec> per_tenant = std::nullopt) {
    ApiDeps deps;
    deps.pipeline = deps_;
    deps.admin_token = kAdmin;
    deps.tokens_file = tokens_file_;
    deps.data_dir = dir_;
    deps.rate_limit_per_key = per_key;
    deps.rate_limit_per_tenant = per_tenant;
    server_ = std::make_unique<ApiServer>(std::move(deps));
    Status st = server_->Start("127.0.0.1", 0);
    ASSERT_TRUE(st.ok()) << st.ToString();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(10, 0);
  }

  // Creates a key in the store; returns (id, secret).
  std::pair<std::string, std::string> MakeKey(const std::string& tenant, const std::string& scopes,
                                              const std::string& rate_limit = "",
                                              UnixMillis expires_at = 0) {
    auto s = GenerateApiKeySecret();
    EXPECT_TRUE(s.ok());
    store::ApiKey k;
    k.id = s->id;
    k.prefix = s->prefix;
    k.secret_sha256 = s->sha256;
    k.tenant = tenant;
    k.scopes = scopes;
    k.rate_limit = rate_limit;
    k.expires_at = expires_at;
    EXPECT_TRUE(store_->CreateApiKey(k).ok());
    return {s->id, s->secret};
  }

  std::pair<int, json> Call(const std::string& method, const std::string& path,
                            const std::string& token, const std::string& body = "") {
    httplib::Headers h = {{"Authorization", "Bearer " + token}};
    httplib::Result r = method == "GET"    ? client_->Get(path.c_str(), h)
                        : method == "POST" ? client_->Post(path.c_str(), h, body, "text/plain")
                                           : client_->Delete(path.c_str(), h);
    if (!r) return {0, json()};
    last_retry_after_ = r->get_header_value("Retry-After");
    return {r->status, json::parse(r->body, nullptr, false)};
  }
  std::pair<int, json> Upload(const std::string& token, const std::string& name) {
    httplib::Headers h = {{"Authorization", "Bearer " + token}, {"X-Filename", name}};
    auto r = client_->Post("/v1/documents", h, "# " + name + "\n\nSome words.\n",
                           "application/octet-stream");
    if (!r) return {0, json()};
    return {r->status, json::parse(r->body, nullptr, false)};
  }

  std::string tokens_file_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<httplib::Client> client_;
  std::string last_retry_after_;
};

TEST_F(ApiKeysTest, EveryRouteChecksItsScope) {
  StartServer();
  auto [read_id, read] = MakeKey("acme", "read");
  auto [ingest_id, ingest] = MakeKey("acme", "ingest");
  EXPECT_EQ(Call("GET", "/v1/jobs", read).first, 200);
  EXPECT_EQ(Call("GET", "/v1/documents", read).first, 200);
  EXPECT_EQ(Call("GET", "/v1/costs", read).first, 200);

  auto [s1, b1] = Upload(read, "a.md");
  EXPECT_EQ(s1, 403);
  EXPECT_EQ(b1["error"]["code"], "missing_scope");
  EXPECT_EQ(b1["error"]["required_scope"], "ingest");
  auto [s2, b2] = Call("POST", "/v1/jobs/j1/retry", read);
  EXPECT_EQ(s2, 403);
  EXPECT_EQ(b2["error"]["required_scope"], "operator");
  auto [s3, b3] = Call("GET", "/v1/audit", read);
  EXPECT_EQ(s3, 403);
  EXPECT_EQ(b3["error"]["required_scope"], "admin");
  EXPECT_EQ(Call("GET", "/v1/jobs", ingest).first, 403);

  // An ingest key uploads into its own tenant.
  auto [s4, b4] = Upload(ingest, "b.md");
  ASSERT_EQ(s4, 201) << b4.dump();
  auto doc = store_->GetDocument(b4["document_id"].get<std::string>());
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->tenant, "acme");
  // A read key of another tenant does not see it.
  auto [other_id, other] = MakeKey("zeta", "read");
  EXPECT_EQ(Call("GET", "/v1/documents/" + doc->id, other).first, 404);
  EXPECT_EQ(Call("GET", "/v1/documents/" + doc->id, read).first, 200);
}

TEST_F(ApiKeysTest, TokensKeepWhatTheyCouldDoAndAdminKeysSeeEveryTenant) {
  StartServer();
  auto [s1, b1] = Upload(kAlpha, "a.md");
  ASSERT_EQ(s1, 201) << b1.dump();
  const std::string job = b1["job_id"];
  EXPECT_EQ(Call("POST", "/v1/jobs/" + job + "/cancel", kAlpha).first, 200);
  EXPECT_EQ(Call("GET", "/v1/audit", kAlpha).first, 403);
  EXPECT_EQ(Call("GET", "/v1/audit", kAdmin).first, 200);
  auto [admin_id, admin] = MakeKey("ops", "admin");
  auto [s2, b2] = Call("GET", "/v1/jobs/" + job, admin);
  EXPECT_EQ(s2, 200);
  EXPECT_EQ(b2["tenant"], "alpha");
}

TEST_F(ApiKeysTest, RevokedExpiredAndRetiredKeysAre401) {
  StartServer();
  auto [id, secret] = MakeKey("acme", "read");
  auto [exp_id, expiring] = MakeKey("acme", "read", "", clock_.NowMillis() + 1000);
  EXPECT_EQ(Call("GET", "/v1/jobs", secret).first, 200);
  EXPECT_EQ(Call("GET", "/v1/jobs", expiring).first, 200);
  ASSERT_TRUE(store_->RevokeApiKey(id, clock_.NowMillis()).ok());
  auto [s1, b1] = Call("GET", "/v1/jobs", secret);
  EXPECT_EQ(s1, 401);  // the next request: no cache
  EXPECT_EQ(b1["error"]["code"], "key_revoked");
  clock_.Advance(Duration(1000));
  auto [s2, b2] = Call("GET", "/v1/jobs", expiring);
  EXPECT_EQ(s2, 401);
  EXPECT_EQ(b2["error"]["code"], "key_expired");

  // A wrong secret with a real key's prefix is as unknown as any other.
  auto [live_id, live] = MakeKey("acme", "read");
  std::string forged = live;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  auto [s3, b3] = Call("GET", "/v1/jobs", forged);
  EXPECT_EQ(s3, 401);
  EXPECT_EQ(b3["error"]["code"], "invalid_token");

  // Rotation: the old secret works until the grace period ends, the new one from the start.
  auto fresh = GenerateApiKeySecret();
  ASSERT_TRUE(fresh.ok());
  store::ApiKey repl;
  repl.id = fresh->id;
  repl.prefix = fresh->prefix;
  repl.secret_sha256 = fresh->sha256;
  ASSERT_TRUE(
      store_->RotateApiKey(live_id, repl, clock_.NowMillis() + 5000, clock_.NowMillis()).ok());
  EXPECT_EQ(Call("GET", "/v1/jobs", live).first, 200);
  EXPECT_EQ(Call("GET", "/v1/jobs", fresh->secret).first, 200);
  clock_.Advance(Duration(5000));
  auto [s4, b4] = Call("GET", "/v1/jobs", live);
  EXPECT_EQ(s4, 401);
  EXPECT_EQ(b4["error"]["code"], "key_rotated");
  EXPECT_EQ(Call("GET", "/v1/jobs", fresh->secret).first, 200);
}

TEST_F(ApiKeysTest, PerKeyLimitAnswers429WithRetryAfter) {
  StartServer();
  auto [id, limited] = MakeKey("acme", "read", "3/m");
  auto [other_id, other] = MakeKey("acme", "read");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Call("GET", "/v1/jobs", limited).first, 200) << i;
  auto [s, b] = Call("GET", "/v1/jobs", limited);
  EXPECT_EQ(s, 429);
  EXPECT_EQ(b["error"]["code"], "rate_limited");
  ASSERT_FALSE(last_retry_after_.empty());
  const int retry_after = std::stoi(last_retry_after_);
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 20);  // one request in 3/m refills in 20 s
  EXPECT_EQ(b["error"]["retry_after_seconds"], retry_after);
  // Another key of the same tenant has its own allowance (no tenant limit configured).
  EXPECT_EQ(Call("GET", "/v1/jobs", other).first, 200);
}

TEST_F(ApiKeysTest, TenantLimitIsSharedAndKeyDefaultApplies) {
  StartServer(RateSpec{2, 60'000}, RateSpec{3, 60'000});
  auto [a_id, a] = MakeKey("acme", "read");
  auto [b_id, b] = MakeKey("acme", "read");
  auto [z_id, z] = MakeKey("zeta", "read", "100/m");
  EXPECT_EQ(Call("GET", "/v1/jobs", a).first, 200);
  EXPECT_EQ(Call("GET", "/v1/jobs", a).first, 200);
  EXPECT_EQ(Call("GET", "/v1/jobs", a).first, 429);  // the per-key default, 2/m
  EXPECT_EQ(Call("GET", "/v1/jobs", b).first, 200);  // acme's third request
  auto [s, body] = Call("GET", "/v1/jobs", b);
  EXPECT_EQ(s, 429);  // acme's tenant allowance, 3/m, is spent
  EXPECT_NE(body["error"]["message"].get<std::string>().find("tenant acme"), std::string::npos);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Call("GET", "/v1/jobs", z).first, 200);  // own 100/m
}

TEST_F(ApiKeysTest, StateChangesAreAuditedWithTheActingIdentity) {
  StartServer();
  auto [s1, b1] = Upload(kAlpha, "a.md");
  ASSERT_EQ(s1, 201);
  const std::string job = b1["job_id"];
  const std::string doc = b1["document_id"];
  auto [read_id, read] = MakeKey("alpha", "read");
  EXPECT_EQ(Call("POST", "/v1/jobs/" + job + "/cancel", kAlpha).first, 200);
  auto [refused, refusal] = Call("POST", "/v1/jobs/" + job + "/cancel", kAlpha);
  EXPECT_EQ(refused, 409);
  EXPECT_EQ(Call("DELETE", "/v1/documents/" + doc, read).first, 403);
  auto [s2, b2] = Call("GET", "/v1/audit", kAdmin);
  ASSERT_EQ(s2, 200) << b2.dump();
  const json& rows = b2["entries"];
  ASSERT_EQ(rows.size(), 3u) << b2.dump();  // uploads and reads are not audited
  EXPECT_EQ(rows[0]["actor"], "tokens-file:alpha");
  EXPECT_EQ(rows[0]["action"], "job.cancel");
  EXPECT_EQ(rows[0]["target"], job);
  EXPECT_EQ(rows[0]["source"], "127.0.0.1");
  EXPECT_EQ(rows[0]["result"], "ok");
  EXPECT_EQ(rows[1]["result"], refusal["error"]["code"]) << rows[1].dump();
  EXPECT_NE(rows[1]["result"], "ok");
  EXPECT_EQ(rows[2]["actor"], read_id);
  EXPECT_EQ(rows[2]["action"], "document.delete");
  EXPECT_EQ(rows[2]["result"], "missing_scope");
  EXPECT_EQ(b2["next_after"], nullptr);

  auto [s3, b3] = Call("GET", "/v1/audit?limit=1", kAdmin);
  ASSERT_EQ(s3, 200);
  ASSERT_EQ(b3["entries"].size(), 1u);
  const int64_t next = b3["next_after"];
  auto [s4, b4] = Call("GET", "/v1/audit?limit=5&after=" + std::to_string(next), kAdmin);
  ASSERT_EQ(s4, 200);
  EXPECT_EQ(b4["entries"].size(), 2u);
  EXPECT_EQ(Call("GET", "/v1/audit?since=yesterday", kAdmin).first, 400);
}

}  // namespace
}  // namespace ingest::api
