// SPDX-License-Identifier: Apache-2.0
// GoogleTest fixture for raw-socket tests: one broker per test, plus a bystander client that
// connects and subscribes before the test's input, so each test can check that a bad
// client disturbed nobody else.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <string>

#include "tests/integration/broker_process.hpp"
#include "tests/integration/raw_client.hpp"

namespace midge::test {

using namespace std::chrono_literals;

class RawBrokerTest : public ::testing::Test {
 protected:
  // Override to add configuration lines before the broker starts.
  virtual void configure(BrokerProcess&) {}

  void SetUp() override {
    configure(broker_);
    broker_.start();
    bystander_ = std::make_unique<RawClient>(broker_.port());
    wire::ConnectSpec spec;
    spec.clientId = "bystander";
    spec.keepAlive = keepAlive_;
    handshake(*bystander_, spec);
    bystander_->send(wire::subscribe(1, "bystander/#", 1));
    bystander_->expect(kSuback);
    logMark_ = broker_.logMark();
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << "---- broker log ----\n" << broker_.log() << "----\n";
  }

  std::unique_ptr<RawClient> connectV311(const std::string& clientId) {
    auto client = std::make_unique<RawClient>(broker_.port());
    wire::ConnectSpec spec;
    spec.clientId = clientId;
    spec.keepAlive = keepAlive_;
    handshake(*client, spec);
    return client;
  }

  std::unique_ptr<RawClient> connectV5(const std::string& clientId,
                                       const ByteVector& properties = {}) {
    auto client = std::make_unique<RawClient>(broker_.port());
    wire::ConnectSpec spec;
    spec.level = 5;
    spec.clientId = clientId;
    spec.properties = properties;
    spec.keepAlive = keepAlive_;
    handshake(*client, spec);
    return client;
  }

  // The bystander, connected before the test's input, is still connected and receives a
  // message that a newly connected client publishes: the broker still serves, and the bad
  // input disturbed nobody else.
  void expectBrokerStillServing() {
    const std::string payload = "still-serving-" + std::to_string(++checks_);
    auto checker = connectV311("checker-" + std::to_string(checks_));
    ASSERT_TRUE(checker->send(wire::publish("bystander/check", payload, 1, 7)));
    const RawPacket puback = checker->expect(kPuback);
    EXPECT_EQ(puback.wire(), (ByteVector{0x40, 0x02, 0x00, 0x07}));
    const RawPacket delivered = bystander_->expect(kPublish);
    const wire::PublishView view = wire::parsePublish(delivered);
    EXPECT_EQ(view.topic, "bystander/check");
    EXPECT_EQ(view.payload, payload);
    bystander_->send(wire::ack(kPuback, view.packetId));
    bystander_->send(wire::pingreq());
    EXPECT_EQ(bystander_->expect(kPingresp).wire(), (ByteVector{0xD0, 0x00}));
  }

  // Lines the broker logged since the bystander subscribed.
  bool logSays(const std::string& needle, std::chrono::milliseconds timeout = 3s) {
    return broker_.waitForLog(needle, timeout, logMark_);
  }

  BrokerProcess broker_;
  std::uint16_t keepAlive_ = 60;  // of the fixture's own clients (within max_keepalive)
  std::unique_ptr<RawClient> bystander_;
  std::size_t logMark_ = 0;
  int checks_ = 0;
};

}  // namespace midge::test
