// SPDX-License-Identifier: Apache-2.0
// One row per rule a peer can break, with the error kind the engine will map to a reason
// code (0x81 Malformed, 0x82 Protocol Error, 0x84 Unsupported Protocol Version).
#include <gtest/gtest.h>

#include <cstring>

#include "tests/core/codec/codec_test_util.hpp"

namespace midge::codec::test {
namespace {

constexpr auto V31 = ProtocolVersion::V31;
constexpr auto V311 = ProtocolVersion::V311;
constexpr auto V5 = ProtocolVersion::V5;
constexpr auto kMalformed = ErrorKind::Malformed;
constexpr auto kProtocol = ErrorKind::ProtocolError;
constexpr auto kVersion = ErrorKind::UnsupportedVersion;

struct BadCase {
  std::string name;
  ProtocolVersion version;
  ByteVector wire;
  ErrorKind kind;
};

std::ostream& operator<<(std::ostream& os, const BadCase& c) { return os << c.name; }

ByteVector connectV311(std::string_view flags, std::string_view payload) {
  return packet(0x10, concat({hex("00 04 4d 51 54 54 04"), hex(flags), hex("00 3c"),
                              hex(payload)}));
}
ByteVector connectV5(const ByteVector& properties, std::string_view flags = "02",
                     std::string_view payload = "00 02 63 6c") {
  return packet(0x10, concat({hex("00 04 4d 51 54 54 05"), hex(flags), hex("00 3c"), properties,
                              hex(payload)}));
}
// A v5 CONNECT with a Will whose properties are given.
ByteVector connectV5Will(const ByteVector& willProperties) {
  return packet(0x10, concat({hex("00 04 4d 51 54 54 05 06 00 3c 00 00 02 63 6c"),
                              willProperties, hex("00 01 74 00 00")}));
}
ByteVector publishV5(const ByteVector& properties) {
  return packet(0x30, concat({hex("00 01 74"), properties}));
}

std::vector<BadCase> badCases() {
  return {
      // --- reserved packet types ---
      {"ReservedType0", V311, packet(0x00, ""), kMalformed},
      {"AuthBeforeV5", V311, packet(0xf0, ""), kMalformed},
      {"AuthInV31", V31, packet(0xf0, "00 00"), kMalformed},

      // --- CONNECT ---
      {"ConnectHeaderFlags", V311, packet(0x11, "00 04 4d 51 54 54 04 02 00 3c 00 02 63 6c"),
       kMalformed},
      {"ConnectUnknownProtocolName", V311,
       packet(0x10, "00 04 4d 51 54 58 04 02 00 3c 00 02 63 6c"), kMalformed},
      {"ConnectLowercaseProtocolName", V311,
       packet(0x10, "00 04 6d 71 74 74 04 02 00 3c 00 02 63 6c"), kMalformed},
      {"ConnectMqttLevel3", V311, packet(0x10, "00 04 4d 51 54 54 03 02 00 3c 00 02 63 6c"),
       kVersion},
      {"ConnectMqttLevel6", V311, packet(0x10, "00 04 4d 51 54 54 06 02 00 3c 00 02 63 6c"),
       kVersion},
      {"ConnectMqisdpLevel4", V311,
       packet(0x10, "00 06 4d 51 49 73 64 70 04 02 00 3c 00 02 63 6c"), kVersion},
      // The bridge flag exists for 3.1 and 3.1.1 only, and does not change the name's level.
      {"ConnectBridgeFlagV5", V311,
       packet(0x10, "00 04 4d 51 54 54 85 02 00 3c 00 00 02 63 6c"), kVersion},
      {"ConnectMqttBridgeLevel3", V311,
       packet(0x10, "00 04 4d 51 54 54 83 02 00 3c 00 02 63 6c"), kVersion},
      {"ConnectMqisdpBridgeLevel4", V311,
       packet(0x10, "00 06 4d 51 49 73 64 70 84 02 00 3c 00 02 63 6c"), kVersion},
      {"ConnectEmptyBody", V311, packet(0x10, ""), kMalformed},
      {"ConnectNameTruncated", V311, packet(0x10, "00 04 4d 51"), kMalformed},
      {"ConnectLevelMissing", V311, packet(0x10, "00 04 4d 51 54 54"), kMalformed},
      {"ConnectFlagsMissing", V311, packet(0x10, "00 04 4d 51 54 54 04"), kMalformed},
      {"ConnectKeepAliveTruncated", V311, packet(0x10, "00 04 4d 51 54 54 04 02 00"),
       kMalformed},
      {"ConnectReservedFlag", V311, connectV311("03", "00 02 63 6c"), kMalformed},
      {"ConnectWillQos3", V311, connectV311("1e", "00 02 63 6c 00 01 74 00 00"), kMalformed},
      {"ConnectWillQosWithoutWill", V311, connectV311("0a", "00 02 63 6c"), kMalformed},
      {"ConnectWillRetainWithoutWill", V311, connectV311("22", "00 02 63 6c"), kMalformed},
      {"ConnectPasswordWithoutUserNameV311", V311, connectV311("42", "00 02 63 6c 00 01 70"),
       kMalformed},
      {"ConnectPasswordWithoutUserNameV31", V311,
       packet(0x10, "00 06 4d 51 49 73 64 70 03 42 00 3c 00 02 63 6c 00 01 70"), kMalformed},
      {"ConnectTrailingByte", V311, connectV311("02", "00 02 63 6c 00"), kMalformed},
      {"ConnectClientIdMissing", V311, connectV311("02", ""), kMalformed},
      {"ConnectClientIdTruncated", V311, connectV311("02", "00 02 63"), kMalformed},
      {"ConnectClientIdOverlongNul", V311, connectV311("02", "00 02 c0 80"), kMalformed},
      {"ConnectClientIdNul", V311, connectV311("02", "00 01 00"), kMalformed},
      {"ConnectWillTopicMissing", V311, connectV311("06", "00 02 63 6c"), kMalformed},
      {"ConnectWillPayloadMissing", V311, connectV311("06", "00 02 63 6c 00 01 74"),
       kMalformed},
      {"ConnectWillTopicSurrogate", V311, connectV311("06", "00 02 63 6c 00 03 ed a0 80 00 00"),
       kMalformed},
      {"ConnectUserNameMissing", V311, connectV311("82", "00 02 63 6c"), kMalformed},
      {"ConnectUserNameInvalidUtf8", V311, connectV311("82", "00 02 63 6c 00 01 ff"),
       kMalformed},
      {"ConnectPasswordMissing", V311, connectV311("c2", "00 02 63 6c 00 01 75"), kMalformed},
      {"ConnectPasswordTruncated", V311, connectV311("c2", "00 02 63 6c 00 01 75 00 05 70"),
       kMalformed},
      {"ConnectV5PropertiesMissing", V5,
       packet(0x10, "00 04 4d 51 54 54 05 02 00 3c"), kMalformed},
      {"ConnectV5PropertyLengthPastEnd", V5, connectV5(hex("10 11 00 00 00 00")), kMalformed},
      {"ConnectV5UnknownProperty", V5, connectV5(props("05 00")), kMalformed},
      {"ConnectV5TopicAliasNotAllowed", V5, connectV5(props("23 00 01")), kMalformed},
      {"ConnectV5WillDelayNotAllowed", V5, connectV5(props("18 00 00 00 01")), kMalformed},
      {"ConnectV5DuplicateSessionExpiry", V5,
       connectV5(props("11 00 00 00 01 11 00 00 00 02")), kProtocol},
      {"ConnectV5ReceiveMaximumZero", V5, connectV5(props("21 00 00")), kProtocol},
      {"ConnectV5MaximumPacketSizeZero", V5, connectV5(props("27 00 00 00 00")), kProtocol},
      {"ConnectV5RequestProblemInformation2", V5, connectV5(props("17 02")), kProtocol},
      {"ConnectV5RequestResponseInformation2", V5, connectV5(props("19 02")), kProtocol},
      {"ConnectV5AuthDataWithoutMethod", V5, connectV5(props("16 00 01 00")), kProtocol},
      {"ConnectV5DuplicateAuthMethod", V5, connectV5(props("15 00 01 61 15 00 01 61")),
       kProtocol},
      {"ConnectV5PropertyTruncated", V5, connectV5(props("11 00 00")), kMalformed},
      {"ConnectV5UserPropertyValueMissing", V5, connectV5(props("26 00 01 61")), kMalformed},
      {"ConnectV5UserPropertyNul", V5, connectV5(props("26 00 01 00 00 01 61")), kMalformed},
      {"ConnectV5PropertyLengthNotMinimal", V5, connectV5(hex("80 00")), kMalformed},
      {"ConnectV5PropertyIdNotMinimal", V5, connectV5(props("91 00 00 00 00 01")), kMalformed},
      {"ConnectV5WillTopicAliasNotAllowed", V5, connectV5Will(props("23 00 01")), kMalformed},
      {"ConnectV5WillSessionExpiryNotAllowed", V5, connectV5Will(props("11 00 00 00 01")),
       kMalformed},
      {"ConnectV5WillPayloadFormat2", V5, connectV5Will(props("01 02")), kProtocol},
      {"ConnectV5WillDuplicateWillDelay", V5,
       connectV5Will(props("18 00 00 00 01 18 00 00 00 01")), kProtocol},
      {"ConnectV5WillDuplicateContentType", V5,
       connectV5Will(props("03 00 00 03 00 00")), kProtocol},
      {"ConnectV5WillCorrelationDataTruncated", V5, connectV5Will(props("09 00 05 01")),
       kMalformed},

      // --- CONNACK ---
      {"ConnackHeaderFlags", V311, packet(0x21, "00 00"), kMalformed},
      {"ConnackTruncated", V311, packet(0x20, "00"), kMalformed},
      {"ConnackReservedAckFlags", V311, packet(0x20, "02 00"), kMalformed},
      {"ConnackReturnCode6", V311, packet(0x20, "00 06"), kProtocol},
      {"ConnackSessionPresentWithRefusal", V311, packet(0x20, "01 05"), kProtocol},
      {"ConnackTrailingByteV311", V311, packet(0x20, "00 00 00"), kMalformed},
      {"ConnackV5ReasonNotAllowed", V5, packet(0x20, "00 04 00"), kProtocol},
      {"ConnackV5PropertiesMissing", V5, packet(0x20, "00 00"), kMalformed},
      {"ConnackV5SessionPresentWithRefusal", V5, packet(0x20, "01 80 00"), kProtocol},
      {"ConnackV5MaximumQos2", V5, packet(0x20, concat({hex("00 00"), props("24 02")})),
       kProtocol},
      {"ConnackV5RetainAvailable2", V5, packet(0x20, concat({hex("00 00"), props("25 02")})),
       kProtocol},
      {"ConnackV5WildcardAvailable2", V5, packet(0x20, concat({hex("00 00"), props("28 02")})),
       kProtocol},
      {"ConnackV5SubIdAvailable2", V5, packet(0x20, concat({hex("00 00"), props("29 02")})),
       kProtocol},
      {"ConnackV5SharedAvailable2", V5, packet(0x20, concat({hex("00 00"), props("2a 02")})),
       kProtocol},
      {"ConnackV5ReceiveMaximumZero", V5, packet(0x20, concat({hex("00 00"), props("21 00 00")})),
       kProtocol},
      {"ConnackV5RequestProblemNotAllowed", V5,
       packet(0x20, concat({hex("00 00"), props("17 01")})), kMalformed},
      {"ConnackV5TrailingByte", V5, packet(0x20, "00 00 00 00"), kMalformed},

      // --- PUBLISH ---
      {"PublishQos3", V311, packet(0x36, "00 01 61 00 01"), kMalformed},
      {"PublishQos3V5", V5, packet(0x36, "00 01 61 00 01 00"), kMalformed},
      {"PublishQos0Dup", V311, packet(0x38, "00 01 61"), kMalformed},
      {"PublishQos0DupV5", V5, packet(0x38, "00 01 61 00"), kMalformed},
      {"PublishPacketIdZero", V311, packet(0x32, "00 01 61 00 00"), kProtocol},
      {"PublishPacketIdZeroQos2V5", V5, packet(0x34, "00 01 61 00 00 00"), kProtocol},
      {"PublishEmptyBody", V311, packet(0x30, ""), kMalformed},
      {"PublishTopicLengthPastEnd", V311, packet(0x30, "00 05 61"), kMalformed},
      {"PublishPacketIdTruncated", V311, packet(0x32, "00 01 61 00"), kMalformed},
      {"PublishTopicSurrogate", V311, packet(0x30, "00 03 ed a0 80"), kMalformed},
      {"PublishTopicNul", V311, packet(0x30, "00 02 61 00"), kMalformed},
      {"PublishTopicAbove10FFFF", V311, packet(0x30, "00 04 f4 90 80 80"), kMalformed},
      {"PublishTopicOverlong", V31, packet(0x30, "00 02 c1 81"), kMalformed},
      {"PublishEmptyTopic", V311, packet(0x30, "00 00 61"), kProtocol},
      {"PublishV5EmptyTopicWithoutAlias", V5, packet(0x30, "00 00 00"), kProtocol},
      {"PublishV5PropertiesMissing", V5, packet(0x30, "00 01 74"), kMalformed},
      {"PublishV5PropertyLengthPastEnd", V5, packet(0x30, "00 01 74 05 01"), kMalformed},
      {"PublishV5PropertyValueTruncated", V5, publishV5(props("02 00")), kMalformed},
      {"PublishV5TopicAliasZero", V5, publishV5(props("23 00 00")), kProtocol},
      {"PublishV5DuplicateTopicAlias", V5, publishV5(props("23 00 01 23 00 02")), kProtocol},
      {"PublishV5DuplicateMessageExpiry", V5,
       publishV5(props("02 00 00 00 01 02 00 00 00 01")), kProtocol},
      {"PublishV5DuplicatePayloadFormat", V5, publishV5(props("01 00 01 00")), kProtocol},
      {"PublishV5DuplicateResponseTopic", V5, publishV5(props("08 00 01 72 08 00 01 72")),
       kProtocol},
      {"PublishV5DuplicateCorrelationData", V5, publishV5(props("09 00 00 09 00 00")),
       kProtocol},
      {"PublishV5PayloadFormat2", V5, publishV5(props("01 02")), kProtocol},
      {"PublishV5SubscriptionIdZero", V5, publishV5(props("0b 00")), kProtocol},
      {"PublishV5SubscriptionIdTooLong", V5, publishV5(props("0b ff ff ff ff 01")), kMalformed},
      {"PublishV5SubscriptionIdNotMinimal", V5, publishV5(props("0b 81 00")), kMalformed},
      {"PublishV5SessionExpiryNotAllowed", V5, publishV5(props("11 00 00 00 01")), kMalformed},
      {"PublishV5ReasonStringNotAllowed", V5, publishV5(props("1f 00 00")), kMalformed},
      {"PublishV5WillDelayNotAllowed", V5, publishV5(props("18 00 00 00 01")), kMalformed},
      {"PublishV5ContentTypeInvalidUtf8", V5, publishV5(props("03 00 01 80")), kMalformed},
      {"PublishV5UnknownProperty0", V5, publishV5(props("00")), kMalformed},
      {"PublishV5UnknownProperty2B", V5, publishV5(props("2b 00")), kMalformed},
      // 257 = 0x81 0x02: narrowed to one byte it would read as Payload Format Indicator.
      {"PublishV5PropertyId257", V5, publishV5(props("81 02 01")), kMalformed},
      {"ConnectV5PropertyId0x80", V5, connectV5(props("80 01 00")), kMalformed},

      // --- PUBACK / PUBREC / PUBREL / PUBCOMP ---
      {"PubackHeaderFlags", V311, packet(0x41, "00 01"), kMalformed},
      {"PubrecHeaderFlags", V311, packet(0x52, "00 01"), kMalformed},
      {"PubrelHeaderFlags0000", V311, packet(0x60, "00 01"), kMalformed},
      {"PubrelHeaderFlags0011", V5, packet(0x63, "00 01"), kMalformed},
      {"PubcompHeaderFlags", V5, packet(0x78, "00 01"), kMalformed},
      {"PubackEmpty", V311, packet(0x40, ""), kMalformed},
      {"PubackTruncated", V5, packet(0x40, "00"), kMalformed},
      {"PubackPacketIdZero", V311, packet(0x40, "00 00"), kProtocol},
      {"PubrelPacketIdZeroV5", V5, packet(0x62, "00 00"), kProtocol},
      {"PubackLength3V311", V311, packet(0x40, "00 01 00"), kMalformed},
      {"PubcompLength4V31", V31, packet(0x70, "00 01 00 00"), kMalformed},
      {"PubackV5ReasonNotAllowed", V5, packet(0x40, "00 01 92"), kProtocol},
      {"PubrecV5ReasonNotAllowed", V5, packet(0x50, "00 01 01"), kProtocol},
      {"PubrelV5ReasonNotAllowed", V5, packet(0x62, "00 01 10"), kProtocol},
      {"PubcompV5ReasonNotAllowed", V5, packet(0x70, "00 01 80"), kProtocol},
      {"PubackV5PropertyLengthPastEnd", V5, packet(0x40, "00 01 00 03 1f"), kMalformed},
      {"PubackV5TopicAliasNotAllowed", V5, packet(0x40, concat({hex("00 01 00"),
                                                                 props("23 00 01")})),
       kMalformed},
      {"PubackV5DuplicateReasonString", V5,
       packet(0x40, concat({hex("00 01 00"), props("1f 00 00 1f 00 00")})), kProtocol},
      {"PubackV5TrailingAfterProperties", V5, packet(0x40, "00 01 00 00 00"), kMalformed},

      // --- SUBSCRIBE ---
      {"SubscribeHeaderFlags0000", V311, packet(0x80, "00 01 00 01 61 00"), kMalformed},
      {"SubscribeHeaderFlags0011", V5, packet(0x83, "00 01 00 00 01 61 00"), kMalformed},
      // DUP on these is a 3.1 habit; 3.1.1 and 5.0 fixed the flags at 0010.
      {"SubscribeDupV311", V311, packet(0x8a, "00 01 00 01 61 00"), kMalformed},
      {"PubrelDupV5", V5, packet(0x6a, "00 01"), kMalformed},
      {"UnsubscribeDupV311", V311, packet(0xaa, "00 01 00 01 61"), kMalformed},
      {"SubscribePacketIdZero", V311, packet(0x82, "00 00 00 01 61 00"), kProtocol},
      {"SubscribeNoFilterV311", V311, packet(0x82, "00 01"), kProtocol},
      {"SubscribeNoFilterV5", V5, packet(0x82, "00 01 00"), kProtocol},
      {"SubscribeOptionsMissing", V311, packet(0x82, "00 01 00 01 61"), kMalformed},
      {"SubscribeFilterTruncated", V311, packet(0x82, "00 01 00 04 61"), kMalformed},
      {"SubscribeFilterInvalidUtf8", V311, packet(0x82, "00 01 00 01 fe 00"), kMalformed},
      {"SubscribeQos3V311", V311, packet(0x82, "00 01 00 01 61 03"), kMalformed},
      {"SubscribeReservedBitsV311", V311, packet(0x82, "00 01 00 01 61 04"), kMalformed},
      {"SubscribeReservedHighBitV31", V31, packet(0x82, "00 01 00 01 61 80"), kMalformed},
      {"SubscribeSecondEntryBadV311", V311, packet(0x82, "00 01 00 01 61 00 00 01 62 07"),
       kMalformed},
      {"SubscribeQos3V5", V5, packet(0x82, "00 01 00 00 01 61 03"), kProtocol},
      {"SubscribeRetainHandling3V5", V5, packet(0x82, "00 01 00 00 01 61 30"), kProtocol},
      {"SubscribeReservedBit6V5", V5, packet(0x82, "00 01 00 00 01 61 40"), kMalformed},
      {"SubscribeReservedBit7V5", V5, packet(0x82, "00 01 00 00 01 61 80"), kMalformed},
      {"SubscribeV5DuplicateSubscriptionId", V5,
       packet(0x82, concat({hex("00 01"), props("0b 01 0b 02"), hex("00 01 61 00")})),
       kProtocol},
      {"SubscribeV5SubscriptionIdZero", V5,
       packet(0x82, concat({hex("00 01"), props("0b 00"), hex("00 01 61 00")})), kProtocol},
      {"SubscribeV5TopicAliasNotAllowed", V5,
       packet(0x82, concat({hex("00 01"), props("23 00 01"), hex("00 01 61 00")})), kMalformed},
      {"SubscribeV5PropertiesMissing", V5, packet(0x82, "00 01"), kMalformed},

      // --- SUBACK ---
      {"SubackHeaderFlags", V311, packet(0x92, "00 01 00"), kMalformed},
      {"SubackPacketIdZero", V311, packet(0x90, "00 00 00"), kProtocol},
      {"SubackNoCodes", V311, packet(0x90, "00 01"), kProtocol},
      {"SubackNoCodesV5", V5, packet(0x90, "00 01 00"), kProtocol},
      {"SubackCode3V311", V311, packet(0x90, "00 01 03"), kProtocol},
      {"SubackFailureInV31", V31, packet(0x90, "00 01 80"), kProtocol},
      {"SubackCode83V311", V311, packet(0x90, "00 01 83"), kProtocol},
      {"SubackCode10V5", V5, packet(0x90, "00 01 00 10"), kProtocol},
      {"SubackV5UserPropertyTruncated", V5, packet(0x90, "00 01 03 26 00 01 00"), kMalformed},
      {"SubackV5SubIdNotAllowed", V5, packet(0x90, concat({hex("00 01"), props("0b 01"),
                                                           hex("00")})),
       kMalformed},

      // --- UNSUBSCRIBE ---
      {"UnsubscribeHeaderFlags", V311, packet(0xa0, "00 01 00 01 61"), kMalformed},
      {"UnsubscribePacketIdZero", V311, packet(0xa2, "00 00 00 01 61"), kProtocol},
      {"UnsubscribeNoFilterV311", V311, packet(0xa2, "00 01"), kProtocol},
      {"UnsubscribeNoFilterV5", V5, packet(0xa2, "00 01 00"), kProtocol},
      {"UnsubscribeFilterTruncated", V311, packet(0xa2, "00 01 00 03 61"), kMalformed},
      {"UnsubscribeStrayByte", V311, packet(0xa2, "00 01 00 01 61 00"), kMalformed},
      {"UnsubscribeFilterNul", V5, packet(0xa2, "00 01 00 00 01 00"), kMalformed},
      {"UnsubscribeV5SubIdNotAllowed", V5,
       packet(0xa2, concat({hex("00 01"), props("0b 01"), hex("00 01 61")})), kMalformed},

      // --- UNSUBACK ---
      {"UnsubackHeaderFlags", V311, packet(0xb2, "00 01"), kMalformed},
      {"UnsubackPacketIdZero", V311, packet(0xb0, "00 00"), kProtocol},
      {"UnsubackLength3V311", V311, packet(0xb0, "00 01 00"), kMalformed},
      {"UnsubackTruncated", V311, packet(0xb0, "00"), kMalformed},
      {"UnsubackV5NoCodes", V5, packet(0xb0, "00 01 00"), kProtocol},
      {"UnsubackV5PropertiesMissing", V5, packet(0xb0, "00 01"), kMalformed},
      {"UnsubackV5CodeNotAllowed", V5, packet(0xb0, "00 01 00 01"), kProtocol},

      // --- PINGREQ / PINGRESP ---
      {"PingreqHeaderFlags", V311, packet(0xc1, ""), kMalformed},
      {"PingreqWithBody", V311, packet(0xc0, "00"), kMalformed},
      {"PingrespHeaderFlags", V5, packet(0xd8, ""), kMalformed},
      {"PingrespWithBody", V5, packet(0xd0, "00"), kMalformed},

      // --- DISCONNECT ---
      {"DisconnectHeaderFlags", V311, packet(0xe1, ""), kMalformed},
      {"DisconnectWithBodyV311", V311, packet(0xe0, "00"), kMalformed},
      {"DisconnectHeaderFlagsV5", V5, packet(0xe2, ""), kMalformed},
      {"DisconnectV5ReasonNotAllowed", V5, packet(0xe0, "01"), kProtocol},
      {"DisconnectV5ReasonContinueAuth", V5, packet(0xe0, "18"), kProtocol},
      {"DisconnectV5PropertyLengthPastEnd", V5, packet(0xe0, "00 02 11"), kMalformed},
      {"DisconnectV5TrailingAfterProperties", V5, packet(0xe0, "00 00 00"), kMalformed},
      {"DisconnectV5TopicAliasNotAllowed", V5, packet(0xe0, concat({hex("00"),
                                                                     props("23 00 01")})),
       kMalformed},
      {"DisconnectV5DuplicateSessionExpiry", V5,
       packet(0xe0, concat({hex("00"), props("11 00 00 00 00 11 00 00 00 00")})), kProtocol},

      // --- AUTH ---
      {"AuthHeaderFlags", V5, packet(0xf1, ""), kMalformed},
      {"AuthReasonNotAllowed", V5, packet(0xf0, "01"), kProtocol},
      {"AuthReasonFailure", V5, packet(0xf0, "87"), kProtocol},
      {"AuthPropertyLengthPastEnd", V5, packet(0xf0, "18 05"), kMalformed},
      {"AuthTrailingAfterProperties", V5, packet(0xf0, "18 00 00"), kMalformed},
      {"AuthDuplicateAuthMethod", V5,
       packet(0xf0, concat({hex("18"), props("15 00 01 61 15 00 01 61")})), kProtocol},
      {"AuthDuplicateAuthData", V5, packet(0xf0, concat({hex("18"), props("16 00 00 16 00 00")})),
       kProtocol},
      {"AuthSessionExpiryNotAllowed", V5,
       packet(0xf0, concat({hex("18"), props("11 00 00 00 00")})), kMalformed},
  };
}

class MalformedPacketTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(MalformedPacketTest, IsRejectedWithTheSpecifiedKind) {
  const BadCase& c = GetParam();
  const Result<Packet> decoded = decodeWire(c.wire, c.version);
  ASSERT_FALSE(decoded.ok()) << "accepted: " << describe(*decoded);
  EXPECT_EQ(decoded.error().kind, c.kind)
      << errorKindName(decoded.error().kind) << ": " << decoded.error().detail;
  ASSERT_NE(decoded.error().detail, nullptr);
  EXPECT_GT(std::strlen(decoded.error().detail), 5u);
}

INSTANTIATE_TEST_SUITE_P(Rules, MalformedPacketTest, ::testing::ValuesIn(badCases()),
                         [](const auto& testInfo) { return testInfo.param.name; });

TEST(MalformedPacket, ErrorDetailsSayWhatWasWrong) {
  const Result<Packet> qos3 = decodeWire(packet(0x36, "00 01 61 00 01"), V311);
  ASSERT_FALSE(qos3.ok());
  EXPECT_STREQ(qos3.error().detail, "PUBLISH with QoS 3");
  const Result<Packet> alias = decodeWire(publishV5(props("23 00 00")), V5);
  ASSERT_FALSE(alias.ok());
  EXPECT_STREQ(alias.error().detail, "Topic Alias property has an invalid value");
  const Result<Packet> misplaced = decodeWire(publishV5(props("11 00 00 00 01")), V5);
  ASSERT_FALSE(misplaced.ok());
  EXPECT_STREQ(misplaced.error().detail,
               "Session Expiry Interval property not allowed in this packet");
}

TEST(MalformedPacket, Mqtt31ResendsWithDupAreAccepted) {
  // A 3.1 client resends these with DUP after a reconnect; closing it would loop forever.
  for (const ByteVector& wire : {packet(0x6a, "00 07"), packet(0x8a, "00 07 00 01 61 01"),
                                 packet(0xaa, "00 07 00 01 61")}) {
    const Result<Packet> decoded = decodeWire(wire, V31);
    ASSERT_TRUE(decoded.ok()) << decoded.error().detail;
  }
  EXPECT_FALSE(decodeWire(packet(0x6b, "00 07"), V31).ok()) << "QoS 3 is never valid";
}

}  // namespace
}  // namespace midge::codec::test
