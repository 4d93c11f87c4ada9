// SPDX-License-Identifier: Apache-2.0
#include "examples/gateway-bridge/tcp_transport.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

namespace midge::bridge {
namespace {

// Transfers are capped so the count always fits the contract's int32_t.
constexpr std::size_t kMaxTransfer = INT32_MAX;

}  // namespace

bool TcpConnection::start(const std::string& host, std::uint16_t port, std::string& error) {
  close();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addresses = nullptr;
  const std::string service = std::to_string(port);
  const int resolved = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &addresses);
  if (resolved != 0) {
    error = "cannot resolve " + host + ": " + ::gai_strerror(resolved);
    return false;
  }
  const addrinfo& address = *addresses;
  fd_ = ::socket(address.ai_family, address.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                 address.ai_protocol);
  if (fd_ < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    ::freeaddrinfo(addresses);
    return false;
  }
  // Readings are small and latency matters more than packing them.
  const int on = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  const int result = ::connect(fd_, address.ai_addr, address.ai_addrlen);
  const int connectErrno = errno;
  ::freeaddrinfo(addresses);
  if (result == 0) {
    connected_ = true;
    return true;
  }
  if (connectErrno != EINPROGRESS) {
    error = std::string("connect: ") + std::strerror(connectErrno);
    close();
    return false;
  }
  return true;
}

TcpConnection::Progress TcpConnection::finish(std::string& error) {
  if (connected_) return Progress::Connected;
  int socketError = 0;
  socklen_t length = sizeof socketError;
  if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &socketError, &length) != 0) socketError = errno;
  if (socketError == EINPROGRESS || socketError == EALREADY) return Progress::Pending;
  if (socketError != 0) {
    error = std::string("connect: ") + std::strerror(socketError);
    close();
    return Progress::Failed;
  }
  connected_ = true;
  return Progress::Connected;
}

void TcpConnection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  connected_ = false;
}

tiny::Transport TcpConnection::transport() { return {this, &TcpConnection::send, &TcpConnection::recv}; }

std::int32_t TcpConnection::send(void* context, const std::uint8_t* data, std::size_t size) {
  auto& self = *static_cast<TcpConnection*>(context);
  if (self.fd_ < 0) return -1;
  // MSG_NOSIGNAL: a broker that vanished must show up as EPIPE, not kill the bridge.
  const ssize_t sent = ::send(self.fd_, data, size < kMaxTransfer ? size : kMaxTransfer,
                              MSG_NOSIGNAL | MSG_DONTWAIT);
  if (sent >= 0) return static_cast<std::int32_t>(sent);
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
  return -1;
}

std::int32_t TcpConnection::recv(void* context, std::uint8_t* buffer, std::size_t size) {
  auto& self = *static_cast<TcpConnection*>(context);
  if (self.fd_ < 0) return -1;
  const ssize_t got =
      ::recv(self.fd_, buffer, size < kMaxTransfer ? size : kMaxTransfer, MSG_DONTWAIT);
  if (got > 0) return static_cast<std::int32_t>(got);
  if (got == 0) return -1;  // orderly close by the broker
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
  return -1;
}

}  // namespace midge::bridge
