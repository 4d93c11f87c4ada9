// SPDX-License-Identifier: Apache-2.0
// kill -9 of the gateway (midge and its bridge together) while QoS 2 messages are queued
// and in flight towards a real Mosquitto, over many cycles: every message acknowledged to
// its publisher arrives upstream, and none arrives twice.
#include <signal.h>

#include <fstream>

#include "tests/bridge/bridge_support.hpp"

namespace midge::test {
namespace {

// Publishes `count` QoS 2 messages "c<cycle>-<i>" on `topic` in one mosquitto_pub (-l
// reads lines).
int publishBatch(std::uint16_t port, const std::string& dir, int cycle, int count,
                 const std::string& topic = "sensors/t") {
  const std::string file = dir + "/batch-" + std::to_string(cycle);
  {
    std::ofstream out(file);
    for (int i = 0; i < count; ++i) out << "c" << cycle << "-" << i << "\n";
  }
  std::string out;
  return runToCompletion({"/bin/sh", "-c",
                          std::string(MIDGE_TEST_MOSQUITTO_PUB) + " -h 127.0.0.1 -p " +
                              std::to_string(port) + " -t " + topic + " -q 2 -l < " + file},
                         std::chrono::seconds(20), &out);
}

class BridgeCrash : public BridgeTest, public ::testing::WithParamInterface<int> {};

TEST_P(BridgeCrash, KillNineOfTheGatewayLosesNothingAndDuplicatesNoQos2Message) {
  constexpr int kCycles = 6;
  constexpr int kPerCycle = 40;
  startGateway(true);
  startRunner(GetParam(), {"sensors/# out 2 \"\" \"\""});
  auto up = subscriber(upstream_->port(), "sensors/#", "up-sub");
  ASSERT_TRUE(waitForPath(gateway_.port(), "sensors/ready", *up, "sensors/ready"));
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    ASSERT_EQ(publishBatch(gateway_.port(), gateway_.dataDir(), cycle, kPerCycle), 0);
    // Crash at a different point of the forwarding each time: at once, after a few
    // messages went up, after most of them.
    const std::string seen = "sensors/t c" + std::to_string(cycle) + "-" +
                             std::to_string((cycle * 7) % kPerCycle);
    if (cycle % 3 != 0) waitSeen(*up, seen, 5s);
    upstream_->output();
    ::kill(runner_->pid(), SIGKILL);
    gateway_.kill();
    gateway_.start();
    restartRunner();
  }
  publish(gateway_.port(), "sensors/t", "end", 2);
  ASSERT_TRUE(waitSeen(*up, "sensors/t end", 30s))
      << runnerLog() << "\nupstream saw " << countOf(up->output(), "") << " lines:\n"
      << up->output().substr(0, 3000) << "\ngateway:\n" << gateway_.log();
  const std::string output = up->output();
  int missing = 0, duplicated = 0;
  std::string report;
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    for (int i = 0; i < kPerCycle; ++i) {
      const std::size_t n =
          countOf(output, "sensors/t c" + std::to_string(cycle) + "-" + std::to_string(i));
      missing += n == 0 ? 1 : 0;
      duplicated += n > 1 ? 1 : 0;
      if (n != 1) report += "c" + std::to_string(cycle) + "-" + std::to_string(i) + " x" +
                            std::to_string(n) + "\n";
    }
  }
  EXPECT_EQ(missing, 0) << report;
  EXPECT_EQ(duplicated, 0) << report << runnerLog();
}

