// The API server's connection handling over loopback with raw sockets: many keep-alive clients
// plus idle connections on a small thread pool, slow clients that must not hold request
// threads, oversized headers, idle timeouts, pipelining and one server per address. None of
// these tests is timed: they check that every request is answered, never how fast.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "ingest/api/api_server.h"
#include "ingest/pipeline/testing/pipeline_fixture.h"

namespace ingest::api {
namespace {

// A blocking client connection. Failures are recorded, not thrown, so many threads can report.
class RawConn {
 public:
  explicit RawConn(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      error_ = std::string("connect: ") + std::strerror(errno);
    }
    int yes = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
    timeval tv{60, 0};  // a hung server fails the test instead of hanging it
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~RawConn() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;

  bool Send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        error_ = std::string("send: ") + std::strerror(errno);
        return false;
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one response (headers + Content-Length body). Returns the status code, 0 on error.
  int ReadResponse(std::string* body = nullptr) {
    for (;;) {
      const size_t end = buf_.find("\r\n\r\n");
      if (end != std::string::npos) {
        const std::string head = buf_.substr(0, end);
        size_t length = 0;
        const size_t cl = head.find("Content-Length: ");
        if (cl != std::string::npos) length = std::stoul(head.substr(cl + 16));
        if (buf_.size() >= end + 4 + length) {
          if (body != nullptr) *body = buf_.substr(end + 4, length);
          const int status = std::stoi(head.substr(9, 3));
          buf_.erase(0, end + 4 + length);
          return status;
        }
      }
      char tmp[8192];
      const ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
      if (n <= 0) {
        error_ = n == 0 ? "connection closed by the server"
                        : std::string("recv: ") + std::strerror(errno);
        return 0;
      }
      buf_.append(tmp, static_cast<size_t>(n));
    }
  }

  int Get(const std::string& path, std::string* body = nullptr) {
    if (!Send("GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n")) return 0;
    return ReadResponse(body);
  }

  // True once the server closed the connection (EOF or reset), waiting at most 60 s.
  bool ClosedByServer() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 60000) <= 0) return false;
    char c;
    return ::recv(fd_, &c, 1, 0) <= 0;
  }

  // Everything until the server closes the connection.
  std::string ReadAll() {
    std::string out = buf_;
    buf_.clear();
    char tmp[8192];
    for (ssize_t n; (n = ::recv(fd_, tmp, sizeof(tmp), 0)) > 0;) {
      out.append(tmp, static_cast<size_t>(n));
    }
    return out;
  }

  const std::string& error() const { return error_; }

 private:
  int fd_ = -1;
  std::string buf_;
  std::string error_;
};

class ApiConnectionsTest : public pipeline::testing::PipelineFixture {
 protected:
  void TearDown() override {
    if (server_) server_->Stop();
    server_.reset();
    PipelineFixture::TearDown();
  }

