#include "ingest/emulate/common/server_thread.h"

#include <httplib.h>

#include <chrono>

#include "ingest/common/listen_socket.h"

namespace ingest::emulate {

namespace {

// httplib 0.11 binds with SO_REUSEPORT, so a second process could share the port unnoticed;
// ingestd opens the socket itself (listen_socket.h) and hands it over. svr_sock_ is protected:
// a pointer to it formed in a derived class may be used on any Server.
struct SocketAccess : httplib::Server {
  static void Adopt(httplib::Server& server, int fd) { server.*(&SocketAccess::svr_sock_) = fd; }
};

}  // namespace

Status ServerThread::Start(const std::string& host, int port) {
  if (thread_.joinable()) return FailedPrecondition("emulator already started");
  auto fd = OpenListenSocket(host, port, ListenSocketOptions{});
  if (!fd.ok()) return fd.status();
  port_ = LocalPort(*fd);
  // Without TCP_NODELAY a response written as headers then body waits for the client's
  // delayed ACK (~40 ms per request on Linux).
  server_->set_tcp_nodelay(true);
  SocketAccess::Adopt(*server_, *fd);
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // httplib's stop() is a no-op until the accept loop is running, so wait for it; otherwise a
  // Stop() right after Start() would leave the thread serving and join() would hang.
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return Status::Ok();
}

void ServerThread::Stop() {
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

}  // namespace ingest::emulate
