#include "ingest/api/event_server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <string_view>

#include "ingest/api/tls_context.h"
#include "ingest/obs/log.h"

namespace ingest::api {
namespace {

constexpr uint64_t kWakeId = 0;
constexpr uint64_t kListenId = 1;
constexpr size_t kReadChunk = 16384;
constexpr size_t kFlushAt = 65536;

enum ConnState : int { kArmed = 0, kBusy = 1, kClosed = 2 };

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// httplib::Server::process_request (protected) parses one request from a Stream, routes it and
// writes the response. A pointer to it formed inside a derived class may be used on any Server.
struct RouterAccess : httplib::Server {
  static bool ProcessRequest(httplib::Server& router, httplib::Stream& strm, bool close_connection,
                             bool& connection_closed) {
    static const std::function<void(httplib::Request&)> kNoSetup;
    return (router.*(&RouterAccess::process_request))(strm, close_connection, connection_closed,
                                                      kNoSetup);
  }
};

void Address(const sockaddr_storage& ss, std::string* ip, int* port) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
    *port = ntohs(a->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof(buf));
    *port = ntohs(a->sin6_port);
  }
  *ip = buf;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

struct EventServer::Conn {
  int fd = -1;
  uint64_t id = 0;
  SSL* ssl = nullptr;
  bool handshake_done = false;
  std::string in;  // received, not yet consumed bytes start at in_pos
  size_t in_pos = 0;
  std::string out;  // response bytes not yet sent
  int requests = 0;
  int64_t accepted_ms = 0;
  int64_t request_start_ms = 0;  // first byte of the request being received; 0 = none
  std::atomic<int> state{kBusy};
  std::mutex arm_mu;        // orders arming against the reaper's claim
  int64_t deadline_ms = 0;  // GUARDED_BY(arm_mu) while armed
  std::string remote_ip, local_ip;
  int remote_port = 0, local_port = 0;

