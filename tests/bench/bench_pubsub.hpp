// SPDX-License-Identifier: Apache-2.0
// --mode pubsub: publishers and subscribers through the broker, with loss, duplicate,
// order, throughput and latency accounting.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/bench/bench_loop.hpp"

namespace midge::bench {

class PubSubBench final : public ClientEvents {
 public:
  explicit PubSubBench(const BenchOptions& options);

  // Runs the whole benchmark and returns the JSON line; ok is false when the run could
  // not be carried out as asked (setup failed, a connection was lost).
  std::string run(bool& ok);

  void onConnack(Client& client, bool accepted) override;
  void onSuback(Client& client, bool granted) override;
  void onMessage(Client& client, const codec::Publish& publish) override;
  void onPublishDone(Client& client, bool rejected) override;
  void onClosed(Client& client, const char* why) override;

 private:
  enum class Phase : std::uint8_t { Setup, Running, Draining, TearDown };

  struct Publisher {
    Client* client = nullptr;
    std::string topic;
    std::vector<std::uint8_t> payload;
    std::uint64_t sent = 0;
    std::uint64_t nextDueNs = 0;
    // For --qos0-window: deliveries owed (sent x matching subscribers) and made.
    std::uint32_t matching = 0;
    std::uint64_t delivered = 0;
    std::uint64_t writtenOff = 0;  // deliveries given up on after a stall
    std::uint64_t lastProgressNs = 0;
  };
  struct Subscriber {
    Client* client = nullptr;
    std::string filter;
    std::vector<SequenceTracker> streams;  // by publisher id
  };

  bool setUp(std::string& error);
  void measure();
  void drain();
  // Publishes what is due; returns true when some publisher could send more right away.
  bool publishTick(std::uint64_t now, std::uint64_t& nextDueNs);
  void publishOne(Publisher& publisher, std::uint64_t now);
  bool qos0WindowOpen(const Publisher& publisher) const noexcept;
  bool subscriberMatches(std::uint32_t subscriber, std::uint32_t publisher) const noexcept;
  bool isPublisher(const Client& client) const noexcept;
  std::uint64_t expectedMessages() const noexcept;
  bool everythingDelivered() const noexcept;
  void fail(const std::string& why);
  std::string report(const std::string& error) const;

  const BenchOptions& options_;
  BenchLoop loop_;
  std::vector<Subscriber> subscribers_;  // clients [0, M)
  std::vector<Publisher> publishers_;    // clients [M, M + P)
  Phase phase_ = Phase::Setup;
  std::uint32_t ready_ = 0;
  std::string failure_;

  bool inWindow_ = false;
  std::uint64_t windowStartNs_ = 0;
  std::uint64_t windowEndNs_ = 0;
  std::uint64_t lastProgressNs_ = 0;
  double brokerCpuAtStart_ = 0;
  double brokerCpuAtEnd_ = 0;
  double ownCpuAtStart_ = 0;
  double ownCpuAtEnd_ = 0;
  std::uint64_t brokerRssStartKb_ = 0;
  std::uint64_t brokerRssEndKb_ = 0;

  std::uint64_t received_ = 0;  // unique messages
  std::uint64_t duplicates_ = 0;
  std::uint64_t outOfOrder_ = 0;
  std::uint64_t unexpected_ = 0;  // not ours, or routed to a subscriber that did not match
  std::uint64_t rejected_ = 0;    // v5 acks with an error reason
  std::uint64_t stalls_ = 0;      // QoS 0 windows reopened after a second without delivery
  std::uint64_t windowReceived_ = 0;
  std::uint64_t windowSent_ = 0;
  LatencyHistogram latency_;
};

}  // namespace midge::bench
