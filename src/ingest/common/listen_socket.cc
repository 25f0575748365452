#include "ingest/common/listen_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace ingest {

Result<int> OpenListenSocket(const std::string& host, int port,
                             const ListenSocketOptions& options) {
  const std::string where =
      (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_ADDRCONFIG;
  const std::string service = std::to_string(port);
  const char* node = (host.empty() || host == "*") ? nullptr : host.c_str();
  if (node == nullptr) hints.ai_family = AF_INET;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(node, service.c_str(), &hints, &res); rc != 0) {
    return Unavailable("cannot resolve listen address " + where + ": " + gai_strerror(rc),
                       "listen_failed");
  }
  Status last = Unavailable("no usable address for " + where, "listen_failed");
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int type = ai->ai_socktype | SOCK_CLOEXEC;
    if (options.nonblocking) type |= SOCK_NONBLOCK;
    const int fd = ::socket(ai->ai_family, type, ai->ai_protocol);
    if (fd < 0) {
      last = Unavailable("cannot open a socket for " + where + ": " + std::strerror(errno),
                         "listen_failed");
      continue;
    }
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (options.reuse_port) ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &yes, sizeof(yes));
    if (ai->ai_family == AF_INET6) {
      // "::" means IPv6 only here; an operator wanting both lists both.
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &yes, sizeof(yes));
    }
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EADDRINUSE) {
        freeaddrinfo(res);
        return AlreadyExists("cannot listen on " + where +
                                 ": address in use (another process, perhaps another ingestd, "
                                 "is listening there)",
                             "address_in_use");
      }
      last = Unavailable("cannot bind " + where + ": " + std::strerror(err), "listen_failed");
      continue;
    }
    if (::listen(fd, options.backlog) != 0) {
      last =
          Unavailable("cannot listen on " + where + ": " + std::strerror(errno), "listen_failed");
      ::close(fd);
      continue;
    }
    freeaddrinfo(res);
    return fd;
  }
  freeaddrinfo(res);
  return last;
}

int LocalPort(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return 0;
}

Status ParseHostPort(const std::string& listen, std::string* host, int* port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size()) {
    return InvalidArgument("listen address must be HOST:PORT or :PORT, got \"" + listen + "\"",
                           "bad_listen_address");
  }
  std::string h = listen.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.find(':') != std::string::npos && listen.front() != '[') {
    return InvalidArgument("an IPv6 listen address is written [ADDR]:PORT, got \"" + listen + "\"",
                           "bad_listen_address");
  }
  const std::string p = listen.substr(colon + 1);
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(p.c_str(), &end, 10);
  if (p.empty() || *end != '\0' || errno != 0 || v < 0 || v > 65535) {
    return InvalidArgument("listen port must be 0..65535, got \"" + p + "\"", "bad_listen_address");
  }
  *host = h.empty() ? "0.0.0.0" : h;
  *port = static_cast<int>(v);
  return Status::Ok();
}

}  // namespace ingest
