// The alert monitor end to end inside one process: a real SQLite store, a worker pool, the API
// server, and a webhook receiver (an httplib server in the test) that the monitor posts to over
// real HTTP. A job goes dead, IngestdDeadJobs fires once, and resolves after the job is retried.
#include "ingest/api/alert_monitor.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "ingest/api/api_server.h"
#include "ingest/api/metrics_observer.h"
#include "ingest/pipeline/testing/pipeline_fixture.h"
#include "ingest/pipeline/worker_pool.h"

namespace ingest::api {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr char kAdmin[] = "admin-token-0123456789";

// Collects the JSON bodies POSTed to /hook.
class WebhookReceiver {
 public:
  WebhookReceiver() {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      bodies_.push_back(json::parse(req.body, nullptr, false));
      content_types_.push_back(req.get_header_value("Content-Type"));
      res.status = 200;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(1ms);
  }
  ~WebhookReceiver() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  std::vector<json> bodies() {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_;
  }
  std::vector<std::string> content_types() {
    std::lock_guard<std::mutex> lock(mu_);
    return content_types_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<json> bodies_;
  std::vector<std::string> content_types_;
};

class AlertMonitorTest : public pipeline::testing::PipelineFixture {
 protected:
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

  void Start(obs::WebhookFormat format) {
    pipeline::WorkerOptions o;
    o.threads = 1;
    o.poll_interval = 5ms;
    o.seed = 3;
    pool_ = std::make_unique<pipeline::WorkerPool>(deps_, o, &observer_);
    ASSERT_TRUE(pool_->Start().ok());
    ApiDeps deps;
    deps.pipeline = deps_;
    deps.workers = pool_.get();
    deps.metrics = &metrics_;
    deps.admin_token = kAdmin;
    deps.data_dir = dir_;
    AlertMonitorOptions ao;
    ao.interval = 1h;  // the test drives evaluations with EvaluateNow
    ao.notifier.url = receiver_.url();
    ao.notifier.format = format;
    ao.notifier.repeat_interval = 1h;
    deps.alerting = ao;
    server_ = std::make_unique<ApiServer>(std::move(deps));
    ASSERT_TRUE(server_->Start("127.0.0.1", 0).ok());
    ASSERT_NE(server_->alerts(), nullptr);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }

  json Call(const std::string& method, const std::string& path, const std::string& body = "") {
    httplib::Headers h = {{"Authorization", std::string("Bearer ") + kAdmin}};
    auto r = method == "GET" ? client_->Get(path.c_str(), h)
                             : client_->Post(path.c_str(), h, body, "application/octet-stream");
    EXPECT_TRUE(r);
    if (!r) return json();
    return json::parse(r->body, nullptr, false);
  }

