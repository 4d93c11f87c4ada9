// SPDX-License-Identifier: Apache-2.0
// A non-blocking TCP connection to the broker, and its adapter to the tiny client's
// Transport contract (examples/cortex-m/client/transport.hpp).
#pragma once

#include <cstdint>
#include <string>

#include "examples/cortex-m/client/transport.hpp"

namespace midge::bridge {

class TcpConnection {
 public:
  TcpConnection() = default;
  ~TcpConnection() { close(); }
  TcpConnection(const TcpConnection&) = delete;
  TcpConnection& operator=(const TcpConnection&) = delete;

  // Resolves host (blocking getaddrinfo: use an address, or a local resolver, where a slow
  // DNS would stall the serial side) and starts connecting to its first address.
  // False with `error` set when that fails at once.
  bool start(const std::string& host, std::uint16_t port, std::string& error);

  enum class Progress { Connected, Pending, Failed };
  // Call when the descriptor is writable while connecting.
  Progress finish(std::string& error);

  void close();
  int fd() const noexcept { return fd_; }
  bool connected() const noexcept { return connected_; }

  // send/recv with the transport contract: bytes moved, 0 for "would block", negative
  // when the connection is gone (error, or orderly close by the broker).
  tiny::Transport transport();

 private:
  static std::int32_t send(void* context, const std::uint8_t* data, std::size_t size);
  static std::int32_t recv(void* context, std::uint8_t* buffer, std::size_t size);

  int fd_ = -1;
  bool connected_ = false;
};

}  // namespace midge::bridge
