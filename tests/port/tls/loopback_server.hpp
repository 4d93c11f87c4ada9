// SPDX-License-Identifier: Apache-2.0
// A tiny blocking TCP server on 127.0.0.1 that pumps socket bytes through TlsSession and
// echoes every decrypted byte back: a stand-in for the port's event loop, so real TLS
// clients (python's ssl module, i.e. OpenSSL) can be tested against the filter.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "port/tls/tls_server_context.hpp"

namespace midge::port::testing {

struct ConnectionReport {
  bool handshakeDone = false;
  bool peerClosed = false;
  std::size_t echoedBytes = 0;
  std::string peerIdentity;
  std::string cipherSuite;
  std::string error;
};

class LoopbackTlsServer {
 public:
  explicit LoopbackTlsServer(TlsServerContext& context);  // throws if it cannot listen
  ~LoopbackTlsServer();
  LoopbackTlsServer(const LoopbackTlsServer&) = delete;
  LoopbackTlsServer& operator=(const LoopbackTlsServer&) = delete;

  std::uint16_t port() const { return port_; }
  // Reloads the context under the lock the server thread takes to create sessions.
  bool reload(std::string& error);
  // Blocks until `count` connections have ended or `timeout` passes.
  bool waitForConnections(std::size_t count, std::chrono::milliseconds timeout);
  std::vector<ConnectionReport> reports() const;

 private:
  void acceptLoop();
  void serve(int socket);
  bool waitReadable(int socket, std::chrono::steady_clock::time_point deadline, bool& stop);

  TlsServerContext& context_;
  int listenSocket_ = -1;
  int wakePipe_[2] = {-1, -1};
  std::uint16_t port_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable connectionEnded_;
  std::vector<ConnectionReport> reports_;
  std::thread thread_;
};

// Runs tests/port/tls's python client against 127.0.0.1:port. It sends `payloadBytes`
// bytes, expects them echoed, and prints key=value lines; returned as a map. "result" is
// "ok" or "error <exception>".
std::map<std::string, std::string> runPythonClient(std::uint16_t port, const std::string& caFile,
                                                   const std::string& certFile,
                                                   const std::string& keyFile,
                                                   std::size_t payloadBytes);

}  // namespace midge::port::testing
