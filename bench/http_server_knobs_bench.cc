// A /healthz server for measuring, one at a time, what limits cpp-httplib's own listener and
// what the EventServer changes (bench/api_server_knobs.sh drives it with wrk;
// docs/performance.md has the table). Not a Google Benchmark: it serves until SIGINT/SIGTERM.
//
//   http_server_knobs_bench [--nodelay] [--backlog N] [--threads N] [--keepalive-max N]
//                           [--event] PORT
//
// Without --event: httplib::Server::listen with the given settings (defaults = httplib 0.11's:
// no TCP_NODELAY, backlog 5, 8 threads, 5 requests per connection). The backlog is raised by
// calling listen() again on the bound socket. With --event: ingestd's EventServer (every other
// flag but --threads is ignored: it always uses TCP_NODELAY and one write per response).
#include <httplib.h>
#include <signal.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "ingest/api/event_server.h"
#include "ingest/common/listen_socket.h"

namespace {

// svr_sock_ is protected; a pointer to it formed in a derived class may be used on any Server.
struct SocketAccess : httplib::Server {
  static int Get(httplib::Server& s) { return s.*(&SocketAccess::svr_sock_); }
};

}  // namespace

int main(int argc, char** argv) {
  bool nodelay = false, event = false;
  int backlog = 5, threads = 8, keepalive_max = 5, port = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
    if (a == "--nodelay") {
      nodelay = true;
    } else if (a == "--event") {
      event = true;
    } else if (a == "--backlog") {
      backlog = next();
    } else if (a == "--threads") {
      threads = next();
    } else if (a == "--keepalive-max") {
      keepalive_max = next();
    } else {
      port = std::atoi(a.c_str());
    }
  }
  if (port <= 0) {
    std::fprintf(stderr,
                 "usage: %s [--nodelay] [--backlog N] [--threads N] "
                 "[--keepalive-max N] [--event] PORT\n",
                 argv[0]);
    return 2;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  httplib::Server server;
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"ok"})", "application/json");
  });
  std::unique_ptr<ingest::api::EventServer> es;
  std::thread loop;
  if (event) {
    auto fd = ingest::OpenListenSocket("127.0.0.1", port, ingest::ListenSocketOptions{});
    if (!fd.ok()) {
      std::fprintf(stderr, "%s\n", fd.status().ToString().c_str());
      return 1;
    }
    ingest::api::ServerLimits limits;
    limits.threads = threads;
    es = std::make_unique<ingest::api::EventServer>(&server, limits, nullptr);
    if (auto st = es->Start(*fd); !st.ok()) {
      std::fprintf(stderr, "%s\n", st.ToString().c_str());
      return 1;
    }
  } else {
    server.set_tcp_nodelay(nodelay);
    server.set_keep_alive_max_count(static_cast<size_t>(keepalive_max));
    server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    if (!server.bind_to_port("127.0.0.1", port)) {
      std::fprintf(stderr, "cannot bind port %d\n", port);
      return 1;
    }
    // Linux lets listen() be called again on a listening socket to change its backlog.
    if (backlog != 5) ::listen(SocketAccess::Get(server), backlog);
    loop = std::thread([&] { server.listen_after_bind(); });
  }
  std::printf("listening on http://127.0.0.1:%d\n", port);
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  if (es) es->Stop();
  if (loop.joinable()) {
    server.stop();
    loop.join();
  }
  return 0;
}
