// SPDX-License-Identifier: Apache-2.0
// Command line of midge-bench: what load to generate and against which broker.
#pragma once

#include <cstdint>
#include <string>

#include "tests/bench/bench_transport.hpp"

namespace midge::bench {

enum class BenchMode : std::uint8_t { PubSub, Connections };

// per-publisher: publisher p publishes to <prefix>/p; without --wildcard subscriber s
// subscribes to <prefix>/(s mod publishers), with it to <prefix>/+ (every publisher).
// shared: every publisher publishes to <prefix>/shared; subscribers subscribe to it, or
// to <prefix>/# with --wildcard.
enum class TopicMode : std::uint8_t { PerPublisher, Shared };

struct BenchOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 1883;
  // Subscribers connect here when not 0: publishers at a bridge's edge broker, subscribers
  // at its upstream (the bridge scenarios of tests/bench/compare).
  std::uint16_t subscriberPort = 0;
  BenchMode mode = BenchMode::PubSub;
  std::uint32_t publishers = 1;
  std::uint32_t subscribers = 1;
  TopicMode topicMode = TopicMode::PerPublisher;
  bool wildcard = false;
  std::uint8_t qos = 0;
  std::uint32_t inflight = 16;   // unacknowledged QoS 1/2 PUBLISH per publisher
  // QoS 0 has no acknowledgement, so without a bound an unthrottled publisher fills the
  // kernel's socket buffers and what is measured is queueing, not forwarding. With N > 0
  // a publisher keeps at most N messages sent but not yet received by every matching
  // subscriber. 0 = unbounded.
  std::uint32_t qos0Window = 0;
  std::uint32_t payload = 64;    // bytes; at least the 20-byte stamp
  double rate = 0;               // per publisher, messages per second; 0 = unlimited
  double duration = 10;          // seconds measured
  double warmup = 2;             // seconds before measuring, counted for loss only
  double drain = 10;             // at most this long to wait for stragglers at the end
  bool cleanSession = true;      // --clean (default) or --durable
  std::uint8_t version = 4;      // 4 = MQTT 3.1.1, 5 = MQTT 5.0
  Transport transport = Transport::Tcp;
  std::uint32_t connections = 1000;   // --mode connections
  std::uint32_t connectConcurrency = 100;  // handshakes in progress at once
  std::uint16_t keepAlive = 60;
  int brokerPid = 0;             // sample this process's CPU and memory when > 0
  std::string topicPrefix;       // default: midge-bench/<our pid>
  std::string clientIdPrefix;    // default: mb<our pid>-
};

// Parses argv (argv[0] is skipped). On failure returns false and writes why to `error`.
// `--help` returns false with an empty error; usageText() is what to print.
bool parseBenchOptions(int argc, const char* const* argv, BenchOptions& out,
                       std::string& error);

const char* usageText() noexcept;

}  // namespace midge::bench
