// ApiServer over loopback: an in-process server on an ephemeral port, a real SQLite store in a
// fresh temporary directory, the pipeline's fake parser/embedder, and httplib's client.
#include "ingest/api/api_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "ingest/api/metrics_observer.h"
#include "ingest/pipeline/testing/pipeline_fixture.h"
#include "ingest/pipeline/worker_pool.h"

namespace ingest::api {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr char kAdmin[] = "admin-token-0123456789";
constexpr char kAlpha[] = "alpha-token-0123456789";
constexpr char kBeta[] = "beta-token-01234567890";
constexpr int64_t kMaxUpload = 4096;

class ApiServerTest : public pipeline::testing::PipelineFixture {
 protected:
  void SetUp() override {
    PipelineFixture::SetUp();
    tokens_file_ = dir_ + "/tokens";
    std::ofstream(tokens_file_) << "# tenant token\nalpha " << kAlpha << "\n\nbeta " << kBeta
                                << "\n";
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (pool_) {
      pool_->RequestStop();
      pool_->Join();
    }
    server_.reset();
    pool_.reset();
    PipelineFixture::TearDown();
  }

  void StartServer(bool with_pool) {
    if (with_pool) {
      pipeline::WorkerOptions o;
      o.threads = 2;
      o.poll_interval = 10ms;
      o.seed = 7;
      pool_ = std::make_unique<pipeline::WorkerPool>(deps_, o, &observer_);
      ASSERT_TRUE(pool_->Start().ok());
    }
    ApiDeps deps;
    deps.pipeline = deps_;
    deps.workers = pool_.get();
    deps.metrics = &metrics_;
    deps.admin_token = kAdmin;
    deps.tokens_file = tokens_file_;
    deps.data_dir = dir_;
    deps.max_upload_bytes = kMaxUpload;
    server_ = std::make_unique<ApiServer>(std::move(deps));
    Status st = server_->Start("127.0.0.1", 0);
    ASSERT_TRUE(st.ok()) << st.ToString();
    ASSERT_GT(server_->port(), 0);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(10, 0);
  }

  static httplib::Headers Auth(const std::string& token) {
    return {{"Authorization", "Bearer " + token}};
  }

  // Uploads `content` as a raw body; returns (status, body).
  std::pair<int, json> UploadRaw(const std::string& token, const std::string& name,
                                 const std::string& content) {
    httplib::Headers h = Auth(token);
    h.emplace("X-Filename", name);
    auto r = client_->Post("/v1/documents", h, content, "application/octet-stream");
    if (!r) return {0, json()};
    return {r->status, json::parse(r->body, nullptr, false)};
  }

  std::pair<int, json> Get(const std::string& path, const std::string& token) {
    auto r = token.empty() ? client_->Get(path.c_str()) : client_->Get(path.c_str(), Auth(token));
    if (!r) return {0, json()};
    return {r->status, json::parse(r->body, nullptr, false)};
  }

  std::pair<int, json> PostJson(const std::string& path, const std::string& token,
                                const std::string& body) {
    auto r = client_->Post(path.c_str(), Auth(token), body, "application/json");
    if (!r) return {0, json()};
    return {r->status, json::parse(r->body, nullptr, false)};
  }

  // Polls the job through the API until it is terminal (or 20 s pass).
  json WaitTerminal(const std::string& job_id, const std::string& token) {
    json job;
    for (int i = 0; i < 2000; ++i) {
      auto [status, body] = Get("/v1/jobs/" + job_id, token);
      EXPECT_EQ(status, 200);
      job = body;
      const std::string s = job.value("state", "");
      if (s == "complete" || s == "failed" || s == "dead" || s == "cancelled") break;
      std::this_thread::sleep_for(10ms);
    }
    return job;
  }

  static std::string ErrorCode(const json& body) {
    if (!body.is_object() || !body.contains("error")) return "<no error body>";
    return body["error"].value("code", "<no code>");
  }