// The other direction: QoS 2 messages from the upstream in flight towards the gateway when
// it dies. A device with a durable QoS 2 session on midge (it reconnects by itself) sees
// each exactly once. The device is paho-mqtt, not mosquitto_sub: libmosquitto drops a
// QoS 2 message awaiting PUBREL when its PUBCOMP cannot be sent because the broker just
// died (a capture showed midge sending PUBREL before and after the kill, and
// mosquitto_sub answering with PUBCOMP without ever printing the message).
TEST_P(BridgeCrash, KillNineOfTheGatewayWhileMessagesComeInLosesAndDuplicatesNothing) {
  constexpr int kCycles = 5;
  constexpr int kPerCycle = 40;
  startGateway(true);
  startRunner(GetParam(), {"cmd/# in 2 \"\" \"\""});
  auto local = std::make_unique<Subprocess>(std::vector<std::string>{
      "/usr/bin/python3", MIDGE_TEST_QOS2_SUBSCRIBER, "127.0.0.1",
      std::to_string(gateway_.port()), "cmd/#", "device"});
  ASSERT_TRUE(waitForPath(upstream_->port(), "cmd/ready", *local, "cmd/ready")) << runnerLog();
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    ASSERT_EQ(publishBatch(upstream_->port(), gateway_.dataDir(), cycle, kPerCycle, "cmd/t"), 0);
    const std::string seen = "cmd/t c" + std::to_string(cycle) + "-" +
                             std::to_string((cycle * 7) % kPerCycle);
    if (cycle % 3 != 0) waitSeen(*local, seen, 5s);
    upstream_->output();
    ::kill(runner_->pid(), SIGKILL);
    gateway_.kill();
    gateway_.start();
    restartRunner();
  }
  publish(upstream_->port(), "cmd/t", "end", 2);
  ASSERT_TRUE(waitSeen(*local, "cmd/t end", 30s)) << runnerLog();
  const std::string output = local->output();
  std::string report;
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    for (int i = 0; i < kPerCycle; ++i) {
      const std::string line = "cmd/t c" + std::to_string(cycle) + "-" + std::to_string(i);
      const std::size_t n = countOf(output, line);
      if (n != 1) report += line + " x" + std::to_string(n) + "\n";
    }
  }
  EXPECT_TRUE(report.empty()) << report << runnerLog();
}

// The same through the real midge: the bridge comes from a `connection` section of its
// configuration file and dies with it.
TEST_P(BridgeCrash, KillNineOfMidgeRunningTheBridgeFromItsConfiguration) {
  constexpr int kCycles = 4;
  constexpr int kPerCycle = 40;
  gateway_.addConfigLine("persistence true");
  gateway_.addConfigLine("persistence_location {DIR}/");
  gateway_.addConfigLine("connection up");
  gateway_.addConfigLine("address 127.0.0.1:" + std::to_string(upstream_->port()));
  gateway_.addConfigLine("topic sensors/# out 2");
  gateway_.addConfigLine(GetParam() == 5 ? "bridge_protocol_version mqttv50"
                                         : "bridge_protocol_version mqttv311");
  gateway_.addConfigLine("bridge_session_expiry_interval 86400");
  gateway_.addConfigLine("remote_clientid gateway.config");
  gateway_.addConfigLine("restart_timeout 1 2");
  gateway_.start();
  auto up = subscriber(upstream_->port(), "sensors/#", "up-sub");
  ASSERT_TRUE(waitForPath(gateway_.port(), "sensors/ready", *up, "sensors/ready"))
      << gateway_.log();
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    ASSERT_EQ(publishBatch(gateway_.port(), gateway_.dataDir(), cycle, kPerCycle), 0);
    const std::string seen = "sensors/t c" + std::to_string(cycle) + "-" +
                             std::to_string((cycle * 7) % kPerCycle);
    if (cycle % 2 != 0) waitSeen(*up, seen, 5s);
    upstream_->output();
    gateway_.kill();
    gateway_.start();
  }
  publish(gateway_.port(), "sensors/t", "end", 2);
  ASSERT_TRUE(waitSeen(*up, "sensors/t end", 30s)) << gateway_.log();
  std::string report;
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    for (int i = 0; i < kPerCycle; ++i) {
      const std::string line = "sensors/t c" + std::to_string(cycle) + "-" + std::to_string(i);
      const std::size_t n = countOf(up->output(), line);
      if (n != 1) report += line + " x" + std::to_string(n) + "\n";
    }
  }
  EXPECT_TRUE(report.empty()) << report << gateway_.log();
  EXPECT_EQ(gateway_.stop(), 0) << "SIGTERM stops the bridge, then the broker";
}

std::string versionName(const ::testing::TestParamInfo<int>& param) {
  return "v" + std::to_string(param.param);
}

INSTANTIATE_TEST_SUITE_P(Versions, BridgeCrash, ::testing::Values(4, 5), versionName);

}  // namespace
}  // namespace midge::test
