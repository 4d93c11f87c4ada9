// SPDX-License-Identifier: Apache-2.0
// encode -> frame -> decode for every packet type in every version, plus the encoder's
// refusals for fields that cannot be represented.
#include <gtest/gtest.h>

#include "tests/core/codec/codec_test_util.hpp"

namespace midge::codec::test {
namespace {

constexpr auto V31 = ProtocolVersion::V31;
constexpr auto V311 = ProtocolVersion::V311;
constexpr auto V5 = ProtocolVersion::V5;

const std::uint8_t kBlob[] = {0x00, 0x01, 0xfe, 0xff};

Properties richPublishProperties() {
  Properties p;
  p.payloadFormatIndicator = 1;
  p.messageExpiryInterval = 3600;
  p.contentType = "application/json";
  p.responseTopic = "reply/here";
  p.correlationData = Bytes(kBlob);
  p.subscriptionIdentifiers = {1, 300, 268435455};
  p.topicAlias = 65535;
  p.userProperties = {{"z", "1"}, {"a", ""}, {"z", "2"}};
  return p;
}

// Packets valid in `version`; v5 ones carry every property their type allows.
std::vector<Packet> samples(ProtocolVersion version) {
  const bool v5 = version == V5;
  std::vector<Packet> out;

  Connect connect;
  connect.version = version;
  connect.cleanStart = false;
  connect.keepAlive = 65535;
  connect.clientId = "client-\xC3\xA9";
  connect.username = "user";
  connect.password = Bytes(kBlob);
  Will will;
  will.topic = "last/will";
  will.payload = Bytes(kBlob);
  will.qos = 2;
  will.retain = true;
  if (v5) {
    will.properties = richPublishProperties();
    will.properties.subscriptionIdentifiers.clear();
    will.properties.topicAlias.reset();
    will.properties.willDelayInterval = 30;
    connect.properties.sessionExpiryInterval = 0xFFFFFFFF;
    connect.properties.receiveMaximum = 10;
    connect.properties.maximumPacketSize = 1024;
    connect.properties.topicAliasMaximum = 5;
    connect.properties.requestResponseInformation = 1;
    connect.properties.requestProblemInformation = 0;
    connect.properties.userProperties = {{"k", "v"}};
    connect.properties.authenticationMethod = "SCRAM-SHA-1";
    connect.properties.authenticationData = Bytes(kBlob);
  }
  connect.will = will;
  out.push_back(connect);

  Connect minimal;
  minimal.version = version;
  out.push_back(minimal);

  if (v5) {
    Connect passwordOnly;
    passwordOnly.version = version;
    passwordOnly.password = Bytes(kBlob);
    out.push_back(passwordOnly);
  }

  Connack connack;
  connack.sessionPresent = version != V31;
  if (v5) {
    Properties& p = connack.properties;
    p.sessionExpiryInterval = 60;
    p.assignedClientIdentifier = "auto-1";
    p.serverKeepAlive = 30;
    p.authenticationMethod = "m";
    p.authenticationData = Bytes(kBlob);
    p.responseInformation = "resp/";
    p.serverReference = "other:1883";
    p.reasonString = "welcome";
    p.receiveMaximum = 100;
    p.topicAliasMaximum = 10;
    p.maximumQoS = 1;
    p.retainAvailable = 0;
    p.userProperties = {{"a", "b"}};
    p.maximumPacketSize = 268435460;
    p.wildcardSubscriptionAvailable = 1;
    p.subscriptionIdentifierAvailable = 1;
    p.sharedSubscriptionAvailable = 0;
  }
  out.push_back(connack);
  Connack refused;
  refused.reasonCode = v5 ? 0x86 : 4;
  out.push_back(refused);

  for (std::uint8_t qos = 0; qos <= 2; ++qos) {
    Publish publish;
    publish.qos = qos;
    publish.dup = qos > 0;
    publish.retain = qos == 1;
    publish.topic = "sensors/\xE2\x82\xAC/temp";
    publish.packetId = qos == 0 ? 0 : static_cast<std::uint16_t>(qos * 1000);
    publish.payload = Bytes(kBlob);
    if (v5) publish.properties = richPublishProperties();
    out.push_back(publish);
  }
  Publish big;
  big.topic = "big";
  static const std::vector<std::uint8_t> kBigPayload(70000, 0x42);  // 3-byte remaining length
  big.payload = Bytes(kBigPayload);
  out.push_back(big);

  for (const PacketType type :
       {PacketType::Puback, PacketType::Pubrec, PacketType::Pubrel, PacketType::Pubcomp}) {
    Ack ack;
    ack.type = type;
    ack.packetId = 42;
    out.push_back(ack);
    if (v5) {
      Ack withReason = ack;
      withReason.reason = (type == PacketType::Pubrel || type == PacketType::Pubcomp)
                              ? ReasonCode::PacketIdentifierNotFound
                              : ReasonCode::QuotaExceeded;
      out.push_back(withReason);
      Ack withProperties = ack;
      withProperties.properties.reasonString = "why";
      withProperties.properties.userProperties = {{"x", "y"}};
      out.push_back(withProperties);
    }
  }

  Subscribe subscribe;
  subscribe.packetId = 7;
  subscribe.entries = {{"a/+", 1}, {"#", 2}, {"$share/g/x", 0}};
  if (v5) {
    subscribe.entries.push_back({"nl/rap/rh2", 0x2D});
    subscribe.entries.push_back({"rh1", 0x10});
    subscribe.properties.subscriptionIdentifiers = {268435455};
    subscribe.properties.userProperties = {{"s", "1"}};
  }
  out.push_back(subscribe);

  Suback suback;
  suback.packetId = 7;
  suback.reasonCodes = {0, 1, 2};
  if (version != V31) suback.reasonCodes.push_back(0x80);
  if (v5) {
    suback.reasonCodes.push_back(0x8F);
    suback.reasonCodes.push_back(0xA2);
    suback.properties.reasonString = "partly";
    suback.properties.userProperties = {{"r", "s"}};
  }
  out.push_back(suback);

  Unsubscribe unsubscribe;
  unsubscribe.packetId = 8;
  unsubscribe.filters = {"a/+", "#"};
  if (v5) unsubscribe.properties.userProperties = {{"u", "v"}};
  out.push_back(unsubscribe);

  Unsuback unsuback;
  unsuback.packetId = 8;
  if (v5) {
    unsuback.reasonCodes = {0x00, 0x11, 0x87};
    unsuback.properties.reasonString = "done";
  }
  out.push_back(unsuback);

  out.push_back(Pingreq{});
  out.push_back(Pingresp{});
  out.push_back(Disconnect{});
  if (v5) {
    Disconnect withWill;
    withWill.reason = ReasonCode::DisconnectWithWill;
    out.push_back(withWill);
    Disconnect moved;
    moved.reason = ReasonCode::ServerMoved;
    moved.properties.serverReference = "elsewhere";
    moved.properties.reasonString = "maintenance";
    moved.properties.sessionExpiryInterval = 0;
    moved.properties.userProperties = {{"a", "b"}};
    out.push_back(moved);
    out.push_back(Auth{});
    Auth reauth;
    reauth.reason = ReasonCode::ReAuthenticate;
    out.push_back(reauth);
    Auth cont;
    cont.reason = ReasonCode::ContinueAuthentication;
    cont.properties.authenticationMethod = "SCRAM-SHA-1";
    cont.properties.authenticationData = Bytes(kBlob);
    cont.properties.reasonString = "next";
    cont.properties.userProperties = {{"1", "2"}};
    out.push_back(cont);
  }
  return out;
}

class RoundTrip : public ::testing::TestWithParam<ProtocolVersion> {};

TEST_P(RoundTrip, EveryPacketTypeSurvivesEncodeThenDecode) {
  const ProtocolVersion version = GetParam();
  const std::vector<Packet> packets = samples(version);
  // All packets appended to one reusable buffer, then framed from it as a stream.
  ByteVector stream;
  for (const Packet& p : packets) {
    const Status status = encodePacket(p, version, stream);
    ASSERT_TRUE(status.ok()) << describe(p) << ": " << status.error().detail;
  }
  Framer framer;
  std::size_t index = 0;
  const Status status = framer.feed(Bytes(stream), [&](const Frame& frame) {
    EXPECT_LT(index, packets.size());
    if (index >= packets.size()) return false;
    EXPECT_EQ(frame.type(), packetTypeOf(packets[index]));
    const Result<Packet> decoded = decodePacket(frame, version);
    EXPECT_TRUE(decoded.ok()) << describe(packets[index]) << ": "
                              << (decoded.ok() ? "" : decoded.error().detail);
    if (decoded.ok()) {
      EXPECT_EQ(describe(*decoded), describe(packets[index]));
    }
    ++index;
    return true;
  });
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(index, packets.size());
  EXPECT_EQ(framer.bufferedBytes(), 0u);
}

INSTANTIATE_TEST_SUITE_P(AllVersions, RoundTrip, ::testing::Values(V31, V311, V5),
                         [](const auto& testInfo) {
                           return std::string("v") +
                                  std::to_string(static_cast<int>(testInfo.param));
                         });

TEST(Encode, V5OnlyFieldsAreDroppedBeforeV5) {
  Ack ack;
  ack.type = PacketType::Puback;
  ack.packetId = 3;
  ack.reason = ReasonCode::NoMatchingSubscribers;
  ack.properties.reasonString = "ignored";
  ByteVector out;
  ASSERT_TRUE(encodeAck(ack, V311, out).ok());
  EXPECT_EQ(toHex(out), "40 02 00 03");

  Disconnect disconnect;
  disconnect.reason = ReasonCode::DisconnectWithWill;
  out.clear();
  ASSERT_TRUE(encodeDisconnect(disconnect, V311, out).ok());
  EXPECT_EQ(toHex(out), "e0 00");

  Subscribe subscribe;
  subscribe.packetId = 1;
  subscribe.entries = {{"t", 0x2D}};
  out.clear();
  ASSERT_TRUE(encodeSubscribe(subscribe, V311, out).ok());
  EXPECT_EQ(toHex(out), "82 06 00 01 00 01 74 01");

  Connack connack;
  connack.sessionPresent = true;
  out.clear();
  ASSERT_TRUE(encodeConnack(connack, V31, out).ok());
  EXPECT_EQ(toHex(out), "20 02 00 00");
}

TEST(Encode, V5AcksUseTheShortestForm) {
  Ack ack;
  ack.type = PacketType::Pubrel;
  ack.packetId = 0x1234;
  ByteVector out;
  ASSERT_TRUE(encodeAck(ack, V5, out).ok());
  EXPECT_EQ(toHex(out), "62 02 12 34");
  ack.reason = ReasonCode::PacketIdentifierNotFound;
  out.clear();
  ASSERT_TRUE(encodeAck(ack, V5, out).ok());
  EXPECT_EQ(toHex(out), "62 03 12 34 92");
  out.clear();
  ASSERT_TRUE(encodeDisconnect(Disconnect{}, V5, out).ok());
  EXPECT_EQ(toHex(out), "e0 00");
  out.clear();
  ASSERT_TRUE(encodeAuth(Auth{}, V5, out).ok());
  EXPECT_EQ(toHex(out), "f0 00");
}

TEST(Encode, AppendsToTheCallersBuffer) {
  ByteVector out = {0xAA};
  ASSERT_TRUE(encodePingreq(Pingreq{}, V311, out).ok());
  ASSERT_TRUE(encodePingresp(Pingresp{}, V311, out).ok());
  EXPECT_EQ(toHex(out), "aa c0 00 d0 00");
}

struct EncodeFailure {
  const char* name;
  Packet packet;
  ProtocolVersion version;
};

std::vector<EncodeFailure> encodeFailures() {
  static const std::string kLong(65536, 'x');
  std::vector<EncodeFailure> cases;
  Publish longTopic;
  longTopic.topic = kLong;
  cases.push_back({"PublishTopicOver65535", longTopic, V311});
  Publish qos3;
  qos3.topic = "t";
  qos3.qos = 3;
  cases.push_back({"PublishQos3", qos3, V311});
  Publish longProperty;
  longProperty.topic = "t";
  longProperty.properties.responseTopic = kLong;
  cases.push_back({"PublishPropertyOver65535", longProperty, V5});
  Publish hugeSubId;
  hugeSubId.topic = "t";
  hugeSubId.properties.subscriptionIdentifiers = {268435456};
  cases.push_back({"SubscriptionIdentifierTooLarge", hugeSubId, V5});
  Connect passwordOnly;
  passwordOnly.version = V311;
  passwordOnly.password = Bytes(kBlob);
  cases.push_back({"ConnectPasswordWithoutUserNameV311", passwordOnly, V311});
  Connect longClientId;
  longClientId.clientId = kLong;
  cases.push_back({"ConnectClientIdOver65535", longClientId, V311});
  Connect willQos3;
  willQos3.will = Will{};
  willQos3.will->qos = 3;
  cases.push_back({"ConnectWillQos3", willQos3, V311});
  Connect bridgeV5;
  bridgeV5.version = V5;
  bridgeV5.bridge = true;
  cases.push_back({"ConnectBridgeFlagV5", bridgeV5, V5});
  cases.push_back({"AuthBeforeV5", Auth{}, V311});
  Subscribe longFilter;
  longFilter.entries = {{kLong, 0}};
  cases.push_back({"SubscribeFilterOver65535", longFilter, V5});
  Ack notAnAck;
  notAnAck.type = PacketType::Publish;
  cases.push_back({"AckWithPublishType", notAnAck, V5});
  return cases;
}

class EncodeFailureTest : public ::testing::TestWithParam<EncodeFailure> {};

TEST_P(EncodeFailureTest, FailsWithImplementationErrorAndAppendsNothing) {
  ByteVector out = {0x01, 0x02};
  const Status status = encodePacket(GetParam().packet, GetParam().version, out);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::ImplementationError);
  EXPECT_EQ(toHex(out), "01 02");
}

INSTANTIATE_TEST_SUITE_P(Cases, EncodeFailureTest, ::testing::ValuesIn(encodeFailures()),
                         [](const auto& testInfo) { return std::string(testInfo.param.name); });

TEST(Encode, PayloadTooLargeForTheRemainingLengthFails) {
  // A view claiming 256 MiB: never read, because sizing happens before writing.
  const std::uint8_t byte = 0;
  Publish publish;
  publish.topic = "t";
  publish.payload = Bytes(&byte, 268435455);
  ByteVector out;
  const Status status = encodePublish(publish, V311, out);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::ImplementationError);
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace midge::codec::test