  void Start(ApiOptions options) {
    ApiDeps deps;
    deps.pipeline = deps_;
    deps.admin_token = "admin-token-0123456789";
    deps.data_dir = dir_;
    server_ = std::make_unique<ApiServer>(std::move(deps), options);
    Status st = server_->Start("127.0.0.1", 0);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  std::unique_ptr<ApiServer> server_;
};

// The issue's scenario: 64 connections open and idle while 256 keep-alive clients each send a
// run of requests, on 8 request threads. Every request gets 200, then every idle connection
// is still served: no connection refused, reset or starved.
TEST_F(ApiConnectionsTest, ManyKeepAliveClientsAndIdleConnectionsAreAllServed) {
  ApiOptions o;
  o.limits.threads = 8;
  o.limits.header_timeout_s = 600;  // the idle ones send nothing until the end
  Start(o);
  const int port = server_->port();

  std::vector<std::unique_ptr<RawConn>> idle;
  for (int i = 0; i < 64; ++i) {
    idle.push_back(std::make_unique<RawConn>(port));
    ASSERT_EQ(idle.back()->error(), "") << "idle connection " << i;
  }
  constexpr int kClients = 256;
  constexpr int kRequests = 20;
  std::atomic<int> ok{0};
  std::vector<std::string> errors(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      RawConn c(port);
      for (int r = 0; r < kRequests && c.error().empty(); ++r) {
        std::string body;
        const int status = c.Get("/healthz", &body);
        if (status == 200 && body == R"({"status":"ok"})") {
          ok++;
        } else {
          errors[i] = "request " + std::to_string(r) + ": status " + std::to_string(status) + " " +
                      c.error();
          return;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  for (int i = 0; i < kClients; ++i) EXPECT_EQ(errors[i], "") << "client " << i;
  EXPECT_EQ(ok.load(), kClients * kRequests);
  for (size_t i = 0; i < idle.size(); ++i) {
    EXPECT_EQ(idle[i]->Get("/healthz"), 200) << "idle connection " << i << ": " << idle[i]->error();
  }
}

// Clients that send half a request line, or headers without the final empty line, hold no
// request thread: with a single thread, a complete request on another connection is answered.
TEST_F(ApiConnectionsTest, SlowClientsDoNotHoldRequestThreads) {
  ApiOptions o;
  o.limits.threads = 1;
  o.limits.header_timeout_s = 600;
  Start(o);
  std::vector<std::unique_ptr<RawConn>> slow;
  for (int i = 0; i < 16; ++i) {
    slow.push_back(std::make_unique<RawConn>(server_->port()));
    ASSERT_TRUE(slow.back()->Send(i % 2 ? "GET /heal" : "POST /v1/search HTTP/1.1\r\nHost: t\r\n"));
  }
  // A small body that has not fully arrived is buffered without a thread too.
  RawConn partial_body(server_->port());
  ASSERT_TRUE(
      partial_body.Send("POST /v1/search HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n{"));
  RawConn c(server_->port());
  EXPECT_EQ(c.Get("/healthz"), 200) << c.error();
  // The slow ones are still served once they finish their requests.
  ASSERT_TRUE(slow[0]->Send("\r\n"));
  EXPECT_EQ(slow[0]->ReadResponse(), 401) << slow[0]->error();  // no token
  ASSERT_TRUE(slow[1]->Send("thz HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_EQ(slow[1]->ReadResponse(), 200) << slow[1]->error();
}

// A connection that never completes its headers is closed after header_timeout_s; one that
// sends nothing after a response is closed after keep_alive_timeout_s.
TEST_F(ApiConnectionsTest, StalledAndIdleConnectionsAreClosed) {
  ApiOptions o;
  o.limits.header_timeout_s = 1;
  o.limits.keep_alive_timeout_s = 1;
  Start(o);
  RawConn stalled(server_->port());
  ASSERT_TRUE(stalled.Send("GET /healthz HTTP/1.1\r\n"));
  RawConn idle(server_->port());
  ASSERT_EQ(idle.Get("/healthz"), 200);
  EXPECT_TRUE(stalled.ClosedByServer());
  EXPECT_TRUE(idle.ClosedByServer());
}

TEST_F(ApiConnectionsTest, OversizedHeadersAre431) {
  ApiOptions o;
  o.limits.max_header_bytes = 2048;
  Start(o);
  RawConn c(server_->port());
  ASSERT_TRUE(
      c.Send("GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(4096, 'a') + "\r\n\r\n"));
  std::string body;
  EXPECT_EQ(c.ReadResponse(&body), 431);
  EXPECT_NE(body.find("request_header_fields_too_large"), std::string::npos) << body;
  EXPECT_TRUE(c.ClosedByServer());
}

// Two requests in one write are answered in order; the keep-alive limit closes the connection
// after its last request with Connection: close.
TEST_F(ApiConnectionsTest, PipelinedRequestsAndKeepAliveLimit) {
  ApiOptions o;
  o.limits.keep_alive_max_requests = 3;
  Start(o);
  RawConn c(server_->port());
  ASSERT_TRUE(
      c.Send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\nGET /nope HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_EQ(c.ReadResponse(), 200);
  EXPECT_EQ(c.ReadResponse(), 404);
  EXPECT_EQ(c.Get("/healthz"), 200);
  EXPECT_TRUE(c.ClosedByServer());
}

// A second server on a used address fails with "address in use" instead of sharing the port.
TEST_F(ApiConnectionsTest, AddressInUseIsRefused) {
  Start(ApiOptions{});
  ApiDeps deps;
  deps.pipeline = deps_;
  deps.data_dir = dir_;
  ApiServer second(std::move(deps));
  Status st = second.Start("127.0.0.1", server_->port());
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists) << st.ToString();
  EXPECT_NE(st.message().find("address in use"), std::string::npos) << st.message();
  RawConn c(server_->port());
  EXPECT_EQ(c.Get("/healthz"), 200);
}

// Every response carries the browser hardening headers; the dashboard's policy allows its own
// inline code by hash only.
TEST_F(ApiConnectionsTest, SecurityHeaders) {
  Start(ApiOptions{});
  RawConn h(server_->port());
  ASSERT_TRUE(h.Send("GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  const std::string raw = h.ReadAll();
  EXPECT_NE(raw.find("X-Content-Type-Options: nosniff"), std::string::npos) << raw;
  EXPECT_NE(raw.find("Referrer-Policy: no-referrer"), std::string::npos) << raw;
  EXPECT_NE(raw.find("X-Frame-Options: DENY"), std::string::npos) << raw;
  EXPECT_NE(raw.find("Content-Security-Policy: default-src 'none'; frame-ancestors 'none'"),
            std::string::npos)
      << raw;
  RawConn d(server_->port());
  ASSERT_TRUE(d.Send("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  const std::string page = d.ReadAll();
  const std::string head = page.substr(0, page.find("\r\n\r\n"));
  const size_t csp = head.find("Content-Security-Policy: ");
  ASSERT_NE(csp, std::string::npos) << head;
  EXPECT_EQ(head.find("Content-Security-Policy: ", csp + 1), std::string::npos) << "one policy";
  const std::string policy = head.substr(csp, head.find("\r\n", csp) - csp);
  EXPECT_NE(policy.find("script-src 'sha256-"), std::string::npos) << policy;
  EXPECT_NE(policy.find("style-src 'sha256-"), std::string::npos) << policy;
  EXPECT_NE(policy.find("frame-ancestors 'none'"), std::string::npos) << policy;
  EXPECT_EQ(policy.find("unsafe-inline"), std::string::npos) << policy;
  EXPECT_EQ(policy.find("unsafe-eval"), std::string::npos) << policy;
}

}  // namespace
}  // namespace ingest::api
