// SPDX-License-Identifier: Apache-2.0
// The uplink against a real Mosquitto: connect at 3.1.1 and 5.0, QoS 0/1/2 up (seen by
// mosquitto_sub) and down (sent by mosquitto_pub), and the upstream killed with SIGKILL
// and restarted while messages wait: the driver reconnects and every message arrives.
#include <algorithm>

#include "tests/port/client/uplink_support.hpp"

namespace midge::test {
namespace {

using codec::ProtocolVersion;
using namespace std::chrono_literals;

class UplinkVersions : public UplinkTest,
                       public ::testing::WithParamInterface<ProtocolVersion> {};

client::OutboundMessage up(const std::string& topic, const std::string& payload, int qos) {
  client::OutboundMessage message;
  message.topic = topic;
  message.payload.assign(payload.begin(), payload.end());
  message.qos = static_cast<std::uint8_t>(qos);
  return message;
}

TEST_P(UplinkVersions, PublishesUpAtEveryQos) {
  upstream_ = std::make_unique<Upstream>(dir_);
  ASSERT_TRUE(upstream_->start());
  startDriver(clientOptions(GetParam(), "uplink-up"), driverOptions({upstream_->port()}));
  ASSERT_TRUE(runUntil([&] { return driver_->connected(); }, 5s)) << log_;
  auto sub = subscriber("up/#", "up/probe");
  for (int qos = 0; qos <= 2; ++qos) {
    ASSERT_TRUE(driver_->publish(up("up/q" + std::to_string(qos), "m" + std::to_string(qos), qos),
                                 static_cast<std::uint64_t>(10 + qos)));
  }
  EXPECT_TRUE(runUntil([&] { return done_.count(11) && done_.count(12); }, 5s)) << log_;
  for (int qos = 0; qos <= 2; ++qos) {
    const std::string line = "up/q" + std::to_string(qos) + " m" + std::to_string(qos);
    EXPECT_TRUE(sub->waitForOutput(line, 5s)) << sub->output();
  }
  EXPECT_EQ(driver_->client().inflight(), 0u);
}

TEST_P(UplinkVersions, ReceivesDownAtEveryQos) {
  upstream_ = std::make_unique<Upstream>(dir_);
  ASSERT_TRUE(upstream_->start());
  startDriver(clientOptions(GetParam(), "uplink-down"), driverOptions({upstream_->port()}));
  ASSERT_TRUE(runUntil([&] { return driver_->connected(); }, 5s)) << log_;
  ASSERT_TRUE(driver_->subscribe({client::Subscription{"down/#", 2, true, true, 0}}));
  ASSERT_TRUE(runUntil([&] { return subscribed_; }, 5s));
  for (int qos = 0; qos <= 2; ++qos) {
    EXPECT_EQ(mosquittoPub("down/q" + std::to_string(qos), "c" + std::to_string(qos), qos), 0);
  }
  // The QoS 2 exchange ends with the upstream's PUBREL, after the message is delivered.
  EXPECT_TRUE(runUntil(
      [&] { return received_.size() >= 3 && driver_->client().inboundPending() == 0; }, 5s));
  std::sort(received_.begin(), received_.end());
  EXPECT_EQ(received_, (std::vector<std::string>{"down/q0 c0", "down/q1 c1", "down/q2 c2"}));
  EXPECT_EQ(driver_->client().inboundPending(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Versions, UplinkVersions,
                         ::testing::Values(ProtocolVersion::V311, ProtocolVersion::V5),
                         [](const auto& param) {
                           return param.param == ProtocolVersion::V5 ? std::string("v5")
                                                                     : std::string("v311");
                         });

// The owner queues what it could not hand to the client (as the bridge's durable session
// will) and hands it over on every Connected.
// try_private: Mosquitto accepts level 0x84 and treats the client as a bridge, which it
// does not send its own messages back to (No Local before v5), while others' arrive.
TEST_F(UplinkTest, MosquittoAcceptsTheBridgeFlagAndDoesNotEchoOurMessages) {
  upstream_ = std::make_unique<Upstream>(dir_);
  ASSERT_TRUE(upstream_->start());
  client::ClientOptions options = clientOptions(ProtocolVersion::V311, "uplink-bridge");
  options.bridgeFlag = true;
  startDriver(options, driverOptions({upstream_->port()}));
  ASSERT_TRUE(runUntil([&] { return driver_->connected(); }, 5s)) << log_;
  EXPECT_EQ(refusals_, 0);
  ASSERT_TRUE(driver_->subscribe({client::Subscription{"loop/#", 1, false, false, 0}}));
  ASSERT_TRUE(runUntil([&] { return subscribed_; }, 5s));
  ASSERT_TRUE(driver_->publish(up("loop/ours", "echo?", 1), 1));
  ASSERT_TRUE(runUntil([&] { return done_.count(1) != 0; }, 5s)) << log_;
  // Mosquitto routes in order: once a later message from someone else is here, our own
  // would have been delivered before it.
  EXPECT_EQ(mosquittoPub("loop/theirs", "hello", 1), 0);
  ASSERT_TRUE(runUntil([&] { return !received_.empty(); }, 5s));
  EXPECT_EQ(received_, std::vector<std::string>{"loop/theirs hello"});
}

TEST_F(UplinkTest, UpstreamKilledAndRestartedLosesNothing) {
  upstream_ = std::make_unique<Upstream>(dir_);
  ASSERT_TRUE(upstream_->start());
  std::map<std::uint64_t, client::OutboundMessage> queue;
  std::set<std::uint64_t> handed;
  auto pump = [&] {
    for (const auto& [tag, message] : queue) {
      if (handed.count(tag) || done_.count(tag) || !driver_->client().canPublish()) continue;
      if (driver_->client().publish(message, tag, driver_->nowMs())) handed.insert(tag);
    }
  };
  afterEvent_ = [&](const client::ClientEvent& event) {
    if (event.kind == client::ClientEventKind::Connected) pump();
  };
  startDriver(clientOptions(ProtocolVersion::V311, "uplink-restart"),
              driverOptions({upstream_->port()}));
  ASSERT_TRUE(runUntil([&] { return driver_->connected(); }, 5s)) << log_;
  for (std::uint64_t tag = 1; tag <= 5; ++tag) queue[tag] = up("up/r", "before" + std::to_string(tag), 1);
  pump();
  ASSERT_TRUE(runUntil([&] { return done_.size() == 5; }, 5s)) << log_;

  const std::uint16_t port = upstream_->port();
  upstream_->stop(true);
  ASSERT_TRUE(runUntil([&] { return !driver_->connected(); }, 5s));
  for (std::uint64_t tag = 6; tag <= 10; ++tag) {
    queue[tag] = up("up/r", "during" + std::to_string(tag), tag % 2 == 0 ? 2 : 1);
  }
  pump();  // refused while down: the queue keeps them
  EXPECT_TRUE(handed.count(6) == 0);
  // Let a few attempts fail against the dead port, then bring the upstream back.
  ASSERT_TRUE(runUntil([&] { return log_.find("connecting") != log_.rfind("connecting"); }, 5s));
  ASSERT_TRUE(upstream_->start(port));
  ASSERT_TRUE(runUntil([&] { return driver_->connected(); }, 5s)) << log_;
  EXPECT_EQ(driver_->reconnects(), 1u);
  auto sub = subscriber("up/#", "up/probe");
  // The Connected handler already handed over the queue; anything after the subscriber's
  // start is published again so that it sees every message.
  for (std::uint64_t tag = 6; tag <= 10; ++tag) {
    if (!done_.count(tag)) continue;
    (void)driver_->publish(queue[tag], 100 + tag);
  }
  EXPECT_TRUE(runUntil([&] { return done_.size() >= 10 && driver_->client().inflight() == 0; }, 5s));
  for (std::uint64_t tag = 6; tag <= 10; ++tag) {
    EXPECT_TRUE(done_.count(tag)) << tag;
    EXPECT_TRUE(sub->waitForOutput("up/r during" + std::to_string(tag), 5s)) << sub->output();
  }
  journal_.commit();
  EXPECT_EQ(journal_.size(), 0u);
}

TEST_F(UplinkTest, FailsOverToTheSecondAddress) {
  const std::uint16_t dead = freeLoopbackPort();
  upstream_ = std::make_unique<Upstream>(dir_);
  ASSERT_TRUE(upstream_->start());
  startDriver(clientOptions(ProtocolVersion::V5, "uplink-failover"),
              driverOptions({dead, upstream_->port()}));
  ASSERT_TRUE(runUntil([&] { return driver_->connected(); }, 5s)) << log_;
  EXPECT_EQ(driver_->addressIndex(), 1u);
  EXPECT_NE(log_.find("127.0.0.1:" + std::to_string(dead)), std::string::npos);
}

// Messages handed to the client whose acknowledgements never came: the upstream dies
// with them in flight (kill -9 before the loop runs again) and comes back without its
// session; the client resends them on the next CONNACK. They are retained, so a
// subscriber started afterwards proves the new upstream has them.
TEST_F(UplinkTest, InFlightAtTheKillIsResentAfterTheRestart) {
  upstream_ = std::make_unique<Upstream>(dir_);
  ASSERT_TRUE(upstream_->start());
  startDriver(clientOptions(ProtocolVersion::V5, "uplink-inflight"),
              driverOptions({upstream_->port()}));
  ASSERT_TRUE(runUntil([&] { return driver_->connected(); }, 5s)) << log_;
  for (std::uint64_t tag = 1; tag <= 4; ++tag) {
    client::OutboundMessage message = up("up/kept/" + std::to_string(tag), "k" + std::to_string(tag),
                                         tag % 2 == 0 ? 2 : 1);
    message.retain = true;
    ASSERT_TRUE(driver_->publish(message, tag));
  }
  const std::uint16_t port = upstream_->port();
  upstream_->stop(true);
  EXPECT_EQ(driver_->client().inflight(), 4u);
  journal_.commit();
  EXPECT_EQ(journal_.size(), 4u);
  ASSERT_TRUE(runUntil([&] { return !driver_->connected(); }, 5s));
  ASSERT_TRUE(upstream_->start(port));
  EXPECT_TRUE(runUntil([&] { return done_.size() == 4 && driver_->client().inflight() == 0; }, 5s))
      << log_;
  std::string out;
  runToCompletion({MIDGE_TEST_MOSQUITTO_SUB, "-h", "127.0.0.1", "-p", std::to_string(port), "-t",
                   "up/kept/#", "-v", "-C", "4", "-W", "5"},
                  10s, &out);
  for (std::uint64_t tag = 1; tag <= 4; ++tag) {
    EXPECT_NE(out.find("up/kept/" + std::to_string(tag) + " k" + std::to_string(tag)),
              std::string::npos)
        << out;
  }
  journal_.commit();
  EXPECT_EQ(journal_.size(), 0u);
}

}  // namespace
}  // namespace midge::test
