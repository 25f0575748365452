#include "ingest/http/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <vector>

namespace ingest::http {
namespace {

HttpRequest Get(std::string url) {
  HttpRequest req;
  req.url = std::move(url);
  return req;
}

// A cpp-httplib server on an ephemeral port, stopped and joined on destruction.
class LocalServer {
 public:
  LocalServer() {
    server_.Post("/echo", [this](const httplib::Request& req, httplib::Response& res) {
      ++requests_;
      res.set_header("X-Request-Id", "req_" + req.get_header_value("X-Seq"));
      res.set_header("X-Multi", "one");
      res.set_header("X-Multi", "two");
      res.status = 201;
      res.set_content(req.get_header_value("Authorization") + "|" + req.body, "text/plain");
    });
    server_.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      res.set_content("late", "text/plain");
    });
    server_.Get("/status/503", [](const httplib::Request&, httplib::Response& res) {
      res.status = 503;
      res.set_content("<html>busy</html>", "text/html");
    });
    server_.Get("/peer", [this](const httplib::Request& req, httplib::Response& res) {
      ++requests_;
      std::lock_guard lock(mu_);
      peers_.insert(req.remote_port);
      res.set_content("ok", "text/plain");
    });
    server_.set_keep_alive_max_count(100000);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~LocalServer() {
    server_.stop();
    thread_.join();
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int requests() const { return requests_; }
  size_t distinct_peers() {
    std::lock_guard lock(mu_);
    return peers_.size();
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> requests_{0};
  std::mutex mu_;
  std::set<int> peers_;
};

TEST(HttpClientTest, SendsMethodHeadersAndBodyAndReadsResponse) {
  LocalServer server;
  HttpClient client;
  HttpRequest req;
  req.method = "POST";
  req.url = server.Url("/echo");
  req.headers = {{"Authorization", "Bearer k"}, {"X-Seq", "7"}, {"Content-Type", "text/plain"}};
  req.body = std::string("payload\0with nul", 16);
  auto res = client.Send(req);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 201);
  EXPECT_EQ(res->body, "Bearer k|" + req.body);
  EXPECT_EQ(res->Header("x-request-id"), "req_7");
  EXPECT_EQ(res->Header("X-REQUEST-ID"), "req_7");  // lookups are case-insensitive
  EXPECT_EQ(res->headers.count("x-multi"), 2u);
  EXPECT_FALSE(res->HasHeader("x-absent"));
  EXPECT_EQ(res->Header("x-absent"), "");
}

TEST(HttpClientTest, HttpErrorStatusIsAResponseNotATransportError) {
  LocalServer server;
  HttpClient client;
  auto res = client.Send(Get(server.Url("/status/503")));
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->body, "<html>busy</html>");
}

TEST(HttpClientTest, TotalTimeoutIsDeadlineExceeded) {
  LocalServer server;
  HttpClientOptions options;
  options.connect_timeout = std::chrono::milliseconds(1000);
  options.total_timeout = std::chrono::milliseconds(200);
  HttpClient client(options);
  const auto started = std::chrono::steady_clock::now();
  auto res = client.Send(Get(server.Url("/slow")));
  const auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(res.status().reason(), "timeout");
  EXPECT_LT(elapsed, std::chrono::milliseconds(1400));
}

TEST(HttpClientTest, ConnectionRefusedIsUnavailable) {
  // Bind a port without listening on it, so connecting is refused.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  HttpClient client;
  auto res = client.Send(Get("http://127.0.0.1:" + std::to_string(port)));
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(res.status().reason(), "connection_failed");
  // The cause an operator acts on, with the endpoint (scheme, host and port, never the path).
  EXPECT_NE(res.status().message().find("connection refused"), std::string::npos)
      << res.status().message();
  EXPECT_NE(res.status().message().find("http://127.0.0.1:" + std::to_string(port)),
            std::string::npos);
  close(fd);
}

TEST(HttpClientTest, MalformedUrlIsInvalidArgument) {
  HttpClient client;
  auto res = client.Send(Get("ftp://127.0.0.1/x"));
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kInvalidArgument);
}

TEST(HttpClientTest, EightThreadsShareOneClientAndReuseConnections) {
  LocalServer server;
  HttpClient client;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        auto res = client.Send(Get(server.Url("/peer")));
        if (res.ok() && res->status == 200 && res->body == "ok") ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  EXPECT_EQ(server.requests(), kThreads * kPerThread);
  // Keep-alive through the shared connection cache: far fewer client ports than requests
  // (at most one connection per concurrently busy thread, plus slack for server-side closes).
  EXPECT_LE(server.distinct_peers(), static_cast<size_t>(kThreads * 4));
}

}  // namespace
}  // namespace ingest::http
