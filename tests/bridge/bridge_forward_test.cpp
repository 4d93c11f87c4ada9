// SPDX-License-Identifier: Apache-2.0
// Messages cross the bridge between the real midge and a real Mosquitto: out and in, at
// QoS 0/1/2, with prefixes, over MQTT 3.1.1 and 5.0; both directions without a loop;
// the notification on the upstream; the upstream killed and restarted while messages
// queue at the edge.
#include <signal.h>

#include <tuple>

#include "tests/bridge/bridge_support.hpp"

namespace midge::test {
namespace {

class BridgeForward : public BridgeTest,
                      public ::testing::WithParamInterface<std::tuple<int, int>> {
 protected:
  int protocol() const { return std::get<0>(GetParam()); }
  int qos() const { return std::get<1>(GetParam()); }
};

TEST_P(BridgeForward, OutCarriesLocalMessagesUpWithPrefixes) {
  startGateway(false);
  startRunner(protocol(), {"sensors/# out " + std::to_string(qos()) + " edge/ site1/"});
  auto up = subscriber(upstream_->port(), "site1/#", "up-sub");
  ASSERT_TRUE(waitForPath(gateway_.port(), "edge/sensors/ready", *up, "site1/sensors/ready"))
      << runnerLog();
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(publish(gateway_.port(), "edge/sensors/t", "m" + std::to_string(i), qos()), 0);
  }
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(up->waitForOutput("site1/sensors/t m" + std::to_string(i), 5s)) << up->output();
  }
  // Not on an out line: stays home.
  publish(gateway_.port(), "edge/other/t", "stay", qos());
  publish(gateway_.port(), "edge/sensors/t", "last", qos());
  ASSERT_TRUE(up->waitForOutput("site1/sensors/t last", 5s));
  EXPECT_EQ(up->output().find("stay"), std::string::npos);
  if (qos() > 0) {
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(countOf(up->output(), "site1/sensors/t m" + std::to_string(i)), 1u);
    }
    // The statistics $SYS publishes: the uplink up, and at least this test's 6 messages
    // (plus the "ready" probes) counted as sent.
    stopRunner(false);
    const std::string log = runnerLog();
    const auto at = log.find("statistics: state 1 sent ");
    ASSERT_NE(at, std::string::npos) << log;
    EXPECT_GE(std::stoul(log.substr(at + 25)), 6u) << log.substr(at);
  }
}

TEST_P(BridgeForward, InCarriesUpstreamMessagesDownWithPrefixes) {
  startGateway(false);
  startRunner(protocol(), {"cmd/# in " + std::to_string(qos()) + " dev/ site1/"});
  auto local = subscriber(gateway_.port(), "dev/#", "local-sub");
  ASSERT_TRUE(waitForPath(upstream_->port(), "site1/cmd/ready", *local, "dev/cmd/ready"))
      << runnerLog();
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(publish(upstream_->port(), "site1/cmd/open", "c" + std::to_string(i), qos()), 0);
  }
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(local->waitForOutput("dev/cmd/open c" + std::to_string(i), 5s)) << local->output();
  }
}

std::string paramName(const ::testing::TestParamInfo<std::tuple<int, int>>& info) {
  return "v" + std::to_string(std::get<0>(info.param)) + "_qos" +
         std::to_string(std::get<1>(info.param));
}

INSTANTIATE_TEST_SUITE_P(VersionsAndQos, BridgeForward,
                         ::testing::Combine(::testing::Values(4, 5), ::testing::Values(0, 1, 2)),
                         paramName);

TEST_F(BridgeTest, BothDirectionsWithoutALoopOverV5) {
  startGateway(false);
  startRunner(5, {"chat/# both 2 \"\" \"\""});
  auto up = subscriber(upstream_->port(), "chat/#", "up-sub");
  auto local = subscriber(gateway_.port(), "chat/#", "local-sub");
  ASSERT_TRUE(waitForPath(gateway_.port(), "chat/ready-out", *up, "chat/ready-out"));
  ASSERT_TRUE(waitForPath(upstream_->port(), "chat/ready-in", *local, "chat/ready-in"));
  publish(gateway_.port(), "chat/room", "from-edge", 2);
  publish(upstream_->port(), "chat/room", "from-centre", 2);
  publish(gateway_.port(), "chat/room", "marker", 2);
  ASSERT_TRUE(up->waitForOutput("chat/room marker", 5s));
  ASSERT_TRUE(local->waitForOutput("chat/room from-centre", 5s));
  ASSERT_TRUE(up->waitForOutput("chat/room from-centre", 5s));
  publish(upstream_->port(), "chat/room", "marker-in", 2);
  ASSERT_TRUE(local->waitForOutput("chat/room marker-in", 5s));
  // No Local on both legs: each message is seen once on each side, never echoed back.
  EXPECT_EQ(countOf(up->output(), "chat/room from-edge"), 1u) << up->output();
  EXPECT_EQ(countOf(up->output(), "chat/room from-centre"), 1u) << up->output();
  EXPECT_EQ(countOf(local->output(), "chat/room from-edge"), 1u) << local->output();
  EXPECT_EQ(countOf(local->output(), "chat/room from-centre"), 1u) << local->output();
}

TEST_F(BridgeTest, NotificationOnTheUpstreamSaysOneThenZero) {
  startGateway(false);
  auto up = subscriber(upstream_->port(), "bridge-state/#", "state-sub");
  startRunner(4, {"sensors/# out 1 \"\" \"\""});
  EXPECT_TRUE(up->waitForOutput("bridge-state/test 1", 10s)) << runnerLog();
  stopRunner(true);  // the upstream publishes the will
  EXPECT_TRUE(up->waitForOutput("bridge-state/test 0", 10s)) << up->output();
}

TEST_F(BridgeTest, UpstreamKilledAndRestartedWhileMessagesQueueAtTheEdge) {
  startGateway(true);
  startRunner(4, {"sensors/# out 2 \"\" \"\""});
  {
    auto up = subscriber(upstream_->port(), "sensors/#", "up-sub");
    ASSERT_TRUE(waitForPath(gateway_.port(), "sensors/ready", *up, "sensors/ready"));
  }
  const std::uint16_t port = upstream_->port();
  upstream_->stop(true);
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(publish(gateway_.port(), "sensors/t", "q" + std::to_string(i), i % 2 + 1), 0);
  }
  // The restarted upstream forgot every session: hold the bridge (SIGSTOP) until the new
  // subscriber is in place, so that what it sees is what the bridge delivered.
  ASSERT_EQ(::kill(runner_->pid(), SIGSTOP), 0);
  ASSERT_TRUE(upstream_->start(port));
  auto up = subscriber(port, "sensors/#", "up-sub2");
  ASSERT_EQ(::kill(runner_->pid(), SIGCONT), 0);
  for (int i = 0; i < 20; ++i) {
    EXPECT_TRUE(waitSeen(*up, "sensors/t q" + std::to_string(i), 10s)) << runnerLog();
  }
}

}  // namespace
}  // namespace midge::test
