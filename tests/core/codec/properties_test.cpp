// SPDX-License-Identifier: Apache-2.0
// Every MQTT 5 property against every packet type (spec table 2-4), duplicates, and the
// encoder's body/preEncoded handling.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/core/codec/codec_test_util.hpp"

namespace midge::codec::test {
namespace {

using S = PropertyScope;

struct PropertySpec {
  const char* name;
  const char* encoded;  // identifier and a valid value
  std::vector<PropertyScope> allowed;
  bool repeatable_in_publish = false;  // Subscription Identifier
  bool repeatable = false;             // User Property
};

const std::vector<PropertySpec>& propertySpecs() {
  static const std::vector<PropertySpec> specs = {
      {"PayloadFormatIndicator", "01 01", {S::Publish, S::Will}},
      {"MessageExpiryInterval", "02 00 00 00 01", {S::Publish, S::Will}},
      {"ContentType", "03 00 01 61", {S::Publish, S::Will}},
      {"ResponseTopic", "08 00 01 61", {S::Publish, S::Will}},
      {"CorrelationData", "09 00 01 61", {S::Publish, S::Will}},
      {"SubscriptionIdentifier", "0b 01", {S::Publish, S::Subscribe}, true},
      {"SessionExpiryInterval", "11 00 00 00 01", {S::Connect, S::Connack, S::Disconnect}},
      {"AssignedClientIdentifier", "12 00 01 61", {S::Connack}},
      {"ServerKeepAlive", "13 00 01", {S::Connack}},
      {"AuthenticationMethod", "15 00 01 61", {S::Connect, S::Connack, S::Auth}},
      {"AuthenticationData", "16 00 01 61", {S::Connect, S::Connack, S::Auth}},
      {"RequestProblemInformation", "17 01", {S::Connect}},
      {"WillDelayInterval", "18 00 00 00 01", {S::Will}},
      {"RequestResponseInformation", "19 01", {S::Connect}},
      {"ResponseInformation", "1a 00 01 61", {S::Connack}},
      {"ServerReference", "1c 00 01 61", {S::Connack, S::Disconnect}},
      {"ReasonString", "1f 00 01 61",
       {S::Connack, S::Puback, S::Pubrec, S::Pubrel, S::Pubcomp, S::Suback, S::Unsuback,
        S::Disconnect, S::Auth}},
      {"ReceiveMaximum", "21 00 01", {S::Connect, S::Connack}},
      {"TopicAliasMaximum", "22 00 01", {S::Connect, S::Connack}},
      {"TopicAlias", "23 00 01", {S::Publish}},
      {"MaximumQoS", "24 01", {S::Connack}},
      {"RetainAvailable", "25 01", {S::Connack}},
      {"UserProperty", "26 00 01 61 00 01 62",
       {S::Connect, S::Connack, S::Publish, S::Will, S::Puback, S::Pubrec, S::Pubrel,
        S::Pubcomp, S::Subscribe, S::Suback, S::Unsubscribe, S::Unsuback, S::Disconnect,
        S::Auth},
       false, true},
      {"MaximumPacketSize", "27 00 00 00 01", {S::Connect, S::Connack}},
      {"WildcardSubscriptionAvailable", "28 01", {S::Connack}},
      {"SubscriptionIdentifierAvailable", "29 01", {S::Connack}},
      {"SharedSubscriptionAvailable", "2a 01", {S::Connack}},
  };
  return specs;
}

Status decodeIn(PropertyScope scope, const ByteVector& body, Properties& out) {
  if (scope == S::Will) return decodeWillPropertiesBody(Bytes(body), out);
  return decodePropertiesBody(Bytes(body), static_cast<PacketType>(scope), out);
}

class PropertyMatrix : public ::testing::TestWithParam<PropertySpec> {};

TEST_P(PropertyMatrix, AllowedExactlyWhereTheSpecSays) {
  const PropertySpec& spec = GetParam();
  const ByteVector body = hex(spec.encoded);
  for (unsigned s = 1; s <= static_cast<unsigned>(S::Will); ++s) {
    const auto scope = static_cast<PropertyScope>(s);
    const bool allowed =
        std::find(spec.allowed.begin(), spec.allowed.end(), scope) != spec.allowed.end();
    Properties out;
    const Status status = decodeIn(scope, body, out);
    if (allowed) {
      EXPECT_TRUE(status.ok()) << spec.name << " in scope " << s << ": "
                               << status.error().detail;
    } else {
      ASSERT_FALSE(status.ok()) << spec.name << " accepted in scope " << s;
      EXPECT_EQ(status.error().kind, ErrorKind::Malformed) << spec.name << " scope " << s;
    }
  }
}

TEST_P(PropertyMatrix, DuplicatesRejectedWhereTheSpecForbidsThem) {
  const PropertySpec& spec = GetParam();
  const ByteVector twice = concat({hex(spec.encoded), hex(spec.encoded)});
  for (const PropertyScope scope : spec.allowed) {
    Properties out;
    const Status status = decodeIn(scope, twice, out);
    const bool repeatable =
        spec.repeatable || (spec.repeatable_in_publish && scope == S::Publish);
    if (repeatable) {
      EXPECT_TRUE(status.ok()) << spec.name << ": " << status.error().detail;
    } else {
      ASSERT_FALSE(status.ok()) << spec.name << " duplicate accepted";
      EXPECT_EQ(status.error().kind, ErrorKind::ProtocolError) << spec.name;
    }
  }
}

TEST_P(PropertyMatrix, TruncatedValueIsMalformed) {
  const PropertySpec& spec = GetParam();
  ByteVector body = hex(spec.encoded);
  body.pop_back();
  Properties out;
  const Status status = decodeIn(spec.allowed.front(), body, out);
  ASSERT_FALSE(status.ok()) << spec.name;
  EXPECT_EQ(status.error().kind, ErrorKind::Malformed);
}

TEST_P(PropertyMatrix, EncodesBackToTheSameBytes) {
  const PropertySpec& spec = GetParam();
  const ByteVector body = hex(spec.encoded);
  Properties decoded;
  ASSERT_TRUE(decodeIn(spec.allowed.front(), body, decoded).ok());
  ByteVector out;
  encodePropertiesBody(decoded, out);
  EXPECT_EQ(toHex(out), toHex(body));
}

INSTANTIATE_TEST_SUITE_P(Spec, PropertyMatrix, ::testing::ValuesIn(propertySpecs()),
                         [](const auto& testInfo) { return std::string(testInfo.param.name); });

struct BadValueCase {
  const char* name;
  PropertyScope scope;
  const char* body;
};

class PropertyBadValue : public ::testing::TestWithParam<BadValueCase> {};

TEST_P(PropertyBadValue, IsAProtocolError) {
  Properties out;
  const Status status = decodeIn(GetParam().scope, hex(GetParam().body), out);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::ProtocolError) << status.error().detail;
}

INSTANTIATE_TEST_SUITE_P(
    Spec, PropertyBadValue,
    ::testing::Values(BadValueCase{"PayloadFormat2", S::Publish, "01 02"},
                      BadValueCase{"PayloadFormatFF", S::Will, "01 ff"},
                      BadValueCase{"SubscriptionIdZero", S::Subscribe, "0b 00"},
                      BadValueCase{"RequestProblem2", S::Connect, "17 02"},
                      BadValueCase{"RequestResponse2", S::Connect, "19 02"},
                      BadValueCase{"ReceiveMaximumZero", S::Connack, "21 00 00"},
                      BadValueCase{"TopicAliasZero", S::Publish, "23 00 00"},
                      BadValueCase{"MaximumQos2", S::Connack, "24 02"},
                      BadValueCase{"RetainAvailable2", S::Connack, "25 02"},
                      BadValueCase{"MaximumPacketSizeZero", S::Connect, "27 00 00 00 00"},
                      BadValueCase{"WildcardAvailable2", S::Connack, "28 02"},
                      BadValueCase{"SubIdAvailable2", S::Connack, "29 02"},
                      BadValueCase{"SharedAvailable2", S::Connack, "2a 02"}),
    [](const auto& testInfo) { return std::string(testInfo.param.name); });

TEST(Properties, ZeroIsFineWhereTheSpecAllowsIt) {
  Properties out;
  ASSERT_TRUE(decodeIn(S::Connack, hex("13 00 00 22 00 00 11 00 00 00 00"), out).ok());
  EXPECT_EQ(out.serverKeepAlive, 0);
  EXPECT_EQ(out.topicAliasMaximum, 0);
  EXPECT_EQ(out.sessionExpiryInterval, 0u);
  ASSERT_TRUE(decodeIn(S::Publish, hex("02 00 00 00 00 01 00"), out).ok());
  EXPECT_EQ(out.messageExpiryInterval, 0u);
}

TEST(Properties, UserPropertiesKeepWireOrderIncludingRepeats) {
  const ByteVector body =
      hex("26 00 01 62 00 01 31 26 00 01 61 00 01 32 26 00 01 62 00 01 33");
  Properties out;
  ASSERT_TRUE(decodeIn(S::Publish, body, out).ok());
  ASSERT_EQ(out.userProperties.size(), 3u);
  EXPECT_EQ(out.userProperties[0], UserProperty("b", "1"));
  EXPECT_EQ(out.userProperties[1], UserProperty("a", "2"));
  EXPECT_EQ(out.userProperties[2], UserProperty("b", "3"));
}

TEST(Properties, DecodeBodyClearsPreviousContent) {
  Properties out;
  out.topicAlias = 9;
  out.userProperties.push_back({"x", "y"});
  ASSERT_TRUE(decodeIn(S::Publish, hex("02 00 00 00 05"), out).ok());
  EXPECT_FALSE(out.topicAlias);
  EXPECT_TRUE(out.userProperties.empty());
  EXPECT_EQ(out.messageExpiryInterval, 5u);
}

TEST(Properties, PreEncodedIsAppendedVerbatimAndDecodesBack) {
  // The engine stores a message's pass-through properties once, encoded...
  Properties passThrough;
  passThrough.contentType = "text/plain";
  passThrough.userProperties.push_back({"k", "v"});
  ByteVector stored;
  encodePropertiesBody(passThrough, stored);

  // ...and adds per-subscriber ones when it forwards the message.
  Properties outgoing;
  outgoing.subscriptionIdentifiers = {7};
  outgoing.preEncoded = Bytes(stored);
  ByteVector body;
  encodePropertiesBody(outgoing, body);
  EXPECT_EQ(toHex(Bytes(body.data() + body.size() - stored.size(), stored.size())),
            toHex(Bytes(stored)));

  Properties decoded;
  ASSERT_TRUE(decodePropertiesBody(Bytes(body), PacketType::Publish, decoded).ok());
  EXPECT_EQ(decoded.contentType, "text/plain");
  EXPECT_EQ(decoded.subscriptionIdentifiers, std::vector<std::uint32_t>{7});
  ASSERT_EQ(decoded.userProperties.size(), 1u);
  EXPECT_TRUE(decoded.preEncoded.empty());

  Publish publish;
  publish.topic = "t";
  publish.properties = outgoing;
  ByteVector wire;
  ASSERT_TRUE(encodePublish(publish, ProtocolVersion::V5, wire).ok());
  const Result<Publish> again = decodePublish(frameOf(wire), ProtocolVersion::V5);
  ASSERT_TRUE(again.ok()) << again.error().detail;
  EXPECT_EQ(again->properties.contentType, "text/plain");
  EXPECT_EQ(again->properties.subscriptionIdentifiers, std::vector<std::uint32_t>{7});
}

TEST(Properties, EmptyBodyIsValidEverywhere) {
  for (unsigned s = 1; s <= static_cast<unsigned>(S::Will); ++s) {
    Properties out;
    EXPECT_TRUE(decodeIn(static_cast<PropertyScope>(s), ByteVector{}, out).ok());
  }
}

TEST(Properties, UnknownIdentifiersAreMalformed) {
  for (const std::uint8_t id : std::initializer_list<std::uint8_t>{0x00, 0x04, 0x0a, 0x10, 0x14, 0x1b, 0x20, 0x2b, 0x7f}) {
    Properties out;
    const Status status = decodeIn(S::Publish, ByteVector{id, 0, 0, 0, 0}, out);
    ASSERT_FALSE(status.ok()) << +id;
    EXPECT_EQ(status.error().kind, ErrorKind::Malformed);
  }
}

}  // namespace
}  // namespace midge::codec::test