  // Polls the job until it reaches `state`, moving the fake clock so retry backoffs elapse.
  bool WaitState(const std::string& job_id, const std::string& state) {
    for (int i = 0; i < 2000; ++i) {
      if (Call("GET", "/v1/jobs/" + job_id).value("state", "") == state) return true;
      clock_.Advance(10ms);
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }

  WebhookReceiver receiver_;
  obs::Metrics metrics_;
  MetricsObserver observer_{&metrics_, "fake", "fake", "fake-v1"};
  std::unique_ptr<pipeline::WorkerPool> pool_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(AlertMonitorTest, DeadJobAlertFiresOnceAndResolvesAfterRetry) {
  parser_.hook = [](const parse::ParseInput&, int) {
    return Unavailable("parser backend down", "backend_down");
  };
  Start(obs::WebhookFormat::kAlertmanager);
  httplib::Headers h = {{"Authorization", std::string("Bearer ") + kAdmin},
                        {"X-Filename", "doomed.md"}};
  auto r = client_->Post("/v1/documents", h, "# Doomed\n\ntext\n", "text/markdown");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  const std::string job_id = json::parse(r->body)["job_id"];
  ASSERT_TRUE(WaitState(job_id, "dead"));

  AlertMonitor& monitor = *server_->alerts();
  monitor.EvaluateNow();
  EXPECT_TRUE(receiver_.bodies().empty()) << "fired before its one-minute hold";
  json alerts = Call("GET", "/v1/alerts");
  ASSERT_EQ(alerts["pending"].size(), 1u) << alerts.dump();
  EXPECT_EQ(alerts["pending"][0]["name"], "IngestdDeadJobs");

  clock_.Advance(61s);
  monitor.EvaluateNow();
  ASSERT_EQ(receiver_.bodies().size(), 1u);
  json fired = receiver_.bodies()[0];
  EXPECT_EQ(fired["version"], "4");
  EXPECT_EQ(fired["status"], "firing");
  EXPECT_EQ(fired["alerts"][0]["labels"]["alertname"], "IngestdDeadJobs");
  EXPECT_EQ(fired["alerts"][0]["annotations"]["value"], 1);
  EXPECT_EQ(receiver_.content_types()[0], "application/json");
  alerts = Call("GET", "/v1/alerts");
  ASSERT_EQ(alerts["firing"].size(), 1u) << alerts.dump();
  EXPECT_EQ(alerts["webhook"]["sent"], 1);
  EXPECT_EQ(Call("GET", "/v1/stats")["alerts"]["firing"].size(), 1u);

  for (int i = 0; i < 4; ++i) {  // still firing: deduplicated
    clock_.Advance(15s);
    monitor.EvaluateNow();
  }
  EXPECT_EQ(receiver_.bodies().size(), 1u);

  parser_.hook = nullptr;
  json retried = Call("POST", "/v1/jobs/" + job_id + "/retry");
  ASSERT_TRUE(WaitState(job_id, "complete")) << retried.dump();
  clock_.Advance(15s);
  monitor.EvaluateNow();
  ASSERT_EQ(receiver_.bodies().size(), 2u);
  json resolved = receiver_.bodies()[1];
  EXPECT_EQ(resolved["status"], "resolved");
  EXPECT_EQ(resolved["alerts"][0]["fingerprint"], fired["alerts"][0]["fingerprint"]);
  EXPECT_NE(resolved["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");
  EXPECT_TRUE(Call("GET", "/v1/alerts")["firing"].empty());
}

TEST_F(AlertMonitorTest, SlackFormatPostsText) {
  parser_.hook = [](const parse::ParseInput&, int) {
    return Unavailable("parser backend down", "backend_down");
  };
  Start(obs::WebhookFormat::kSlack);
  httplib::Headers h = {{"Authorization", std::string("Bearer ") + kAdmin},
                        {"X-Filename", "doomed.md"}};
  auto r = client_->Post("/v1/documents", h, "# Doomed\n\nslack\n", "text/markdown");
  ASSERT_TRUE(r);
  ASSERT_TRUE(WaitState(json::parse(r->body)["job_id"], "dead"));
  server_->alerts()->EvaluateNow();
  clock_.Advance(61s);
  server_->alerts()->EvaluateNow();
  ASSERT_EQ(receiver_.bodies().size(), 1u);
  const std::string text = receiver_.bodies()[0]["text"];
  EXPECT_EQ(text.rfind("[FIRING] IngestdDeadJobs", 0), 0u) << text;
}

// Budget and provider alerts come from the store: a tenant budget past its soft limit and a
// provider stopped for quota both fire on the first evaluation (no hold) and are posted.
TEST_F(AlertMonitorTest, BudgetAndStoppedProviderAlertsFromTheStore) {
  const UnixMillis now = clock_.NowMillis();
  store::Budget b;
  b.scope = store::BudgetScope::kTenant;
  b.scope_key = "alpha";
  b.period = store::BudgetPeriod::kDay;
  b.hard_nanos = 1'000'000'000;
  b.soft_ratio = 0.5;
  ASSERT_TRUE(store_->PutBudget(b).ok());
  store::LedgerEntry spend;
  spend.id = "row-1";
  spend.service = "openai";
  spend.operation = "embed";
  spend.tenant = "alpha";
  spend.cost_nanos = 600'000'000;
  ASSERT_TRUE(store_->SettleLedger(spend, now).ok());
  store::ProviderState p;
  p.provider = "openai";
  p.stopped = true;
  p.reason = "invalid_api_key";
  p.since = now;
  p.updated_at = now;
  ASSERT_TRUE(store_->PutProviderState(p).ok());
  Start(obs::WebhookFormat::kAlertmanager);
  server_->alerts()->EvaluateNow();
  std::set<std::string> names;
  for (const json& body : receiver_.bodies()) {
    names.insert(body["alerts"][0]["labels"]["alertname"].get<std::string>());
  }
  EXPECT_EQ(names, (std::set<std::string>{"IngestdBudgetSoftLimit", "IngestdProviderStopped"}));
  json alerts = Call("GET", "/v1/alerts");
  ASSERT_EQ(alerts["firing"].size(), 2u) << alerts.dump();
  EXPECT_EQ(alerts["firing"][0]["labels"]["key"], "alpha");
  EXPECT_EQ(alerts["firing"][1]["labels"]["reason"], "invalid_api_key");

  // The provider is resumed and the budget raised: both resolve.
  p.stopped = false;
  p.updated_at = now + 1;
  ASSERT_TRUE(store_->PutProviderState(p).ok());
  b.hard_nanos = 10'000'000'000;
  ASSERT_TRUE(store_->PutBudget(b).ok());
  clock_.Advance(15s);
  server_->alerts()->EvaluateNow();
  ASSERT_EQ(receiver_.bodies().size(), 4u);
  EXPECT_EQ(receiver_.bodies()[2]["status"], "resolved");
  EXPECT_EQ(receiver_.bodies()[3]["status"], "resolved");
  EXPECT_TRUE(Call("GET", "/v1/alerts")["firing"].empty());
}

TEST(AlertMonitorOptionsTest, FromConfig) {
  config::Config c;
  c.alert.webhook_url = "http://127.0.0.1:9/hook";
  c.alert.webhook_format = "slack";
  c.alert.interval_s = 7;
  c.alert.repeat_interval_s = 60;
  auto o = AlertMonitorOptionsFromConfig(c);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->interval, 7s);
  EXPECT_EQ(o->notifier.format, obs::WebhookFormat::kSlack);
  EXPECT_EQ(o->notifier.repeat_interval, 60s);
  c.alert.webhook_format = "xml";
  EXPECT_FALSE(AlertMonitorOptionsFromConfig(c).ok());
}

TEST(HttpWebhookPostTest, NonSuccessStatusIsAFailure) {
  httplib::Server s;
  s.Post("/hook", [](const httplib::Request&, httplib::Response& res) { res.status = 500; });
  const int port = s.bind_to_any_port("127.0.0.1");
  std::thread t([&] { s.listen_after_bind(); });
  while (!s.is_running()) std::this_thread::sleep_for(1ms);
  Status st = HttpWebhookPost()("http://127.0.0.1:" + std::to_string(port) + "/hook", "{}");
  EXPECT_EQ(st.reason(), "webhook_rejected");
  s.stop();
  t.join();
}

}  // namespace
}  // namespace ingest::api
