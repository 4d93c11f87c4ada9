// SPDX-License-Identifier: Apache-2.0
// QoS flows, routing, subscription options, shared subscriptions, retained messages,
// topic aliases, expiry and flow control.
#include "tests/core/engine/harness.hpp"

namespace midge::testing {
namespace {

using codec::ProtocolVersion;
constexpr std::uint8_t kNoLocal = 0x04;
constexpr std::uint8_t kRetainAsPublished = 0x08;

TEST(EnginePublish, Qos1IsAcknowledgedAndDelivered) {
  Harness harness;
  auto subscriber = harness.open();
  subscriber->connect("sub");
  subscriber->subscribe("a/b", 1);
  auto publisher = harness.open();
  publisher->connect("pub");
  publisher->publish("a/b", "hello", 1, false, 10);
  auto puback = publisher->nextAs<codec::Ack>();
  EXPECT_EQ(puback.type, codec::PacketType::Puback);
  EXPECT_EQ(puback.packetId, 10);
  EXPECT_EQ(puback.reason, ReasonCode::Success);
  auto delivered = subscriber->nextAs<codec::Publish>();
  EXPECT_EQ(delivered.qos, 1);
  EXPECT_EQ(delivered.topic, "a/b");
  EXPECT_EQ(payloadOf(delivered), "hello");
  EXPECT_NE(delivered.packetId, 0);
}

TEST(EnginePublish, NoMatchingSubscribersReasonForV5) {
  Harness harness;
  auto publisher = harness.open();
  publisher->connect("pub");
  publisher->publish("nobody/listens", "x", 1);
  EXPECT_EQ(publisher->nextAs<codec::Ack>().reason, ReasonCode::NoMatchingSubscribers);
}

TEST(EnginePublish, Qos2ExactlyOnceInBothDirections) {
  Harness harness;
  auto subscriber = harness.open();
  subscriber->connect("sub");
  subscriber->subscribe("q2", 2);
  auto publisher = harness.open();
  publisher->connect("pub");
  publisher->publish("q2", "once", 2, false, 7);
  EXPECT_EQ(publisher->nextAs<codec::Ack>().type, codec::PacketType::Pubrec);
  // The publisher resends before PUBREL (e.g. it missed our PUBREC): no second delivery.
  codec::Publish again;
  again.topic = "q2";
  again.payload = asBytes("once");
  again.qos = 2;
  again.dup = true;
  again.packetId = 7;
  publisher->send(again);
  EXPECT_EQ(publisher->nextAs<codec::Ack>().type, codec::PacketType::Pubrec);
  publisher->send(codec::Ack{codec::PacketType::Pubrel, 7, ReasonCode::Success, {}});
  auto pubcomp = publisher->nextAs<codec::Ack>();
  EXPECT_EQ(pubcomp.type, codec::PacketType::Pubcomp);
  EXPECT_EQ(pubcomp.reason, ReasonCode::Success);

  auto delivered = subscriber->nextAs<codec::Publish>();
  EXPECT_EQ(delivered.qos, 2);
  EXPECT_FALSE(subscriber->hasPacket()) << "delivered twice";
  subscriber->send(codec::Ack{codec::PacketType::Pubrec, delivered.packetId, ReasonCode::Success, {}});
  auto pubrel = subscriber->nextAs<codec::Ack>();
  EXPECT_EQ(pubrel.type, codec::PacketType::Pubrel);
  EXPECT_EQ(pubrel.packetId, delivered.packetId);
  subscriber->send(codec::Ack{codec::PacketType::Pubcomp, delivered.packetId, ReasonCode::Success, {}});
  EXPECT_FALSE(subscriber->hasPacket());
}

TEST(EnginePublish, UnknownPubrelGetsPacketIdentifierNotFound) {
  Harness harness;
  auto client = harness.open();
  client->connect("c");
  client->send(codec::Ack{codec::PacketType::Pubrel, 99, ReasonCode::Success, {}});
  auto pubcomp = client->nextAs<codec::Ack>();
  EXPECT_EQ(pubcomp.type, codec::PacketType::Pubcomp);
  EXPECT_EQ(pubcomp.reason, ReasonCode::PacketIdentifierNotFound);
}

TEST(EnginePublish, DeliveredQosIsTheMinimumOfPublishAndSubscription) {
  Harness harness;
  auto subscriber = harness.open();
  subscriber->connect("sub");
  subscriber->subscribe("t", 1);
  auto publisher = harness.open();
  publisher->connect("pub");
  publisher->publish("t", "x", 2);
  EXPECT_EQ(subscriber->nextAs<codec::Publish>().qos, 1);
  publisher->publish("t", "y", 0);
  EXPECT_EQ(subscriber->nextAs<codec::Publish>().qos, 0);
}

TEST(EnginePublish, WildcardsAndDollarTopics) {
  Harness harness;
  auto subscriber = harness.open();
  subscriber->connect("sub");
  subscriber->subscribe("#", 0);
  auto publisher = harness.open();
  publisher->connect("pub");
  publisher->publish("$internal/x", "hidden", 0);
  publisher->publish("sport/tennis", "shown", 0);
  EXPECT_EQ(payloadOf(subscriber->nextAs<codec::Publish>()), "shown");
  EXPECT_FALSE(subscriber->hasPacket());
}

TEST(EnginePublish, OverlappingSubscriptionsGiveOneCopyWithAllIdentifiers) {
  Harness harness;
  auto subscriber = harness.open();
  subscriber->connect("sub");
  subscriber->subscribe("a/+", 0, 1);
  subscriber->subscribe("a/#", 2, 2);
  auto publisher = harness.open();
  publisher->connect("pub");
  publisher->publish("a/b", "x", 2);
  auto delivered = subscriber->nextAs<codec::Publish>();
  EXPECT_EQ(delivered.qos, 2);
  std::vector<std::uint32_t> ids = delivered.properties.subscriptionIdentifiers;
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::uint32_t>{1, 2}));
  EXPECT_FALSE(subscriber->hasPacket());
}

