// Opening a TCP listening socket the way every ingestd listener does (`serve`, `emulate`): one
// server per address. The socket gets SO_REUSEADDR (so a restart is not refused while old
// connections sit in TIME_WAIT; on Linux this never lets two processes listen on one port) but
// not SO_REUSEPORT unless asked for: with it, a second `ingestd serve` would silently share the
// port and split requests between two stores.
#pragma once

#include <string>

#include "ingest/common/result.h"

namespace ingest {

struct ListenSocketOptions {
  int backlog = 1024;       // accept queue length (the kernel caps it at net.core.somaxconn)
  bool reuse_port = false;  // SO_REUSEPORT: several processes share the port (load balancing)
  bool nonblocking = false;
};

// Resolves `host` (an IPv4/IPv6 literal or a name; "" or "*" = all IPv4 addresses, "::" = all
// IPv6 ones), binds `port` (0 = an ephemeral port) and listens. Returns the file descriptor,
// owned by the caller (close-on-exec). kAlreadyExists with reason "address_in_use" and a message
// containing "address in use" when another socket holds the address; kUnavailable for other
// failures.
Result<int> OpenListenSocket(const std::string& host, int port, const ListenSocketOptions& options);

// The local port a bound socket listens on; 0 on error.
int LocalPort(int fd);

// Splits "HOST:PORT", "[V6]:PORT" or ":PORT" (all addresses) into host and port (0..65535).
// kInvalidArgument otherwise.
Status ParseHostPort(const std::string& listen, std::string* host, int* port);

}  // namespace ingest
