// SPDX-License-Identifier: Apache-2.0
// Malformed and protocol-violating server bytes: one row per case. Each must end the
// connection with a Closed event that says why (v5: after a DISCONNECT with the reason),
// and never crash or hang.
#include <gtest/gtest.h>

#include "tests/core/client/client_test_util.hpp"

namespace midge::client::test {
namespace {

using codec::PacketType;
using codec::ProtocolVersion;

struct HostileCase {
  const char* name;
  ProtocolVersion version;
  bool beforeConnack;    // the bytes arrive instead of the CONNACK
  ByteVector (*bytes)();
  ReasonCode reason;     // what the client names (v5 DISCONNECT and the Closed event)
};

constexpr auto V311 = ProtocolVersion::V311;
constexpr auto V5 = ProtocolVersion::V5;

ByteVector raw(std::initializer_list<std::uint8_t> bytes) { return ByteVector(bytes); }

const HostileCase kCases[] = {
    {"PublishBeforeConnack", V311, true,
     [] { return serverPublish(V311, "t", "x", 0, 0); }, ReasonCode::ProtocolError},
    {"GarbageBeforeConnack", V5, true, [] { return raw({0x00, 0x00}); },
     ReasonCode::ProtocolError},
    {"ConnackTooShort", V311, true, [] { return raw({0x20, 0x01, 0x00}); },
     ReasonCode::MalformedPacket},
    {"ConnackUnknownReturnCode", V311, true, [] { return raw({0x20, 0x02, 0x00, 0x09}); },
     ReasonCode::ProtocolError},
    {"SessionPresentAfterCleanStart", V311, true,
     [] { return connack(V311, 0, true); }, ReasonCode::ProtocolError},
    {"SecondConnack", V311, false, [] { return connack(V311); }, ReasonCode::ProtocolError},
    {"RemainingLengthFiveBytes", V311, false,
     [] { return raw({0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}); }, ReasonCode::MalformedPacket},
    {"RemainingLengthNotMinimal", V5, false, [] { return raw({0xD0, 0x80, 0x00}); },
     ReasonCode::MalformedPacket},
    {"PacketLargerThanDeclared", V5, false,
     [] { return serverPublish(V5, "t", std::string(300, 'x'), 0, 0); },
     ReasonCode::PacketTooLarge},
    {"TopicLengthBeyondPacket", V311, false,
     [] { return raw({0x30, 0x04, 0x00, 0xC8, 0x61, 0x62}); }, ReasonCode::MalformedPacket},
    {"PublishQos3", V311, false, [] { return raw({0x36, 0x05, 0x00, 0x01, 0x74, 0x00, 0x01}); },
     ReasonCode::MalformedPacket},
    {"PublishPacketIdZero", V311, false,
     [] { return raw({0x32, 0x05, 0x00, 0x01, 0x74, 0x00, 0x00}); },
     ReasonCode::ProtocolError},
    {"PublishTopicWildcard", V311, false, [] { return serverPublish(V311, "a/#", "x", 0, 0); },
     ReasonCode::TopicNameInvalid},
    {"PublishInvalidUtf8", V311, false, [] { return raw({0x30, 0x04, 0x00, 0x02, 0xC0, 0x80}); },
     ReasonCode::MalformedPacket},
    {"PublishTopicAlias", V5, false,
     [] {
       codec::Publish p;
       p.topic = "t";
       p.properties.topicAlias = 1;
       return encode(codec::Packet{p}, V5);
     },
     ReasonCode::ProtocolError},
    {"ConnectFromServer", V311, false,
     [] {
       codec::Connect connect;
       connect.clientId = "x";
       return encode(codec::Packet{connect}, V311);
     },
     ReasonCode::ProtocolError},
    {"SubscribeFromServer", V311, false, [] { return raw({0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 0x74, 0x00}); },
     ReasonCode::ProtocolError},
    {"UnsubscribeFromServer", V311, false, [] { return raw({0xA2, 0x05, 0x00, 0x01, 0x00, 0x01, 0x74}); },
     ReasonCode::ProtocolError},
    {"PingreqFromServer", V311, false, [] { return raw({0xC0, 0x00}); },
     ReasonCode::ProtocolError},
    {"PingrespWithBody", V311, false, [] { return raw({0xD0, 0x01, 0x00}); },
     ReasonCode::MalformedPacket},
    {"AuthUnasked", V5, false, [] { return raw({0xF0, 0x00}); }, ReasonCode::ProtocolError},
    {"AuthBeforeV5", V311, false, [] { return raw({0xF0, 0x00}); }, ReasonCode::MalformedPacket},
    {"PubackUnknownId", V311, false, [] { return ack(PacketType::Puback, 77, V311); },
     ReasonCode::ProtocolError},
    {"PubrecUnknownId", V5, false, [] { return ack(PacketType::Pubrec, 77, V5); },
     ReasonCode::ProtocolError},
    {"PubcompUnknownId", V311, false, [] { return ack(PacketType::Pubcomp, 77, V311); },
     ReasonCode::ProtocolError},
    {"PubackWrongLength", V311, false, [] { return raw({0x40, 0x03, 0x00, 0x01, 0x00}); },
     ReasonCode::MalformedPacket},
    {"PubrelWrongFlags", V311, false, [] { return raw({0x60, 0x02, 0x00, 0x01}); },
     ReasonCode::MalformedPacket},
    {"SubackUnknownId", V311, false, [] { return raw({0x90, 0x03, 0x00, 0x09, 0x00}); },
     ReasonCode::ProtocolError},
    {"UnsubackUnknownId", V5, false, [] { return raw({0xB0, 0x04, 0x00, 0x09, 0x00, 0x00}); },
     ReasonCode::ProtocolError},
    {"DisconnectBeforeV5", V311, false, [] { return raw({0xE0, 0x00}); },
     ReasonCode::ProtocolError},
    {"UnknownPropertyId", V5, false,
     [] { return raw({0x30, 0x06, 0x00, 0x01, 0x74, 0x02, 0x7F, 0x00}); },
     ReasonCode::MalformedPacket},
    {"PropertyLengthBeyondPacket", V5, false,
     [] { return raw({0x30, 0x05, 0x00, 0x01, 0x74, 0x40, 0x01}); },
     ReasonCode::MalformedPacket},
    {"ReservedPacketType", V311, false, [] { return raw({0x00, 0x00}); },
     ReasonCode::MalformedPacket},
};

class HostileServer : public ::testing::TestWithParam<HostileCase> {};

TEST_P(HostileServer, ClosesWithAClearReason) {
  const HostileCase& c = GetParam();
  ClientOptions options = optionsFor(c.version);
  options.cleanStart = true;
  options.maximumPacketSize = 256;
  Client client(options, nullptr);
  ASSERT_TRUE(client.connect(0));
  client.takeBytes();
  if (!c.beforeConnack) {
    client.onBytes(view(connack(c.version)), 0);
    ASSERT_EQ(client.state(), ClientState::Connected);
    client.takeBytes();
    client.takeEvents();
  }
  const ByteVector bytes = c.bytes();
  client.onBytes(view(bytes), 1);
  EXPECT_EQ(client.state(), ClientState::Disconnected);
  EXPECT_TRUE(client.closeRequested());
  const auto closed = eventsOf(client.takeEvents(), ClientEventKind::Closed);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].reason, c.reason) << closed[0].detail;
  EXPECT_STRNE(closed[0].detail, "");
  const Sent sent = parse(client.takeBytes(), c.version);
  if (c.version == V5 && !c.beforeConnack) {
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent.at<codec::Disconnect>(0).reason, c.reason);
  } else {
    EXPECT_EQ(sent.size(), 0u);
  }
  // Whatever follows on a closed connection is ignored.
  client.onBytes(view(bytes), 2);
  EXPECT_TRUE(client.takeEvents().empty());
}

