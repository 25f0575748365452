#include "ingest/emulate/common/server_thread.h"

#include <httplib.h>

#include <chrono>

namespace ingest::emulate {

Status ServerThread::Start(const std::string& host, int port) {
  if (thread_.joinable()) return FailedPrecondition("emulator already started");
  int bound = 0;
  if (port == 0) {
    bound = server_->bind_to_any_port(host.c_str());
    if (bound <= 0) return Unavailable("cannot bind " + host + " to an ephemeral port");
  } else {
    if (!server_->bind_to_port(host.c_str(), port)) {
      return Unavailable("cannot bind " + host + ":" + std::to_string(port));
    }
    bound = port;
  }
  port_ = bound;
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