TEST(EnginePublish, NoLocalSuppressesOwnMessages) {
  Harness harness;
  auto client = harness.open();
  client->connect("me");
  client->subscribe("chat", kNoLocal);
  auto other = harness.open();
  other->connect("other");
  client->publish("chat", "mine", 0);
  EXPECT_FALSE(client->hasPacket());
  other->publish("chat", "theirs", 0);
  EXPECT_EQ(payloadOf(client->nextAs<codec::Publish>()), "theirs");
}

TEST(EnginePublish, NoLocalOnSharedSubscriptionIsAProtocolError) {
  Harness harness;
  auto client = harness.open();
  client->connect("me");
  codec::Subscribe subscribe;
  subscribe.packetId = 1;
  subscribe.entries.push_back({"$share/g/t", kNoLocal});
  client->send(subscribe);
  EXPECT_EQ(client->nextAs<codec::Disconnect>().reason, ReasonCode::ProtocolError);
}

TEST(EnginePublish, RetainAsPublishedKeepsTheFlagOnLiveMessages) {
  Harness harness;
  auto keeps = harness.open();
  keeps->connect("keeps");
  keeps->subscribe("r", kRetainAsPublished);
  auto clears = harness.open();
  clears->connect("clears");
  clears->subscribe("r", 0);
  auto publisher = harness.open();
  publisher->connect("pub");
  publisher->publish("r", "v", 0, true);
  EXPECT_TRUE(keeps->nextAs<codec::Publish>().retain);
  EXPECT_FALSE(clears->nextAs<codec::Publish>().retain);
}

TEST(EnginePublish, SharedSubscriptionDeliversToOneMemberRoundRobin) {
  Harness harness;
  auto a = harness.open();
  a->connect("a");
  a->subscribe("$share/workers/jobs", 1);
  auto b = harness.open();
  b->connect("b");
  b->subscribe("$share/workers/jobs", 1);
  auto publisher = harness.open();
  publisher->connect("pub");
  int toA = 0;
  int toB = 0;
  for (int i = 0; i < 6; ++i) {
    publisher->publish("jobs", "job", 0);
    if (a->hasPacket()) {
      a->next();
      ++toA;
    }
    if (b->hasPacket()) {
      b->next();
      ++toB;
    }
  }
  EXPECT_EQ(toA, 3);
  EXPECT_EQ(toB, 3);
}

