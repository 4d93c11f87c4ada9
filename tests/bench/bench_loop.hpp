// SPDX-License-Identifier: Apache-2.0
// The event loop shared by midge-bench's modes: one epoll set over every client socket
// plus a timerfd for deadlines finer than a millisecond, the broker process sampler, and
// the pacing of connection handshakes.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/bench/bench_client.hpp"
#include "tests/bench/bench_options.hpp"
#include "tests/bench/bench_stats.hpp"

namespace midge::bench {

class BenchLoop {
 public:
  explicit BenchLoop(const BenchOptions& options);
  ~BenchLoop();
  BenchLoop(const BenchLoop&) = delete;
  BenchLoop& operator=(const BenchLoop&) = delete;

  // Raises the open-file limit, resolves the broker address and creates the epoll set.
  bool open(std::string& error);

  // Clients are started in index order by startClients, at most `concurrency` at once
  // in the handshake; the owner calls handshakeFinished when one is done (either way).
  // A client of the subscriber port (--subscriber-port) when atSubscriberPort is true.
  Client& addClient(ClientEvents& events, std::string clientId, bool atSubscriberPort = false);
  std::vector<std::unique_ptr<Client>>& clients() noexcept { return clients_; }
  void startClients();
  void handshakeFinished();
  std::uint32_t started() const noexcept { return nextToStart_; }

  // Waits for events until deadlineNs (never later), or only collects what is ready when
  // busy is true, then dispatches them. Also samples the broker every 200 ms and sends
  // PINGREQ for connections that have been quiet for half their keep-alive.
  void poll(std::uint64_t deadlineNs, bool busy);

  ProcessSampler& broker() noexcept { return broker_; }
  const ProcessSampler& broker() const noexcept { return broker_; }
  const ClientSettings& clientSettings() const noexcept { return settings_; }

 private:
  bool resolve(std::uint16_t port, sockaddr_storage& address, socklen_t& length,
               std::string& error) const;
  void housekeeping(std::uint64_t now);
  void armTimer(std::uint64_t deadlineNs);

  const BenchOptions& options_;
  ClientSettings settings_;
  sockaddr_storage address_{};
  socklen_t addressLength_ = 0;
  sockaddr_storage subscriberAddress_{};
  socklen_t subscriberAddressLength_ = 0;
  std::vector<bool> atSubscriberPort_;  // per client index
  int epollFd_ = -1;
  int timerFd_ = -1;
  std::uint64_t armedDeadline_ = 0;
  std::vector<std::unique_ptr<Client>> clients_;
  std::vector<std::uint8_t> readBuffer_;
  std::uint32_t nextToStart_ = 0;
  std::uint32_t handshaking_ = 0;
  ProcessSampler broker_;
  std::uint64_t nextSampleNs_ = 0;
  std::uint64_t nextKeepAliveNs_ = 0;
};

// Builds the single output line.
class JsonLine {
 public:
  void add(const char* key, std::uint64_t value);
  void add(const char* key, double value);
  void add(const char* key, bool value);
  void add(const char* key, const std::string& value);
  void add(const char* key, const char* value) { add(key, std::string(value)); }
  void addNull(const char* key);
  std::string finish() const { return "{" + body_ + "}"; }

 private:
  void key(const char* name);
  std::string body_;
};

}  // namespace midge::bench
