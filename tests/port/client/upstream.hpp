// SPDX-License-Identifier: Apache-2.0
// A real Mosquitto broker on 127.0.0.1 as the upstream of the uplink tests, started on a
// free port with a generated config; killed (or stopped) by PID only.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/subprocess.hpp"

namespace midge::test {

struct UpstreamTls {
  std::string caFile, certFile, keyFile;
  bool requireCertificate = false;
};

class Upstream {
 public:
  explicit Upstream(std::string dir, UpstreamTls tls = {}) : dir_(std::move(dir)), tls_(tls) {}
  ~Upstream() { stop(true); }
  // Starts on port (0: a free one), waits until it listens; false if it does not.
  bool start(std::uint16_t port = 0);
  void stop(bool crash);  // SIGKILL when crash
  std::uint16_t port() const { return port_; }
  bool running() const { return process_ != nullptr; }
  const std::string& output();

 private:
  std::string dir_;
  UpstreamTls tls_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Subprocess> process_;
};

std::uint16_t freeLoopbackPort();
bool portAcceptsConnections(std::uint16_t port);

}  // namespace midge::test