TEST(EnginePublish, SharedSubscriptionSkipsOfflineMembers) {
  Harness harness;
  auto a = harness.open();
  a->connect("a", false, 3600);
  a->subscribe("$share/g/jobs", 1);
  auto b = harness.open();
  b->connect("b");
  b->subscribe("$share/g/jobs", 1);
  a->send(codec::Disconnect{});
  a->dropConnection();
  auto publisher = harness.open();
  publisher->connect("pub");
  for (int i = 0; i < 4; ++i) publisher->publish("jobs", "job", 0);
  int received = 0;
  while (b->hasPacket()) {
    b->next();
    ++received;
  }
  EXPECT_EQ(received, 4);
}

TEST(EnginePublish, SharedSubscriptionSkipsMembersWhoseWindowIsFull) {
  Harness harness;
  auto busy = harness.open();
  codec::Connect connect;
  connect.version = ProtocolVersion::V5;
  connect.clientId = "busy";
  connect.properties.receiveMaximum = 1;
  busy->send(connect);
  busy->nextAs<codec::Connack>();
  busy->subscribe("$share/g/jobs", 1);
  auto idle = harness.open();
  idle->connect("idle");
  idle->subscribe("$share/g/jobs", 1);
  auto publisher = harness.open();
  publisher->connect("pub");
  int toIdle = 0;
  std::uint16_t busyPacketId = 0;
  for (int i = 0; i < 6; ++i) {
    publisher->publish("jobs", "job", 1);
    while (idle->hasPacket()) {
      auto job = idle->nextAs<codec::Publish>();
      idle->send(codec::Ack{codec::PacketType::Puback, job.packetId, ReasonCode::Success, {}});
      ++toIdle;
    }
    if (busy->hasPacket()) {
      EXPECT_EQ(busyPacketId, 0) << "a second job to a member with Receive Maximum 1";
      busyPacketId = busy->nextAs<codec::Publish>().packetId;
    }
  }
  EXPECT_NE(busyPacketId, 0);
  EXPECT_EQ(toIdle, 5);
  // Nothing was parked for the busy member: its ack brings no backlog.
  busy->send(codec::Ack{codec::PacketType::Puback, busyPacketId, ReasonCode::Success, {}});
  EXPECT_FALSE(busy->hasPacket());
}

TEST(EnginePublish, RetainedSetReplaceDeleteAndRetainHandling) {
  Harness harness;
  auto publisher = harness.open();
  publisher->connect("pub");
  publisher->publish("status", "v1", 1, true);
  publisher->next();
  publisher->publish("status", "v2", 1, true);
  publisher->next();
  EXPECT_EQ(harness.broker().retainedCount(), 1u);

  auto rh0 = harness.open();
  rh0->connect("rh0");
  rh0->subscribe("status", 0x00);
  auto retained = rh0->nextAs<codec::Publish>();
  EXPECT_TRUE(retained.retain);
  EXPECT_EQ(payloadOf(retained), "v2");
  rh0->subscribe("status", 0x00);  // rh 0: sent again on every subscribe
  EXPECT_TRUE(rh0->nextAs<codec::Publish>().retain);

  auto rh1 = harness.open();
  rh1->connect("rh1");
  rh1->subscribe("status", 0x10);
  rh1->nextAs<codec::Publish>();
  rh1->subscribe("status", 0x10);  // rh 1: not again for an existing subscription
  EXPECT_FALSE(rh1->hasPacket());

  auto rh2 = harness.open();
  rh2->connect("rh2");
  rh2->subscribe("status", 0x20);
  EXPECT_FALSE(rh2->hasPacket());

  publisher->publish("status", "", 0, true);  // empty payload deletes
  EXPECT_EQ(harness.broker().retainedCount(), 0u);
  auto late = harness.open();
  late->connect("late");
  late->subscribe("status", 0);
  EXPECT_FALSE(late->hasPacket());
}

