// SPDX-License-Identifier: Apache-2.0
// CONNECT as the server sees it, CONNACK handling, server limits, keep-alive, subscribe.
#include <gtest/gtest.h>

#include <tuple>

#include "tests/core/client/client_test_util.hpp"

namespace midge::client::test {
namespace {

using codec::PacketType;
using codec::ProtocolVersion;

TEST(ClientConnect, V311ConnectCarriesEveryField) {
  ClientOptions options = optionsFor(ProtocolVersion::V311);
  options.username = "gateway";
  options.password = "secret";
  options.will = WillOptions{"edge/status", {'o', 'f', 'f'}, 1, true};
  Client client(options, nullptr);
  ASSERT_TRUE(client.connect(0));
  const Sent sent = parse(client.takeBytes(), ProtocolVersion::V311);
  ASSERT_TRUE(sent.is<codec::Connect>(0));
  const auto& connect = sent.at<codec::Connect>(0);
  EXPECT_EQ(connect.version, ProtocolVersion::V311);
  EXPECT_FALSE(connect.cleanStart);
  EXPECT_EQ(connect.keepAlive, 30);
  EXPECT_EQ(connect.clientId, "edge-1");
  EXPECT_EQ(connect.username.value(), "gateway");
  EXPECT_EQ(asStringView(connect.password.value()), "secret");
  ASSERT_TRUE(connect.will);
  EXPECT_EQ(connect.will->topic, "edge/status");
  EXPECT_EQ(asStringView(connect.will->payload), "off");
  EXPECT_EQ(connect.will->qos, 1);
  EXPECT_TRUE(connect.will->retain);
  EXPECT_EQ(client.state(), ClientState::Connecting);
}

TEST(ClientConnect, V31SpeaksMQIsdp) {
  Client client(optionsFor(ProtocolVersion::V31), nullptr);
  ASSERT_TRUE(client.connect(0));
  const ByteVector bytes = client.takeBytes();
  const std::string text(bytes.begin(), bytes.end());
  EXPECT_NE(text.find("MQIsdp"), std::string::npos);
  const Sent sent = parse(bytes, ProtocolVersion::V31);
  EXPECT_EQ(sent.at<codec::Connect>(0).version, ProtocolVersion::V31);
}

// The level byte is the 7th byte of a 3.1.1 CONNECT ("MQTT"), the 9th of a 3.1 one.
TEST(ClientConnect, BridgeFlagSetsBit7OfTheLevelBeforeV5) {
  for (const auto& [version, levelAt, level] :
       {std::tuple{ProtocolVersion::V311, 8u, 0x84}, std::tuple{ProtocolVersion::V31, 10u, 0x83}}) {
    ClientOptions options = optionsFor(version);
    options.bridgeFlag = true;
    Client client(options, nullptr);
    ASSERT_TRUE(client.connect(0));
    const ByteVector bytes = client.takeBytes();
    ASSERT_GT(bytes.size(), levelAt);
    EXPECT_EQ(bytes[levelAt], level);
    const Sent sent = parse(bytes, version);
    EXPECT_TRUE(sent.at<codec::Connect>(0).bridge);
    EXPECT_EQ(sent.at<codec::Connect>(0).version, version);
  }
}

TEST(ClientConnect, BridgeFlagIsNotSentWithV5) {
  ClientOptions options = optionsFor(ProtocolVersion::V5);
  options.bridgeFlag = true;
  Client client(options, nullptr);
  ASSERT_TRUE(client.connect(0));
  const ByteVector bytes = client.takeBytes();
  ASSERT_GT(bytes.size(), 8u);
  EXPECT_EQ(bytes[8], 5);
  EXPECT_FALSE(parse(bytes, ProtocolVersion::V5).at<codec::Connect>(0).bridge);
}

TEST(ClientConnect, NoBridgeFlagByDefault) {
  Client client(optionsFor(ProtocolVersion::V311), nullptr);
  ASSERT_TRUE(client.connect(0));
  const ByteVector bytes = client.takeBytes();
  ASSERT_GT(bytes.size(), 8u);
  EXPECT_EQ(bytes[8], 4);
}

TEST(ClientConnect, V5ConnectPropertiesAndNoTopicAliases) {
  ClientOptions options = optionsFor(ProtocolVersion::V5);
  options.receiveMaximum = 10;
  options.maximumPacketSize = 4096;
  Client client(options, nullptr);
  ASSERT_TRUE(client.connect(0));
  const Sent sent = parse(client.takeBytes(), ProtocolVersion::V5);
  const auto& properties = sent.at<codec::Connect>(0).properties;
  EXPECT_EQ(properties.sessionExpiryInterval.value(), 3600u);
  EXPECT_EQ(properties.receiveMaximum.value(), 10);
  EXPECT_EQ(properties.maximumPacketSize.value(), 4096u);
  // Absent means 0: the server may not use topic aliases towards us.
  EXPECT_FALSE(properties.topicAliasMaximum.has_value());
}

TEST(ClientConnect, AcceptedConnackReportsSession) {
  Client client(optionsFor(ProtocolVersion::V311), nullptr);
  ASSERT_TRUE(client.connect(0));
  client.takeBytes();
  client.onBytes(view(connack(ProtocolVersion::V311, 0, true)), 5);
  EXPECT_EQ(client.state(), ClientState::Connected);
  const auto events = eventsOf(client.takeEvents(), ClientEventKind::Connected);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(events[0].sessionPresent);
}

TEST(ClientConnect, RefusedV311ReportsReturnCodeAndCloses) {
  Client client(optionsFor(ProtocolVersion::V311), nullptr);
  ASSERT_TRUE(client.connect(0));
  client.takeBytes();
  client.onBytes(view(connack(ProtocolVersion::V311, 5)), 1);
  const auto events = client.takeEvents();
  const auto refused = eventsOf(events, ClientEventKind::ConnectRefused);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].code, 5);
  EXPECT_EQ(eventsOf(events, ClientEventKind::Closed).size(), 1u);
  EXPECT_TRUE(client.closeRequested());
  EXPECT_EQ(client.state(), ClientState::Disconnected);
}