  std::string tokens_file_;
  obs::Metrics metrics_;
  MetricsObserver observer_{&metrics_, "fake", "fake", "fake-v1"};
  std::unique_ptr<pipeline::WorkerPool> pool_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ApiServerTest, HealthzIsAlwaysOk) {
  StartServer(false);
  auto [status, body] = Get("/healthz", "");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body["status"], "ok");
}

TEST_F(ApiServerTest, ReadyzNamesTheFailingCheck) {
  StartServer(false);
  auto [status, body] = Get("/readyz", "");
  EXPECT_EQ(status, 503);
  EXPECT_EQ(body["checks"]["store"], "ok");
  EXPECT_EQ(body["checks"]["migrations"], "ok");
  EXPECT_NE(body["checks"]["workers"], "ok");
  EXPECT_EQ(ErrorCode(body), "not_ready");
}

TEST_F(ApiServerTest, ReadyzWithWorkersAndCurrentSchema) {
  StartServer(true);
  auto [status, body] = Get("/readyz", "");
  EXPECT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["ready"], true);
}

TEST_F(ApiServerTest, ReadyzFailsWhenMigrationsAreBehind) {
  ASSERT_TRUE(store_->MigrateTo(static_cast<int>(store_->KnownMigrations().size()) - 1).ok());
  StartServer(true);
  auto [status, body] = Get("/readyz", "");
  EXPECT_EQ(status, 503);
  EXPECT_NE(body["checks"]["migrations"], "ok");
}

TEST_F(ApiServerTest, MissingOrWrongTokenIs401) {
  StartServer(false);
  auto [s1, b1] = Get("/v1/jobs", "");
  EXPECT_EQ(s1, 401);
  EXPECT_EQ(ErrorCode(b1), "missing_token");
  auto [s2, b2] = Get("/v1/jobs", "not-a-token-at-all-xx");
  EXPECT_EQ(s2, 401);
  EXPECT_EQ(ErrorCode(b2), "invalid_token");
  auto [s3, b3] = UploadRaw("wrong", "a.md", "# hi\n");
  EXPECT_EQ(s3, 401);
  auto [s4, b4] = Get("/v1/jobs", kAdmin);
  EXPECT_EQ(s4, 200);
  EXPECT_TRUE(b4["jobs"].is_array());
}

TEST_F(ApiServerTest, UnknownRouteIs404Json) {
  StartServer(false);
  auto [status, body] = Get("/v1/nope", kAdmin);
  EXPECT_EQ(status, 404);
  EXPECT_EQ(ErrorCode(body), "not_found");
  auto r = client_->Delete("/v1/jobs");
  ASSERT_TRUE(r);
  EXPECT_GE(r->status, 400);
  EXPECT_LT(r->status, 500);
  EXPECT_TRUE(json::parse(r->body, nullptr, false).contains("error"));
}

TEST_F(ApiServerTest, RawUploadIsIdempotent) {
  StartServer(false);
  auto [s1, b1] = UploadRaw(kAlpha, "notes.md", "# Notes\n\nSome text here.\n");
  ASSERT_EQ(s1, 201) << b1.dump();
  EXPECT_EQ(b1["created"], true);
  EXPECT_EQ(b1["state"], "queued");
  EXPECT_EQ(b1["stage"], "parse");
  EXPECT_EQ(b1["filename"], "notes.md");
  auto [s2, b2] = UploadRaw(kAlpha, "renamed.md", "# Notes\n\nSome text here.\n");
  EXPECT_EQ(s2, 200);
  EXPECT_EQ(b2["created"], false);
  EXPECT_EQ(b2["document_id"], b1["document_id"]);
  EXPECT_EQ(b2["job_id"], b1["job_id"]);
  // The same bytes for another tenant are another document.
  auto [s3, b3] = UploadRaw(kBeta, "notes.md", "# Notes\n\nSome text here.\n");
  EXPECT_EQ(s3, 201);
  EXPECT_NE(b3["document_id"], b1["document_id"]);
  // The temporary upload files are gone.
  for (const auto& e : std::filesystem::directory_iterator(dir_ + "/uploads")) {
    ADD_FAILURE() << "left behind: " << e.path();
  }
}