INSTANTIATE_TEST_SUITE_P(Cases, HostileServer, ::testing::ValuesIn(kCases),
                         [](const auto& param) { return std::string(param.param.name); });

TEST(HostileServerFlow, PubackForAQos2MessageIsAProtocolError) {
  Connected c(optionsFor(V311));
  const auto ticket = c.client.publish(message("t", "x", 2), 0, 1);
  c.client.onBytes(view(ack(PacketType::Puback, ticket->packetId, V311)), 2);
  EXPECT_EQ(c.client.state(), ClientState::Disconnected);
}

TEST(HostileServerFlow, PubcompBeforePubrecIsAProtocolError) {
  Connected c(optionsFor(V5));
  const auto ticket = c.client.publish(message("t", "x", 2), 0, 1);
  c.client.onBytes(view(ack(PacketType::Pubcomp, ticket->packetId, V5)), 2);
  EXPECT_EQ(c.client.state(), ClientState::Disconnected);
}

TEST(HostileServerFlow, SubackWithTooFewCodesIsAProtocolError) {
  Connected c(optionsFor(V311));
  const auto id = c.client.subscribe({Subscription{"a", 0}, Subscription{"b", 0}}, 1);
  codec::Suback suback;
  suback.packetId = *id;
  suback.reasonCodes = {0};
  c.client.onBytes(view(encode(codec::Packet{suback}, V311)), 2);
  EXPECT_EQ(c.client.state(), ClientState::Disconnected);
}

TEST(HostileServerFlow, MoreQos2ThanReceiveMaximumIsRefused) {
  ClientOptions options = optionsFor(V5);
  options.receiveMaximum = 1;
  Connected c(options);
  c.client.onBytes(view(serverPublish(V5, "t", "a", 2, 1)), 1);
  EXPECT_EQ(c.client.state(), ClientState::Connected);
  c.client.onBytes(view(serverPublish(V5, "t", "b", 2, 2)), 2);
  EXPECT_EQ(c.client.state(), ClientState::Disconnected);
}

TEST(HostileServerFlow, ServerDisconnectIsReportedWithItsReason) {
  Connected c(optionsFor(V5));
  codec::Disconnect disconnect;
  disconnect.reason = ReasonCode::ServerShuttingDown;
  c.client.onBytes(view(encode(codec::Packet{disconnect}, V5)), 1);
  const auto closed = eventsOf(c.client.takeEvents(), ClientEventKind::Closed);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_TRUE(closed[0].serverDisconnected);
  EXPECT_EQ(closed[0].reason, ReasonCode::ServerShuttingDown);
  EXPECT_TRUE(c.client.takeBytes().empty());
}

TEST(HostileServerFlow, ByteAtATimeStillFrames) {
  Connected c(optionsFor(V311));
  const ByteVector bytes = serverPublish(V311, "down", "payload", 1, 4);
  for (std::uint8_t byte : bytes) c.client.onBytes(Bytes(&byte, 1), 1);
  EXPECT_EQ(eventsOf(c.client.takeEvents(), ClientEventKind::Message).size(), 1u);
}

}  // namespace
}  // namespace midge::client::test