  size_t buffered() const { return in.size() - in_pos; }
  void Compact() {
    if (in_pos == in.size()) {
      in.clear();
      in_pos = 0;
    } else if (in_pos > 0) {
      in.erase(0, in_pos);
      in_pos = 0;
    }
  }
  ~Conn() {
    if (ssl != nullptr) SSL_free(ssl);
    if (fd >= 0) ::close(fd);
  }
};

namespace {

enum class Io { kData, kWantRead, kWantWrite, kEof, kError };

// One non-blocking read into c.in.
Io TryRead(EventServer::Conn& c) {
  const size_t old = c.in.size();
  c.in.resize(old + kReadChunk);
  if (c.ssl == nullptr) {
    const ssize_t n = ::recv(c.fd, c.in.data() + old, kReadChunk, 0);
    if (n > 0) {
      c.in.resize(old + static_cast<size_t>(n));
      return Io::kData;
    }
    c.in.resize(old);
    if (n == 0) return Io::kEof;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return Io::kWantRead;
    return Io::kError;
  }
  ERR_clear_error();
  const int n = SSL_read(c.ssl, c.in.data() + old, static_cast<int>(kReadChunk));
  if (n > 0) {
    c.in.resize(old + static_cast<size_t>(n));
    return Io::kData;
  }
  c.in.resize(old);
  switch (SSL_get_error(c.ssl, n)) {
    case SSL_ERROR_WANT_READ:
      return Io::kWantRead;
    case SSL_ERROR_WANT_WRITE:
      return Io::kWantWrite;
    case SSL_ERROR_ZERO_RETURN:
      return Io::kEof;
    default:
      return Io::kError;
  }
}

// One non-blocking write of c.out[*pos..].
Io TryWrite(EventServer::Conn& c, size_t* pos) {
  const size_t left = c.out.size() - *pos;
  if (c.ssl == nullptr) {
    const ssize_t n = ::send(c.fd, c.out.data() + *pos, left, MSG_NOSIGNAL);
    if (n >= 0) {
      *pos += static_cast<size_t>(n);
      return Io::kData;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return Io::kWantWrite;
    return Io::kError;
  }
  ERR_clear_error();
  const int n =
      SSL_write(c.ssl, c.out.data() + *pos, static_cast<int>(std::min<size_t>(left, 1 << 20)));
  if (n > 0) {
    *pos += static_cast<size_t>(n);
    return Io::kData;
  }
  switch (SSL_get_error(c.ssl, n)) {
    case SSL_ERROR_WANT_READ:
      return Io::kWantRead;
    case SSL_ERROR_WANT_WRITE:
      return Io::kWantWrite;
    default:
      return Io::kError;
  }
}

// Waits until fd is readable (want_write false) or writable, at most until deadline_ms.
bool WaitFd(int fd, bool want_write, int64_t deadline_ms) {
  for (;;) {
    const int64_t left = deadline_ms - NowMs();
    if (left <= 0) return false;
    pollfd p{fd, static_cast<short>(want_write ? POLLOUT : POLLIN), 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1 << 30)));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

// The httplib::Stream a handler reads the request from and writes the response to. Reads are
// served from what the event loop buffered, then from the socket with timeouts (streamed
// bodies); writes are collected and sent in one go (Flush), so headers and body leave in one
// segment.
class ConnStream final : public httplib::Stream {
 public:
  ConnStream(EventServer::Conn& c, const ServerLimits& limits, int64_t request_deadline_ms)
      : c_(c), limits_(limits), request_deadline_ms_(request_deadline_ms) {}

  bool is_readable() const override {
    return c_.buffered() > 0 || (c_.ssl != nullptr && SSL_pending(c_.ssl) > 0) ||
           WaitFd(c_.fd, false, NowMs() + limits_.read_timeout_s * int64_t{1000});
  }
  bool is_writable() const override { return !failed_; }

  ssize_t read(char* ptr, size_t size) override {
    if (c_.buffered() == 0) {
      c_.Compact();
      if (!Fill()) return -1;
    }
    const size_t n = std::min(size, c_.buffered());
    std::memcpy(ptr, c_.in.data() + c_.in_pos, n);
    c_.in_pos += n;
    consumed_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (failed_) return -1;
    c_.out.append(ptr, size);
    if (c_.out.size() >= kFlushAt && !Flush()) return -1;
    return static_cast<ssize_t>(size);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = c_.remote_ip;
    port = c_.remote_port;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = c_.local_ip;
    port = c_.local_port;
  }
  socket_t socket() const override { return c_.fd; }

  // Sends everything written so far, waiting at most write_timeout_s. False on failure.
  bool Flush() {
    if (failed_) return false;
    size_t pos = 0;
    const int64_t deadline = NowMs() + limits_.write_timeout_s * int64_t{1000};
    while (pos < c_.out.size()) {
      const Io io = TryWrite(c_, &pos);
      if (io == Io::kData) continue;
      if (io == Io::kError || !WaitFd(c_.fd, io == Io::kWantWrite, deadline)) {
        failed_ = true;
        c_.out.clear();
        return false;
      }
    }
    c_.out.clear();
    return true;
  }
  bool failed() const { return failed_; }
  // Bytes of the request the handler read (line, headers and as much of the body as it took).
  size_t consumed() const { return consumed_; }

 private:
  // Reads more of a streamed body: sends pending output first (a 100 Continue), then waits for
  // bytes at most read_timeout_s each time and never past the request deadline.
  bool Fill() {
    if (!c_.out.empty() && !Flush()) return false;
    for (;;) {
      const Io io = TryRead(c_);
      if (io == Io::kData) return true;
      if (io == Io::kEof || io == Io::kError) return false;
      const int64_t deadline =
          std::min(NowMs() + limits_.read_timeout_s * int64_t{1000}, request_deadline_ms_);
      if (!WaitFd(c_.fd, io == Io::kWantWrite, deadline)) {
        failed_ = true;
        return false;
      }
    }
  }

  EventServer::Conn& c_;
  const ServerLimits& limits_;
  const int64_t request_deadline_ms_;
  bool failed_ = false;
  size_t consumed_ = 0;
};

enum class Scan { kIncomplete, kReady, kTooLarge };

// Whether c.in holds a request that can be handed to a thread: its line and headers, and its
// body too when the body is small (Content-Length <= max_buffered_body). Larger and chunked
// bodies are streamed by the handler. A request with neither Content-Length nor
// Transfer-Encoding has no body (RFC 9112 6.3); httplib 0.11 would instead read a POST's body
// until the client closes, holding a thread, so `*unframed_at` is set to where the head ends
// and the caller inserts "Content-Length: 0" there. `*framed_size` is the request's whole size
// (empty lines, head and body) when Content-Length frames it, else npos.
Scan ScanRequest(const EventServer::Conn& c, const ServerLimits& limits, size_t* unframed_at,
                 size_t* framed_size) {
  *unframed_at = std::string::npos;
  *framed_size = std::string::npos;
  std::string_view data(c.in.data() + c.in_pos, c.buffered());
  // Empty lines before a request line are allowed (RFC 9112 2.2).
  size_t skipped = 0;
  while (data.starts_with("\r\n")) {
    data.remove_prefix(2);
    skipped += 2;
  }
  const size_t end = data.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    return data.size() > limits.max_header_bytes ? Scan::kTooLarge : Scan::kIncomplete;
  }
  if (end + 4 > limits.max_header_bytes) return Scan::kTooLarge;
  std::string_view headers = data.substr(0, end + 2);
  size_t body = 0;
  bool framed = false;
  size_t line_start = headers.find("\r\n");
  while (line_start != std::string_view::npos && line_start + 2 < headers.size()) {
    const size_t next = headers.find("\r\n", line_start + 2);
    std::string_view line = headers.substr(line_start + 2, next - line_start - 2);
    line_start = next;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = line.substr(0, colon);
    std::string_view value = TrimOws(line.substr(colon + 1));
    // Streamed bodies, and clients that wait for "100 Continue" before sending the body.
    if (IEquals(name, "Transfer-Encoding") || IEquals(name, "Expect")) {
      *framed_size = std::string::npos;
      return Scan::kReady;
    }
    if (IEquals(name, "Content-Length")) {
      framed = true;
      size_t v = 0;
      for (char ch : value) {
        if (ch < '0' || ch > '9' || v > (size_t{1} << 50)) return Scan::kReady;  // httplib decides
        v = v * 10 + static_cast<size_t>(ch - '0');
      }
      body = v;
      *framed_size = skipped + end + 4 + body;
    }
  }
  if (!framed) {
    *unframed_at = c.in_pos + skipped + end + 2;
    return Scan::kReady;
  }
  if (body == 0 || body > limits.max_buffered_body) return Scan::kReady;
  return data.size() >= end + 4 + body ? Scan::kReady : Scan::kIncomplete;
}

void SendHeaderTooLarge(EventServer::Conn& c) {
  static constexpr std::string_view kBody =
      R"({"error":{"code":"request_header_fields_too_large","message":"request line and headers exceed the server's limit"}})";
  c.out =
      "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: application/json\r\n"
      "Connection: close\r\nContent-Length: " +
      std::to_string(kBody.size()) + "\r\n\r\n" + std::string(kBody);
  size_t pos = 0;
  const int64_t deadline = NowMs() + 1000;
  while (pos < c.out.size()) {
    const Io io = TryWrite(c, &pos);
    if (io == Io::kData) continue;
    if (io == Io::kError || !WaitFd(c.fd, io == Io::kWantWrite, deadline)) break;
  }
}

}  // namespace

EventServer::EventServer(httplib::Server* router, ServerLimits limits, const TlsContext* tls)
    : router_(router), limits_(limits), tls_(tls) {}

EventServer::~EventServer() { Stop(); }

size_t EventServer::connections() const {
  std::lock_guard<std::mutex> lock(mu_);
  return conns_.size();
}

Status EventServer::Start(int listen_fd) {
  if (!threads_.empty()) {
    ::close(listen_fd);
    return FailedPrecondition("server already started");
  }
  listen_fd_ = listen_fd;
  // Non-blocking, so a connection another thread accepted first never blocks accept().
  const int fl = fcntl(listen_fd_, F_GETFL, 0);
  fcntl(listen_fd_, F_SETFL, fl | O_NONBLOCK);
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_fd_ < 0 || wake_fd_ < 0) {
    return Unavailable(std::string("cannot create epoll/eventfd: ") + std::strerror(errno));
  }
  epoll_event wake{};
  wake.events = EPOLLIN;  // level-triggered and never read: wakes every thread on Stop
  wake.data.u64 = kWakeId;
  epoll_event lis{};
  lis.events = EPOLLIN | EPOLLONESHOT;
  lis.data.u64 = kListenId;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &wake) != 0 ||
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &lis) != 0) {
    return Unavailable(std::string("cannot register with epoll: ") + std::strerror(errno));
  }
  stopping_ = false;
  int n = limits_.threads;
  if (n <= 0) n = std::max(8, 4 * static_cast<int>(std::thread::hardware_concurrency()));
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { ThreadMain(); });
  reaper_ = std::thread([this] { ReaperMain(); });
  return Status::Ok();
}