TEST_F(ApiServerTest, RawUploadTakesTheNameFromContentDisposition) {
  StartServer(false);
  httplib::Headers h = Auth(kAlpha);
  h.emplace("Content-Disposition", "attachment; filename=\"../../etc/report.md\"");
  auto r = client_->Post("/v1/documents", h, "# Report\n", "text/markdown");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(json::parse(r->body)["filename"], "report.md");
}

TEST_F(ApiServerTest, RawUploadWithoutNameIs400) {
  StartServer(false);
  auto r = client_->Post("/v1/documents", Auth(kAlpha), "# x\n", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(ErrorCode(json::parse(r->body, nullptr, false)), "missing_filename");
}

TEST_F(ApiServerTest, MultipartUpload) {
  StartServer(false);
  httplib::MultipartFormDataItems items = {
      {"note", "ignored field", "", "text/plain"},
      {"file", "# Title\n\nBody text.\n", "doc.md", "text/markdown"}};
  auto r = client_->Post("/v1/documents", Auth(kAlpha), items);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  json b = json::parse(r->body);
  EXPECT_EQ(b["filename"], "doc.md");
  auto [s, doc] = Get("/v1/documents/" + b["document_id"].get<std::string>(), kAlpha);
  EXPECT_EQ(s, 200);
  EXPECT_EQ(doc["bytes"], 20);
  EXPECT_EQ(doc["tenant"], "alpha");

  httplib::MultipartFormDataItems no_file = {{"other", "x", "x.md", "text/plain"}};
  auto r2 = client_->Post("/v1/documents", Auth(kAlpha), no_file);
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 400);
  EXPECT_EQ(ErrorCode(json::parse(r2->body, nullptr, false)), "missing_file");
}

TEST_F(ApiServerTest, UploadOverTheLimitIs413) {
  StartServer(false);
  const std::string big(kMaxUpload + 1, 'a');
  auto [s1, b1] = UploadRaw(kAlpha, "big.txt", big);
  EXPECT_EQ(s1, 413);
  EXPECT_EQ(ErrorCode(b1), "upload_too_large");
  httplib::MultipartFormDataItems items = {{"file", big, "big.txt", "text/plain"}};
  auto r = client_->Post("/v1/documents", Auth(kAlpha), items);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  // Exactly at the limit is accepted.
  auto [s2, b2] = UploadRaw(kAlpha, "max.txt", std::string(kMaxUpload, 'b'));
  EXPECT_EQ(s2, 201) << b2.dump();
  auto jobs = store_->ListJobs({});
  ASSERT_TRUE(jobs.ok());
  EXPECT_EQ(jobs->size(), 1u);
}

