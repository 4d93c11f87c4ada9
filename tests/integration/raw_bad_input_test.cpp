// SPDX-License-Identifier: Apache-2.0
// Bad input, byte by byte, against the real broker. Numbered by feature in the manner of
// mosquitto's test/broker/01-bad-initial-packets: 01 CONNECT and the first packet,
// 02 framing, 03 PUBLISH, 04 SUBSCRIBE/UNSUBSCRIBE, 05 time limits. After each bad input
// the broker must still serve a well-behaved client, the bystander must be undisturbed,
// and the log must say what was wrong.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/integration/raw_fixture.hpp"

namespace midge::test {
namespace {

using Clock = std::chrono::steady_clock;

// The connection ended without a successful CONNACK.
void expectClosedWithoutConnack(RawClient& client) {
  ASSERT_TRUE(client.waitClosed(5s)) << "broker kept the connection open";
  for (const RawPacket& packet : client.received()) {
    EXPECT_FALSE(packet.type() == kConnack && wire::reasonOf(packet) == 0)
        << "broker accepted the connection";
  }
}

// A v5 client got exactly one DISCONNECT with `reason`, and then the connection closed.
void expectV5Disconnect(RawClient& client, std::uint8_t reason) {
  ASSERT_TRUE(client.waitClosed(5s)) << "broker kept the connection open";
  ASSERT_EQ(client.received().size(), 1u) << "expected only a DISCONNECT";
  const RawPacket& packet = client.received().front();
  EXPECT_EQ(packet.type(), kDisconnect);
  EXPECT_EQ(wire::reasonOf(packet), reason);
}

class RawBadInput : public RawBrokerTest {};

// ---- 01: CONNECT and the first packet ---------------------------------------------------

TEST_F(RawBadInput, C01_01_FirstPacketNotConnectIsClosed) {
  RawClient client(broker_.port());
  client.send(wire::publish("bystander/x", "before connect"));
  expectClosedWithoutConnack(client);
  EXPECT_TRUE(client.received().empty());
  EXPECT_TRUE(logSays("the first packet must be CONNECT"));
  expectBrokerStillServing();
  // The message sent before CONNECT was not routed: the bystander's next message is the
  // check message (expectBrokerStillServing would have failed on "bystander/x").
}

TEST_F(RawBadInput, C01_02_PingreqAsFirstPacketIsClosed) {
  RawClient client(broker_.port());
  client.send(wire::pingreq());
  expectClosedWithoutConnack(client);
  EXPECT_TRUE(client.received().empty()) << "no PINGRESP before CONNECT";
  EXPECT_TRUE(logSays("refused before CONNECT"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C01_03_BadProtocolNameIsClosed) {
  RawClient client(broker_.port());
  wire::ConnectSpec spec;
  spec.protocolName = "MQTX";
  client.send(wire::connect(spec));
  expectClosedWithoutConnack(client);
  EXPECT_TRUE(logSays("refused before CONNECT"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C01_04_UnknownProtocolLevelGetsConnackRc1ThenClose) {
  RawClient client(broker_.port());
  wire::ConnectSpec spec;
  spec.level = 7;
  client.send(wire::connect(spec));
  ASSERT_TRUE(client.waitClosed(5s));
  ASSERT_EQ(client.received().size(), 1u);
  // MQTT 3.1.1 section 3.1.2.2: CONNACK with return code 0x01, unacceptable protocol level.
  EXPECT_EQ(client.received().front().wire(), (ByteVector{0x20, 0x02, 0x00, 0x01}));
  EXPECT_TRUE(logSays("refused before CONNECT"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C01_05_ReservedConnectFlagIsClosed) {
  RawClient client(broker_.port());
  wire::ConnectSpec spec;
  spec.extraFlags = 0x01;  // MQTT 3.1.1 section 3.1.2.3: must be zero
  client.send(wire::connect(spec));
  expectClosedWithoutConnack(client);
  EXPECT_TRUE(logSays("refused before CONNECT"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C01_06_WillQosWithoutWillFlagIsClosed) {
  RawClient client(broker_.port());
  wire::ConnectSpec spec;
  spec.extraFlags = 0x08;  // will QoS 1, will flag 0: MQTT 3.1.1 section 3.1.2-13
  client.send(wire::connect(spec));
  expectClosedWithoutConnack(client);
  EXPECT_TRUE(logSays("refused before CONNECT"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C01_07_PasswordWithoutUsernameV311IsClosed) {
  RawClient client(broker_.port());
  wire::ConnectSpec spec;
  spec.password = "secret";  // MQTT 3.1.1 section 3.1.2-22
  client.send(wire::connect(spec));
  expectClosedWithoutConnack(client);
  EXPECT_TRUE(logSays("refused before CONNECT"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C01_08_SecondConnectIsClosedV311) {
  auto client = connectV311("twice");
  wire::ConnectSpec spec;
  spec.clientId = "twice";
  client->send(wire::connect(spec));
  ASSERT_TRUE(client->waitClosed(5s));
  EXPECT_EQ(client->received().size(), 0u) << "no second CONNACK, nothing but the close";
  EXPECT_TRUE(logSays("a second CONNECT"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C01_09_SecondConnectV5GetsDisconnect82) {
  auto client = connectV5("twice5");
  wire::ConnectSpec spec;
  spec.level = 5;
  spec.clientId = "twice5";
  client->send(wire::connect(spec));
  ASSERT_TRUE(client->waitClosed(5s));
  ASSERT_EQ(client->received().size(), 1u);
  EXPECT_EQ(client->received().back().type(), kDisconnect);
  EXPECT_EQ(wire::reasonOf(client->received().back()), 0x82);
  EXPECT_TRUE(logSays("a second CONNECT"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C01_10_EmptyClientIdWithCleanSession0GetsRc2) {
  RawClient client(broker_.port());
  wire::ConnectSpec spec;
  spec.clientId = "";
  spec.cleanStart = false;  // MQTT 3.1.1 section 3.1.3-8
  client.send(wire::connect(spec));
  ASSERT_TRUE(client.waitClosed(5s));
  ASSERT_EQ(client.received().size(), 1u);
  EXPECT_EQ(client.received().front().wire(), (ByteVector{0x20, 0x02, 0x00, 0x02}));
  EXPECT_TRUE(logSays("empty client identifier"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C01_11_Mqtt31EmptyClientIdGetsRc2) {
  RawClient client(broker_.port());
  wire::ConnectSpec spec;
  spec.level = 3;
  spec.clientId = "";
  client.send(wire::connect(spec));
  ASSERT_TRUE(client.waitClosed(5s));
  ASSERT_EQ(client.received().size(), 1u);
  EXPECT_EQ(client.received().front().wire(), (ByteVector{0x20, 0x02, 0x00, 0x02}));
  EXPECT_TRUE(logSays("refused connection"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C01_12_InvalidUtf8ClientIdIsRefused) {
  RawClient client(broker_.port());
  wire::ConnectSpec spec;
  spec.clientId = std::string("bad\xC0\xAF", 5);  // overlong '/': ill-formed UTF-8
  client.send(wire::connect(spec));
  expectClosedWithoutConnack(client);
  EXPECT_TRUE(logSays("refused before CONNECT"));
  expectBrokerStillServing();
}

// ---- 02: framing -------------------------------------------------------------------------

TEST_F(RawBadInput, C02_01_RemainingLengthOfFiveBytesIsClosed) {
  auto client = connectV311("long-length");
  client->send({0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01});
  ASSERT_TRUE(client->waitClosed(5s));
  EXPECT_TRUE(logSays("remaining length longer than 4 bytes"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C02_02_RemainingLengthOfFiveBytesV5GetsDisconnect81) {
  auto client = connectV5("long-length5");
  client->send({0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01});
  ASSERT_TRUE(client->waitClosed(5s));
  ASSERT_EQ(client->received().size(), 1u);
  EXPECT_EQ(client->received().back().type(), kDisconnect);
  EXPECT_EQ(wire::reasonOf(client->received().back()), 0x81);
  EXPECT_TRUE(logSays("remaining length longer than 4 bytes"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C02_03_NonMinimalRemainingLengthIsClosed) {
  auto client = connectV311("overlong");
  client->send({0xC0, 0x80, 0x00});  // PINGREQ, length 0 encoded in two bytes
  ASSERT_TRUE(client->waitClosed(5s));
  EXPECT_EQ(client->received().size(), 0u) << "no PINGRESP to a malformed PINGREQ";
  EXPECT_TRUE(logSays("not minimally encoded"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C02_04_PingreqWithRemainingLength1IsClosed) {
  auto client = connectV311("fat-ping");
  client->send({0xC0, 0x01, 0x00});
  ASSERT_TRUE(client->waitClosed(5s));
  EXPECT_EQ(client->received().size(), 0u) << "no PINGRESP to a malformed PINGREQ";
  EXPECT_TRUE(logSays("disconnected by the broker"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C02_05_ReservedPacketType0IsClosed) {
  auto client = connectV311("type-zero");
  client->send({0x00, 0x00});
  ASSERT_TRUE(client->waitClosed(5s));
  EXPECT_TRUE(logSays("disconnected by the broker"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C02_06_AuthPacketFromV311ClientIsClosed) {
  auto client = connectV311("auth-311");
  client->send({0xF0, 0x00});
  ASSERT_TRUE(client->waitClosed(5s));
  EXPECT_TRUE(logSays("disconnected by the broker"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C02_07_PubrelWithWrongFixedHeaderFlagsIsClosed) {
  auto client = connectV311("pubrel-flags");
  client->send({0x60, 0x02, 0x00, 0x01});  // flags must be 0010
  ASSERT_TRUE(client->waitClosed(5s));
  EXPECT_TRUE(logSays("disconnected by the broker"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C02_08_ServerOnlyPacketFromClientIsClosed) {
  auto client = connectV311("sends-connack");
  client->send({0x20, 0x02, 0x00, 0x00});
  ASSERT_TRUE(client->waitClosed(5s));
  EXPECT_TRUE(logSays("disconnected by the broker"));
  expectBrokerStillServing();
}

class RawBadInputSmallPackets : public RawBrokerTest {
 protected:
  void configure(BrokerProcess& broker) override { broker.addConfigLine("max_packet_size 1000"); }
};

TEST_F(RawBadInputSmallPackets, C02_09_PacketLargerThanMaxPacketSizeV5GetsDisconnect95) {
  auto client = std::make_unique<RawClient>(broker_.port());
  wire::ConnectSpec spec;
  spec.level = 5;
  spec.clientId = "too-big5";
  // The broker announces the limit in CONNACK (MQTT 5 section 3.2.2.3.6).
  const ByteVector connack = handshake(*client, spec).body;
  const ByteVector announced{0x27, 0x00, 0x00, 0x03, 0xE8};
  EXPECT_NE(std::search(connack.begin(), connack.end(), announced.begin(), announced.end()),
            connack.end())
      << "CONNACK does not carry Maximum Packet Size 1000";
  client->send(wire::publish("bystander/big", std::string(2000, 'x'), 0, 0, false, true));
  expectV5Disconnect(*client, 0x95);
  EXPECT_TRUE(logSays("disconnected by the broker (packet too large)"));
  expectBrokerStillServing();  // and the bystander never saw bystander/big
}

TEST_F(RawBadInputSmallPackets, C02_10_PacketLargerThanMaxPacketSizeV311IsClosed) {
  auto client = connectV311("too-big");
  client->send(wire::publish("bystander/big", std::string(2000, 'x')));
  ASSERT_TRUE(client->waitClosed(5s));
  EXPECT_EQ(client->received().size(), 0u);
  EXPECT_TRUE(logSays("disconnected by the broker (packet too large)"));
  expectBrokerStillServing();
}

TEST_F(RawBadInputSmallPackets, C02_11_PacketAtTheLimitIsAccepted) {
  auto client = connectV311("at-limit");
  // 1 header byte + 2 length bytes + 2 + 13 topic bytes + 2 id bytes + payload = 1000.
  const std::string topic = "bystander/fit";
  const std::string payload(1000 - 3 - 2 - topic.size() - 2, 'y');
  const ByteVector packet = wire::publish(topic, payload, 1, 9);
  ASSERT_EQ(packet.size(), 1000u);
  client->send(packet);
  client->expect(kPuback);
  const wire::PublishView view = wire::parsePublish(bystander_->expect(kPublish));
  EXPECT_EQ(view.payload, payload);
  bystander_->send(wire::ack(kPuback, view.packetId));
}

// Before CONNECT is accepted nobody is authenticated: max_unauthenticated_packet_size
// caps what an anonymous socket can make the broker buffer; afterwards max_packet_size holds.
class RawBadInputSmallConnect : public RawBrokerTest {
 protected:
  void configure(BrokerProcess& broker) override {
    broker.addConfigLine("max_unauthenticated_packet_size 100");
  }
};

TEST_F(RawBadInputSmallConnect, C02_12_ConnectOverTheUnauthenticatedLimitIsClosed) {
  RawClient client(broker_.port());
  wire::ConnectSpec spec;
  spec.clientId = std::string(200, 'c');
  client.send(wire::connect(spec));
  expectClosedWithoutConnack(client);
  // The limit ends with CONNACK: a connected client may send larger packets.
  auto connected = connectV311("small-connect");
  connected->send(wire::publish("bystander/after", std::string(500, 'p'), 1, 3));
  connected->expect(kPuback);
  EXPECT_EQ(wire::parsePublish(bystander_->expect(kPublish)).payload, std::string(500, 'p'));
}

// ---- 03: PUBLISH -------------------------------------------------------------------------

TEST_F(RawBadInput, C03_01_PublishQos3V5GetsDisconnect81) {
  auto client = connectV5("qos3");
  ByteVector packet = wire::publish("bystander/q3", "x", 1, 1, false, true);
  packet[0] = 0x36;  // QoS bits 11
  client->send(packet);
  expectV5Disconnect(*client, 0x81);
  EXPECT_TRUE(logSays("disconnected by the broker (malformed packet)"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C03_02_PublishQos3V311IsClosed) {
  auto client = connectV311("qos3-311");
  ByteVector packet = wire::publish("bystander/q3", "x", 1, 1);
  packet[0] = 0x36;
  client->send(packet);
  ASSERT_TRUE(client->waitClosed(5s));
  EXPECT_TRUE(logSays("disconnected by the broker"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C03_03_WildcardInPublishTopicV5GetsDisconnect90) {
  auto client = connectV5("wild");
  client->send(wire::publish("bystander/+", "x", 0, 0, false, true));
  expectV5Disconnect(*client, 0x90);
  EXPECT_TRUE(logSays("disconnected by the broker (topic name invalid)"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C03_04_WildcardInPublishTopicV311IsClosed) {
  auto client = connectV311("wild-311");
  client->send(wire::publish("bystander/#", "x", 1, 3));
  ASSERT_TRUE(client->waitClosed(5s));
  EXPECT_EQ(client->received().size(), 0u) << "no PUBACK for an invalid topic";
  EXPECT_TRUE(logSays("disconnected by the broker"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C03_05_InvalidUtf8TopicV5GetsDisconnect81) {
  auto client = connectV5("utf8");
  // MQTT 5 section 1.5.4: ill-formed UTF-8 makes the packet malformed.
  client->send(wire::publish(std::string("bystander/\xFF", 11), "x", 0, 0, false, true));
  expectV5Disconnect(*client, 0x81);
  EXPECT_TRUE(logSays("disconnected by the broker (malformed packet)"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C03_06_InvalidUtf8TopicV311IsClosed) {
  auto client = connectV311("utf8-311");
  client->send(wire::publish(std::string("bystander/\xED\xA0\x80", 13), "x"));  // surrogate
  ASSERT_TRUE(client->waitClosed(5s));
  EXPECT_TRUE(logSays("disconnected by the broker"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C03_07_NullCharacterInTopicIsClosed) {
  auto client = connectV5("nul");
  client->send(wire::publish(std::string("bystander/\0x", 12), "x", 0, 0, false, true));
  expectV5Disconnect(*client, 0x81);
  EXPECT_TRUE(logSays("disconnected by the broker"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C03_08_Qos1WithPacketIdZeroIsClosed) {
  auto client = connectV311("id-zero");
  client->send(wire::publish("bystander/zero", "x", 1, 0));  // MQTT 3.1.1 section 2.3.1-1
  ASSERT_TRUE(client->waitClosed(5s));
  EXPECT_EQ(client->received().size(), 0u);
  EXPECT_TRUE(logSays("disconnected by the broker"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C03_09_EmptyTopicWithoutAliasV5GetsDisconnect82) {
  auto client = connectV5("empty-topic");
  // MQTT 5 section 3.3.2.3.4: a zero-length Topic Name without a Topic Alias is a
  // Protocol Error.
  client->send(wire::publish("", "x", 0, 0, false, true));
  expectV5Disconnect(*client, 0x82);
  EXPECT_TRUE(logSays("disconnected by the broker"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C03_10_TopicAliasAboveMaximumGetsDisconnect94) {
  auto client = connectV5("alias");
  // Default max_topic_alias is 10; alias 11 is outside it (MQTT 5 section 3.3.2.3.4).
  client->send(wire::publish("bystander/alias", "x", 0, 0, false, true, {0x23, 0x00, 0x0B}));
  expectV5Disconnect(*client, 0x94);
  EXPECT_TRUE(logSays("topic alias"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C03_11_TopicAliasUsedBeforeSetGetsDisconnect82) {
  auto client = connectV5("alias-unset");
  client->send(wire::publish("", "x", 0, 0, false, true, {0x23, 0x00, 0x01}));
  expectV5Disconnect(*client, 0x82);
  EXPECT_TRUE(logSays("topic alias used before set"));
  expectBrokerStillServing();
}

// ---- 04: SUBSCRIBE and UNSUBSCRIBE -------------------------------------------------------

TEST_F(RawBadInput, C04_01_SubscribeWithNoFilterIsClosedV311) {
  auto client = connectV311("no-filter");
  client->send({0x82, 0x02, 0x00, 0x01});  // packet id only: MQTT 3.1.1 section 3.8.3-3
  ASSERT_TRUE(client->waitClosed(5s));
  EXPECT_EQ(client->received().size(), 0u) << "no SUBACK";
  EXPECT_TRUE(logSays("disconnected by the broker"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C04_02_SubscribeWithNoFilterV5GetsDisconnect82) {
  auto client = connectV5("no-filter5");
  client->send({0x82, 0x03, 0x00, 0x01, 0x00});  // MQTT 5 section 3.8.3: Protocol Error
  expectV5Disconnect(*client, 0x82);
  EXPECT_TRUE(logSays("disconnected by the broker"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C04_03_SubscribeWithWrongFixedHeaderFlagsIsClosed) {
  auto client = connectV311("sub-flags");
  ByteVector packet = wire::subscribe(1, "a/b", 0);
  packet[0] = 0x80;  // MQTT 3.1.1 section 3.8.1-1: flags must be 0010
  client->send(packet);
  ASSERT_TRUE(client->waitClosed(5s));
  EXPECT_TRUE(logSays("disconnected by the broker"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C04_04_SubscribeQos3IsClosed) {
  auto client = connectV311("sub-qos3");
  client->send(wire::subscribe(1, "a/b", 3));  // MQTT 3.1.1 section 3.8.3-4
  ASSERT_TRUE(client->waitClosed(5s));
  EXPECT_EQ(client->received().size(), 0u);
  EXPECT_TRUE(logSays("disconnected by the broker"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C04_05_InvalidFilterGetsFailureCodeAndConnectionStays) {
  auto client = connectV311("bad-filter");
  client->send(wire::subscribe(5, "a/#/b", 1));
  EXPECT_EQ(client->expect(kSuback).wire(), (ByteVector{0x90, 0x03, 0x00, 0x05, 0x80}));
  EXPECT_TRUE(logSays("invalid topic filter"));
  client->send(wire::pingreq());
  client->expect(kPingresp);
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C04_06_InvalidFilterV5GetsReasonCode8F) {
  auto client = connectV5("bad-filter5");
  client->send(wire::subscribe(6, "a/b#", 1, true));
  EXPECT_EQ(client->expect(kSuback).wire(),
            (ByteVector{0x90, 0x04, 0x00, 0x06, 0x00, 0x8F}));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C04_07_UnsubscribeWithNoFilterIsClosed) {
  auto client = connectV311("unsub-none");
  client->send({0xA2, 0x02, 0x00, 0x01});  // MQTT 3.1.1 section 3.10.3-2
  ASSERT_TRUE(client->waitClosed(5s));
  EXPECT_EQ(client->received().size(), 0u) << "no UNSUBACK";
  EXPECT_TRUE(logSays("disconnected by the broker"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C04_08_NoLocalOnSharedSubscriptionGetsDisconnect82) {
  auto client = connectV5("shared-nolocal");
  client->send(wire::subscribe(1, "$share/g/a", 0x04 | 1, true));  // MQTT 5 3.8.3.1
  expectV5Disconnect(*client, 0x82);
  EXPECT_TRUE(logSays("No Local set on a shared subscription"));
  expectBrokerStillServing();
}

// ---- 05: time limits ---------------------------------------------------------------------

class RawBadInputShortConnectTimeout : public RawBrokerTest {
 protected:
  void configure(BrokerProcess& broker) override { broker.addConfigLine("connect_timeout 1"); }
};

TEST_F(RawBadInputShortConnectTimeout, C05_01_SilentSocketIsClosedAfterConnectTimeout) {
  const auto start = Clock::now();
  RawClient client(broker_.port());
  ASSERT_TRUE(client.waitClosed(5s)) << "a socket that never sends CONNECT stays open";
  const auto waited = Clock::now() - start;
  EXPECT_GE(waited, 900ms);
  EXPECT_TRUE(client.received().empty());
  EXPECT_TRUE(logSays("no CONNECT completed within connect_timeout"));
  expectBrokerStillServing();
}

TEST_F(RawBadInputShortConnectTimeout, C05_02_PartialConnectIsClosedAfterConnectTimeout) {
  RawClient client(broker_.port());
  ByteVector connect = wire::connect(wire::ConnectSpec{});
  connect.resize(connect.size() / 2);  // a slow-loris: half a CONNECT, then nothing
  client.send(connect);
  ASSERT_TRUE(client.waitClosed(5s));
  EXPECT_TRUE(logSays("no CONNECT completed within connect_timeout"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C05_03_KeepAliveTimeoutClosesAfterOneAndAHalfPeriods) {
  RawClient client(broker_.port());
  wire::ConnectSpec spec;
  spec.clientId = "silent";
  spec.keepAlive = 1;
  handshake(client, spec);
  const auto connected = Clock::now();
  ASSERT_TRUE(client.waitClosed(5s)) << "a silent client outlived its keep-alive";
  const auto waited = Clock::now() - connected;
  // MQTT 3.1.1 section 3.1.2.10: one and a half times the keep-alive.
  EXPECT_GE(waited, 1400ms);
  EXPECT_LE(waited, 3500ms);
  EXPECT_TRUE(logSays("keep alive timeout"));
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C05_04_KeepAliveTimeoutV5GetsDisconnect8D) {
  RawClient client(broker_.port());
  wire::ConnectSpec spec;
  spec.level = 5;
  spec.clientId = "silent5";
  spec.keepAlive = 1;
  handshake(client, spec);
  expectV5Disconnect(client, 0x8D);
  expectBrokerStillServing();
}

TEST_F(RawBadInput, C05_05_PingsKeepTheConnectionAlive) {
  RawClient client(broker_.port());
  wire::ConnectSpec spec;
  spec.clientId = "pinger";
  spec.keepAlive = 1;
  handshake(client, spec);
  // Three keep-alive periods, each answered: the broker must not close.
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(client.nothingWithin(500ms)) << "broker sent or closed during keep-alive";
    client.send(wire::pingreq());
    EXPECT_EQ(client.expect(kPingresp).wire(), (ByteVector{0xD0, 0x00}));
  }
}

// A link that delivers one byte per segment (a serial bridge, a congested radio): every
// packet is reassembled from single bytes and handled as if it had come whole.
TEST_F(RawBadInput, C05_06_PacketsTrickledOneByteAtATimeAreHandled) {
  RawClient client(broker_.port());
  const auto trickle = [&client](const ByteVector& packet) {
    for (std::uint8_t byte : packet) ASSERT_TRUE(client.send(ByteVector{byte}));
  };
  wire::ConnectSpec spec;
  spec.clientId = "trickler";
  trickle(wire::connect(spec));
  EXPECT_EQ(client.expect(kConnack).wire(), (ByteVector{0x20, 0x02, 0x00, 0x00}));
  trickle(wire::subscribe(1, "trickle/#", 1));
  client.expect(kSuback);
  trickle(wire::publish("trickle/t", "one byte at a time", 1, 2));
  // Its own subscription matches: the delivery and the PUBACK, in either order.
  bool acked = false;
  bool delivered = false;
  for (int i = 0; i < 2; ++i) {
    const ReadResult result = client.read(5s);
    ASSERT_EQ(result.status, ReadStatus::Packet);
    if (result.packet.type() == kPuback) {
      EXPECT_EQ(result.packet.wire(), (ByteVector{0x40, 0x02, 0x00, 0x02}));
      acked = true;
    } else {
      ASSERT_EQ(result.packet.type(), kPublish);
      EXPECT_EQ(wire::parsePublish(result.packet).payload, "one byte at a time");
      delivered = true;
    }
  }
  EXPECT_TRUE(acked && delivered);
  expectBrokerStillServing();
}

}  // namespace
}  // namespace midge::test
