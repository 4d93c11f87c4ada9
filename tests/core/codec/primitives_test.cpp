// SPDX-License-Identifier: Apache-2.0
// Variable byte integers, UTF-8 validation and the bounded reader.
#include <gtest/gtest.h>

#include "tests/core/codec/codec_test_util.hpp"

namespace midge::codec::test {
namespace {

struct VarintCase {
  const char* bytes;
  VarintStatus status;
  std::uint32_t value;
  std::uint8_t length;
};

class VarintDecodeTest : public ::testing::TestWithParam<VarintCase> {};

TEST_P(VarintDecodeTest, DecodesOrRejects) {
  const VarintCase& c = GetParam();
  const ByteVector bytes = hex(c.bytes);
  const VarintDecode decoded = decodeVarint(bytes.data(), bytes.size());
  EXPECT_EQ(decoded.status, c.status) << c.bytes;
  if (c.status == VarintStatus::Ok) {
    EXPECT_EQ(decoded.value, c.value);
    EXPECT_EQ(decoded.length, c.length);
  }
}

// Boundaries from the spec's table 2.4 (3.1.1) / 1.5.5 (5.0).
INSTANTIATE_TEST_SUITE_P(
    Spec, VarintDecodeTest,
    ::testing::Values(VarintCase{"00", VarintStatus::Ok, 0, 1},
                      VarintCase{"7f", VarintStatus::Ok, 127, 1},
                      VarintCase{"80 01", VarintStatus::Ok, 128, 2},
                      VarintCase{"ff 7f", VarintStatus::Ok, 16383, 2},
                      VarintCase{"80 80 01", VarintStatus::Ok, 16384, 3},
                      VarintCase{"ff ff 7f", VarintStatus::Ok, 2097151, 3},
                      VarintCase{"80 80 80 01", VarintStatus::Ok, 2097152, 4},
                      VarintCase{"ff ff ff 7f", VarintStatus::Ok, 268435455, 4},
                      VarintCase{"7f ff", VarintStatus::Ok, 127, 1},  // stops at first
                      VarintCase{"", VarintStatus::NeedMore, 0, 0},
                      VarintCase{"80", VarintStatus::NeedMore, 0, 0},
                      VarintCase{"ff ff ff", VarintStatus::NeedMore, 0, 0},
                      VarintCase{"ff ff ff ff 01", VarintStatus::TooLong, 0, 0},
                      VarintCase{"80 80 80 80", VarintStatus::TooLong, 0, 0},
                      VarintCase{"80 00", VarintStatus::NotMinimal, 0, 0},
                      VarintCase{"ff 00", VarintStatus::NotMinimal, 0, 0},
                      VarintCase{"80 80 00", VarintStatus::NotMinimal, 0, 0},
                      VarintCase{"ff ff ff 00", VarintStatus::NotMinimal, 0, 0}));

TEST(Varint, EncodeDecodeRoundTripAtEveryLengthBoundary) {
  for (const std::uint32_t value :
       {0u, 1u, 127u, 128u, 16383u, 16384u, 2097151u, 2097152u, 268435455u}) {
    std::uint8_t buffer[4];
    const std::size_t length = encodeVarint(value, buffer);
    EXPECT_EQ(length, varintSize(value));
    const VarintDecode decoded = decodeVarint(buffer, length);
    ASSERT_EQ(decoded.status, VarintStatus::Ok);
    EXPECT_EQ(decoded.value, value);
    EXPECT_EQ(decoded.length, length);
  }
}

struct Utf8Case {
  const char* bytes;
  Utf8Status status;
};

class Utf8Test : public ::testing::TestWithParam<Utf8Case> {};

TEST_P(Utf8Test, Classifies) {
  const ByteVector bytes = hex(GetParam().bytes);
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  EXPECT_EQ(validateUtf8(text), GetParam().status) << GetParam().bytes;
}

INSTANTIATE_TEST_SUITE_P(
    Rules, Utf8Test,
    ::testing::Values(
        Utf8Case{"", Utf8Status::Valid},
        Utf8Case{"61 2f 62", Utf8Status::Valid},
        Utf8Case{"41 f0 aa 9b 94", Utf8Status::Valid},  // the spec's U+2A6D4 example
        Utf8Case{"c2 80", Utf8Status::Valid},           // U+0080
        Utf8Case{"df bf", Utf8Status::Valid},
        Utf8Case{"e0 a0 80", Utf8Status::Valid},        // U+0800
        Utf8Case{"ed 9f bf", Utf8Status::Valid},        // U+D7FF, just below surrogates
        Utf8Case{"ee 80 80", Utf8Status::Valid},        // U+E000, just above
        Utf8Case{"ef bf bf", Utf8Status::Valid},        // U+FFFF (allowed, SHOULD NOT)
        Utf8Case{"f4 8f bf bf", Utf8Status::Valid},     // U+10FFFF
        Utf8Case{"00", Utf8Status::ContainsNull},
        Utf8Case{"61 62 63 64 65 66 67 68 00", Utf8Status::ContainsNull},  // after fast path
        Utf8Case{"61 62 63 00 65 66 67 68 69", Utf8Status::ContainsNull},  // inside a word
        Utf8Case{"c3 a9 00", Utf8Status::ContainsNull},
        Utf8Case{"c0 80", Utf8Status::IllFormed},        // overlong U+0000
        Utf8Case{"c1 bf", Utf8Status::IllFormed},        // overlong U+007F
        Utf8Case{"e0 9f bf", Utf8Status::IllFormed},     // overlong U+07FF
        Utf8Case{"f0 8f bf bf", Utf8Status::IllFormed},  // overlong U+FFFF
        Utf8Case{"ed a0 80", Utf8Status::IllFormed},     // U+D800
        Utf8Case{"ed bf bf", Utf8Status::IllFormed},     // U+DFFF
        Utf8Case{"f4 90 80 80", Utf8Status::IllFormed},  // U+110000
        Utf8Case{"f5 80 80 80", Utf8Status::IllFormed},
        Utf8Case{"ff", Utf8Status::IllFormed},
        Utf8Case{"80", Utf8Status::IllFormed},           // lone continuation
        Utf8Case{"c3", Utf8Status::IllFormed},           // truncated
        Utf8Case{"e2 82", Utf8Status::IllFormed},
        Utf8Case{"f0 9f 98", Utf8Status::IllFormed},
        Utf8Case{"c3 41", Utf8Status::IllFormed},        // continuation missing
        Utf8Case{"e2 41 ac", Utf8Status::IllFormed},
        Utf8Case{"61 62 63 64 65 66 67 68 c3 28", Utf8Status::IllFormed}));

TEST(Reader, EveryReadChecksTheBytesLeft) {
  const ByteVector bytes = hex("01 02 03");
  Reader reader{Bytes(bytes)};
  std::uint32_t u32 = 0;
  Status status = reader.u32(u32, "u32 truncated");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::Malformed);
  EXPECT_STREQ(status.error().detail, "u32 truncated");
  EXPECT_EQ(reader.remaining(), 3u);  // a failed read consumes nothing