TEST_F(ApiServerTest, MalformedJsonBodiesAre400) {
  StartServer(false);
  auto [s1, b1] = PostJson("/v1/search", kAlpha, "{\"query\": ");
  EXPECT_EQ(s1, 400);
  EXPECT_EQ(ErrorCode(b1), "malformed_json");
  auto [s2, b2] = PostJson("/v1/search", kAlpha, "[1, 2]");
  EXPECT_EQ(s2, 400);
  EXPECT_EQ(ErrorCode(b2), "expected_object");
  auto [s3, b3] = PostJson("/v1/search", kAlpha, R"({"query": "x", "k": 0})");
  EXPECT_EQ(s3, 400);
  EXPECT_EQ(ErrorCode(b3), "invalid_k");
  auto [s4, b4] = PostJson("/v1/search", kAlpha, R"({"query": 3})");
  EXPECT_EQ(s4, 400);
  EXPECT_EQ(ErrorCode(b4), "missing_query");
  auto [s5, b5] = Get("/v1/jobs?state=sleeping", kAlpha);
  EXPECT_EQ(s5, 400);
  EXPECT_EQ(ErrorCode(b5), "invalid_state");

  auto [su, up] = UploadRaw(kAlpha, "a.md", "# A\n");
  ASSERT_EQ(su, 201);
  const std::string requeue = "/v1/jobs/" + up["job_id"].get<std::string>() + "/requeue";
  auto [s6, b6] = PostJson(requeue, kAlpha, "not json");
  EXPECT_EQ(s6, 400);
  auto [s7, b7] = PostJson(requeue, kAlpha, R"({"from": "nowhere"})");
  EXPECT_EQ(s7, 400);
  EXPECT_EQ(ErrorCode(b7), "invalid_stage");
  auto [s8, b8] = PostJson(requeue, kAlpha, R"({})");
  EXPECT_EQ(s8, 400);
  EXPECT_EQ(ErrorCode(b8), "missing_from");
}

TEST_F(ApiServerTest, CancelRetryAndRequeueGoThroughTheStateMachine) {
  StartServer(false);
  auto [su, up] = UploadRaw(kAlpha, "a.md", "# A\n\ntext\n");
  ASSERT_EQ(su, 201);
  const std::string base = "/v1/jobs/" + up["job_id"].get<std::string>();
  auto [s1, b1] = PostJson(base + "/cancel", kAlpha, "");
  EXPECT_EQ(s1, 200);
  EXPECT_EQ(b1["state"], "cancelled");
  auto [s2, b2] = PostJson(base + "/cancel", kAlpha, "");
  EXPECT_EQ(s2, 409);  // cancelled is terminal for cancel
  auto [s3, b3] = PostJson(base + "/retry", kAlpha, "");
  EXPECT_EQ(s3, 200);
  EXPECT_EQ(b3["state"], "queued");
  // Never parsed: a requeue from chunk would run on nothing, and is refused.
  auto [s9, b9] = PostJson(base + "/requeue", kAdmin, R"({"from": "chunk"})");
  EXPECT_EQ(s9, 409) << b9.dump();
  EXPECT_EQ(ErrorCode(b9), "stage_output_missing");
  auto [s4, b4] = PostJson(base + "/requeue", kAdmin, R"({"from": "parse"})");
  EXPECT_EQ(s4, 200) << b4.dump();
  EXPECT_EQ(b4["stage"], "parse");
  // Another tenant cannot act on it, and cannot tell it exists.
  auto [s5, b5] = PostJson(base + "/cancel", kBeta, "");
  EXPECT_EQ(s5, 404);
  EXPECT_EQ(ErrorCode(b5), "job_not_found");
}