void EventServer::Stop() {
  if (threads_.empty()) return;
  stopping_ = true;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
  ::close(listen_fd_);
  listen_fd_ = -1;
  const uint64_t one = 1;
  if (::write(wake_fd_, &one, sizeof(one)) < 0) {
    obs::LogError("cannot wake the HTTP server threads", {{"error", std::strerror(errno)}});
  }
  {
    std::lock_guard<std::mutex> lock(reaper_mu_);
    reaper_cv_.notify_all();
  }
  for (auto& t : threads_) t.join();
  threads_.clear();
  reaper_.join();
  std::unordered_map<uint64_t, std::shared_ptr<Conn>> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    left.swap(conns_);
  }
  left.clear();  // closes the sockets
  ::close(epoll_fd_);
  ::close(wake_fd_);
  epoll_fd_ = wake_fd_ = -1;
}

void EventServer::ThreadMain() {
  for (;;) {
    epoll_event ev{};
    const int n = ::epoll_wait(epoll_fd_, &ev, 1, -1);
    if (n < 0 && errno != EINTR) {
      obs::LogError("epoll_wait failed", {{"error", std::strerror(errno)}});
      return;
    }
    if (stopping_) return;
    if (n <= 0 || ev.data.u64 == kWakeId) continue;
    if (ev.data.u64 == kListenId) {
      AcceptAll();
      continue;
    }
    std::shared_ptr<Conn> c;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = conns_.find(ev.data.u64);
      if (it != conns_.end()) c = it->second;
    }
    if (c == nullptr) continue;
    int expected = kArmed;
    if (!c->state.compare_exchange_strong(expected, kBusy)) continue;
    Serve(c);
  }
}

