// SPDX-License-Identifier: Apache-2.0
// The bridge test fixture: the real midge (the gateway's broker), a real Mosquitto (the
// upstream), the bridge runtime in its own process beside midge (bridge_runner), and
// mosquitto_pub/mosquitto_sub on either side. Everything is stopped by PID.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/broker_process.hpp"
#include "tests/integration/subprocess.hpp"
#include "tests/port/client/upstream.hpp"

namespace midge::test {

using namespace std::chrono_literals;

inline std::size_t countOf(const std::string& text, const std::string& line) {
  std::size_t count = 0;
  for (std::size_t at = text.find(line); at != std::string::npos; at = text.find(line, at + 1)) {
    const bool startsLine = at == 0 || text[at - 1] == '\n';
    const std::size_t end = at + line.size();
    if (startsLine && (end == text.size() || text[end] == '\n')) ++count;
  }
  return count;
}

class BridgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(MIDGE_TEST_MOSQUITTO, X_OK) != 0 || access(MIDGE_TEST_MOSQUITTO_SUB, X_OK) != 0) {
      GTEST_SKIP() << "mosquitto and mosquitto-clients are not installed";
    }
    upstream_ = std::make_unique<Upstream>(gateway_.dataDir(), upstreamTls());
    ASSERT_TRUE(upstream_->start());
  }
  virtual UpstreamTls upstreamTls() { return {}; }
  void TearDown() override {
    stopRunner(true);
    if (upstream_) upstream_->stop(true);
  }

  void startGateway(bool persistence) {
    if (persistence) {
      gateway_.addConfigLine("persistence true");
      gateway_.addConfigLine("persistence_location {DIR}/");
    }
    gateway_.start();
    journal_ = persistence ? gateway_.dataDir() + "/bridge.journal" : "-";
  }

  void startRunner(int protocol, std::vector<std::string> topics) {
    protocol_ = protocol;
    topics_ = std::move(topics);
    std::vector<std::string> argv{MIDGE_TEST_BRIDGE_RUNNER, std::to_string(gateway_.port()),
                                  std::to_string(upstream_->port()), std::to_string(protocol),
                                  journal_};
    argv.insert(argv.end(), topics_.begin(), topics_.end());
    if (!runnerCaFile_.empty()) {
      argv.insert(argv.begin(), {"/usr/bin/env", "BRIDGE_CAFILE=" + runnerCaFile_});
    }
    runner_ = std::make_unique<Subprocess>(argv);
    ASSERT_TRUE(runner_->waitForOutput("bridge runner started", 10s)) << runner_->output();
  }
  void restartRunner() {
    stopRunner(true);
    startRunner(protocol_, topics_);
  }
  void stopRunner(bool crash) {
    if (!runner_) return;
    runner_->terminate(crash);
    runnerLog_ += runner_->output();
    runner_.reset();
  }
  std::string runnerLog() { return runnerLog_ + (runner_ ? runner_->output() : ""); }

  // A mosquitto_sub at QoS 2 that has shown it is subscribed: a probe published straight
  // to the same broker came through.
  std::unique_ptr<Subprocess> subscriber(std::uint16_t port, const std::string& filter,
                                         const std::string& id) {
    auto sub = std::make_unique<Subprocess>(std::vector<std::string>{
        MIDGE_TEST_MOSQUITTO_SUB, "-h", "127.0.0.1", "-p", std::to_string(port), "-t", filter,
        "-t", "probe/" + id, "-q", "2", "-v", "-i", id});
    for (int i = 0; i < 100; ++i) {
      publish(port, "probe/" + id, "p", 0);
      if (waitSeen(*sub, "probe/" + id + " p", 100ms)) return sub;
    }
    ADD_FAILURE() << "mosquitto_sub never saw its probe: " << sub->output();
    return sub;
  }

  static int publish(std::uint16_t port, const std::string& topic, const std::string& payload,
                     int qos, bool retain = false) {
    std::vector<std::string> argv{MIDGE_TEST_MOSQUITTO_PUB, "-h", "127.0.0.1", "-p",
                                  std::to_string(port), "-t", topic, "-m", payload, "-q",
                                  std::to_string(qos)};
    if (retain) argv.push_back("-r");
    std::string out;
    return runToCompletion(argv, 10s, &out);
  }

  // Publishes `payload` on `topic` at `port` until `sub` shows `expected`: the bridge has
  // connected and subscribed on both sides.
  bool waitForPath(std::uint16_t port, const std::string& topic, Subprocess& sub,
                   const std::string& expected) {
    for (int i = 0; i < 100; ++i) {
      publish(port, topic, "ready", 1);
      if (waitSeen(sub, expected + " ready", 200ms)) return true;
    }
    return false;
  }

  // Polls `sub` for `needle` while draining the upstream's log: a Mosquitto whose stderr
  // pipe fills up stops answering.
  bool waitSeen(Subprocess& sub, const std::string& needle, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    do {
      if (upstream_) upstream_->output();
      if (sub.waitForOutput(needle, 100ms)) return true;
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
  }

  BrokerProcess gateway_;
  std::unique_ptr<Upstream> upstream_;
  std::unique_ptr<Subprocess> runner_;
  std::string journal_ = "-";
  std::string runnerCaFile_;  // TLS towards the upstream when set
  std::string runnerLog_;
  int protocol_ = 4;
  std::vector<std::string> topics_;
};

}  // namespace midge::test