TEST_F(ApiServerTest, JobCompletesWithTimingsAndTenantsAreIsolated) {
  StartServer(true);
  auto [sa, a] = UploadRaw(kAlpha, "alpha.md", "# Alpha\n\nApples and apricots grow here.\n");
  ASSERT_EQ(sa, 201) << a.dump();
  auto [sb, b] = UploadRaw(kBeta, "beta.md", "# Beta\n\nBananas and blueberries grow there.\n");
  ASSERT_EQ(sb, 201) << b.dump();
  const std::string a_job = a["job_id"], a_doc = a["document_id"];
  const std::string b_job = b["job_id"], b_doc = b["document_id"];

  json job = WaitTerminal(a_job, kAlpha);
  ASSERT_EQ(job["state"], "complete") << job.dump();
  EXPECT_EQ(job["stage"], "finalize");
  EXPECT_EQ(job["tenant"], "alpha");
  EXPECT_TRUE(job["error"].is_null());
  ASSERT_TRUE(job["stage_timings"].is_array());
  std::set<std::string> stages;
  for (const auto& t : job["stage_timings"]) stages.insert(t["stage"].get<std::string>());
  EXPECT_TRUE(stages.count("parse") && stages.count("embed") && stages.count("index"))
      << job["stage_timings"].dump();
  ASSERT_EQ(WaitTerminal(b_job, kBeta)["state"], "complete");

  // Beta cannot see alpha's document or job: 404, exactly like an unknown id.
  EXPECT_EQ(Get("/v1/documents/" + a_doc, kBeta).first, 404);
  EXPECT_EQ(Get("/v1/jobs/" + a_job, kBeta).first, 404);
  EXPECT_EQ(Get("/v1/documents/" + a_doc, kAlpha).first, 200);
  EXPECT_EQ(Get("/v1/documents/" + a_doc, kAdmin).first, 200);
  auto [sl, list] = Get("/v1/jobs", kBeta);
  ASSERT_EQ(sl, 200);
  ASSERT_EQ(list["jobs"].size(), 1u);
  EXPECT_EQ(list["jobs"][0]["job_id"], b_job);
  EXPECT_EQ(Get("/v1/jobs?state=complete", kAdmin).second["jobs"].size(), 2u);

  // Search is tenant-scoped: beta's results never include alpha's document.
  auto [ss, hits] = PostJson("/v1/search", kBeta, R"({"query": "Apples and apricots", "k": 10})");
  ASSERT_EQ(ss, 200) << hits.dump();
  ASSERT_FALSE(hits["results"].empty());
  for (const auto& h : hits["results"]) EXPECT_EQ(h["document_id"], b_doc);
  auto [sa2, ahits] = PostJson("/v1/search", kAlpha, R"({"query": "Apples and apricots"})");
  ASSERT_EQ(sa2, 200);
  ASSERT_FALSE(ahits["results"].empty());
  EXPECT_EQ(ahits["results"][0]["document_id"], a_doc);

  auto [sd, doc] = Get("/v1/documents/" + a_doc, kAlpha);
  EXPECT_GT(doc["chunks"].get<int>(), 0);
  EXPECT_EQ(doc["job"]["state"], "complete");

  auto [st, stats] = Get("/v1/stats", kAdmin);
  ASSERT_EQ(st, 200);
  EXPECT_EQ(stats["jobs"]["complete"], 2);
  EXPECT_GE(stats["counters"]["documents_completed"].get<int>(), 2);
  auto [stb, bstats] = Get("/v1/stats", kBeta);
  EXPECT_EQ(bstats["jobs"]["complete"], 1);
  EXPECT_FALSE(bstats.contains("counters"));
  // Throughput comes from the store's finished jobs, not from this process's uptime or a
  // dashboard's polls: 30 minutes, the last one holding both documents (the beta tenant: one).
  auto finished = [](const json& s) {
    int64_t n = 0;
    for (const json& m : s["throughput"]["per_minute"]) n += m["completed"].get<int64_t>();
    return n;
  };
  ASSERT_EQ(stats["throughput"]["per_minute"].size(), 30u) << stats["throughput"].dump();
  EXPECT_EQ(finished(stats), 2);
  EXPECT_EQ(finished(bstats), 1);
  EXPECT_GT(stats["throughput"]["docs_per_minute"].get<double>(), 0.0);
  EXPECT_EQ(stats["deferred"]["total"], 0);

  auto [sc, costs] = Get("/v1/costs", kAlpha);
  EXPECT_EQ(sc, 200);
  EXPECT_TRUE(costs.contains("cost_usd"));
}