void EventServer::ArmListener() {
  epoll_event lis{};
  lis.events = EPOLLIN | EPOLLONESHOT;
  lis.data.u64 = kListenId;
  if (!stopping_ && ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listen_fd_, &lis) != 0) {
    obs::LogError("cannot re-arm the listening socket", {{"error", std::strerror(errno)}});
  }
}

void EventServer::AcceptAll() {
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (conns_.size() >= static_cast<size_t>(std::max(1, limits_.max_connections))) {
        // Leave further connections in the accept queue until one closes (Close re-arms).
        listener_paused_ = true;
        return;
      }
    }
    sockaddr_storage peer{};
    socklen_t len = sizeof(peer);
    const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        obs::LogWarn("accept failed", {{"error", std::strerror(errno)}});
        if (errno == EMFILE || errno == ENFILE) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      }
      break;
    }
    int yes = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
    auto c = std::make_shared<Conn>();
    c->fd = fd;
    c->accepted_ms = NowMs();
    Address(peer, &c->remote_ip, &c->remote_port);
    sockaddr_storage local{};
    socklen_t llen = sizeof(local);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &llen) == 0) {
      Address(local, &c->local_ip, &c->local_port);
    }
    if (tls_ != nullptr) {
      std::shared_ptr<SSL_CTX> ctx = tls_->Current();
      c->ssl = SSL_new(ctx.get());  // holds its own reference to ctx
      if (c->ssl == nullptr || SSL_set_fd(c->ssl, fd) != 1) continue;  // ~Conn closes fd
      SSL_set_accept_state(c->ssl);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      c->id = next_id_++;
      conns_[c->id] = c;
    }
    c->deadline_ms = c->accepted_ms + limits_.header_timeout_s * int64_t{1000};
    c->state = kArmed;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
    ev.data.u64 = c->id;
    std::lock_guard<std::mutex> arm(c->arm_mu);
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      c->state = kClosed;
      std::lock_guard<std::mutex> lock(mu_);
      conns_.erase(c->id);
    }
  }
  ArmListener();
}

void EventServer::Arm(Conn& c, bool want_write) {
  const int64_t now = NowMs();
  int64_t deadline;
  if (!c.handshake_done && c.ssl != nullptr) {
    deadline = c.accepted_ms + limits_.header_timeout_s * int64_t{1000};
  } else if (c.buffered() > 0) {
    deadline = c.request_start_ms + limits_.header_timeout_s * int64_t{1000};
  } else if (c.requests == 0) {
    deadline = c.accepted_ms + limits_.header_timeout_s * int64_t{1000};
  } else {
    deadline = now + limits_.keep_alive_timeout_s * int64_t{1000};
  }
  epoll_event ev{};
  ev.events = (want_write ? EPOLLOUT : EPOLLIN) | EPOLLRDHUP | EPOLLONESHOT;
  ev.data.u64 = c.id;
  std::lock_guard<std::mutex> arm(c.arm_mu);
  c.deadline_ms = deadline;
  c.state = kArmed;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev) != 0) {
    // Cannot happen for an open socket; reclaim it so the reaper closes it.
    c.deadline_ms = 0;
  }
}