TEST(EnginePublish, InboundTopicAliases) {
  Harness harness;
  auto subscriber = harness.open();
  subscriber->connect("sub");
  subscriber->subscribe("long/topic/name", 0);
  auto publisher = harness.open();
  publisher->connect("pub");
  codec::Publish first;
  first.topic = "long/topic/name";
  first.payload = asBytes("1");
  first.properties.topicAlias = 3;
  publisher->send(first);
  codec::Publish second;
  second.payload = asBytes("2");
  second.properties.topicAlias = 3;
  publisher->send(second);
  EXPECT_EQ(payloadOf(subscriber->nextAs<codec::Publish>()), "1");
  EXPECT_EQ(payloadOf(subscriber->nextAs<codec::Publish>()), "2");

  codec::Publish unknown;
  unknown.payload = asBytes("3");
  unknown.properties.topicAlias = 4;
  publisher->send(unknown);
  EXPECT_EQ(publisher->nextAs<codec::Disconnect>().reason, ReasonCode::ProtocolError);
}

TEST(EnginePublish, TopicAliasAboveMaximumIsRejected) {
  Harness harness;
  auto publisher = harness.open();
  publisher->connect("pub");
  codec::Publish publish;
  publish.topic = "t";
  publish.properties.topicAlias = 11;  // default maximum is 10
  publisher->send(publish);
  EXPECT_EQ(publisher->nextAs<codec::Disconnect>().reason, ReasonCode::TopicAliasInvalid);
}

TEST(EnginePublish, OutboundTopicAliasesWhenTheClientAllowsThem) {
  Harness harness;
  auto subscriber = harness.open();
  codec::Connect connect;
  connect.version = ProtocolVersion::V5;
  connect.clientId = "aliased";
  connect.properties.topicAliasMaximum = 2;
  subscriber->send(connect);
  subscriber->nextAs<codec::Connack>();
  subscriber->subscribe("sensors/#", 0);
  auto publisher = harness.open();
  publisher->connect("pub");
  publisher->publish("sensors/temperature", "20", 0);
  publisher->publish("sensors/temperature", "21", 0);
  auto first = subscriber->nextAs<codec::Publish>();
  EXPECT_EQ(first.topic, "sensors/temperature");
  ASSERT_TRUE(first.properties.topicAlias.has_value());
  auto second = subscriber->nextAs<codec::Publish>();
  EXPECT_TRUE(second.topic.empty());
  EXPECT_EQ(second.properties.topicAlias, first.properties.topicAlias);
}

TEST(EnginePublish, PropertiesPassThroughUnchanged) {
  Harness harness;
  auto subscriber = harness.open();
  subscriber->connect("sub");
  subscriber->subscribe("req", 0);
  auto publisher = harness.open();
  publisher->connect("pub");
  codec::Publish publish;
  publish.topic = "req";
  publish.payload = asBytes("{}");
  publish.properties.contentType = "application/json";
  publish.properties.responseTopic = "resp/1";
  publish.properties.correlationData = asBytes("abc");
  publish.properties.payloadFormatIndicator = 1;
  publish.properties.userProperties = {{"k1", "v1"}, {"k2", "v2"}, {"k1", "v3"}};
  publisher->send(publish);
  auto delivered = subscriber->nextAs<codec::Publish>();
  EXPECT_EQ(delivered.properties.contentType.value_or(""), "application/json");
  EXPECT_EQ(delivered.properties.responseTopic.value_or(""), "resp/1");
  ASSERT_TRUE(delivered.properties.correlationData.has_value());
  EXPECT_EQ(asStringView(*delivered.properties.correlationData), "abc");
  EXPECT_EQ(delivered.properties.payloadFormatIndicator.value_or(0), 1);
  ASSERT_EQ(delivered.properties.userProperties.size(), 3u);
  EXPECT_EQ(delivered.properties.userProperties[2].second, "v3");
}