TEST_F(ApiServerTest, FailedJobsShowInStatsWithTheirError) {
  parser_.hook = [](const parse::ParseInput&, int) {
    return InvalidArgument("not a document", "garbage");
  };
  StartServer(true);
  auto [su, up] = UploadRaw(kAlpha, "bad.md", "whatever\n");
  ASSERT_EQ(su, 201);
  json job = WaitTerminal(up["job_id"], kAlpha);
  ASSERT_EQ(job["state"], "failed") << job.dump();
  EXPECT_EQ(job["error"]["code"], "garbage");
  EXPECT_EQ(job["error"]["stage"], "parse");
  auto [st, stats] = Get("/v1/stats", kAlpha);
  ASSERT_EQ(stats["recent_failures"].size(), 1u);
  EXPECT_EQ(stats["recent_failures"][0]["last_error_code"], "garbage");
  EXPECT_TRUE(stats["recent_failures"][0]["job_id"] == up["job_id"]);
  EXPECT_EQ(Get("/v1/stats", kBeta).second["recent_failures"].size(), 0u);
  EXPECT_EQ(stats["errors_by_code"], json::parse(R"([{"code": "garbage", "jobs": 1}])"));
  EXPECT_TRUE(Get("/v1/stats", kBeta).second["errors_by_code"].empty());
  // Admins also get stage latencies from this process's metrics. The worker records a stage's
  // metrics just after writing its transition, so the failed job can be visible first: poll.
  json admin;
  bool parse_seen = false;
  for (int i = 0; i < 200 && !parse_seen; ++i) {
    admin = Get("/v1/stats", kAdmin).second;
    ASSERT_TRUE(admin["stages"].is_array());
    for (const json& st : admin["stages"]) {
      if (st["stage"] == "parse") parse_seen = st["count"].get<int64_t>() >= 1;
    }
    if (!parse_seen) std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(admin["errors_by_code"][0]["code"], "garbage");
  EXPECT_TRUE(parse_seen) << admin["stages"].dump();
  EXPECT_TRUE(admin["providers"].is_array());
  EXPECT_FALSE(stats.contains("stages"));
  EXPECT_EQ(admin["alerts"]["enabled"], false);
}

// A job deferred by a hard budget is shown as such: counted apart from other deferrals and
// listed with the governor's message, for its tenant and the admin only.
TEST_F(ApiServerTest, BudgetDeferralsAreListedInStats) {
  parser_.hook = [](const parse::ParseInput& in, int) {
    if (in.filename == "slow.md") return ResourceExhausted("HTTP 429", "rate_limited");
    return ResourceExhausted("would exceed the global day budget: spent $0.01 > hard limit $0.01",
                             "budget_exceeded");
  };
  StartServer(true);
  auto [s1, a] = UploadRaw(kAlpha, "capped.md", "one\n");
  auto [s2, b] = UploadRaw(kAlpha, "slow.md", "two\n");
  ASSERT_EQ(s1, 201);
  ASSERT_EQ(s2, 201);
  json stats;
  for (int i = 0; i < 500; ++i) {
    stats = Get("/v1/stats", kAlpha).second;
    if (stats["deferred"]["total"] == 2) break;
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(stats["deferred"]["total"], 2) << stats.dump();
  EXPECT_EQ(stats["deferred"]["budget"], 1);
  EXPECT_EQ(stats["deferred"]["by_reason"]["budget_exceeded"], 1);
  EXPECT_EQ(stats["deferred"]["by_reason"]["rate_limited"], 1);
  ASSERT_EQ(stats["deferred"]["jobs"].size(), 2u);
  bool seen = false;
  for (const json& j : stats["deferred"]["jobs"]) {
    if (j["filename"] != "capped.md") continue;
    seen = true;
    EXPECT_EQ(j["defer_reason"], "budget_exceeded");
    EXPECT_NE(j["last_error_message"].get<std::string>().find("hard limit"), std::string::npos);
  }
  EXPECT_TRUE(seen) << stats["deferred"].dump();
  EXPECT_EQ(Get("/v1/stats", kAdmin).second["deferred"]["budget"], 1);
  json beta = Get("/v1/stats", kBeta).second;
  EXPECT_EQ(beta["deferred"]["total"], 0);
  EXPECT_TRUE(beta["deferred"]["jobs"].empty());
}

TEST_F(ApiServerTest, MetricsExposeTheFamilies) {
  StartServer(true);
  auto [su, up] = UploadRaw(kAlpha, "m.md", "# M\n\nMetrics text for the embedder.\n");
  ASSERT_EQ(su, 201);
  ASSERT_EQ(WaitTerminal(up["job_id"], kAlpha)["state"], "complete");
  // httplib counts a request (its logger) just after writing the response, so the client can
  // scrape before the last request is counted: poll briefly for it.
  const std::string polled = "ingestd_http_requests_total{route=\"/v1/jobs/{id}\",status=\"200\"}";
  std::string m;
  for (int i = 0; i < 200 && m.find(polled) == std::string::npos; ++i) {
    auto r = client_->Get("/metrics");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
    m = r->body;
    if (m.find(polled) == std::string::npos) std::this_thread::sleep_for(10ms);
  }
  for (const char* family :
       {"# TYPE ingestd_documents_total counter", "# TYPE ingestd_stage_duration_seconds histogram",
        "# TYPE ingestd_jobs gauge", "# TYPE ingestd_queue_oldest_age_seconds gauge",
        "# TYPE ingestd_tokens_total counter", "# TYPE ingestd_pages_total counter",
        "# TYPE ingestd_cache_hits_total counter", "# TYPE ingestd_dead_jobs gauge",
        "# TYPE ingestd_http_requests_total counter"}) {
    EXPECT_NE(m.find(family), std::string::npos) << family;
  }
  EXPECT_NE(m.find("ingestd_jobs{state=\"complete\"} 1"), std::string::npos) << m;
  EXPECT_NE(m.find("ingestd_documents_total{state=\"complete\"} 1"), std::string::npos);
  EXPECT_NE(m.find("ingestd_stage_duration_seconds_count{stage=\"embed\"}"), std::string::npos);
  EXPECT_NE(m.find("ingestd_pages_total{parser=\"fake\"} 1"), std::string::npos);
  EXPECT_NE(m.find("ingestd_tokens_total{model=\"fake-v1\",provider=\"fake\"}"), std::string::npos);
  EXPECT_NE(m.find(polled), std::string::npos) << m;
  EXPECT_NE(m.find("ingestd_cache_hits_total{cache=\"parse\"} 0"), std::string::npos);
}

// Budgets, rate buckets and stopped providers live in the store; /metrics mirrors them at
// scrape time and /v1/stats shows them (tenants: only their own budgets).
TEST_F(ApiServerTest, GovernorStateInMetricsAndStats) {
  const UnixMillis now = clock_.NowMillis();
  store::Budget global;
  global.scope = store::BudgetScope::kGlobal;
  global.period = store::BudgetPeriod::kDay;
  global.hard_nanos = 10'000'000'000;
  global.soft_ratio = 0.8;
  ASSERT_TRUE(store_->PutBudget(global).ok());
  store::Budget alpha = global;
  alpha.scope = store::BudgetScope::kTenant;
  alpha.scope_key = "alpha";
  alpha.period = store::BudgetPeriod::kMonth;
  alpha.hard_nanos = 2'000'000'000;
  ASSERT_TRUE(store_->PutBudget(alpha).ok());
  store::Budget beta = alpha;
  beta.scope_key = "beta";
  ASSERT_TRUE(store_->PutBudget(beta).ok());
  store::LedgerEntry spend;
  spend.id = "ledger-row-1";
  spend.service = "openai";
  spend.operation = "embed";
  spend.tenant = "alpha";
  spend.cost_nanos = 1'500'000'000;
  ASSERT_TRUE(store_->SettleLedger(spend, now).ok());
  ASSERT_TRUE(store_->ConfigureRateBucket("openai:k1", "requests", 3000, 50, now).ok());
  ASSERT_TRUE(store_->ConfigureRateBucket("openai:k2", "requests", 500, 10, now).ok());
  store::ProviderState stopped;
  stopped.provider = "llamaparse";
  stopped.stopped = true;
  stopped.reason = "insufficient_quota";
  stopped.since = now;
  stopped.updated_at = now;
  ASSERT_TRUE(store_->PutProviderState(stopped).ok());
  metrics_.SetCircuitState("openai", 1);
  StartServer(false);

  auto r = client_->Get("/metrics");
  ASSERT_TRUE(r);
  const std::string& m = r->body;
  EXPECT_NE(m.find("ingestd_budget_spent_usd{key=\"alpha\",period=\"month\",scope=\"tenant\"} 1.5"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("ingestd_budget_remaining_usd{key=\"\",period=\"day\",scope=\"global\"} 8.5"),
            std::string::npos);
  EXPECT_NE(m.find("ingestd_budget_limit_usd{key=\"beta\",period=\"month\",scope=\"tenant\"} 2"),
            std::string::npos);
  EXPECT_NE(m.find("ingestd_rate_limit_capacity{kind=\"requests\",provider=\"openai\"} 3500"),
            std::string::npos);
  EXPECT_NE(m.find("ingestd_provider_stopped{provider=\"llamaparse\"} 1"), std::string::npos);
  EXPECT_EQ(m.find("k1"), std::string::npos) << "a key-derived label leaked";

  json admin = Get("/v1/stats", kAdmin).second;
  ASSERT_EQ(admin["budgets"].size(), 3u) << admin.dump();
  json providers = admin["providers"];
  ASSERT_EQ(providers.size(), 2u) << providers.dump();
  EXPECT_EQ(providers[0]["provider"], "llamaparse");
  EXPECT_EQ(providers[0]["stopped"], true);
  EXPECT_EQ(providers[0]["stop_reason"], "insufficient_quota");
  EXPECT_EQ(providers[1]["provider"], "openai");
  EXPECT_EQ(providers[1]["circuit_state"], 1);
  ASSERT_EQ(providers[1]["rate_limits"].size(), 1u);
  EXPECT_EQ(providers[1]["rate_limits"][0]["capacity"], 3500);
  json tenant = Get("/v1/stats", kAlpha).second;
  ASSERT_EQ(tenant["budgets"].size(), 1u) << tenant.dump();
  EXPECT_EQ(tenant["budgets"][0]["key"], "alpha");
  EXPECT_EQ(tenant["budgets"][0]["spent_usd"], 1.5);
  EXPECT_FALSE(tenant.contains("providers"));
}

TEST_F(ApiServerTest, OpenApiAndDashboardAreEmbedded) {
  StartServer(false);
  auto r = client_->Get("/openapi.json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  json doc = json::parse(r->body, nullptr, false);
  ASSERT_FALSE(doc.is_discarded());
  EXPECT_EQ(doc["openapi"].get<std::string>().substr(0, 2), "3.");
  for (const char* path : {"/v1/documents", "/v1/jobs/{id}", "/v1/search", "/metrics"}) {
    EXPECT_TRUE(doc["paths"].contains(path)) << path;
  }
  auto d = client_->Get("/");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->status, 200);
  EXPECT_NE(d->body.find("/v1/stats"), std::string::npos);
  EXPECT_EQ(d->body.find("http://"), std::string::npos);  // no external assets
}

TEST_F(ApiServerTest, BadTokensFileFailsStart) {
  std::ofstream(tokens_file_) << "alpha short\n";
  ApiDeps deps;
  deps.pipeline = deps_;
  deps.tokens_file = tokens_file_;
  deps.data_dir = dir_;
  ApiServer server(std::move(deps));
  Status st = server.Start("127.0.0.1", 0);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.reason(), "bad_tokens_file");
}

}  // namespace
}  // namespace ingest::api
