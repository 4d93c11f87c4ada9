// SPDX-License-Identifier: Apache-2.0
// The uplink test fixture: a libevent loop, a ClientDriver with a recording owner, a real
// Mosquitto upstream, and mosquitto_pub/mosquitto_sub as the other side.
#pragma once

#include <event2/event.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "port/client/client_driver.hpp"
#include "tests/port/client/upstream.hpp"

namespace midge::test {

class UplinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(MIDGE_TEST_MOSQUITTO, X_OK) != 0 || access(MIDGE_TEST_MOSQUITTO_SUB, X_OK) != 0) {
      GTEST_SKIP() << "mosquitto and mosquitto-clients are not installed";
    }
    char pattern[] = "/tmp/midge-uplink-XXXXXX";
    dir_ = mkdtemp(pattern);
    base_ = event_base_new();
  }
  void TearDown() override {
    driver_.reset();
    if (base_ != nullptr) event_base_free(base_);
    if (!dir_.empty()) {
      std::string out;
      runToCompletion({"/bin/rm", "-rf", dir_}, std::chrono::seconds(5), &out);
    }
  }

  client::ClientOptions clientOptions(codec::ProtocolVersion version, const std::string& id) {
    client::ClientOptions options;
    options.version = version;
    options.clientId = id;
    options.cleanStart = false;
    options.sessionExpirySeconds = 600;
    options.keepAliveSeconds = 20;
    return options;
  }

  port::ClientDriverOptions driverOptions(std::vector<std::uint16_t> ports) {
    port::ClientDriverOptions options;
    for (auto p : ports) options.addresses.push_back({"127.0.0.1", p});
    options.restartBaseMs = 50;
    options.restartCapMs = 400;
    options.tickMs = 20;
    return options;
  }

  void startDriver(client::ClientOptions options, port::ClientDriverOptions driverOptions) {
    port::ClientDriverHooks hooks;
    hooks.onEvent = [this](client::Client&, const client::ClientEvent& event) { onEvent(event); };
    hooks.commit = [this] { journal_.commit(); };
    hooks.log = [this](const std::string& line) { log_ += line + "\n"; };
    driver_ = std::make_unique<port::ClientDriver>(base_, std::move(options), &journal_,
                                                   std::move(driverOptions), std::move(hooks));
    ASSERT_TRUE(driver_->start(journal_.records()));
  }

  virtual void onEvent(const client::ClientEvent& event) {
    switch (event.kind) {
      case client::ClientEventKind::Connected: ++connects_; break;
      case client::ClientEventKind::PublishDone: done_.insert(event.tag); break;
      case client::ClientEventKind::Subscribed: subscribed_ = true; break;
      case client::ClientEventKind::ConnectRefused: ++refusals_; break;
      case client::ClientEventKind::Message:
        received_.push_back(event.message.topic + " " +
                            std::string(event.message.payload.begin(), event.message.payload.end()));
        break;
      default: break;
    }
    if (afterEvent_) afterEvent_(event);
  }

  // Runs the loop until pred() holds or the timeout passes (polling, no fixed sleeps).
  bool runUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      event_base_loop(base_, EVLOOP_ONCE);
    }
    return true;
  }

  // A mosquitto_sub on the upstream that has proved its subscription is in place: the
  // driver publishes probes until one shows up in its output.
  std::unique_ptr<Subprocess> subscriber(const std::string& filter, const std::string& probeTopic) {
    auto sub = std::make_unique<Subprocess>(std::vector<std::string>{
        MIDGE_TEST_MOSQUITTO_SUB, "-h", "127.0.0.1", "-p", std::to_string(upstream_->port()), "-t",
        filter, "-q", "2", "-v", "-i", "uplink-test-sub"});
    for (int i = 0; i < 100; ++i) {
      client::OutboundMessage probe;
      probe.topic = probeTopic;
      probe.payload = {'p'};
      (void)driver_->publish(probe, 0);
      runUntil([] { return false; }, std::chrono::milliseconds(30));
      if (sub->waitForOutput(probeTopic, std::chrono::milliseconds(20))) return sub;
    }
    ADD_FAILURE() << "mosquitto_sub never saw a probe: " << sub->output();
    return sub;
  }

  int mosquittoPub(const std::string& topic, const std::string& payload, int qos) {
    std::string out;
    return runToCompletion({MIDGE_TEST_MOSQUITTO_PUB, "-h", "127.0.0.1", "-p",
                            std::to_string(upstream_->port()), "-t", topic, "-m", payload, "-q",
                            std::to_string(qos)},
                           std::chrono::seconds(10), &out);
  }

  std::string dir_;
  event_base* base_ = nullptr;
  std::unique_ptr<Upstream> upstream_;
  client::MemoryJournal journal_;
  std::unique_ptr<port::ClientDriver> driver_;
  std::string log_;
  int connects_ = 0;
  int refusals_ = 0;
  bool subscribed_ = false;
  std::set<std::uint64_t> done_;
  std::vector<std::string> received_;
  std::function<void(const client::ClientEvent&)> afterEvent_;
};

}  // namespace midge::test