void EventServer::Close(const std::shared_ptr<Conn>& c) {
  c->state = kClosed;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c->fd, nullptr);
  if (c->ssl != nullptr && c->handshake_done) {
    ERR_clear_error();
    SSL_shutdown(c->ssl);  // best effort close_notify; never waits
  }
  SSL_free(c->ssl);
  c->ssl = nullptr;
  ::close(c->fd);
  c->fd = -1;
  bool resume = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    conns_.erase(c->id);
    if (listener_paused_ &&
        conns_.size() < static_cast<size_t>(std::max(1, limits_.max_connections))) {
      listener_paused_ = false;
      resume = true;
    }
  }
  if (resume) ArmListener();
}

void EventServer::ReaperMain() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(reaper_mu_);
      reaper_cv_.wait_for(lock, std::chrono::milliseconds(200),
                          [this] { return stopping_.load(); });
      if (stopping_) return;
    }
    const int64_t now = NowMs();
    std::vector<std::shared_ptr<Conn>> expired;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [id, c] : conns_) {
        if (c->state.load() == kArmed) expired.push_back(c);
      }
    }
    for (const auto& c : expired) {
      bool claimed = false;
      {
        std::lock_guard<std::mutex> arm(c->arm_mu);
        int expected = kArmed;
        claimed = c->deadline_ms <= now && c->state.compare_exchange_strong(expected, kBusy);
      }
      if (claimed) Close(c);
    }
  }
}

void EventServer::Serve(const std::shared_ptr<Conn>& c) {
  for (;;) {
    if (stopping_) return Close(c);
    if (c->ssl != nullptr && !c->handshake_done) {
      ERR_clear_error();
      const int r = SSL_accept(c->ssl);
      if (r != 1) {
        const int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_READ) return Arm(*c, false);
        if (e == SSL_ERROR_WANT_WRITE) return Arm(*c, true);
        return Close(c);  // not TLS (plain HTTP to the TLS port), bad certificate, ...
      }
      c->handshake_done = true;
    }
    // Take what has arrived, without waiting.
    bool eof = false;
    bool want_write = false;
    const size_t cap = limits_.max_header_bytes + limits_.max_buffered_body + kReadChunk;
    for (;;) {
      if (c->buffered() >= cap) break;
      const size_t before = c->buffered();
      const Io io = TryRead(*c);
      if (io == Io::kData) {
        if (before == 0 && c->request_start_ms == 0) c->request_start_ms = NowMs();
        continue;
      }
      if (io == Io::kEof || io == Io::kError) eof = true;
      if (io == Io::kWantWrite) want_write = true;
      break;
    }
    size_t unframed_at = std::string::npos;
    size_t framed_size = std::string::npos;
    const Scan scan = ScanRequest(*c, limits_, &unframed_at, &framed_size);
    if (scan == Scan::kTooLarge) {
      SendHeaderTooLarge(*c);
      return Close(c);
    }
    if (scan == Scan::kIncomplete) {
      if (eof) return Close(c);
      return Arm(*c, want_write);
    }

    if (unframed_at != std::string::npos) c->in.insert(unframed_at, "Content-Length: 0\r\n");
    // A whole request (or its headers, when the body is streamed): handle it on this thread.
    const int64_t start = c->request_start_ms != 0 ? c->request_start_ms : NowMs();
    ConnStream stream(*c, limits_, start + limits_.request_timeout_s * int64_t{1000});
    const bool last =
        stopping_ || eof ||
        (limits_.keep_alive_max_requests > 0 && c->requests + 1 >= limits_.keep_alive_max_requests);
    bool connection_closed = false;
    const bool ok = RouterAccess::ProcessRequest(*router_, stream, last, connection_closed);
    c->requests++;
    const bool flushed = stream.Flush();
    // A handler that answered without reading the whole body (a 401 or 400 before the upload
    // was read) leaves body bytes where the next request would start: close instead.
    const bool body_left = framed_size != std::string::npos && stream.consumed() < framed_size;
    if (!ok || !flushed || last || connection_closed || stream.failed() || body_left) {
      return Close(c);
    }
    c->Compact();
    c->request_start_ms = c->buffered() > 0 ? NowMs() : 0;
    // A pipelined request already buffered (or decrypted inside OpenSSL) gets no epoll event.
    if (c->buffered() > 0 || (c->ssl != nullptr && SSL_pending(c->ssl) > 0)) continue;
    return Arm(*c, false);
  }
}

}  // namespace ingest::api