TEST(EnginePublish, InvalidUtf8PayloadWithFormatIndicatorIsRefused) {
  Harness harness;
  auto publisher = harness.open();
  publisher->connect("pub");
  codec::Publish publish;
  publish.topic = "t";
  publish.qos = 1;
  publish.packetId = 1;
  const std::string bad = "\xC3\x28";
  publish.payload = asBytes(bad);
  publish.properties.payloadFormatIndicator = 1;
  publisher->send(publish);
  EXPECT_EQ(publisher->nextAs<codec::Ack>().reason, ReasonCode::PayloadFormatInvalid);
}

TEST(EnginePublish, MessageExpiryDropsStaleQueuedMessagesAndCountsDown) {
  Harness harness;
  auto subscriber = harness.open();
  subscriber->connect("sub", false, 3600);
  subscriber->subscribe("t", 1);
  subscriber->send(codec::Disconnect{});
  subscriber->dropConnection();
  auto publisher = harness.open();
  publisher->connect("pub");
  codec::Publish shortLived;
  shortLived.topic = "t";
  shortLived.qos = 1;
  shortLived.packetId = 1;
  shortLived.payload = asBytes("short");
  shortLived.properties.messageExpiryInterval = 5;
  publisher->send(shortLived);
  codec::Publish longLived = shortLived;
  longLived.packetId = 2;
  longLived.payload = asBytes("long");
  longLived.properties.messageExpiryInterval = 100;
  publisher->send(longLived);
  harness.tick(10);
  publisher->send(codec::Pingreq{});
  auto back = harness.open();
  EXPECT_TRUE(back->connect("sub", false, 3600).sessionPresent);
  auto delivered = back->nextAs<codec::Publish>();
  EXPECT_EQ(payloadOf(delivered), "long");
  EXPECT_EQ(delivered.properties.messageExpiryInterval.value_or(0), 90u);
  EXPECT_FALSE(back->hasPacket());
}

TEST(EnginePublish, InflightWindowFollowsTheClientsReceiveMaximum) {
  Harness harness;
  auto subscriber = harness.open();
  codec::Connect connect;
  connect.version = ProtocolVersion::V5;
  connect.clientId = "slow";
  connect.properties.receiveMaximum = 2;
  subscriber->send(connect);
  subscriber->nextAs<codec::Connack>();
  subscriber->subscribe("t", 1);
  auto publisher = harness.open();
  publisher->connect("pub");
  for (int i = 0; i < 5; ++i) publisher->publish("t", std::to_string(i), 1);
  auto first = subscriber->nextAs<codec::Publish>();
  const std::uint16_t firstId = first.packetId;
  EXPECT_EQ(payloadOf(subscriber->nextAs<codec::Publish>()), "1");
  EXPECT_FALSE(subscriber->hasPacket()) << "more in flight than Receive Maximum";
  subscriber->send(codec::Ack{codec::PacketType::Puback, firstId, ReasonCode::Success, {}});
  EXPECT_EQ(payloadOf(subscriber->nextAs<codec::Publish>()), "2");
}

TEST(EnginePublish, QueueIsBoundedAndDropsAreCounted) {
  EngineConfig config;
  config.maxQueuedMessages = 3;
  Harness harness(config);
  auto subscriber = harness.open();
  subscriber->connect("sub", false, 3600);
  subscriber->subscribe("t", 1);
  subscriber->send(codec::Disconnect{});
  subscriber->dropConnection();
  auto publisher = harness.open();
  publisher->connect("pub");
  for (int i = 0; i < 5; ++i) publisher->publish("t", std::to_string(i), 1);
  EXPECT_EQ(harness.broker().stats().messagesDropped, 2u);
  auto back = harness.open();
  back->connect("sub", false, 3600);
  for (const char* expected : {"0", "1", "2"}) {
    EXPECT_EQ(payloadOf(back->nextAs<codec::Publish>()), expected);
  }
  EXPECT_FALSE(back->hasPacket());
}

