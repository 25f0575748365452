// The connection layer of `ingestd serve` (docs/architecture.md, "The HTTP server"): an
// epoll-driven server that owns the sockets and hands each complete request to cpp-httplib's
// parser and router.
//
// Why not httplib's own listener: it gives each connection a thread from a fixed pool for the
// connection's whole life, so eight idle keep-alive connections stop the server (measured in
// docs/performance.md). Here a connection holds a thread only while a request is being handled:
//  - idle keep-alive connections and requests still arriving sit in epoll, costing no thread;
//  - a request's line, headers and (when small) body are buffered without a thread, under a
//    deadline, so a slow or stalled client (slowloris) holds nothing but a socket;
//  - `threads` request threads take turns waiting on epoll (leader/follower, EPOLLONESHOT), so a
//    request is read, handled and answered on one thread with no hand-off;
//  - a response is written with one send() (headers and body coalesced) and TCP_NODELAY.
// Large bodies (uploads) are streamed by the handler thread, bounded by the read timeout per
// wait and the request timeout overall.
//
// TLS (optional): the handshake is driven by epoll too; each connection keeps the SSL_CTX it
// was accepted with, so TlsContext::Reload never disturbs open connections.
//
// Thread-safety: Start and Stop are called by the owner thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ingest/common/status.h"

namespace httplib {
class Server;
}

namespace ingest::api {

class TlsContext;

struct ServerLimits {
  int threads = 0;                      // request threads; 0 = max(8, 4 x cores)
  int max_connections = 10000;          // beyond this, new connections wait in the accept queue
  int keep_alive_timeout_s = 75;        // idle keep-alive connection closed after this
  int keep_alive_max_requests = 10000;  // requests per connection, then Connection: close
  int header_timeout_s = 10;            // request line + headers (+ small body) must arrive within
  int read_timeout_s = 30;              // a streamed body: longest wait for the next bytes
  int write_timeout_s = 30;             // a response must be taken by the client within this
  int request_timeout_s = 600;          // a streamed body must be complete within this
  size_t max_header_bytes = 16384;      // request line + headers; larger: 431 and close
  size_t max_buffered_body = 65536;     // bodies up to this are read before a thread is taken
};

class EventServer {
 public:
  // `router` parses and dispatches requests (routes installed; it never listens itself). `tls`
  // null = plain HTTP. Both must outlive the server.
  EventServer(httplib::Server* router, ServerLimits limits, const TlsContext* tls);
  ~EventServer();  // Stop()
  EventServer(const EventServer&) = delete;
  EventServer& operator=(const EventServer&) = delete;

  // Serves the listening socket `listen_fd` (takes ownership). kFailedPrecondition if running.
  Status Start(int listen_fd);
  // Stops accepting, lets requests being handled finish (their responses say Connection:
  // close), closes every connection and joins the threads. Idempotent.
  void Stop();

  // Open connections and connections being served right now (for tests and metrics).
  size_t connections() const;

  struct Conn;

 private:
  void ThreadMain();
  void ReaperMain();
  void AcceptAll();
  void Serve(const std::shared_ptr<Conn>& c);
  void Arm(Conn& c, bool want_write);
  void Close(const std::shared_ptr<Conn>& c);
  void ArmListener();

  httplib::Server* router_;
  const ServerLimits limits_;
  const TlsContext* tls_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> listener_paused_{false};
  std::vector<std::thread> threads_;
  std::thread reaper_;  // closes connections past their deadline, every 200 ms
  std::mutex reaper_mu_;
  std::condition_variable reaper_cv_;
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, std::shared_ptr<Conn>> conns_;  // GUARDED_BY(mu_)
  uint64_t next_id_ = 2;                                       // GUARDED_BY(mu_); 0, 1 reserved
};

}  // namespace ingest::api
