// The LlamaParse webhook end to end over loopback (parse/llamaparse/webhook.h): the parser
// uploads with a per-job webhook_url pointing at a real ApiServer; the LlamaParse emulator
// POSTs the result push when the job finishes; the API checks the token and makes the waiting
// job due at once, so it completes before its next scheduled poll. One FakeClock drives the
// store, the workers, the emulator's job latency and its webhook delivery: with the clock
// frozen between two polls, only the webhook can wake the job.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

#include "ingest/api/api_server.h"
#include "ingest/emulate/llamaparse/llamaparse_emulator.h"
#include "ingest/parse/llamaparse/llamaparse_parser.h"
#include "ingest/parse/llamaparse/webhook.h"
#include "ingest/parse/local/local_parser.h"
#include "ingest/pipeline/submit.h"
#include "ingest/pipeline/worker_pool.h"
#include "local_pipeline_fixture.h"

namespace ingest::pipeline {
namespace {

using namespace std::chrono_literals;

class LlamaParseWebhookTest : public LocalPipelineTest {
 protected:
  void SetUp() override {
    LocalPipelineTest::SetUp();
    if (HasFatalFailure()) return;
    api::ApiDeps deps;
    deps.pipeline = deps_;
    // The API only receives webhooks here; the parser pointing at it needs its port first.
    deps.pipeline.parser = &api_parser_;
    deps.admin_token = "webhook-test-admin-token";
    deps.data_dir = dir_;
    deps.llamaparse_webhook_secret = secret_;
    api_ = std::make_unique<api::ApiServer>(std::move(deps));
    Status started = api_->Start("127.0.0.1", 0);
    ASSERT_TRUE(started.ok()) << started.ToString();

    emulate::LlamaParseEmulatorOptions o;
    o.api_keys = {key_};
    o.latency_base_ms = 3500;  // polls at +1 s, +3 s, +6 s: the result is ready at +3.5 s
    o.latency_per_page_ms = 0;
    o.clock = &clock_;
    o.webhooks_allow_http = true;
    emulator_ = std::make_unique<emulate::LlamaParseEmulator>(std::move(o));
    ASSERT_TRUE(emulator_->Start("127.0.0.1", 0).ok());
    parse::LlamaParseParserOptions po;
    po.client.base_url = "http://127.0.0.1:" + std::to_string(emulator_->port());
    po.client.api_key = key_;
    po.webhook_base_url = "http://127.0.0.1:" + std::to_string(api_->port());
    po.webhook_secret = secret_;
    parser_ = std::make_unique<parse::LlamaParseParser>(std::move(po));
    deps_.parser = parser_.get();
  }
  void TearDown() override {
    parser_.reset();
    if (emulator_) emulator_->Stop();
    if (api_) api_->Stop();
    LocalPipelineTest::TearDown();
  }

  store::Job Job(const std::string& id) { return store_->GetJob(id).value(); }
  // Waits (real time, at most 20 s) for `done`, without moving the clock.
  static bool WaitFor(const std::function<bool()>& done) {
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    while (!done() && std::chrono::steady_clock::now() < give_up) std::this_thread::sleep_for(5ms);
    return done();
  }
  WorkerOptions Options() {
    WorkerOptions o;
    o.threads = 2;
    o.poll_interval = 5ms;
    o.lease_ttl = 30s;
    o.worker_id = "webhook-it";
    return o;
  }
  int Post(const std::string& path) {
    httplib::Client client("127.0.0.1", api_->port());
    auto res = client.Post(path, "{}", "application/json");
    return res ? res->status : 0;
  }

  const std::string key_ = "webhook-test-llama-key";
  const std::string secret_ = "webhook-server-secret-0123456789";
  parse::LocalParser api_parser_;
  std::unique_ptr<api::ApiServer> api_;
  std::unique_ptr<emulate::LlamaParseEmulator> emulator_;
  std::unique_ptr<parse::LlamaParseParser> parser_;
};

TEST_F(LlamaParseWebhookTest, WebhookWakesTheWaitingJobBeforeItsNextPoll) {
  const std::string path = dir_ + "/in/pushed.md";
  std::ofstream(path) << "# Webhooks\n\nThe result push makes the waiting job due at once.\n";
  auto out = SubmitFile(deps_, path, "default");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const std::string id = out->job.id;
  const UnixMillis t0 = clock_.NowMillis();
  WorkerPool pool(deps_, Options());
  ASSERT_TRUE(pool.Start().ok());

  // Upload, then the polls at +1 s and +3 s find the job pending.
  ASSERT_TRUE(WaitFor([&] { return Job(id).state == store::JobState::kWaiting; }));
  for (int ms : {1000, 3000}) {
    clock_.Set(t0 + ms);
    pool.Wake();
    ASSERT_TRUE(WaitFor([&] { return Job(id).next_attempt_at > t0 + ms; })) << ms;
  }
  ASSERT_EQ(Job(id).state, store::JobState::kWaiting);
  EXPECT_EQ(Job(id).next_attempt_at, t0 + 6000);

  // +3.6 s: the emulator's job is done and it pushes; the clock then stays here, 2.4 s before
  // the next poll, so completing now is the webhook's doing.
  clock_.Set(t0 + 3600);
  ASSERT_TRUE(WaitFor([&] { return Job(id).state == store::JobState::kComplete; }))
      << store::JobStateName(Job(id).state) << " " << Job(id).last_error_message;
  EXPECT_EQ(clock_.NowMillis(), t0 + 3600);
  pool.RequestStop();
  pool.Join();
  const auto stats = emulator_->Stats();
  EXPECT_EQ(stats.webhooks_delivered, 1);
  EXPECT_EQ(stats.uploads, 1);
  EXPECT_EQ(stats.billed_jobs, 1);
  EXPECT_EQ(store_->GetDocument(Job(id).document_id).value().parser, "llamaparse");
}

TEST_F(LlamaParseWebhookTest, TokensAreCheckedAndNonWaitingJobsAreLeftAlone) {
  const std::string path = dir_ + "/in/tokens.md";
  std::ofstream(path) << "# Tokens\n\nOnly the per-job token wakes a job.\n";
  auto out = SubmitFile(deps_, path, "default");
  ASSERT_TRUE(out.ok());
  const std::string id = out->job.id;
  const std::string good = parse::LlamaParseWebhookToken(secret_, id);
  ASSERT_EQ(good.size(), 32u);
  const std::string route = std::string(parse::kLlamaParseWebhookPath) + id;
  // Wrong token, a token for another job, no token: the same 404, nothing written.
  const int64_t version = Job(id).version;
  EXPECT_EQ(Post(route + "?token=" + std::string(32, '0')), 404);
  EXPECT_EQ(Post(route + "?token=" + parse::LlamaParseWebhookToken(secret_, "other")), 404);
  EXPECT_EQ(Post(route), 404);
  EXPECT_EQ(Post(std::string(parse::kLlamaParseWebhookPath) +
                 "00000000-0000-0000-0000-000000000000" + "?token=" +
                 parse::LlamaParseWebhookToken(secret_, "00000000-0000-0000-0000-000000000000")),
            404);  // a valid token for a job that does not exist
  // The right token for a job that is queued, not waiting: accepted, nothing changes.
  EXPECT_EQ(Post(route + "?token=" + good), 200);
  EXPECT_EQ(Job(id).version, version);
  EXPECT_EQ(Job(id).state, store::JobState::kQueued);
  EXPECT_EQ(parse::LlamaParseWebhookUrl("https://ingest.example.com/", secret_, id),
            "https://ingest.example.com" + route + "?token=" + good);
}

}  // namespace
}  // namespace ingest::pipeline