TEST(ClientConnect, RefusedV5ReportsReason) {
  Client client(optionsFor(ProtocolVersion::V5), nullptr);
  ASSERT_TRUE(client.connect(0));
  client.takeBytes();
  client.onBytes(view(connack(ProtocolVersion::V5, 0x86)), 1);
  const auto refused = eventsOf(client.takeEvents(), ClientEventKind::ConnectRefused);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].reason, ReasonCode::BadUserNameOrPassword);
  EXPECT_TRUE(client.takeBytes().empty());  // no DISCONNECT before a CONNACK accepted
}

TEST(ClientConnect, AssignedClientIdentifierIsAdopted) {
  ClientOptions options = optionsFor(ProtocolVersion::V5);
  options.clientId.clear();
  options.cleanStart = true;
  Client client(options, nullptr);
  ASSERT_TRUE(client.connect(0));
  client.takeBytes();
  codec::Properties properties;
  properties.assignedClientIdentifier = "auto-42";
  client.onBytes(view(connack(ProtocolVersion::V5, 0, false, properties)), 1);
  const auto events = eventsOf(client.takeEvents(), ClientEventKind::Connected);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].assignedClientId, "auto-42");
  EXPECT_EQ(client.clientId(), "auto-42");
}

TEST(ClientConnect, ServerReceiveMaximumLimitsTheWindow) {
  codec::Properties properties;
  properties.receiveMaximum = 2;
  Connected c(optionsFor(ProtocolVersion::V5), nullptr, properties);
  EXPECT_TRUE(c.client.publish(message("a", "1", 1), 1, 1));
  EXPECT_TRUE(c.client.publish(message("a", "2", 2), 2, 1));
  EXPECT_FALSE(c.client.canPublish());
  const auto third = c.client.publish(message("a", "3", 1), 3, 1);
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().kind, ErrorKind::QuotaExceeded);
  EXPECT_TRUE(c.client.publish(message("a", "qos0", 0), 4, 1));  // QoS 0 is not counted
}

