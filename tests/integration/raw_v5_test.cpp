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