TEST(EnginePublish, MessagesLargerThanTheClientMaximumAreNotSent) {
  Harness harness;
  auto subscriber = harness.open();
  codec::Connect connect;
  connect.version = ProtocolVersion::V5;
  connect.clientId = "tiny";
  connect.properties.maximumPacketSize = 32;
  subscriber->send(connect);
  subscriber->nextAs<codec::Connack>();
  subscriber->subscribe("t", 0);
  auto publisher = harness.open();
  publisher->connect("pub");
  publisher->publish("t", std::string(100, 'x'), 0);
  publisher->publish("t", "small", 0);
  EXPECT_EQ(payloadOf(subscriber->nextAs<codec::Publish>()), "small");
  EXPECT_FALSE(subscriber->hasPacket());
}

TEST(EnginePublish, UnsubscribeReasonCodes) {
  Harness harness;
  auto client = harness.open();
  client->connect("c");
  client->subscribe("a", 0);
  codec::Unsubscribe unsubscribe;
  unsubscribe.packetId = 5;
  unsubscribe.filters = {"a", "never"};
  client->send(unsubscribe);
  auto unsuback = client->nextAs<codec::Unsuback>();
  EXPECT_EQ(unsuback.packetId, 5);
  EXPECT_EQ(unsuback.reasonCodes, (std::vector<std::uint8_t>{0x00, 0x11}));
  client->publish("a", "x", 0);
  EXPECT_FALSE(client->hasPacket());
}

TEST(EnginePublish, InvalidFiltersAreRefusedPerEntry) {
  Harness harness;
  auto client = harness.open(ProtocolVersion::V5);
  client->connect("c");
  codec::Subscribe subscribe;
  subscribe.packetId = 1;
  subscribe.entries = {{"ok/+", 1}, {"bad/#/x", 1}};
  client->send(subscribe);
  auto suback = client->nextAs<codec::Suback>();
  EXPECT_EQ(suback.reasonCodes, (std::vector<std::uint8_t>{0x01, 0x8F}));

  auto old = harness.open(ProtocolVersion::V311);
  old->connect("old");
  old->send(subscribe);
  EXPECT_EQ(old->nextAs<codec::Suback>().reasonCodes, (std::vector<std::uint8_t>{0x01, 0x80}));
}

// MQTT 3.1's SUBACK has no failure code (0x80 arrived with 3.1.1).
class DenySecretFilters final : public Authenticator {
 public:
  AuthDecision authenticate(const AuthRequest&) override { return {}; }
  bool allowPublish(const ClientIdentity&, std::string_view) override { return true; }
  bool allowSubscribe(const ClientIdentity&, std::string_view filter) override {
    return filter.rfind("secret", 0) != 0;
  }
  bool allowReceive(const ClientIdentity&, std::string_view) override { return true; }
};

TEST(EnginePublish, Mqtt31SubscribeFailuresUseOnlyWhat31Has) {
  DenySecretFilters authenticator;
  Harness harness({}, &authenticator);
  auto client = harness.open(ProtocolVersion::V31);
  client->connect("old31");
  codec::Subscribe denied;
  denied.packetId = 1;
  denied.entries = {{"secret/t", 1}, {"open/t", 1}};
  client->send(denied);
  EXPECT_EQ(client->nextAs<codec::Suback>().reasonCodes, (std::vector<std::uint8_t>{0x00, 0x01}));
  auto publisher = harness.open();
  publisher->connect("pub");
  publisher->publish("secret/t", "hidden", 0);
  publisher->publish("open/t", "shown", 0);
  EXPECT_EQ(payloadOf(client->nextAs<codec::Publish>()), "shown");
  EXPECT_FALSE(client->hasPacket());

  codec::Subscribe invalid;
  invalid.packetId = 2;
  invalid.entries = {{"bad/#/x", 1}};
  client->send(invalid);
  EXPECT_FALSE(client->hasPacket());
  EXPECT_TRUE(client->closeRequested());
}

TEST(EnginePublish, SysTopicsArePublished) {
  Harness harness;
  auto client = harness.open();
  client->connect("watcher");
  client->subscribe("$SYS/broker/clients/connected", 0);
  harness.tick(11);
  bool found = false;
  while (client->hasPacket()) {
    auto packet = client->next();
    if (auto* publish = std::get_if<codec::Publish>(&packet)) {
      found = found || payloadOf(*publish) == "1";
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace midge::testing
