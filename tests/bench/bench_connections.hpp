// SPDX-License-Identifier: Apache-2.0
// --mode connections: opens N idle clients, holds them for the duration, and reports the
// connect rate, failures and what the connections cost the broker in resident memory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/bench/bench_loop.hpp"

namespace midge::bench {

class ConnectionsBench final : public ClientEvents {
 public:
  explicit ConnectionsBench(const BenchOptions& options);

  // ok is false when not every connection could be opened and held.
  std::string run(bool& ok);

  void onConnack(Client& client, bool accepted) override;
  void onSuback(Client&, bool) override {}
  void onMessage(Client&, const codec::Publish&) override {}
  void onPublishDone(Client&, bool) override {}
  void onClosed(Client& client, const char* why) override;

 private:
  const BenchOptions& options_;
  BenchLoop loop_;
  std::vector<bool> handshakeDone_;  // by client index
  bool tearingDown_ = false;
  std::uint32_t finished_ = 0;
  std::uint32_t connected_ = 0;
  std::uint32_t errors_ = 0;
  std::uint32_t dropped_ = 0;  // closed by the broker after CONNACK, while held
  std::string firstError_;
  std::uint64_t lastConnackNs_ = 0;
};

}  // namespace midge::bench
