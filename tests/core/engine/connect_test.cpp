// SPDX-License-Identifier: Apache-2.0
// CONNECT handling: versions, client identifiers, takeover, keep-alive, limits announced.
#include "tests/core/engine/harness.hpp"

namespace midge::testing {
namespace {

using codec::ProtocolVersion;

TEST(EngineConnect, AcceptsEveryProtocolVersion) {
  Harness harness;
  for (ProtocolVersion version : {ProtocolVersion::V31, ProtocolVersion::V311, ProtocolVersion::V5}) {
    auto client = harness.open(version);
    auto connack = client->connect("client-" + std::to_string(static_cast<int>(version)));
    EXPECT_EQ(connack.reasonCode, 0) << "version " << static_cast<int>(version);
    EXPECT_FALSE(connack.sessionPresent);
  }
  EXPECT_EQ(harness.broker().connectedClients(), 3u);
}

TEST(EngineConnect, FirstPacketMustBeConnect) {
  Harness harness;
  auto client = harness.open();
  client->send(codec::Pingreq{});
  EXPECT_TRUE(client->closeRequested());
  EXPECT_FALSE(client->hasPacket());
  EXPECT_TRUE(harness.output.logged("the first packet must be CONNECT"));
}

TEST(EngineConnect, UnknownProtocolLevelGetsReturnCode1) {
  Harness harness;
  auto client = harness.open(ProtocolVersion::V311);
  // CONNECT "MQTT" level 6.
  client->sendBytes({0x10, 0x0C, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x06, 0x02, 0x00, 0x3C,
                     0x00, 0x00});
  auto connack = client->nextAs<codec::Connack>();
  EXPECT_EQ(connack.reasonCode, 1);
  EXPECT_TRUE(client->closeRequested());
}

TEST(EngineConnect, EmptyClientIdRules) {
  Harness harness;
  auto v311Persistent = harness.open(ProtocolVersion::V311);
  EXPECT_EQ(v311Persistent->connect("", false).reasonCode, 2);  // identifier rejected
  EXPECT_TRUE(v311Persistent->closeRequested());

  auto v31 = harness.open(ProtocolVersion::V31);
  EXPECT_EQ(v31->connect("", true).reasonCode, 2);

  auto v311Clean = harness.open(ProtocolVersion::V311);
  EXPECT_EQ(v311Clean->connect("", true).reasonCode, 0);

  auto v5 = harness.open(ProtocolVersion::V5);
  auto connack = v5->connect("", true);
  EXPECT_EQ(connack.reasonCode, 0);
  ASSERT_TRUE(connack.properties.assignedClientIdentifier.has_value());
  EXPECT_FALSE(connack.properties.assignedClientIdentifier->empty());
}

TEST(EngineConnect, SecondConnectionTakesTheSessionOver) {
  Harness harness;
  auto first = harness.open();
  first->connect("device");
  auto second = harness.open();
  EXPECT_EQ(second->connect("device").reasonCode, 0);
  auto disconnect = first->nextAs<codec::Disconnect>();
  EXPECT_EQ(disconnect.reason, ReasonCode::SessionTakenOver);
  EXPECT_TRUE(first->closeRequested());
  first->dropConnection();
  EXPECT_EQ(harness.broker().connectedClients(), 1u);
  // The session still works for the new connection.
  second->subscribe("t", 0);
  second->publish("t", "x", 0);
  EXPECT_EQ(payloadOf(second->nextAs<codec::Publish>()), "x");
}

TEST(EngineConnect, KeepAliveTimeoutAtOneAndAHalfPeriods) {
  Harness harness;
  auto client = harness.open();
  client->connect("sleepy");  // keep alive 60 s
  harness.tick(89);
  EXPECT_FALSE(client->closeRequested());
  harness.tick(2);
  EXPECT_TRUE(client->closeRequested());
  EXPECT_EQ(client->nextAs<codec::Disconnect>().reason, ReasonCode::KeepAliveTimeout);
}

TEST(EngineConnect, PingKeepsTheConnectionAlive) {
  Harness harness;
  auto client = harness.open();
  client->connect("pinger");
  for (int i = 0; i < 5; ++i) {
    harness.tick(50);
    client->send(codec::Pingreq{});
    client->nextAs<codec::Pingresp>();
  }
  EXPECT_FALSE(client->closeRequested());
}

TEST(EngineConnect, ServerKeepAliveCapsV5AndRefusesV311) {
  EngineConfig config;
  config.maxKeepalive = 30;
  Harness harness(config);
  auto v5 = harness.open();
  auto connack = v5->connect("v5");
  EXPECT_EQ(connack.reasonCode, 0);
  EXPECT_EQ(connack.properties.serverKeepAlive.value_or(0), 30);
  auto v311 = harness.open(ProtocolVersion::V311);
  EXPECT_EQ(v311->connect("v311").reasonCode, 2);
}

TEST(EngineConnect, ConnackAnnouncesLimits) {
  EngineConfig config;
  config.maxInflightMessages = 7;
  config.maxPacketSize = 4096;
  config.maxTopicAlias = 5;
  config.maxQos = 1;
  config.retainAvailable = false;
  Harness harness(config);
  auto client = harness.open();
  auto connack = client->connect("limits");
  EXPECT_EQ(connack.properties.receiveMaximum.value_or(0), 7);
  EXPECT_EQ(connack.properties.maximumPacketSize.value_or(0), 4096u);
  EXPECT_EQ(connack.properties.topicAliasMaximum.value_or(0), 5);
  EXPECT_EQ(connack.properties.maximumQoS.value_or(2), 1);
  EXPECT_EQ(connack.properties.retainAvailable.value_or(1), 0);
}

TEST(EngineConnect, OversizedPacketClosesWithReason0x95) {
  EngineConfig config;
  config.maxPacketSize = 64;
  Harness harness(config);
  auto client = harness.open();
  client->connect("big");
  client->publish("t", std::string(100, 'x'), 0);
  EXPECT_EQ(client->nextAs<codec::Disconnect>().reason, ReasonCode::PacketTooLarge);
  EXPECT_TRUE(client->closeRequested());
}

TEST(EngineConnect, MalformedPacketClosesWithReason0x81AndOthersAreUntouched) {
  Harness harness;
  auto bystander = harness.open();
  bystander->connect("bystander");
  bystander->subscribe("t", 1);
  auto client = harness.open();
  client->connect("bad");
  // PUBLISH QoS 3 is malformed.
  client->sendBytes({0x36, 0x05, 0x00, 0x01, 't', 0x00, 0x01});
  EXPECT_EQ(client->nextAs<codec::Disconnect>().reason, ReasonCode::MalformedPacket);
  auto other = harness.open();
  other->connect("other");
  other->publish("t", "still here", 0);
  EXPECT_EQ(payloadOf(bystander->nextAs<codec::Publish>()), "still here");
}

TEST(EngineConnect, ConnectTimeoutClosesSilentSockets) {
  EngineConfig config;
  config.connectTimeoutMs = 3000;
  Harness harness(config);
  auto client = harness.open();
  harness.tick(2);
  EXPECT_FALSE(client->closeRequested());
  harness.tick(3);
  EXPECT_TRUE(client->closeRequested());
}

TEST(EngineConnect, SecondConnectIsAProtocolErrorWhateverItsVersion) {
  Harness harness;
  auto client = harness.open();
  client->connect("twice");
  // CONNECT "MQTT" level 6: as a first packet it gets CONNACK 0x84, but 0x84 is not a
  // DISCONNECT reason, and a second CONNECT is a protocol error anyway.
  client->sendBytes({0x10, 0x0C, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x06, 0x02, 0x00, 0x3C,
                     0x00, 0x00});
  EXPECT_EQ(client->nextAs<codec::Disconnect>().reason, ReasonCode::ProtocolError);
  EXPECT_TRUE(client->closeRequested());
}

TEST(EngineConnect, UnlimitedInflightIsNotAnnouncedAsReceiveMaximumZero) {
  EngineConfig config;
  config.maxInflightMessages = 0;
  Harness harness(config);
  auto client = harness.open();
  auto connack = client->connect("unlimited");
  EXPECT_EQ(connack.reasonCode, 0);
  EXPECT_FALSE(connack.properties.receiveMaximum.has_value());
}

codec::Will willOn(std::string_view topic) {
  codec::Will will;
  will.topic = topic;
  will.payload = asBytes("gone");
  return will;
}

TEST(EngineConnect, WillTopicIsValidatedLikeAPublishTopic) {
  Harness harness;
  auto wildcard = harness.open();
  EXPECT_EQ(wildcard->connect("w1", true, std::nullopt, willOn("a/+")).reasonCode,
            static_cast<std::uint8_t>(ReasonCode::TopicNameInvalid));
  EXPECT_TRUE(wildcard->closeRequested());
  auto empty = harness.open();
  EXPECT_EQ(empty->connect("w2", true, std::nullopt, willOn("")).reasonCode,
            static_cast<std::uint8_t>(ReasonCode::TopicNameInvalid));

  // 3.1.1 has no return code for it: the connection is closed without CONNACK.
  auto v311 = harness.open(ProtocolVersion::V311);
  codec::Connect connect;
  connect.version = ProtocolVersion::V311;
  connect.clientId = "w3";
  connect.will = willOn("a/#");
  v311->send(connect);
  EXPECT_TRUE(v311->closeRequested());
  EXPECT_FALSE(v311->hasPacket());
  EXPECT_EQ(harness.broker().connectedClients(), 0u);
}

codec::Connect connectWithMaximumPacketSize(std::string_view clientId, std::uint32_t maximum) {
  codec::Connect connect;
  connect.version = ProtocolVersion::V5;
  connect.clientId = clientId;
  connect.properties.maximumPacketSize = maximum;
  return connect;
}

TEST(EngineConnect, ConnackRespectsTheClientsMaximumPacketSize) {
  Harness harness;
  // The default CONNACK (Receive Maximum, Topic Alias Maximum, Maximum Packet Size) is 16
  // bytes; without the Topic Alias Maximum it is 13.
  auto small = harness.open();
  small->send(connectWithMaximumPacketSize("small", 15));
  ASSERT_TRUE(small->hasPacket());
  auto connack = small->nextAs<codec::Connack>();
  EXPECT_EQ(connack.reasonCode, 0);
  EXPECT_FALSE(connack.properties.topicAliasMaximum.has_value());

  // An assigned client identifier cannot be left out: no CONNACK fits, so none is sent.
  auto tiny = harness.open();
  tiny->send(connectWithMaximumPacketSize("", 12));
  EXPECT_FALSE(tiny->hasPacket());
  EXPECT_TRUE(tiny->closeRequested());
  EXPECT_TRUE(harness.output.logged("exceeds the client's Maximum Packet Size"));
  EXPECT_EQ(harness.broker().connectedClients(), 1u);
}

// Mosquitto's bridge flag (0x80 in the level byte, `try_private`): accepted as Mosquitto
// accepts it, and the bridge is not sent its own messages back, with the retain flag of
// live messages kept, so that two brokers bridged both ways do not loop.
codec::Connack connectAsBridge(Client& client, std::string_view clientId) {
  codec::Connect connect;
  connect.version = client.version();
  connect.bridge = true;
  connect.keepAlive = 60;
  connect.clientId = clientId;
  client.send(connect);
  return client.nextAs<codec::Connack>();
}

TEST(EngineConnect, BridgeFlagIsAcceptedForV31AndV311) {
  Harness harness;
  for (ProtocolVersion version : {ProtocolVersion::V31, ProtocolVersion::V311}) {
    auto bridge = harness.open(version);
    EXPECT_EQ(connectAsBridge(*bridge, "bridge-" + std::to_string(static_cast<int>(version)))
                  .reasonCode,
              0);
  }
  EXPECT_EQ(harness.broker().connectedClients(), 2u);
}

TEST(EngineConnect, BridgeIsNotSentItsOwnMessagesBack) {
  Harness harness;
  auto bridge = harness.open(ProtocolVersion::V311);
  ASSERT_EQ(connectAsBridge(*bridge, "edge-bridge").reasonCode, 0);
  bridge->subscribe("fleet/#", 1);
  auto local = harness.open(ProtocolVersion::V311);
  local->connect("local");
  local->subscribe("fleet/#", 1);

  bridge->publish("fleet/a", "from-edge", 0, true);
  EXPECT_FALSE(bridge->hasPacket());
  EXPECT_EQ(payloadOf(local->nextAs<codec::Publish>()), "from-edge");

  local->publish("fleet/b", "to-edge", 0, true);
  const auto delivered = bridge->nextAs<codec::Publish>();
  EXPECT_EQ(payloadOf(delivered), "to-edge");
  EXPECT_TRUE(delivered.retain) << "a bridge gets the retain flag as published";
}

TEST(EngineConnect, PlainV311ClientStillGetsItsOwnMessages) {
  Harness harness;
  auto client = harness.open(ProtocolVersion::V311);
  client->connect("plain");
  client->subscribe("fleet/#", 0);
  client->publish("fleet/a", "mine", 0, true);
  const auto delivered = client->nextAs<codec::Publish>();
  EXPECT_EQ(payloadOf(delivered), "mine");
  EXPECT_FALSE(delivered.retain);
}

}  // namespace
}  // namespace midge::testing
