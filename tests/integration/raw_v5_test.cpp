// SPDX-License-Identifier: Apache-2.0
// MQTT 5 features and configured limits, byte for byte: topic aliases both ways, Receive
// Maximum, the client's Maximum Packet Size, reason codes on acks, server-side limits
// announced in CONNACK (max_qos, retain_available, max_keepalive) and enforced.
// Numbered: 15 v5 flow control and aliases, 16 reason codes, 17 configured limits.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/integration/raw_fixture.hpp"

namespace midge::test {
namespace {

bool contains(const ByteVector& haystack, const ByteVector& needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

// A v5 PUBACK/PUBREC/PUBREL/PUBCOMP: packet id and reason code.
ByteVector ackV5(std::uint8_t type, std::uint16_t packetId, std::uint8_t reason) {
  ByteVector body;
  wire::putU16(body, packetId);
  body.push_back(reason);
  const auto header = static_cast<std::uint8_t>((type << 4) | (type == kPubrel ? 0x02 : 0));
  return wire::packet(header, body);
}

void expectV5Disconnect(RawClient& client, std::uint8_t reason) {
  ASSERT_TRUE(client.waitClosed(5s)) << "broker kept the connection open";
  ASSERT_EQ(client.received().size(), 1u);
  EXPECT_EQ(client.received().front().type(), kDisconnect);
  EXPECT_EQ(wire::reasonOf(client.received().front()), reason);
}

class RawV5 : public RawBrokerTest {};

// ---- 15: flow control and topic aliases --------------------------------------------------

TEST_F(RawV5, C15_01_InboundTopicAliasIsSetThenUsed) {
  auto publisher = connectV5("aliaser");
  publisher->send(wire::publish("bystander/alias", "first", 0, 0, false, true, {0x23, 0x00, 0x01}));
  publisher->send(wire::publish("", "second", 0, 0, false, true, {0x23, 0x00, 0x01}));
  for (const char* expected : {"first", "second"}) {
    const wire::PublishView view = wire::parsePublish(bystander_->expect(kPublish));
    EXPECT_EQ(view.topic, "bystander/alias");
    EXPECT_EQ(view.payload, expected);
  }
}

TEST_F(RawV5, C15_02_BrokerUsesAliasesTowardAClientThatAllowsThem) {
  // Topic Alias Maximum 5 in CONNECT.
  auto subscriber = connectV5("alias-receiver", {0x22, 0x00, 0x05});
  subscriber->send(wire::subscribe(1, "long/topic/name", 0, true));
  subscriber->expect(kSuback);
  auto publisher = connectV311("alias-pub");
  publisher->send(wire::publish("long/topic/name", "one"));
  publisher->send(wire::publish("long/topic/name", "two"));
  const wire::PublishView first = wire::parsePublish(subscriber->expect(kPublish), true);
  const wire::PublishView second = wire::parsePublish(subscriber->expect(kPublish), true);
  EXPECT_EQ(first.topic, "long/topic/name");
  ASSERT_EQ(first.properties.size(), 3u);
  EXPECT_EQ(first.properties[0], 0x23);
  EXPECT_EQ(second.topic, "") << "the alias replaces the topic from the second message on";
  EXPECT_EQ(second.properties, first.properties);
  EXPECT_EQ(second.payload, "two");
}

TEST_F(RawV5, C15_03_NoAliasesTowardAClientThatDidNotAllowThem) {
  auto subscriber = connectV5("no-alias");
  subscriber->send(wire::subscribe(1, "t/na", 0, true));
  subscriber->expect(kSuback);
  auto publisher = connectV311("no-alias-pub");
  publisher->send(wire::publish("t/na", "one"));
  publisher->send(wire::publish("t/na", "two"));
  for (int i = 0; i < 2; ++i) {
    const wire::PublishView view = wire::parsePublish(subscriber->expect(kPublish), true);
    EXPECT_EQ(view.topic, "t/na");
    EXPECT_TRUE(view.properties.empty());
  }
}

TEST_F(RawV5, C15_04_ReceiveMaximumLimitsUnacknowledgedDeliveries) {
  auto subscriber = connectV5("slow", {0x21, 0x00, 0x02});  // Receive Maximum 2
  subscriber->send(wire::subscribe(1, "rm/#", 1, true));
  subscriber->expect(kSuback);
  auto publisher = connectV311("rm-pub");
  for (std::uint16_t i = 1; i <= 5; ++i) {
    publisher->send(wire::publish("rm/t", "m" + std::to_string(i), 1, i));
    publisher->expect(kPuback);
  }
  std::vector<std::uint16_t> ids;
  for (int i = 0; i < 2; ++i) {
    const wire::PublishView view = wire::parsePublish(subscriber->expect(kPublish), true);
    EXPECT_EQ(view.payload, "m" + std::to_string(i + 1));
    ids.push_back(view.packetId);
  }
  EXPECT_TRUE(subscriber->nothingWithin(300ms)) << "more than Receive Maximum in flight";
  // Each PUBACK opens the window by one, in order.
  for (int next = 3; next <= 5; ++next) {
    subscriber->send(ackV5(kPuback, ids.front(), 0));
    ids.erase(ids.begin());
    const wire::PublishView view = wire::parsePublish(subscriber->expect(kPublish), true);
    EXPECT_EQ(view.payload, "m" + std::to_string(next));
    ids.push_back(view.packetId);
  }
}

TEST_F(RawV5, C15_05_MessagesOverTheClientsMaximumPacketSizeAreNotSent) {
  auto subscriber = connectV5("small-device", {0x27, 0x00, 0x00, 0x00, 0x40});  // 64 bytes
  subscriber->send(wire::subscribe(1, "mps/#", 0, true));
  subscriber->expect(kSuback);
  auto publisher = connectV311("mps-pub");
  publisher->send(wire::publish("mps/big", std::string(100, 'x')));
  publisher->send(wire::publish("mps/small", "fits"));
  const wire::PublishView view = wire::parsePublish(subscriber->expect(kPublish), true);
  EXPECT_EQ(view.payload, "fits") << "MQTT 5 section 3.1.2.25: too large is discarded";
}

// ---- 16: reason codes ------------------------------------------------------------------------

TEST_F(RawV5, C16_01_PubackSaysNoMatchingSubscribers) {
  auto publisher = connectV5("lonely");
  publisher->send(wire::publish("nobody/listens", "x", 1, 3, false, true));
  EXPECT_EQ(publisher->expect(kPuback).wire(), ackV5(kPuback, 3, 0x10));
}

TEST_F(RawV5, C16_02_InvalidUtf8PayloadWithFormatIndicatorIsRefused) {
  auto publisher = connectV5("bad-payload");
  // Payload Format Indicator 1 (UTF-8) with a payload that is not UTF-8.
  publisher->send(
      wire::publish("bystander/pfi", std::string("\xFF\xFE", 2), 1, 4, false, true, {0x01, 0x01}));
  EXPECT_EQ(publisher->expect(kPuback).wire(), ackV5(kPuback, 4, 0x99));
  expectBrokerStillServing();  // the bystander got the check message, not the bad payload
}

TEST_F(RawV5, C16_03_PubrelForUnknownPacketIdGetsPubcomp92) {
  auto client = connectV5("stray-pubrel");
  client->send(wire::ack(kPubrel, 99));
  EXPECT_EQ(client->expect(kPubcomp).wire(), ackV5(kPubcomp, 99, 0x92));
}

TEST_F(RawV5, C16_04_UnsubackReasonCodes) {
  auto client = connectV5("unsub-codes");
  client->send(wire::subscribe(1, "u/a", 0, true));
  client->expect(kSuback);
  client->send(wire::unsubscribe(2, "u/a", true));
  EXPECT_EQ(client->expect(kUnsuback).wire(), (ByteVector{0xB0, 0x04, 0x00, 0x02, 0x00, 0x00}));
  client->send(wire::unsubscribe(3, "u/a", true));
  EXPECT_EQ(client->expect(kUnsuback).wire(), (ByteVector{0xB0, 0x04, 0x00, 0x03, 0x00, 0x11}));
}

TEST_F(RawV5, C16_05_DisconnectWithWillMessagePublishesTheWill) {
  RawClient client(broker_.port());
  wire::ConnectSpec spec;
  spec.level = 5;
  spec.clientId = "leaves-will";
  spec.will = wire::Will{"bystander/will5", "left with will", 0, false, {}};
  handshake(client, spec);
  client.send(wire::disconnect(true, 0x04));  // MQTT 5 section 3.14.2.1
  const wire::PublishView view = wire::parsePublish(bystander_->expect(kPublish));
  EXPECT_EQ(view.payload, "left with will");
}

TEST_F(RawV5, C16_06_SessionExpirySetOnDisconnectAfterZeroIsAProtocolError) {
  auto client = connectV5("expiry-zero");
  // CONNECT had no Session Expiry (0); DISCONNECT may not set one (MQTT 5 3.14.2.2.2).
  client->send({0xE0, 0x07, 0x00, 0x05, 0x11, 0x00, 0x00, 0x00, 0x3C});
  expectV5Disconnect(*client, 0x82);
  EXPECT_TRUE(logSays("DISCONNECT sets a session expiry"));
  expectBrokerStillServing();
}

TEST_F(RawV5, C16_07_UnknownAuthenticationMethodIsRefused) {
  RawClient client(broker_.port());
  wire::ConnectSpec spec;
  spec.level = 5;
  spec.clientId = "scram";
  spec.properties = {0x15, 0x00, 0x0B, 'S', 'C', 'R', 'A', 'M', '-', 'S', 'H', 'A', '-', '1'};
  client.send(wire::connect(spec));
  const RawPacket connack = client.expect(kConnack);
  EXPECT_EQ(wire::reasonOf(connack), 0x8C) << "Bad authentication method";
  EXPECT_TRUE(client.waitClosed(5s));
  expectBrokerStillServing();
}

TEST_F(RawV5, C16_08_SharedSubscriptionGetsNoRetainedMessages) {
  auto publisher = connectV311("shared-ret-pub");
  publisher->send(wire::publish("sr/state", "retained", 1, 1, true));
  publisher->expect(kPuback);
  auto member = connectV5("shared-member");
  member->send(wire::subscribe(1, "$share/g/sr/#", 1, true));
  member->expect(kSuback);
  // MQTT 5 section 4.8.2: retained messages are not sent to a shared subscription.
  publisher->send(wire::publish("sr/live", "live", 0));
  EXPECT_EQ(wire::parsePublish(member->expect(kPublish), true).payload, "live");
}

TEST_F(RawV5, C16_09_TooManyUnreleasedQos2MessagesGetDisconnect93) {
  auto client = connectV5("flooder");
  // The broker's Receive Maximum is max_inflight_messages (20): a 21st QoS 2 message
  // without PUBREL exceeds it (MQTT 5 section 3.3.4).
  for (std::uint16_t id = 1; id <= 20; ++id) {
    client->send(wire::publish("flood/t", "x", 2, id, false, true));
    ASSERT_EQ(client->expect(kPubrec).type(), kPubrec);
  }
  client->clearReceived();
  client->send(wire::publish("flood/t", "x", 2, 21, false, true));
  expectV5Disconnect(*client, 0x93);
  EXPECT_TRUE(logSays("Receive Maximum"));
  expectBrokerStillServing();
}

TEST_F(RawV5, C16_10_Qos2PacketIdIsReusableAfterPubrel) {
  auto subscriber = connectV311("reuse-sub");
  subscriber->send(wire::subscribe(1, "reuse/t", 0));
  subscriber->expect(kSuback);
  auto publisher = connectV5("reuser");
  for (const char* payload : {"first", "second"}) {
    publisher->send(wire::publish("reuse/t", payload, 2, 5, false, true));
    publisher->expect(kPubrec);
    publisher->send(wire::ack(kPubrel, 5));
    EXPECT_EQ(publisher->expect(kPubcomp).wire(), wire::ack(kPubcomp, 5));
    EXPECT_EQ(wire::parsePublish(subscriber->expect(kPublish)).payload, payload);
  }
}

TEST_F(RawV5, C16_11_InvalidSharedSubscriptionFiltersAreRefused) {
  auto client = connectV5("bad-share");
  for (const std::string filter : {"$share/g", "$share//a", "$share/g+/a", "$share/#/a"}) {
    client->send(wire::subscribe(2, filter, 0, true));
    const RawPacket suback = client->expect(kSuback);
    ASSERT_EQ(suback.body.size(), 4u) << filter;
    EXPECT_EQ(suback.body.back(), 0x8F) << filter << ": Topic Filter invalid";
  }
}

TEST_F(RawV5, C16_12_WillPropertiesArePassedThrough) {
  auto watcher = connectV5("will-watcher");
  watcher->send(wire::subscribe(1, "wp/#", 0, true));
  watcher->expect(kSuback);
  RawClient client(broker_.port());
  wire::ConnectSpec spec;
  spec.level = 5;
  spec.clientId = "will-props";
  // Will properties: Content Type "text/x", User Property ("k", "v").
  spec.will = wire::Will{"wp/w", "bye", 0, false,
                         {0x03, 0x00, 0x06, 't', 'e', 'x', 't', '/', 'x',  //
                          0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'v'}};
  handshake(client, spec);
  client.abort();
  const wire::PublishView will = wire::parsePublish(watcher->expect(kPublish), true);
  EXPECT_EQ(will.payload, "bye");
  EXPECT_TRUE(contains(will.properties, {0x03, 0x00, 0x06, 't', 'e', 'x', 't', '/', 'x'}));
  EXPECT_TRUE(contains(will.properties, {0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'v'}));
}

// A client PUBLISH to $SYS/... must not replace the broker's retained value (Mosquitto
// refuses every client write under $SYS).
TEST_F(RawV5, C16_13_ClientsCannotPublishIntoSys) {
  auto spoofer = connectV311("spoofer");
  spoofer->send(wire::publish("$SYS/broker/version", "fake broker 9.9", 1, 1, true));
  spoofer->expect(kPuback);
  auto reader = connectV311("sys-reader");
  reader->send(wire::subscribe(1, "$SYS/broker/version", 0));
  reader->expect(kSuback);
  const wire::PublishView version = wire::parsePublish(reader->expect(kPublish, 12s));
  EXPECT_EQ(version.payload.find("fake"), std::string::npos)
      << "a client replaced the broker's own $SYS value";
}

// ---- 18: v5 properties and options that are not allowed -----------------------------------

// CONNECT properties that make the CONNECT a Malformed Packet or Protocol Error: the broker
// may answer with CONNACK 0x81/0x82 or just close (MQTT 5 section 4.13.1), never accept.
void expectConnectRefused(std::uint16_t port, const ByteVector& properties, const char* what) {
  RawClient client(port);
  wire::ConnectSpec spec;
  spec.level = 5;
  spec.clientId = "bad-props";
  spec.properties = properties;
  client.send(wire::connect(spec));
  ASSERT_TRUE(client.waitClosed(5s)) << what;
  for (const RawPacket& packet : client.received()) {
    ASSERT_EQ(packet.type(), kConnack) << what;
    EXPECT_TRUE(wire::reasonOf(packet) == 0x81 || wire::reasonOf(packet) == 0x82) << what;
  }
}

TEST_F(RawV5, C18_01_InvalidConnectPropertiesAreRefused) {
  expectConnectRefused(broker_.port(), {0x21, 0x00, 0x00}, "Receive Maximum 0 (3.1.2.11.3)");
  expectConnectRefused(broker_.port(), {0x27, 0x00, 0x00, 0x00, 0x00},
                       "Maximum Packet Size 0 (3.1.2.11.4)");
  expectConnectRefused(broker_.port(),
                       {0x11, 0x00, 0x00, 0x00, 0x01, 0x11, 0x00, 0x00, 0x00, 0x02},
                       "Session Expiry Interval twice (2.2.2.2)");
  expectConnectRefused(broker_.port(), {0x17, 0x02}, "Request Problem Information 2");
  expectConnectRefused(broker_.port(), {0x01, 0x01}, "a PUBLISH-only property in CONNECT");
  EXPECT_TRUE(logSays("refused before CONNECT"));
  expectBrokerStillServing();
}

TEST_F(RawV5, C18_02_SubscriptionIdentifierFromAClientPublishIsAProtocolError) {
  auto client = connectV5("publishes-sub-id");
  client->send(wire::publish("bystander/sid", "x", 0, 0, false, true, {0x0B, 0x05}));
  ASSERT_TRUE(client->waitClosed(5s));
  ASSERT_EQ(client->received().size(), 1u);
  const std::uint8_t reason = wire::reasonOf(client->received().front());
  EXPECT_TRUE(reason == 0x81 || reason == 0x82) << "got " << int(reason);
  expectBrokerStillServing();
}

TEST_F(RawV5, C18_03_TopicAliasZeroEndsTheConnection) {
  auto client = connectV5("alias-zero");
  // MQTT 5 section 3.3.2.3.4 forbids alias 0 without naming the code: Topic Alias invalid
  // (0x94) and Protocol Error (0x82) both fit.
  client->send(wire::publish("bystander/a0", "x", 0, 0, false, true, {0x23, 0x00, 0x00}));
  ASSERT_TRUE(client->waitClosed(5s));
  ASSERT_EQ(client->received().size(), 1u);
  const std::uint8_t reason = wire::reasonOf(client->received().front());
  EXPECT_TRUE(reason == 0x94 || reason == 0x82) << "got " << int(reason);
  expectBrokerStillServing();
}

TEST_F(RawV5, C18_04_RetainHandling3IsAProtocolError) {
  auto client = connectV5("rh3");
  client->send(wire::subscribe(1, "a/b", 0x30, true));  // MQTT 5 section 3.8.3.1
  expectV5Disconnect(*client, 0x82);
  expectBrokerStillServing();
}

TEST_F(RawV5, C18_05_ReservedSubscriptionOptionBitsAreMalformed) {
  auto client = connectV5("reserved-opts");
  client->send(wire::subscribe(1, "a/b", 0xC0, true));  // MQTT 5 section 3.8.3.1
  expectV5Disconnect(*client, 0x81);
  expectBrokerStillServing();
}

TEST_F(RawV5, C18_06_SubscriptionIdentifierZeroIsAProtocolError) {
  auto client = connectV5("sub-id-zero");
  client->send(wire::subscribe(1, "a/b", 0, true, {0x0B, 0x00}));  // MQTT 5 3.8.2.1.2
  ASSERT_TRUE(client->waitClosed(5s));
  ASSERT_EQ(client->received().size(), 1u);
  const std::uint8_t reason = wire::reasonOf(client->received().front());
  EXPECT_TRUE(reason == 0x81 || reason == 0x82) << "got " << int(reason);
  expectBrokerStillServing();
}

TEST_F(RawV5, C18_07_SharedSubscriptionCanBeUnsubscribed) {
  auto member = connectV5("leaver");
  member->send(wire::subscribe(1, "$share/g/ls/#", 0, true));
  member->expect(kSuback);
  member->send(wire::unsubscribe(2, "$share/g/ls/#", true));
  EXPECT_EQ(member->expect(kUnsuback).wire(), (ByteVector{0xB0, 0x04, 0x00, 0x02, 0x00, 0x00}));
  member->send(wire::subscribe(3, "ls/marker", 0, true));
  member->expect(kSuback);
  auto publisher = connectV311("ls-pub");
  publisher->send(wire::publish("ls/t", "not for a former member"));
  publisher->send(wire::publish("ls/marker", "marker"));
  EXPECT_EQ(wire::parsePublish(member->expect(kPublish), true).payload, "marker");
}

TEST_F(RawV5, C18_08_RetainedMessagesCarryTheSubscriptionIdentifier) {
  auto publisher = connectV311("rsid-pub");
  publisher->send(wire::publish("rsid/t", "stored", 1, 1, true));
  publisher->expect(kPuback);
  auto subscriber = connectV5("rsid-sub");
  subscriber->send(wire::subscribe(1, "rsid/#", 0, true, {0x0B, 0x2A}));
  subscriber->expect(kSuback);
  const wire::PublishView view = wire::parsePublish(subscriber->expect(kPublish), true);
  EXPECT_TRUE(view.retain);
  EXPECT_EQ(view.properties, (ByteVector{0x0B, 0x2A}));
}

TEST_F(RawV5, C18_09_WillIsPublishedWhenTheSessionEndsBeforeTheWillDelay) {
  RawClient client(broker_.port());
  wire::ConnectSpec spec;
  spec.level = 5;
  spec.clientId = "short-session";
  spec.properties = {0x11, 0x00, 0x00, 0x00, 0x01};  // Session Expiry 1 s
  spec.will = wire::Will{"bystander/will/short", "session over", 0, false,
                         {0x18, 0x00, 0x00, 0x00, 0x3C}};  // Will Delay 60 s
  handshake(client, spec);
  client.abort();
  // MQTT 5 section 3.1.3.2.2: the will goes out when the session ends, if that is first.
  const wire::PublishView will = wire::parsePublish(bystander_->expect(kPublish, 5s));
  EXPECT_EQ(will.payload, "session over");
  EXPECT_TRUE(logSays("session short-session expired"));
}

// ---- 17: configured limits, announced and enforced -----------------------------------------

class RawLimits : public RawBrokerTest {
 protected:
  void configure(BrokerProcess& broker) override {
    keepAlive_ = 20;
    broker.addConfigLine("max_qos 1");
    broker.addConfigLine("retain_available false");
    broker.addConfigLine("max_keepalive 30");
    broker.addConfigLine("message_size_limit 100");
    broker.addConfigLine("max_topic_levels 4");
  }
};

TEST_F(RawLimits, C17_01_ConnackAnnouncesTheLimits) {
  RawClient client(broker_.port());
  wire::ConnectSpec spec;
  spec.level = 5;
  spec.clientId = "announced";
  spec.keepAlive = 120;
  const ByteVector body = handshake(client, spec).body;
  EXPECT_TRUE(contains(body, {0x24, 0x01})) << "Maximum QoS 1";
  EXPECT_TRUE(contains(body, {0x25, 0x00})) << "Retain Available 0";
  EXPECT_TRUE(contains(body, {0x13, 0x00, 0x1E})) << "Server Keep Alive 30";
}

TEST_F(RawLimits, C17_02_PublishAboveMaxQosGetsDisconnect9B) {
  auto client = connectV5("qos2-refused");
  client->send(wire::publish("bystander/q2", "x", 2, 1, false, true));
  expectV5Disconnect(*client, 0x9B);
  expectBrokerStillServing();
}

TEST_F(RawLimits, C17_03_SubscriptionIsGrantedAtMostMaxQos) {
  auto client = connectV311("granted");
  client->send(wire::subscribe(1, "g/#", 2));
  EXPECT_EQ(client->expect(kSuback).wire(), (ByteVector{0x90, 0x03, 0x00, 0x01, 0x01}));
}

TEST_F(RawLimits, C17_04_RetainedPublishGetsDisconnect9A) {
  auto client = connectV5("retain-refused");
  client->send(wire::publish("bystander/r", "x", 0, 0, true, true));
  expectV5Disconnect(*client, 0x9A);
  expectBrokerStillServing();
}

TEST_F(RawLimits, C17_05_V311KeepAliveAboveMaximumIsRefused) {
  RawClient client(broker_.port());
  wire::ConnectSpec spec;
  spec.clientId = "too-relaxed";
  spec.keepAlive = 120;
  client.send(wire::connect(spec));
  EXPECT_EQ(client.expect(kConnack).wire(), (ByteVector{0x20, 0x02, 0x00, 0x02}));
  EXPECT_TRUE(client.waitClosed(5s));
  EXPECT_TRUE(logSays("keep alive above max_keepalive"));
}

TEST_F(RawLimits, C17_06_PayloadOverMessageSizeLimitIsDroppedAndLogged) {
  auto v5 = connectV5("oversized5");
  v5->send(wire::publish("bystander/big", std::string(101, 'x'), 1, 5, false, true));
  EXPECT_EQ(v5->expect(kPuback).wire(), ackV5(kPuback, 5, 0x95));
  auto v311 = connectV311("oversized311");
  v311->send(wire::publish("bystander/big", std::string(101, 'x'), 1, 6));
  // 3.1.1 has no way to say no: acknowledged and dropped.
  EXPECT_EQ(v311->expect(kPuback).wire(), wire::ack(kPuback, 6));
  EXPECT_TRUE(logSays("exceeds message_size_limit"));
  expectBrokerStillServing();  // the bystander never saw bystander/big
}

TEST_F(RawLimits, C17_07_TooManyTopicLevelsAreRefused) {
  auto subscriber = connectV311("deep");
  subscriber->send(wire::subscribe(1, "a/b/c/d/e", 0));
  EXPECT_EQ(subscriber->expect(kSuback).wire(), (ByteVector{0x90, 0x03, 0x00, 0x01, 0x80}));
  auto publisher = connectV5("deep-pub");
  publisher->send(wire::publish("bystander/b/c/d/e", "x", 0, 0, false, true));
  expectV5Disconnect(*publisher, 0x90);
  expectBrokerStillServing();
}

// A CONNECT whose will QoS exceeds max_qos is refused.
TEST_F(RawLimits, C17_09_WillQosAboveMaxQosIsRefused) {
  RawClient client(broker_.port());
  wire::ConnectSpec spec;
  spec.level = 5;
  spec.clientId = "will-qos2";
  spec.keepAlive = 20;
  spec.will = wire::Will{"w/t", "x", 2, false, {}};
  client.send(wire::connect(spec));
  // MQTT 5 section 3.2.2.3.4: CONNACK 0x9B (QoS not supported), then close.
  EXPECT_EQ(wire::reasonOf(client.expect(kConnack)), 0x9B);
  EXPECT_TRUE(client.waitClosed(5s));
}

// A CONNECT with a retained will is refused while retain_available is false.
TEST_F(RawLimits, C17_10_RetainedWillWithoutRetainAvailableIsRefused) {
  RawClient client(broker_.port());
  wire::ConnectSpec spec;
  spec.level = 5;
  spec.clientId = "will-retain";
  spec.keepAlive = 20;
  spec.will = wire::Will{"w/t", "x", 0, true, {}};
  client.send(wire::connect(spec));
  // MQTT 5 section 3.2.2.3.5: CONNACK 0x9A (Retain not supported), then close.
  EXPECT_EQ(wire::reasonOf(client.expect(kConnack)), 0x9A);
  EXPECT_TRUE(client.waitClosed(5s));
}

class RawQueueLimit : public RawBrokerTest {
 protected:
  void configure(BrokerProcess& broker) override {
    broker.addConfigLine("max_queued_messages 2");
  }
};

TEST_F(RawQueueLimit, C17_08_OfflineQueueKeepsAtMostMaxQueuedMessages) {
  wire::ConnectSpec spec;
  spec.clientId = "queue-limited";
  spec.cleanStart = false;
  {
    RawClient first(broker_.port());
    handshake(first, spec);
    first.send(wire::subscribe(1, "ql/#", 1));
    first.expect(kSuback);
    first.send(wire::disconnect());
    ASSERT_TRUE(first.waitClosed(5s));
  }
  ASSERT_TRUE(logSays("client queue-limited disconnected"));
  auto publisher = connectV311("ql-pub");
  for (std::uint16_t i = 1; i <= 4; ++i) {
    publisher->send(wire::publish("ql/t", "m" + std::to_string(i), 1, i));
    publisher->expect(kPuback);
  }
  RawClient second(broker_.port());
  second.send(wire::connect(spec));
  second.expect(kConnack);
  std::vector<std::string> payloads;
  for (int i = 0; i < 2; ++i) {
    const wire::PublishView view = wire::parsePublish(second.expect(kPublish));
    payloads.push_back(view.payload);
    second.send(wire::ack(kPuback, view.packetId));
  }
  EXPECT_EQ(payloads, (std::vector<std::string>{"m1", "m2"}));
  EXPECT_TRUE(second.nothingWithin(300ms)) << "the queue held more than max_queued_messages";
}

}  // namespace
}  // namespace midge::test