  std::uint16_t u16 = 0;
  ASSERT_TRUE(reader.u16(u16, "x").ok());
  EXPECT_EQ(u16, 0x0102);
  Bytes taken;
  EXPECT_FALSE(reader.take(2, taken, "x").ok());
  EXPECT_FALSE(reader.expectEnd("trailing").ok());
  std::uint8_t u8 = 0;
  ASSERT_TRUE(reader.u8(u8, "x").ok());
  EXPECT_EQ(u8, 3);
  EXPECT_TRUE(reader.expectEnd("trailing").ok());
  EXPECT_FALSE(reader.u8(u8, "x").ok());
}

TEST(Reader, StringLengthBeyondTheDataIsMalformed) {
  const ByteVector bytes = hex("ff ff 61");
  Reader reader{Bytes(bytes)};
  std::string_view text;
  const Status status = reader.utf8(text, "string truncated", "bad utf8");
  ASSERT_FALSE(status.ok());
  EXPECT_STREQ(status.error().detail, "string truncated");
}

TEST(Reader, NonMinimalVarintIsMalformed) {
  const ByteVector bytes = hex("80 00");
  Reader reader{Bytes(bytes)};
  std::uint32_t value = 0;
  const Status status = reader.varint(value, "truncated");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::Malformed);
}

TEST(ErrorMapping, CodecErrorKindsMapToTheirReasonCodes) {
  EXPECT_EQ(reasonCodeFor(ErrorKind::Malformed), ReasonCode::MalformedPacket);
  EXPECT_EQ(reasonCodeFor(ErrorKind::ProtocolError), ReasonCode::ProtocolError);
  EXPECT_EQ(reasonCodeFor(ErrorKind::PacketTooLarge), ReasonCode::PacketTooLarge);
  EXPECT_EQ(reasonCodeFor(ErrorKind::UnsupportedVersion),
            ReasonCode::UnsupportedProtocolVersion);
}

TEST(ReasonCodes, LegacyConnackCodesAndNames) {
  EXPECT_EQ(legacyConnackCode(ReasonCode::Success), ConnackReturnCode::Accepted);
  EXPECT_EQ(legacyConnackCode(ReasonCode::UnsupportedProtocolVersion),
            ConnackReturnCode::UnacceptableProtocolVersion);
  EXPECT_EQ(legacyConnackCode(ReasonCode::ClientIdentifierNotValid),
            ConnackReturnCode::IdentifierRejected);
  EXPECT_EQ(legacyConnackCode(ReasonCode::BadUserNameOrPassword),
            ConnackReturnCode::BadUserNameOrPassword);
  EXPECT_EQ(legacyConnackCode(ReasonCode::NotAuthorized), ConnackReturnCode::NotAuthorized);
  EXPECT_EQ(legacyConnackCode(ReasonCode::QuotaExceeded), ConnackReturnCode::ServerUnavailable);
  EXPECT_STREQ(reasonCodeName(ReasonCode::MalformedPacket), "malformed packet");
  EXPECT_STREQ(reasonCodeName(static_cast<ReasonCode>(0x7F)), "unknown reason code");
  EXPECT_STREQ(packetTypeName(PacketType::Pubrel), "PUBREL");
  EXPECT_STREQ(packetTypeName(static_cast<PacketType>(0)), "reserved");
}

}  // namespace
}  // namespace midge::codec::test