TEST(ClientConnect, ServerMaximumPacketSizeRefusesLargerPublishes) {
  codec::Properties properties;
  properties.maximumPacketSize = 64;
  Connected c(optionsFor(ProtocolVersion::V5), nullptr, properties);
  const auto refused = c.client.publish(message("t", std::string(100, 'x'), 1), 1, 1);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::PacketTooLarge);
  EXPECT_EQ(c.client.inflight(), 0u);
  EXPECT_TRUE(c.client.takeBytes().empty());
  EXPECT_TRUE(c.client.publish(message("t", "small", 1), 1, 1));
}

TEST(ClientConnect, RetainUnavailableAndMaximumQosAreHonoured) {
  codec::Properties properties;
  properties.retainAvailable = 0;
  properties.maximumQoS = 1;
  Connected c(optionsFor(ProtocolVersion::V5), nullptr, properties);
  EXPECT_FALSE(c.client.publish(message("t", "r", 0, true), 1, 1));
  const auto ticket = c.client.publish(message("t", "q2", 2), 2, 1);
  ASSERT_TRUE(ticket);
  EXPECT_EQ(ticket->qos, 1);
  const Sent sent = parse(c.client.takeBytes(), ProtocolVersion::V5);
  EXPECT_EQ(sent.at<codec::Publish>(0).qos, 1);
}

