// SPDX-License-Identifier: Apache-2.0
#include "port/net/listen_socket.hpp"

#include <arpa/inet.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace midge::port {
namespace {

struct Candidate {
  sockaddr_storage address{};
  socklen_t length = 0;
  // A wildcard IPv6 socket or one of several resolved addresses may be missing on a host
  // without IPv6; a single explicit address may not.
  bool optional = false;
};

void setPort(Candidate& c, std::uint16_t port) {
  if (c.address.ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&c.address)->sin_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in6*>(&c.address)->sin6_port = htons(port);
  }
}

std::uint16_t portOf(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port);
}

Candidate wildcard(int family) {
  Candidate c;
  if (family == AF_INET) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&c.address);
    v4->sin_family = AF_INET;
    v4->sin_addr.s_addr = htonl(INADDR_ANY);
    c.length = sizeof(sockaddr_in);
  } else {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&c.address);
    v6->sin6_family = AF_INET6;
    v6->sin6_addr = in6addr_any;
    c.length = sizeof(sockaddr_in6);
    c.optional = true;
  }
  return c;
}

int socketFamily(AddressFamily family) {
  switch (family) {
    case AddressFamily::IPv4: return AF_INET;
    case AddressFamily::IPv6: return AF_INET6;
    case AddressFamily::Any: break;
  }
  return AF_UNSPEC;
}

const char* familyName(AddressFamily family) {
  return family == AddressFamily::IPv4 ? "IPv4" : "IPv6";
}

bool resolve(const std::string& bindAddress, AddressFamily family, std::vector<Candidate>& out,
             std::string& error) {
  if (bindAddress.empty()) {
    if (family != AddressFamily::IPv6) out.push_back(wildcard(AF_INET));
    if (family != AddressFamily::IPv4) out.push_back(wildcard(AF_INET6));
    // Asked for by name, IPv6 is no longer optional.
    if (family == AddressFamily::IPv6) out.front().optional = false;
    return true;
  }
  evutil_addrinfo hints{};
  hints.ai_family = socketFamily(family);
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  hints.ai_flags = EVUTIL_AI_PASSIVE;
  evutil_addrinfo* results = nullptr;
  int rc = evutil_getaddrinfo(bindAddress.c_str(), nullptr, &hints, &results);
  if (rc != 0) {
    error = "cannot resolve bind address '" + bindAddress + "'" +
            (family == AddressFamily::Any ? std::string()
                                          : std::string(" as ") + familyName(family)) +
            ": " + evutil_gai_strerror(rc);
    return false;
  }
  for (evutil_addrinfo* ai = results; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
    Candidate c;
    std::memcpy(&c.address, ai->ai_addr, ai->ai_addrlen);
    c.length = static_cast<socklen_t>(ai->ai_addrlen);
    bool duplicate = false;
    for (const Candidate& seen : out) {
      duplicate = duplicate || (seen.length == c.length &&
                                std::memcmp(&seen.address, &c.address, c.length) == 0);
    }
    if (!duplicate) out.push_back(c);
  }
  evutil_freeaddrinfo(results);
  if (out.empty()) {
    error = "bind address '" + bindAddress + "' has no " +
            (family == AddressFamily::Any ? std::string("IPv4 or IPv6")
                                          : std::string(familyName(family))) +
            " address";
    return false;
  }
  for (Candidate& c : out) c.optional = out.size() > 1;
  return true;
}

void closeAll(ListenSockets& sockets) {
  for (int fd : sockets.fds) ::close(fd);
  sockets.fds.clear();
  sockets.addresses.clear();
}

// Returns the fd, or -1 with errno set.
int openOne(const Candidate& c, const std::string& interfaceName) {
  int fd = ::socket(c.address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int on = 1;
  // A restarted broker must rebind at once, not wait out TIME_WAIT of old connections.
  if ((!interfaceName.empty() &&
       ::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, interfaceName.c_str(),
                    static_cast<socklen_t>(interfaceName.size())) != 0) ||
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
      (c.address.ss_family == AF_INET6 &&
       ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0) ||
      ::bind(fd, reinterpret_cast<const sockaddr*>(&c.address), c.length) != 0 ||
      ::listen(fd, SOMAXCONN) != 0) {
    int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

bool unavailableFamily(int error) {
  return error == EAFNOSUPPORT || error == EADDRNOTAVAIL || error == EPROTONOSUPPORT;
}

enum class Attempt { Ok, Failed, PortTaken };

Attempt tryBind(std::vector<Candidate> candidates, std::uint16_t port, ListenSockets& out,
                std::string& error, std::string& notice, const std::string& interfaceName) {
  std::uint16_t chosen = port;
  for (Candidate& c : candidates) {
    setPort(c, chosen);
    int fd = openOne(c, interfaceName);
    std::string where = formatSocketAddress(reinterpret_cast<const sockaddr*>(&c.address),
                                            c.length);
    if (!interfaceName.empty()) where += " on interface " + interfaceName;
    if (fd < 0) {
      int saved = errno;
      if (c.optional && unavailableFamily(saved)) {
        notice += "skipping " + where + ": " + std::strerror(saved) + "; ";
        continue;
      }
      closeAll(out);
      error = "cannot bind " + where + ": " + std::strerror(saved);
      // With port 0 the later addresses reuse the first one's port, which another program
      // may hold on that family: the caller then retries with a fresh port.
      return (saved == EADDRINUSE && port == 0 && chosen != 0) ? Attempt::PortTaken
                                                               : Attempt::Failed;
    }
    sockaddr_storage bound{};
    socklen_t boundLength = sizeof(bound);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &boundLength) != 0) {
      int saved = errno;
      ::close(fd);
      closeAll(out);
      error = "cannot read the bound address of " + where + ": " + std::strerror(saved);
      return Attempt::Failed;
    }
    chosen = portOf(bound);
    out.fds.push_back(fd);
    out.addresses.push_back(formatSocketAddress(reinterpret_cast<const sockaddr*>(&bound),
                                                boundLength));
  }
  if (out.fds.empty()) {
    error = "no address could be bound: " + notice;
    return Attempt::Failed;
  }
  out.port = chosen;
  return Attempt::Ok;
}

}  // namespace

bool openListenSockets(const std::string& bindAddress, std::uint16_t port, ListenSockets& out,
                       std::string& error, std::string& notice,
                       const ListenRestrictions& restrictions) {
  out = ListenSockets{};
  std::vector<Candidate> candidates;
  if (!resolve(bindAddress, restrictions.family, candidates, error)) return false;
  // Each retry asks the kernel for a new ephemeral port; a handful is plenty.
  constexpr int kPortZeroAttempts = 8;
  for (int attempt = 0; attempt < kPortZeroAttempts; ++attempt) {
    notice.clear();
    Attempt result = tryBind(candidates, port, out, error, notice, restrictions.interfaceName);
    if (result != Attempt::PortTaken) return result == Attempt::Ok;
  }
  return false;
}

std::string formatSocketAddress(const sockaddr* address, socklen_t length) {
  char host[INET6_ADDRSTRLEN] = {};
  if (address->sa_family == AF_INET && length >= sizeof(sockaddr_in)) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    if (::inet_ntop(AF_INET, &v4->sin_addr, host, sizeof(host)) == nullptr) return "unknown";
    return std::string(host) + ":" + std::to_string(ntohs(v4->sin_port));
  }
  if (address->sa_family == AF_INET6 && length >= sizeof(sockaddr_in6)) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    if (::inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof(host)) == nullptr) return "unknown";
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(v6->sin6_port));
  }
  return "unknown";
}

}  // namespace midge::port
