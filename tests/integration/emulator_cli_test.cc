// `ingestd emulate openai|llamaparse` as a process: the first stdout line names the port chosen
// with --port 0, the servers speak their protocols with the real cl100k tokenizer, and SIGTERM
// stops them with exit code 0.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ingest/text/tokenizer.h"

namespace ingest {
namespace {

using nlohmann::json;

// A child `ingestd emulate ...`; reads the "listening on http://HOST:PORT" line.
class EmulatorProcess {
 public:
  explicit EmulatorProcess(std::vector<std::string> args) {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(INGESTD_BINARY));
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(INGESTD_BINARY, argv.data());
      _exit(127);
    }
    close(fds[1]);
    out_ = fdopen(fds[0], "r");
    char line[256] = {0};
    if (out_ != nullptr && std::fgets(line, sizeof(line), out_) != nullptr) {
      first_line_ = line;
      const size_t colon = first_line_.rfind(':');
      if (colon != std::string::npos) port_ = std::atoi(first_line_.c_str() + colon + 1);
    }
  }
  ~EmulatorProcess() {
    if (pid_ > 0 && !waited_) Terminate();
    if (out_ != nullptr) std::fclose(out_);
  }
  // SIGTERM, then the exit status (-1 if it did not exit normally).
  int Terminate() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    waited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  int port() const { return port_; }
  const std::string& first_line() const { return first_line_; }

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
  std::string first_line_;
  int port_ = 0;
  bool waited_ = false;
};

TEST(EmulatorCliTest, OpenAiServesRealTokenCountsAndStopsOnSigterm) {
  EmulatorProcess proc(
      {"emulate", "openai", "--port", "0", "--api-key", "sk-cli-test", "--fault-every", "503:3"});
  ASSERT_GT(proc.port(), 0) << proc.first_line();
  EXPECT_EQ(proc.first_line().rfind("listening on http://127.0.0.1:", 0), 0u);
  httplib::Client client("127.0.0.1", proc.port());
  const std::vector<std::string> texts = {"Hello, world!", "Tokenizers split text into pieces."};
  const json req = {{"model", "text-embedding-3-small"}, {"input", texts}};
  auto r = client.Post("/v1/embeddings", {{"Authorization", "Bearer sk-cli-test"}}, req.dump(),
                       "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto tok = text::Tokenizer::Get(text::Encoding::kCl100kBase);
  ASSERT_TRUE(tok.ok());
  const size_t expected = (*tok)->Count(texts[0]) + (*tok)->Count(texts[1]);
  EXPECT_EQ(json::parse(r->body)["usage"]["total_tokens"], expected);
  const httplib::Headers good = {{"Authorization", "Bearer sk-cli-test"}};
  const httplib::Headers bad = {{"Authorization", "Bearer wrong"}};
  EXPECT_EQ(client.Post("/v1/embeddings", bad, req.dump(), "application/json")->status, 401);
  // Faults number authenticated requests only: the 401 did not count, so the second request
  // below is the third numbered one and gets --fault-every 503:3.
  EXPECT_EQ(client.Post("/v1/embeddings", good, req.dump(), "application/json")->status, 200);
  EXPECT_EQ(client.Post("/v1/embeddings", good, req.dump(), "application/json")->status, 503);
  const json stats = json::parse(client.Get("/_emulator/stats")->body);
  EXPECT_EQ(stats["billed_tokens"], 2 * expected);
  EXPECT_EQ(stats["by_status"]["503"], 1);
  EXPECT_EQ(proc.Terminate(), 0);
}

TEST(EmulatorCliTest, LlamaParseParsesATextFile) {
  EmulatorProcess proc(
      {"emulate", "llamaparse", "--port", "0", "--latency-ms", "0", "--latency-ms-per-page", "0"});
  ASSERT_GT(proc.port(), 0) << proc.first_line();
  httplib::Client client("127.0.0.1", proc.port());
  const httplib::Headers auth = {{"Authorization", "Bearer llx-any"}};
  httplib::MultipartFormDataItems items = {{"file", "plain text body", "a.txt", "text/plain"}};
  auto up = client.Post("/api/v1/parsing/upload", auth, items);
  ASSERT_TRUE(up);
  ASSERT_EQ(up->status, 200) << up->body;
  const std::string id = json::parse(up->body)["id"];
  EXPECT_EQ(json::parse(client.Get("/api/v1/parsing/job/" + id, auth)->body)["status"], "SUCCESS");
  const json md =
      json::parse(client.Get("/api/parsing/job/" + id + "/result/markdown", auth)->body);
  EXPECT_EQ(md["markdown"], "plain text body");
  EXPECT_EQ(md["job_metadata"]["job_credits_usage"], 3.0);
  EXPECT_EQ(proc.Terminate(), 0);
}

}  // namespace
}  // namespace ingest