TEST(ClientConnect, PingAfterKeepAliveAndTimeoutWithoutPingresp) {
  Connected c(optionsFor(ProtocolVersion::V311));
  c.client.onTick(29'999);
  EXPECT_TRUE(c.client.takeBytes().empty());
  EXPECT_EQ(c.client.nextDeadlineMs(), 30'000u);
  c.client.onTick(30'000);
  const Sent ping = parse(c.client.takeBytes(), ProtocolVersion::V311);
  ASSERT_TRUE(ping.is<codec::Pingreq>(0));
  c.client.onBytes(view(encode(codec::Packet{codec::Pingresp{}}, c.version)), 30'010);
  c.client.onTick(59'999);
  EXPECT_TRUE(c.client.takeBytes().empty());
  c.client.onTick(60'000);
  ASSERT_TRUE(parse(c.client.takeBytes(), c.version).is<codec::Pingreq>(0));
  c.client.onTick(89'999);
  EXPECT_EQ(c.client.state(), ClientState::Connected);
  c.client.onTick(90'000);
  EXPECT_EQ(c.client.state(), ClientState::Disconnected);
  const auto closed = eventsOf(c.client.takeEvents(), ClientEventKind::Closed);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].reason, ReasonCode::KeepAliveTimeout);
}

TEST(ClientConnect, ServerKeepAliveReplacesOurs) {
  codec::Properties properties;
  properties.serverKeepAlive = 5;
  Connected c(optionsFor(ProtocolVersion::V5), nullptr, properties);
  EXPECT_EQ(c.client.serverLimits().keepAliveSeconds, 5);
  c.client.onTick(5'000);
  EXPECT_TRUE(parse(c.client.takeBytes(), c.version).is<codec::Pingreq>(0));
}

TEST(ClientConnect, TrafficPostponesThePing) {
  Connected c(optionsFor(ProtocolVersion::V311));
  ASSERT_TRUE(c.client.publish(message("t", "x", 0), 0, 20'000));
  c.client.takeBytes();
  c.client.onTick(30'000);
  EXPECT_TRUE(c.client.takeBytes().empty());
  c.client.onTick(50'000);
  EXPECT_TRUE(parse(c.client.takeBytes(), c.version).is<codec::Pingreq>(0));
}

TEST(ClientConnect, AClockSteppingBackIsNoTimeout) {
  Connected c(optionsFor(ProtocolVersion::V311));
  ASSERT_TRUE(c.client.publish(message("t", "x", 0), 0, 20'000));
  c.client.takeBytes();
  c.client.onTick(10'000);
  EXPECT_EQ(c.client.state(), ClientState::Connected);
  EXPECT_TRUE(c.client.takeBytes().empty());
}

TEST(ClientConnect, NoConnackWithinTimeoutCloses) {
  Client client(optionsFor(ProtocolVersion::V311), nullptr);
  ASSERT_TRUE(client.connect(1'000));
  client.onTick(10'999);
  EXPECT_EQ(client.state(), ClientState::Connecting);
  client.onTick(11'000);
  EXPECT_TRUE(client.closeRequested());
  EXPECT_EQ(eventsOf(client.takeEvents(), ClientEventKind::Closed).size(), 1u);
}

TEST(ClientConnect, SubscribeV5OptionsAndSuback) {
  Connected c(optionsFor(ProtocolVersion::V5));
  Subscription s;
  s.filter = "cmd/#";
  s.qos = 2;
  s.noLocal = true;
  s.retainAsPublished = true;
  s.retainHandling = 2;
  const auto id = c.client.subscribe({s, Subscription{"cfg", 1}}, 1);
  ASSERT_TRUE(id);
  const Sent sent = parse(c.client.takeBytes(), c.version);
  const auto& subscribe = sent.at<codec::Subscribe>(0);
  EXPECT_EQ(subscribe.packetId, *id);
  ASSERT_EQ(subscribe.entries.size(), 2u);
  EXPECT_EQ(subscribe.entries[0].filter, "cmd/#");
  EXPECT_EQ(subscribe.entries[0].options, 0x2E);
  EXPECT_EQ(subscribe.entries[1].options, 0x01);
  codec::Suback suback;
  suback.packetId = *id;
  suback.reasonCodes = {2, 1};
  c.client.onBytes(view(encode(codec::Packet{suback}, c.version)), 2);
  const auto events = eventsOf(c.client.takeEvents(), ClientEventKind::Subscribed);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].codes, (std::vector<std::uint8_t>{2, 1}));
}

TEST(ClientConnect, V311SubscribeSendsQosOnlyAndUnsubscribeCompletes) {
  Connected c(optionsFor(ProtocolVersion::V311));
  Subscription s{"cmd/#", 1, true, true, 2};
  const auto id = c.client.subscribe({s}, 1);
  ASSERT_TRUE(id);
  EXPECT_EQ(parse(c.client.takeBytes(), c.version).at<codec::Subscribe>(0).entries[0].options, 1);
  const auto unsubscribeId = c.client.unsubscribe({"cmd/#"}, 2);
  ASSERT_TRUE(unsubscribeId);
  EXPECT_NE(*unsubscribeId, *id);
  codec::Unsuback unsuback;
  unsuback.packetId = *unsubscribeId;
  c.client.onBytes(view(encode(codec::Packet{unsuback}, c.version)), 3);
  EXPECT_EQ(eventsOf(c.client.takeEvents(), ClientEventKind::Unsubscribed).size(), 1u);
}

TEST(ClientConnect, DisconnectSendsDisconnectAndAsksToClose) {
  Connected c(optionsFor(ProtocolVersion::V5));
  c.client.disconnect(ReasonCode::DisconnectWithWill);
  const Sent sent = parse(c.client.takeBytes(), c.version);
  EXPECT_EQ(sent.at<codec::Disconnect>(0).reason, ReasonCode::DisconnectWithWill);
  EXPECT_TRUE(c.client.closeRequested());
  EXPECT_EQ(c.client.state(), ClientState::Disconnected);
}

TEST(ClientConnect, NotConnectedRefusesPublishAndSubscribe) {
  Client client(optionsFor(ProtocolVersion::V311), nullptr);
  EXPECT_FALSE(client.publish(message("t", "x", 0), 0, 0));
  EXPECT_FALSE(client.subscribe({Subscription{"t", 0}}, 0));
  ASSERT_TRUE(client.connect(0));
  EXPECT_FALSE(client.connect(0));
}

}  // namespace
}  // namespace midge::client::test
