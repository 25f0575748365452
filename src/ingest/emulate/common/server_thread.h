// Runs an httplib::Server on a background thread so an emulator can be embedded in a test
// (port 0 = an ephemeral port chosen by the kernel) or in the `ingestd emulate` command.
#pragma once

#include <string>
#include <thread>

#include "ingest/common/status.h"

namespace httplib {
class Server;
}

namespace ingest::emulate {

// Not thread-safe: Start and Stop are called by the owner thread only.
class ServerThread {
 public:
  // `server` must outlive this object and have its routes installed before Start.
  explicit ServerThread(httplib::Server* server) : server_(server) {}
  ~ServerThread() { Stop(); }
  ServerThread(const ServerThread&) = delete;
  ServerThread& operator=(const ServerThread&) = delete;

  // Binds synchronously (so the port is known and connectable on return), then serves on a
  // new thread. kUnavailable when the address cannot be bound; kFailedPrecondition if running.
  Status Start(const std::string& host, int port);
  // The bound port; 0 before Start.
  int port() const { return port_; }
  // Stops accepting, waits for the serving thread. Idempotent.
  void Stop();

 private:
  httplib::Server* server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace ingest::emulate
