// SPDX-License-Identifier: Apache-2.0
// Known-good byte vectors for every packet type and version (the spec's examples where it
// has them): each decodes to the expected fields, and re-encoding gives the same bytes
// unless the input used a non-canonical (but legal) form.
#include <gtest/gtest.h>

#include "tests/core/codec/codec_test_util.hpp"

namespace midge::codec::test {
namespace {

constexpr auto V31 = ProtocolVersion::V31;
constexpr auto V311 = ProtocolVersion::V311;
constexpr auto V5 = ProtocolVersion::V5;

struct ValidCase {
  std::string name;
  ProtocolVersion version;
  ByteVector wire;
  std::string expected;
  bool canonical = true;  // false: legal input that our encoder writes in a shorter form
};

std::ostream& operator<<(std::ostream& os, const ValidCase& c) { return os << c.name; }

std::vector<ValidCase> validCases() {
  const ByteVector v5ConnectHead = hex("00 04 4d 51 54 54 05");
  return {
      // 3.1.1 figure 3.6: flags CE = user name, password, Will QoS 1, Will, clean session.
      {"ConnectSpecExampleV311", V311,
       packet(0x10, "00 04 4d 51 54 54 04 ce 00 0a 00 03 63 69 64 00 03 77 2f 74"
                    " 00 03 62 79 65 00 01 75 00 02 70 77"),
       "CONNECT v4 clean=1 keepAlive=10 clientId=\"cid\" will{topic=\"w/t\" payload=[62 79 "
       "65] qos=1 retain=0 props{}} username=\"u\" password=[70 77] props{}"},
      {"ConnectMQIsdpV31", V311,  // the version argument is ignored for CONNECT
       packet(0x10, "00 06 4d 51 49 73 64 70 03 02 00 3c 00 02 63 6c"),
       "CONNECT v3 clean=1 keepAlive=60 clientId=\"cl\" props{}"},
      // Mosquitto's bridge flag (try_private): 0x80 in the level byte, 3.1 and 3.1.1 only.
      {"ConnectBridgeFlagV311", V311,
       packet(0x10, "00 04 4d 51 54 54 84 00 00 3c 00 02 62 72"),
       "CONNECT v4 clean=0 keepAlive=60 clientId=\"br\" bridge=1 props{}"},
      {"ConnectBridgeFlagV31", V31,
       packet(0x10, "00 06 4d 51 49 73 64 70 83 02 00 3c 00 02 62 72"),
       "CONNECT v3 clean=1 keepAlive=60 clientId=\"br\" bridge=1 props{}"},
      {"ConnectEmptyClientIdPersistent", V311,
       packet(0x10, "00 04 4d 51 54 54 04 00 00 00 00 00"),
       "CONNECT v4 clean=0 keepAlive=0 clientId=\"\" props{}"},
      {"ConnectV5AllProperties", V311,
       packet(0x10,
              concat({v5ConnectHead, hex("f6 00 1e"),
                      props("11 00 00 0e 10 15 00 03 53 43 52 16 00 02 01 02 17 00 19 01"
                            " 21 00 14 22 00 0a 26 00 01 6b 00 01 76 27 00 00 10 00"),
                      hex("00 02 69 64"),
                      props("01 01 02 00 00 00 3c 03 00 04 74 65 78 74 08 00 01 72 09 00 01 ff"
                            " 18 00 00 00 05 26 00 01 61 00 01 62"),
                      hex("00 03 77 2f 74 00 01 21 00 04 75 73 65 72 00 01 00")})),
       "CONNECT v5 clean=1 keepAlive=30 clientId=\"id\" will{topic=\"w/t\" payload=[21] qos=2 "
       "retain=1 props{payloadFormat=1 messageExpiry=60 contentType=\"text\" "
       "responseTopic=\"r\" correlationData=[ff] willDelay=5 user(a=b) }} "
       "username=\"user\" password=[00] props{sessionExpiry=3600 authMethod=\"SCR\" "
       "authData=[01 02] requestProblem=0 requestResponse=1 receiveMaximum=20 "
       "topicAliasMaximum=10 user(k=v) maximumPacketSize=4096 }"},
      {"ConnectV5PasswordWithoutUserName", V5,
       packet(0x10, concat({v5ConnectHead, hex("42 00 00 00 00 01 78 00 01 70")})),
       "CONNECT v5 clean=1 keepAlive=0 clientId=\"x\" password=[70] props{}"},

      {"ConnackSessionPresentV311", V311, packet(0x20, "01 00"),
       "CONNACK sp=1 rc=0 props{}"},
      {"ConnackRefusedV311", V311, packet(0x20, "00 05"), "CONNACK sp=0 rc=5 props{}"},
      {"ConnackV31", V31, packet(0x20, "00 02"), "CONNACK sp=0 rc=2 props{}"},
      {"ConnackV5AllProperties", V5,
       packet(0x20, concat({hex("00 00"),
                            props("11 00 00 00 3c 12 00 02 61 62 13 00 1e 15 00 01 6d 16 00 00"
                                  " 1a 00 01 69 1c 00 01 73 1f 00 02 6f 6b 21 00 05 22 00 00"
                                  " 24 01 25 00 27 00 01 00 00 28 01 29 00 2a 01")})),
       "CONNACK sp=0 rc=0 props{sessionExpiry=60 assignedClientId=\"ab\" serverKeepAlive=30 "
       "authMethod=\"m\" authData=[] responseInfo=\"i\" serverReference=\"s\" "
       "reasonString=\"ok\" receiveMaximum=5 topicAliasMaximum=0 maximumQoS=1 "
       "retainAvailable=0 maximumPacketSize=65536 wildcardAvailable=1 subIdAvailable=0 "
       "sharedAvailable=1 }"},
      {"ConnackV5Refused", V5, packet(0x20, "00 87 00"), "CONNACK sp=0 rc=135 props{}"},

      // 3.1.1 figure 3.11: topic "a/b", packet identifier 10.
      {"PublishSpecExampleV311", V311, packet(0x32, "00 03 61 2f 62 00 0a 68 69"),
       "PUBLISH dup=0 qos=1 retain=0 topic=\"a/b\" id=10 props{} payload=[68 69]"},
      {"PublishQos0RetainEmptyPayload", V311, packet(0x31, "00 03 61 2f 62"),
       "PUBLISH dup=0 qos=0 retain=1 topic=\"a/b\" id=0 props{} payload=[]"},
      {"PublishQos2DupV31", V31, packet(0x3c, "00 01 74 ff ff 00"),
       "PUBLISH dup=1 qos=2 retain=0 topic=\"t\" id=65535 props{} payload=[00]"},
      {"PublishUtf8Topic", V311, packet(0x30, "00 05 41 f0 aa 9b 94"),
       "PUBLISH dup=0 qos=0 retain=0 topic=\"A\xF0\xAA\x9B\x94\" id=0 props{} payload=[]"},
      {"PublishV5AllProperties", V5,
       packet(0x34, concat({hex("00 01 74 00 07"),
                            props("01 01 02 00 00 00 0a 03 00 01 63 08 00 01 72 09 00 02 01 02"
                                  " 0b 01 0b ff ff ff 7f 23 00 03 26 00 01 61 00 01 31"
                                  " 26 00 01 61 00 01 32"),
                            hex("70")})),
       "PUBLISH dup=0 qos=2 retain=0 topic=\"t\" id=7 props{payloadFormat=1 messageExpiry=10 "
       "contentType=\"c\" responseTopic=\"r\" correlationData=[01 02] subId=1 "
       "subId=268435455 topicAlias=3 user(a=1) user(a=2) } payload=[70]"},
      {"PublishV5EmptyTopicWithAlias", V5, packet(0x30, "00 00 03 23 00 05 78"),
       "PUBLISH dup=0 qos=0 retain=0 topic=\"\" id=0 props{topicAlias=5 } payload=[78]"},
      {"PublishV5NoProperties", V5, packet(0x30, "00 01 74 00"),
       "PUBLISH dup=0 qos=0 retain=0 topic=\"t\" id=0 props{} payload=[]"},

      {"PubackV311", V311, packet(0x40, "00 0a"), "PUBACK id=10 reason=0 props{}"},
      {"PubrecV311", V311, packet(0x50, "00 0a"), "PUBREC id=10 reason=0 props{}"},
      {"PubrelV311", V311, packet(0x62, "00 0a"), "PUBREL id=10 reason=0 props{}"},
      {"PubcompV31", V31, packet(0x70, "ff ff"), "PUBCOMP id=65535 reason=0 props{}"},
      {"PubackV5ShortForm", V5, packet(0x40, "00 01"), "PUBACK id=1 reason=0 props{}"},
      {"PubackV5ReasonOnly", V5, packet(0x40, "00 01 10"), "PUBACK id=1 reason=16 props{}"},
      {"PubackV5SuccessSpelledOut", V5, packet(0x40, "00 01 00"),
       "PUBACK id=1 reason=0 props{}", false},
      {"PubackV5EmptyProperties", V5, packet(0x40, "00 01 00 00"),
       "PUBACK id=1 reason=0 props{}", false},
      {"PubrecV5ReasonString", V5,
       packet(0x50, concat({hex("00 01 80"), props("1f 00 02 6e 6f")})),
       "PUBREC id=1 reason=128 props{reasonString=\"no\" }"},
      {"PubrelV5NotFound", V5, packet(0x62, "00 01 92"), "PUBREL id=1 reason=146 props{}"},
      {"PubcompV5UserProperty", V5,
       packet(0x70, concat({hex("00 01 00"), props("26 00 01 6b 00 00")})),
       "PUBCOMP id=1 reason=0 props{user(k=) }"},

      // 3.1.1 figure 3.21: "a/b" QoS 1 and "c/d" QoS 2, packet identifier 10.
      {"SubscribeSpecExampleV311", V311,
       packet(0x82, "00 0a 00 03 61 2f 62 01 00 03 63 2f 64 02"),
       "SUBSCRIBE id=10 props{} \"a/b\"/1 \"c/d\"/2"},
      {"SubscribeV5Options", V5,
       packet(0x82, concat({hex("00 01"), props("0b 05 26 00 01 6b 00 01 76"),
                            hex("00 03 61 2f 23 2d 00 0a 24 73 68 61 72 65 2f 67 2f 74 00")})),
       "SUBSCRIBE id=1 props{subId=5 user(k=v) } \"a/#\"/45 \"$share/g/t\"/0"},
      // 3.1.1 figure 3.26: return codes 0, 1, 2 and failure.
      {"SubackSpecExampleV311", V311, packet(0x90, "00 0a 00 01 02 80"),
       "SUBACK id=10 props{} codes=[00 01 02 80]"},
      {"SubackV31", V31, packet(0x90, "00 0a 02"), "SUBACK id=10 props{} codes=[02]"},
      {"SubackV5AllCodes", V5,
       packet(0x90, concat({hex("00 01"), props("1f 00 01 72"),
                            hex("00 01 02 80 83 87 8f 91 97 9e a1 a2")})),
       "SUBACK id=1 props{reasonString=\"r\" } codes=[00 01 02 80 83 87 8f 91 97 9e a1 a2]"},
      // 3.1.1 figure 3.30.
      {"UnsubscribeSpecExampleV311", V311,
       packet(0xa2, "00 0a 00 03 61 2f 62 00 03 63 2f 64"),
       "UNSUBSCRIBE id=10 props{} \"a/b\" \"c/d\""},
      {"UnsubscribeV5", V5,
       packet(0xa2, concat({hex("00 02"), props("26 00 01 61 00 01 62"), hex("00 01 23")})),
       "UNSUBSCRIBE id=2 props{user(a=b) } \"#\""},
      {"UnsubackV311", V311, packet(0xb0, "00 0a"), "UNSUBACK id=10 props{} codes=[]"},
      {"UnsubackV5", V5, packet(0xb0, "00 0a 00 00 11 80 83 87 8f 91"),
       "UNSUBACK id=10 props{} codes=[00 11 80 83 87 8f 91]"},

      {"PingreqV311", V311, packet(0xc0, ""), "PINGREQ"},
      {"PingrespV5", V5, packet(0xd0, ""), "PINGRESP"},
      {"DisconnectV311", V311, packet(0xe0, ""), "DISCONNECT reason=0 props{}"},
      {"DisconnectV5Short", V5, packet(0xe0, ""), "DISCONNECT reason=0 props{}"},
      {"DisconnectV5WithWill", V5, packet(0xe0, "04"), "DISCONNECT reason=4 props{}"},
      {"DisconnectV5SuccessSpelledOut", V5, packet(0xe0, "00 00"),
       "DISCONNECT reason=0 props{}", false},
      {"DisconnectV5Properties", V5,
       packet(0xe0, concat({hex("8e"), props("11 00 00 00 00 1c 00 01 78 1f 00 01 79"
                                             " 26 00 01 61 00 01 62")})),
       "DISCONNECT reason=142 props{sessionExpiry=0 serverReference=\"x\" reasonString=\"y\" "
       "user(a=b) }"},
      // The packets whose bytes do not change between versions, in the versions the
      // rows above leave out, so that every type has a vector in each version it exists in.
      {"PubackV31", V31, packet(0x40, "00 0a"), "PUBACK id=10 reason=0 props{}"},
      {"PubrecV31", V31, packet(0x50, "00 0a"), "PUBREC id=10 reason=0 props{}"},
      {"PubrelV31", V31, packet(0x62, "00 0a"), "PUBREL id=10 reason=0 props{}"},
      {"PubcompV311", V311, packet(0x70, "00 0a"), "PUBCOMP id=10 reason=0 props{}"},
      {"PublishQos1V31", V31, packet(0x32, "00 03 61 2f 62 00 0a 68 69"),
       "PUBLISH dup=0 qos=1 retain=0 topic=\"a/b\" id=10 props{} payload=[68 69]"},
      {"SubscribeV31", V31, packet(0x82, "00 0a 00 03 61 2f 62 01"),
       "SUBSCRIBE id=10 props{} \"a/b\"/1"},
      {"UnsubscribeV31", V31, packet(0xa2, "00 0a 00 03 61 2f 62"),
       "UNSUBSCRIBE id=10 props{} \"a/b\""},
      {"UnsubackV31", V31, packet(0xb0, "00 0a"), "UNSUBACK id=10 props{} codes=[]"},
      {"PingreqV31", V31, packet(0xc0, ""), "PINGREQ"},
      {"PingreqV5", V5, packet(0xc0, ""), "PINGREQ"},
      {"PingrespV31", V31, packet(0xd0, ""), "PINGRESP"},
      {"PingrespV311", V311, packet(0xd0, ""), "PINGRESP"},
      {"DisconnectV31", V31, packet(0xe0, ""), "DISCONNECT reason=0 props{}"},

      {"AuthV5Short", V5, packet(0xf0, ""), "AUTH reason=0 props{}"},
      {"AuthV5ReasonOnly", V5, packet(0xf0, "19"), "AUTH reason=25 props{}"},
      {"AuthV5Continue", V5,
       packet(0xf0, concat({hex("18"), props("15 00 05 53 43 52 41 4d 16 00 01 2a"
                                             " 1f 00 01 6d")})),
       "AUTH reason=24 props{authMethod=\"SCRAM\" authData=[2a] reasonString=\"m\" }"},
  };
}

class ValidPacketTest : public ::testing::TestWithParam<ValidCase> {};

TEST_P(ValidPacketTest, DecodesToTheExpectedFields) {
  const ValidCase& c = GetParam();
  const Result<Packet> decoded = decodeWire(c.wire, c.version);
  ASSERT_TRUE(decoded.ok()) << decoded.error().detail;
  EXPECT_EQ(describe(*decoded), c.expected);
}

TEST_P(ValidPacketTest, ReencodesToTheSameBytesOrAShorterLegalForm) {
  const ValidCase& c = GetParam();
  const Result<Packet> decoded = decodeWire(c.wire, c.version);
  ASSERT_TRUE(decoded.ok()) << decoded.error().detail;
  ByteVector out;
  ASSERT_TRUE(encodePacket(*decoded, c.version, out).ok());
  if (c.canonical) {
    EXPECT_EQ(toHex(out), toHex(c.wire));
  } else {
    EXPECT_LT(out.size(), c.wire.size());
  }
  const Result<Packet> again = decodeWire(out, c.version);
  ASSERT_TRUE(again.ok()) << again.error().detail;
  EXPECT_EQ(describe(*again), c.expected);
}

TEST_P(ValidPacketTest, DecodesOneByteShortAsAnErrorNeverACrash) {
  // Every strict prefix of a valid body is either a legal shorter packet or an error;
  // this walks all of them so ASan sees every truncation point.
  const ValidCase& c = GetParam();
  const Frame whole = frameOf(c.wire);
  for (std::size_t n = 0; n < whole.body.size(); ++n) {
    Frame frame = whole;
    frame.body = whole.body.first(n);
    const Result<Packet> decoded = decodePacket(frame, c.version);
    if (!decoded.ok()) {
      const ErrorKind kind = decoded.error().kind;
      EXPECT_TRUE(kind == ErrorKind::Malformed || kind == ErrorKind::ProtocolError)
          << c.name << " prefix " << n << ": " << errorKindName(kind);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Spec, ValidPacketTest, ::testing::ValuesIn(validCases()),
                         [](const auto& testInfo) { return testInfo.param.name; });

TEST(PerTypeApi, DecodersMatchTheDispatcher) {
  const ByteVector wire = packet(0x32, "00 03 61 2f 62 00 0a 68 69");
  const Result<Publish> publish = decodePublish(frameOf(wire), V311);
  ASSERT_TRUE(publish.ok());
  EXPECT_EQ(publish->topic, "a/b");
  EXPECT_EQ(publish->packetId, 10);
  // Views point into the frame: no copy of topic or payload.
  EXPECT_EQ(reinterpret_cast<const std::uint8_t*>(publish->topic.data()), wire.data() + 4);
  EXPECT_EQ(publish->payload.data(), wire.data() + 9);
  EXPECT_EQ(packetTypeOf(Packet(*publish)), PacketType::Publish);

  Publish reused;
  reused.properties.userProperties.push_back({"stale", "value"});
  ASSERT_TRUE(decodePublish(frameOf(wire), V311, reused).ok());
  EXPECT_TRUE(reused.properties.userProperties.empty());
  EXPECT_EQ(reused.payload.size(), 2u);

  const Result<Ack> ack = decodeAck(frameOf(packet(0x62, "00 0a")), V311);
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(ack->type, PacketType::Pubrel);
  EXPECT_EQ(packetTypeOf(Packet(*ack)), PacketType::Pubrel);
  const Result<Ack> notAnAck = decodeAck(frameOf(packet(0xc0, "")), V311);
  ASSERT_FALSE(notAnAck.ok());
  EXPECT_EQ(notAnAck.error().kind, ErrorKind::ImplementationError);
}

TEST(Encoders, ABurstIntoOneBufferGrowsItGeometrically) {
  // A turn appends every packet for one connection to one buffer. Growing it by exactly
  // each packet's size would copy the whole buffer once per packet.
  std::vector<std::uint8_t> out;
  Publish publish;
  publish.topic = "fleet/gateway-7/readings";
  const std::vector<std::uint8_t> payload(100, 0x42);
  publish.payload = Bytes(payload.data(), payload.size());
  constexpr int kPackets = 10000;
  int reallocations = 0;
  for (int i = 0; i < kPackets; ++i) {
    const std::size_t capacity = out.capacity();
    ASSERT_TRUE(encodePublish(publish, ProtocolVersion::V311, out).ok());
    if (out.capacity() != capacity) ++reallocations;
  }
  EXPECT_LT(reallocations, 40) << "over " << kPackets << " packets";
}

}  // namespace
}  // namespace midge::codec::test
