// SPDX-License-Identifier: Apache-2.0
// A broker with a `protocol http` listener on a second free loopback port, for the
// operator endpoint's tests.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/broker_process.hpp"
#include "tests/integration/http_client.hpp"
#include "tests/integration/raw_client.hpp"

namespace midge::test {

using namespace std::chrono_literals;

class OperatorHttpTest : public ::testing::Test {
 protected:
  // `httpLines` follow "listener HTTP_PORT 127.0.0.1" and "protocol http"; `lines` come
  // before them and so configure the MQTT listener and the broker.
  void startBroker(const std::vector<std::string>& httpLines = {},
                   const std::vector<std::string>& lines = {}) {
    for (const std::string& line : lines) broker_.addConfigLine(line);
    httpPort_ = pickFreeLoopbackPort();
    broker_.addConfigLine("listener " + std::to_string(httpPort_) + " 127.0.0.1");
    broker_.addConfigLine("protocol http");
    for (const std::string& line : httpLines) broker_.addConfigLine(line);
    broker_.start();
    ASSERT_TRUE(waitForTcpPort(httpPort_, 5s)) << broker_.log();
  }

  std::map<std::string, double> scrape(const std::string& headers = "") {
    const HttpReply reply = httpGet(httpPort_, "/metrics", headers);
    EXPECT_EQ(reply.status, 200) << reply.head << reply.body;
    return parseSamples(reply.body);
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << "---- broker log ----\n" << broker_.log() << "----\n";
  }

  BrokerProcess broker_;
  std::uint16_t httpPort_ = 0;
};

// Load for "the endpoint answers under load": one raw client publishing QoS 0 as fast as
// the broker takes it, from construction until stop().
class PublishFlood {
 public:
  explicit PublishFlood(std::uint16_t port) : thread_([this, port] { run(port); }) {}
  ~PublishFlood() { stop(); }
  PublishFlood(const PublishFlood&) = delete;
  PublishFlood& operator=(const PublishFlood&) = delete;

  // True once `count` messages went out, false if that took longer than `deadline`.
  bool waitForPublished(std::uint64_t count, std::chrono::seconds deadline) const {
    const auto started = std::chrono::steady_clock::now();
    while (published_.load() < count) {
      if (std::chrono::steady_clock::now() - started > deadline) return false;
      std::this_thread::yield();
    }
    return true;
  }
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run(std::uint16_t port) {
    RawClient publisher(port);
    wire::ConnectSpec spec;
    spec.clientId = "flood";
    handshake(publisher, spec);
    const ByteVector message = wire::publish("load/x", std::string(512, 'm'), 0);
    while (!stopping_.load()) {
      if (!publisher.send(message)) break;
      ++published_;
    }
  }

  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> published_{0};
  std::thread thread_;  // last: starts once the counters above exist
};

// Scrapes at least five times and until the counter read by `readCounter` has moved: the
// endpoint answers under load and the load is really flowing. Polls rather than counting
// on five quick scrapes to straddle a read of the publisher: on a loaded machine the broker
// may hold the publisher back (the subscriber drains slowly) across several scrapes.
template <typename ReadCounter>
bool counterMovesAcrossScrapes(ReadCounter readCounter, std::chrono::seconds deadline) {
  const auto started = std::chrono::steady_clock::now();
  const double first = readCounter();
  double last = first;
  for (int scrapes = 1; scrapes < 5 || last <= first; ++scrapes) {
    if (std::chrono::steady_clock::now() - started > deadline) break;
    last = readCounter();
  }
  return last > first;
}

}  // namespace midge::test
