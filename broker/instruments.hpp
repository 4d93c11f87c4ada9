// SPDX-License-Identifier: Apache-2.0
// Measurements the operator metrics need that neither the engine nor the port keeps: how
// long store commits take (the fsync is what limits durable throughput) and how long an
// event-loop turn takes. Both are decorators wired in main.cpp, so the engine and the
// loop stay untouched.
#pragma once

#include <time.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/engine/io.hpp"
#include "core/store/store.hpp"

namespace midge::app {

inline double monotonicSeconds() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

// A Prometheus histogram: counts per upper bound (not cumulative; the renderer sums).
class Histogram {
 public:
  explicit Histogram(std::vector<double> upperBounds)
      : bounds_(std::move(upperBounds)), counts_(bounds_.size() + 1, 0) {}
  void observe(double value) {
    std::size_t i = 0;
    while (i < bounds_.size() && value > bounds_[i]) ++i;
    ++counts_[i];
    sum_ += value;
    ++count_;
  }
  const std::vector<double>& bounds() const { return bounds_; }
  const std::vector<std::uint64_t>& counts() const { return counts_; }  // last: +Inf
  double sum() const { return sum_; }
  std::uint64_t count() const { return count_; }

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

// Forwards every call; times commit().
class TimedStore final : public store::Store {
 public:
  explicit TimedStore(store::Store& inner)
      : inner_(inner),
        commitSeconds_({0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                        0.1, 0.25, 0.5, 1.0, 2.5}) {}

  Status load(store::Snapshot& out) override { return inner_.load(out); }
  void saveSession(const store::SessionRecord& r) override { inner_.saveSession(r); }
  void deleteSession(std::string_view id) override { inner_.deleteSession(id); }
  void saveSubscription(const store::SubscriptionRecord& r) override {
    inner_.saveSubscription(r);
  }
  void deleteSubscription(std::string_view id, std::string_view filter) override {
    inner_.deleteSubscription(id, filter);
  }
  void saveMessage(const store::MessageRecord& r) override { inner_.saveMessage(r); }
  void saveDelivery(const store::DeliveryRecord& r) override { inner_.saveDelivery(r); }
  void deleteDelivery(std::string_view id, std::uint64_t sequence) override {
    inner_.deleteDelivery(id, sequence);
  }
  void saveInboundQos2(std::string_view id, std::uint16_t packetId) override {
    inner_.saveInboundQos2(id, packetId);
  }
  void deleteInboundQos2(std::string_view id, std::uint16_t packetId) override {
    inner_.deleteInboundQos2(id, packetId);
  }
  void saveRetained(const store::RetainedRecord& r) override { inner_.saveRetained(r); }
  void deleteRetained(std::string_view topic) override { inner_.deleteRetained(topic); }
  bool hasPendingWrites() const override { return inner_.hasPendingWrites(); }
  std::string lastError() const override { return inner_.lastError(); }

  Status commit() override {
    const double started = monotonicSeconds();
    Status status = inner_.commit();
    commitSeconds_.observe(monotonicSeconds() - started);
    lastCommitOk_ = status.ok();
    if (!lastCommitOk_) ++commitFailures_;
    return status;
  }

  const Histogram& commitSeconds() const { return commitSeconds_; }
  std::uint64_t commitFailures() const { return commitFailures_; }
  // Readiness: the store took the last turn's writes (true before the first commit).
  bool lastCommitOk() const { return lastCommitOk_; }

 private:
  store::Store& inner_;
  Histogram commitSeconds_;
  std::uint64_t commitFailures_ = 0;
  bool lastCommitOk_ = true;
};

// Between the loop and the engine: a turn starts with its first event and ends when the
// engine's endOfTurn() (commit included) returns.
class TurnTimer final : public ConnectionEvents {
 public:
  explicit TurnTimer(ConnectionEvents& inner)
      : inner_(inner),
        turnSeconds_({0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                      0.05, 0.1, 0.25, 1.0}) {}

  void onOpen(ConnectionId id, const PeerInfo& peer) override {
    start();
    inner_.onOpen(id, peer);
  }
  void onBytes(ConnectionId id, Bytes bytes) override {
    start();
    inner_.onBytes(id, bytes);
  }
  void onWritable(ConnectionId id) override {
    start();
    inner_.onWritable(id);
  }
  void onClose(ConnectionId id) override {
    start();
    inner_.onClose(id);
  }
  void onTick() override {
    start();
    inner_.onTick();
  }
  void endOfTurn() override {
    start();
    inner_.endOfTurn();
    turnSeconds_.observe(monotonicSeconds() - startedAt_);
    inTurn_ = false;
  }

  const Histogram& turnSeconds() const { return turnSeconds_; }

 private:
  void start() {
    if (inTurn_) return;
    inTurn_ = true;
    startedAt_ = monotonicSeconds();
  }

  ConnectionEvents& inner_;
  Histogram turnSeconds_;
  bool inTurn_ = false;
  double startedAt_ = 0;
};

}  // namespace midge::app
