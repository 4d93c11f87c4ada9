// SPDX-License-Identifier: Apache-2.0
// Limits that keep one client from costing the broker without bound, and session rules
// that other brokers' test suites check.
#include <gtest/gtest.h>

#include <string>

#include "tests/core/engine/harness.hpp"

namespace midge::testing {
namespace {

using codec::ProtocolVersion;

codec::Subscribe subscribeMany(std::string_view filter, std::size_t count) {
  codec::Subscribe subscribe;
  subscribe.packetId = 9;
  for (std::size_t i = 0; i < count; ++i) subscribe.entries.push_back({filter, 0});
  return subscribe;
}

std::size_t publishesWaiting(Client& client) {
  std::size_t count = 0;
  while (client.hasPacket()) {
    client.next();
    ++count;
  }
  return count;
}

TEST(EngineAbuseLimits, FiltersBeyondThePerSubscribeCapGetQuotaExceeded) {
  EngineConfig config;
  config.maxFiltersPerSubscribe = 3;
  Harness harness(config);
  auto v5 = harness.open();
  v5->connect("v5");
  v5->send(subscribeMany("a/#", 5));
  auto suback = v5->nextAs<codec::Suback>();
  ASSERT_EQ(suback.reasonCodes.size(), 5u);
  EXPECT_EQ(suback.reasonCodes[2], 0);
  EXPECT_EQ(suback.reasonCodes[3], static_cast<std::uint8_t>(ReasonCode::QuotaExceeded));
  EXPECT_EQ(suback.reasonCodes[4], static_cast<std::uint8_t>(ReasonCode::QuotaExceeded));

  auto v3 = harness.open(ProtocolVersion::V311);
  v3->connect("v3");
  v3->send(subscribeMany("a/#", 4));
  EXPECT_FALSE(v3->hasPacket());
  EXPECT_TRUE(v3->closeRequested()) << "3.x has no code for it: the client is closed";
}

TEST(EngineAbuseLimits, RetainedOnSubscribeIsPacedThroughTheSessionQueue) {
  EngineConfig config;
  config.retainedBurstPerSubscribe = 10;
  config.maxQueuedMessages = 20;
  Harness harness(config);
  auto publisher = harness.open();
  publisher->connect("publisher");
  for (int i = 0; i < 50; ++i) publisher->publish("r/" + std::to_string(i), "x", 0, true);

  auto greedy = harness.open();
  greedy->connect("greedy");
  const std::uint64_t droppedBefore = harness.broker().stats().messagesDropped;
  greedy->send(subscribeMany("r/#", 40));  // 40 x 50 retained messages asked for
  greedy->nextAs<codec::Suback>();
  EXPECT_EQ(publishesWaiting(*greedy), 30u) << "the burst, then what the queue holds";
  EXPECT_EQ(harness.broker().stats().messagesDropped - droppedBefore, 40u * 50u - 30u);

  // The paced messages left without waiting for any other event, and the queue is empty:
  // a new message goes straight out.
  publisher->publish("r/new", "y", 0);
  EXPECT_EQ(publishesWaiting(*greedy), 1u);
}

TEST(EngineAbuseLimits, MaxSessionsRefusesNewClientIdsOnly) {
  EngineConfig config;
  config.maxSessions = 2;
  Harness harness(config);
  auto a = harness.open();
  a->connect("a", false, 3600);
  auto b = harness.open(ProtocolVersion::V311);
  b->connect("b", false);
  auto c = harness.open();
  EXPECT_EQ(c->connect("c").reasonCode, static_cast<std::uint8_t>(ReasonCode::QuotaExceeded));
  auto c3 = harness.open(ProtocolVersion::V311);
  EXPECT_EQ(c3->connect("c3").reasonCode, 3) << "3.x: server unavailable";
  a->dropConnection();
  auto again = harness.open();
  EXPECT_TRUE(again->connect("a", false, 3600).sessionPresent) << "existing sessions resume";
}

TEST(EngineAbuseLimits, SubscriptionsPerClientAreBounded) {
  EngineConfig config;
  config.maxSubscriptionsPerClient = 2;
  Harness harness(config);
  auto client = harness.open();
  client->connect("c");
  client->subscribe("a", 1);
  client->subscribe("b", 1);
  codec::Subscribe more;
  more.packetId = 5;
  more.entries.push_back({"b", 2});  // replacing one is not a new one
  more.entries.push_back({"c", 1});
  client->send(more);
  auto suback = client->nextAs<codec::Suback>();
  ASSERT_EQ(suback.reasonCodes.size(), 2u);
  EXPECT_EQ(suback.reasonCodes[0], 2);
  EXPECT_EQ(suback.reasonCodes[1], static_cast<std::uint8_t>(ReasonCode::QuotaExceeded));
  EXPECT_EQ(harness.broker().subscriptionCount(), 2u);
}

TEST(EngineAbuseLimits, OutboundTopicAliasesAreBounded) {
  EngineConfig config;
  config.maxOutboundTopicAliases = 2;
  Harness harness(config);
  auto subscriber = harness.open();
  codec::Connect connect;
  connect.version = ProtocolVersion::V5;
  connect.clientId = "aliases";
  connect.properties.topicAliasMaximum = 1000;
  subscriber->send(connect);
  subscriber->nextAs<codec::Connack>();
  subscriber->subscribe("t/#", 0);
  auto publisher = harness.open();
  publisher->connect("p");
  for (int i = 0; i < 4; ++i) publisher->publish("t/" + std::to_string(i), "x", 0);
  int aliased = 0;
  for (int i = 0; i < 4; ++i) {
    if (subscriber->nextAs<codec::Publish>().properties.topicAlias) ++aliased;
  }
  EXPECT_EQ(aliased, 2);
}

TEST(EngineAbuseLimits, MemoryLimitCountsInFlightMessagesAndProperties) {
  EngineConfig config;
  config.memoryLimit = 1 << 20;
  Harness harness(config);
  auto subscriber = harness.open();
  subscriber->connect("s");
  subscriber->subscribe("t", 1);
  auto publisher = harness.open();
  publisher->connect("p");
  const std::size_t before = harness.broker().memoryUsed();
  codec::Publish publish;
  publish.topic = "t";
  publish.payload = asBytes("payload");
  publish.qos = 1;
  publish.packetId = 3;
  publish.properties.userProperties.push_back({"origin", "a-long-user-property-value"});
  publisher->send(publish);
  auto delivered = subscriber->nextAs<codec::Publish>();
  const std::size_t inFlight = harness.broker().memoryUsed() - before;
  EXPECT_GE(inFlight, 1u + 7u + 30u) << "topic, payload and the user property, while unacked";
  codec::Ack ack;
  ack.type = codec::PacketType::Puback;
  ack.packetId = delivered.packetId;
  subscriber->send(ack);
  EXPECT_EQ(harness.broker().memoryUsed(), before);
}

TEST(EngineAbuseLimits, DefaultsBoundPacketSizeAndTopicLevels) {
  Harness harness;  // nothing configured
  auto client = harness.open();
  client->connect("c");
  std::string deep;
  for (int level = 0; level < 201; ++level) deep += level == 0 ? "l" : "/l";
  codec::Subscribe subscribe;
  subscribe.packetId = 1;
  subscribe.entries.push_back({deep, 0});
  client->send(subscribe);
  EXPECT_EQ(client->nextAs<codec::Suback>().reasonCodes.at(0),
            static_cast<std::uint8_t>(ReasonCode::TopicFilterInvalid))
      << "201 levels: above the default of 200";

  client->publish("big", std::string(1024 * 1024, 'x'), 0);
  EXPECT_EQ(client->nextAs<codec::Disconnect>().reason, ReasonCode::PacketTooLarge)
      << "above the default max_packet_size of 1 MiB";
}

TEST(EngineAbuseLimits, MqttV3SessionsExpireByDefault) {
  Harness harness;
  auto device = harness.open(ProtocolVersion::V311);
  device->connect("gone-for-good", false);
  device->dropConnection();
  harness.clock.advanceSeconds(29 * 24 * 3600);
  harness.tick(2);
  EXPECT_EQ(harness.broker().sessionCount(), 1u);
  harness.clock.advanceSeconds(2 * 24 * 3600);
  harness.tick(2);
  EXPECT_EQ(harness.broker().sessionCount(), 0u) << "30 days unless configured otherwise";
}

TEST(EngineSessionRules, TakeoverOfASessionWithoutExpiryStartsAFreshOne) {
  Harness harness;
  auto first = harness.open(ProtocolVersion::V311);
  first->connect("id", true);  // clean session 1: the session ends with this connection
  first->subscribe("leaked/#", 1);
  auto second = harness.open(ProtocolVersion::V311);
  auto connack = second->connect("id", false);
  EXPECT_FALSE(connack.sessionPresent) << "[MQTT-3.1.2-6]";
  EXPECT_EQ(harness.broker().subscriptionCount(), 0u);
}

TEST(EngineSessionRules, CleanStartWithinTheWillDelayCancelsTheWill) {
  Harness harness;
  auto watcher = harness.open();
  watcher->connect("watcher");
  watcher->subscribe("status", 0);
  codec::Will will;
  will.topic = "status";
  will.payload = asBytes("offline");
  will.properties.willDelayInterval = 60;
  auto device = harness.open();
  device->connect("device", false, 3600, will);
  device->dropConnection();
  auto back = harness.open();
  back->connect("device", true);  // back within the delay, with a fresh session
  harness.tick(61);
  EXPECT_FALSE(watcher->hasPacket()) << "the device is back: it must not be announced as gone";
}

TEST(EngineSessionRules, PublishToAShareTopicIsRefused) {
  Harness harness;
  auto v5 = harness.open();
  v5->connect("v5");
  v5->publish("$share/group/t", "x", 1);
  auto disconnect = v5->nextAs<codec::Disconnect>();
  EXPECT_EQ(disconnect.reason, ReasonCode::TopicNameInvalid);
  auto v3 = harness.open(ProtocolVersion::V311);
  v3->connect("v3");
  v3->publish("$share/group/t", "x", 0);
  EXPECT_TRUE(v3->closeRequested());
}

TEST(EngineSessionRules, Mqtt31ResendsOfPubrelWithDupCompleteTheExchange) {
  Harness harness;
  auto client = harness.open(ProtocolVersion::V31);
  client->connect("legacy-31", false);
  client->publish("t", "x", 2, false, 7);
  EXPECT_EQ(client->nextAs<codec::Ack>().type, codec::PacketType::Pubrec);
  client->dropConnection();
  auto back = harness.open(ProtocolVersion::V31);
  back->connect("legacy-31", false);
  back->sendBytes({0x6a, 0x02, 0x00, 0x07});  // PUBREL with DUP, as 3.1 clients resend it
  auto pubcomp = back->nextAs<codec::Ack>();
  EXPECT_EQ(pubcomp.type, codec::PacketType::Pubcomp);
  EXPECT_FALSE(back->closeRequested());
}

}  // namespace
}  // namespace midge::testing
