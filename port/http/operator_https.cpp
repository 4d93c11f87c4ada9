// SPDX-License-Identifier: Apache-2.0
// The https side of OperatorHttpServer: a TCP listener of our own whose connections each
// get a TlsRelay, and evhttp bound to an abstract AF_UNIX socket that only those relays
// are meant to reach (operator_http_server.hpp).
#include <arpa/inet.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "port/http/operator_http_server.hpp"

namespace midge::port {

namespace {

// Enough for a burst of relays that finished their handshake in one loop turn.
constexpr int kInternalBacklog = 128;

std::string addressText(const sockaddr* address) {
  char host[INET6_ADDRSTRLEN] = "?";
  std::uint16_t port = 0;
  if (address->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    ::inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
    port = ntohs(v4->sin_port);
  } else if (address->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
    port = ntohs(v6->sin6_port);
  }
  return std::string(host) + ":" + std::to_string(port);
}

// The name of the abstract socket at the other end of `fd`, empty if it has none.
std::string peerName(int fd) {
  sockaddr_un peer{};
  socklen_t length = sizeof peer;
  if (fd < 0 || ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) != 0 ||
      peer.sun_family != AF_UNIX || length <= offsetof(sockaddr_un, sun_path)) {
    return std::string();
  }
  return std::string(peer.sun_path, length - offsetof(sockaddr_un, sun_path));
}

void reap(evutil_socket_t, short, void* argument) {
  static_cast<std::vector<std::unique_ptr<TlsRelay>>*>(argument)->clear();
}

}  // namespace

bool OperatorHttpServer::bindHttps(std::string& error) {
  const std::string address = spec_.bindAddress.empty() ? "0.0.0.0" : spec_.bindAddress;
  const std::string where = spec_.name + " on " + address + ":" + std::to_string(spec_.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int lookup = ::getaddrinfo(address.c_str(), std::to_string(spec_.port).c_str(), &hints, &found);
  if (lookup != 0 || found == nullptr) {
    error = "cannot bind " + where + ": " + ::gai_strerror(lookup);
    return false;
  }
  tcpListener_ = evconnlistener_new_bind(
      base_,
      [](evconnlistener*, evutil_socket_t fd, sockaddr* peer, int length, void* self) {
        static_cast<OperatorHttpServer*>(self)->acceptTls(fd, peer, length);
      },
      this, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, -1, found->ai_addr,
      static_cast<int>(found->ai_addrlen));
  ::freeaddrinfo(found);
  if (tcpListener_ == nullptr) {
    error = "cannot bind " + where + ": " + evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR());
    return false;
  }
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  if (::getsockname(evconnlistener_get_fd(tcpListener_), reinterpret_cast<sockaddr*>(&bound),
                    &length) == 0) {
    boundPort_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                   : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  }

  // evhttp's side: an abstract socket (no file to clean up) with a kernel-chosen name.
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  internal_.sun_family = AF_UNIX;
  internalLength_ = sizeof internal_;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&internal_), sizeof(sa_family_t)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&internal_), &internalLength_) != 0 ||
      ::listen(fd, kInternalBacklog) != 0) {
    error = spec_.name + ": cannot open the internal socket: " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return false;
  }
  bound_ = evhttp_accept_socket_with_handle(http_, fd);
  reapTimer_ = evtimer_new(base_, reap, &finishedRelays_);
  if (bound_ == nullptr || reapTimer_ == nullptr) {
    error = spec_.name + ": cannot serve the internal socket";
    return false;
  }
  return true;
}

void OperatorHttpServer::acceptTls(int fd, const sockaddr* address, int length) {
  (void)length;
  std::string peer = addressText(address);
  ++counters_.connectionsAccepted;
  auto relay = std::make_unique<TlsRelay>(base_, fd, std::move(peer), spec_.tls->create(),
                                          internal_, internalLength_, spec_.relayLimits,
                                          spec_.name, static_cast<TlsRelayOwner&>(*this));
  relay->excess = relays_.size() >= spec_.maxConnections;
  if (!relay->start()) {
    log_(LogLevel::Error, spec_.name + ": cannot set up a connection from " + relay->peer());
    return;
  }
  TlsRelay* key = relay.get();
  relays_.emplace(key, std::move(relay));
  updateAcceptingTls();
}

void OperatorHttpServer::updateAcceptingTls() {
  if (tcpListener_ == nullptr) return;
  // As with plain http: up to maxConnections more are accepted to be told 503, the
  // kernel backlog holds the rest.
  const bool accept = relays_.size() < 2 * spec_.maxConnections;
  if (accept == acceptingTls_) return;
  acceptingTls_ = accept;
  if (accept) {
    evconnlistener_enable(tcpListener_);
  } else {
    evconnlistener_disable(tcpListener_);
    log_(LogLevel::Warning, spec_.name + ": " + std::to_string(relays_.size()) +
                                " connections open, not accepting more until one ends");
  }
}

TlsRelay* OperatorHttpServer::relayOf(::bufferevent* connection) const {
  const std::string name = peerName(connection != nullptr ? bufferevent_getfd(connection) : -1);
  if (name.empty()) return nullptr;
  auto found = relayByLocalName_.find(name);
  return found == relayByLocalName_.end() ? nullptr : found->second;
}

void OperatorHttpServer::relayLog(LogLevel level, const std::string& message) {
  log_(level, message);
}

void OperatorHttpServer::relayHandshakeDone(TlsRelay& relay) {
  ++counters_.tlsHandshakes;
  const std::string identity = relay.peerIdentity();
  log_(LogLevel::Debug, spec_.name + ": " + relay.peer() + ": TLS handshake done" +
                            (identity.empty() ? std::string() : ", client certificate " + identity));
}

void OperatorHttpServer::relayHandshakeFailed(TlsRelay&) { ++counters_.tlsFailures; }

void OperatorHttpServer::relayLocalName(TlsRelay& relay, const std::string& name) {
  relayByLocalName_[name] = &relay;
}

void OperatorHttpServer::relayFinished(TlsRelay& relay) {
  if (!relay.localName().empty()) relayByLocalName_.erase(relay.localName());
  auto found = relays_.find(&relay);
  if (found == relays_.end()) return;
  // Not destroyed here: the relay is still inside one of its own callbacks.
  finishedRelays_.push_back(std::move(found->second));
  relays_.erase(found);
  const timeval now{0, 0};
  evtimer_add(reapTimer_, &now);
  updateAcceptingTls();
}

}  // namespace midge::port
