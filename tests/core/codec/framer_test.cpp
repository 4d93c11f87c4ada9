// SPDX-License-Identifier: Apache-2.0
// The framer over every split of a stream, and its limits.
#include <gtest/gtest.h>

#include "tests/core/codec/codec_test_util.hpp"

namespace midge::codec::test {
namespace {

struct Collected {
  std::uint8_t header;
  ByteVector body;
  std::size_t wireSize;
  bool operator==(const Collected& o) const {
    return header == o.header && body == o.body && wireSize == o.wireSize;
  }
};

// A stream of packets with 1-, 2- and 3-byte remaining lengths and empty bodies.
ByteVector sampleStream() {
  ByteVector big(200, 0x5A);
  ByteVector huge(17000, 0xA5);
  return concat({packet(0x10, "00 04 4d 51 54 54 04 02 00 3c 00 02 63 6c"),
                 packet(0xC0, ""),
                 packet(0x30, concat({hex("00 03 61 2f 62"), big})),
                 packet(0x62, "00 0a"),
                 packet(0x32, concat({hex("00 01 74 00 07"), huge})),
                 packet(0xE0, "")});
}

std::vector<Collected> expectedFrames() {
  std::vector<Collected> frames;
  const ByteVector stream = sampleStream();
  std::size_t pos = 0;
  while (pos < stream.size()) {
    const FixedHeader h = parseFixedHeader(stream.data() + pos, stream.size() - pos);
    const auto begin = stream.begin() + static_cast<std::ptrdiff_t>(pos + h.headerSize);
    frames.push_back({stream[pos], ByteVector(begin, begin + h.remainingLength),
                      h.headerSize + h.remainingLength});
    pos += h.headerSize + h.remainingLength;
  }
  return frames;
}

Status feedAll(Framer& framer, Bytes input, std::vector<Collected>& out) {
  return framer.feed(input, [&](const Frame& f) {
    out.push_back({f.header, ByteVector(f.body.begin(), f.body.end()), f.wireSize});
    return true;
  });
}

TEST(Framer, WholeStreamInOneFeedIsZeroCopy) {
  const ByteVector stream = sampleStream();
  Framer framer;
  std::vector<const std::uint8_t*> bodies;
  const Status status = framer.feed(Bytes(stream), [&](const Frame& f) {
    bodies.push_back(f.body.data());
    return true;
  });
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(bodies.size(), expectedFrames().size());
  for (const auto* body : bodies) {
    if (body == nullptr) continue;
    EXPECT_GE(body, stream.data());
    EXPECT_LE(body, stream.data() + stream.size());
  }
  EXPECT_EQ(framer.bufferedBytes(), 0u);
}

TEST(Framer, EveryTwoWaySplitYieldsTheSameFrames) {
  const ByteVector stream = sampleStream();
  const auto expected = expectedFrames();
  for (std::size_t split = 0; split <= stream.size(); ++split) {
    Framer framer;
    std::vector<Collected> got;
    ASSERT_TRUE(feedAll(framer, Bytes(stream.data(), split), got).ok());
    ASSERT_TRUE(feedAll(framer, Bytes(stream.data() + split, stream.size() - split), got).ok());
    ASSERT_EQ(got, expected) << "split at " << split;
    EXPECT_EQ(framer.bufferedBytes(), 0u);
  }
}

TEST(Framer, ThreeWaySplitsAroundHeadersYieldTheSameFrames) {
  const ByteVector stream = sampleStream();
  const auto expected = expectedFrames();
  // First cut inside the first 300 bytes (headers of the first four packets), second cut
  // anywhere after it in steps, to keep the test fast.
  for (std::size_t a = 0; a < 300; ++a) {
    for (std::size_t b = a; b <= stream.size(); b += 97) {
      Framer framer;
      std::vector<Collected> got;
      ASSERT_TRUE(feedAll(framer, Bytes(stream.data(), a), got).ok());
      ASSERT_TRUE(feedAll(framer, Bytes(stream.data() + a, b - a), got).ok());
      ASSERT_TRUE(feedAll(framer, Bytes(stream.data() + b, stream.size() - b), got).ok());
      ASSERT_EQ(got, expected) << a << "/" << b;
    }
  }
}

TEST(Framer, OneByteAtATimeYieldsTheSameFrames) {
  const ByteVector stream = sampleStream();
  Framer framer;
  std::vector<Collected> got;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    ASSERT_TRUE(feedAll(framer, Bytes(stream.data() + i, 1), got).ok());
  }
  EXPECT_EQ(got, expectedFrames());
  EXPECT_EQ(framer.bufferedBytes(), 0u);
}

TEST(Framer, BuffersOnlyThePartialTail) {
  const ByteVector stream = concat({packet(0xC0, ""), packet(0x30, "00 01 61 62 63")});
  Framer framer;
  std::vector<Collected> got;
  ASSERT_TRUE(feedAll(framer, Bytes(stream.data(), stream.size() - 2), got).ok());
  EXPECT_EQ(got.size(), 1u);
  EXPECT_EQ(framer.bufferedBytes(), stream.size() - 2 - 2);
  ASSERT_TRUE(feedAll(framer, Bytes(stream.data() + stream.size() - 2, 2), got).ok());
  EXPECT_EQ(got.size(), 2u);
  EXPECT_EQ(framer.bufferedBytes(), 0u);
}

TEST(Framer, EmptyFeedDoesNothing) {
  Framer framer;
  std::vector<Collected> got;
  ASSERT_TRUE(feedAll(framer, Bytes(), got).ok());
  EXPECT_TRUE(got.empty());
}

struct BadHeaderCase {
  const char* name;
  const char* bytes;
  ErrorKind kind;
};

class FramerBadHeader : public ::testing::TestWithParam<BadHeaderCase> {};

TEST_P(FramerBadHeader, RejectedInOneFeedAndByteByByte) {
  const ByteVector bytes = hex(GetParam().bytes);
  {
    Framer framer(1000);
    std::vector<Collected> got;
    const Status status = feedAll(framer, Bytes(bytes), got);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().kind, GetParam().kind);
    EXPECT_TRUE(got.empty());
  }
  {
    Framer framer(1000);
    std::vector<Collected> got;
    Status status;
    for (std::size_t i = 0; i < bytes.size() && status.ok(); ++i) {
      status = feedAll(framer, Bytes(bytes.data() + i, 1), got);
    }
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().kind, GetParam().kind);
    EXPECT_TRUE(got.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, FramerBadHeader,
    ::testing::Values(
        BadHeaderCase{"FiveLengthBytes", "30 ff ff ff ff 01", ErrorKind::Malformed},
        BadHeaderCase{"FourContinuationBytes", "30 80 80 80 80", ErrorKind::Malformed},
        BadHeaderCase{"NonMinimalZero", "c0 80 00", ErrorKind::Malformed},
        BadHeaderCase{"NonMinimalTwoBytes", "30 85 80 00", ErrorKind::Malformed},
        BadHeaderCase{"OverMaximum", "30 80 10", ErrorKind::PacketTooLarge},
        BadHeaderCase{"JustOverMaximum", "30 e6 07", ErrorKind::PacketTooLarge},  // 3 + 998
        BadHeaderCase{"HugeDeclared", "30 ff ff ff 7f", ErrorKind::PacketTooLarge}),
    [](const auto& testInfo) { return testInfo.param.name; });

TEST(Framer, TooLargeIsRejectedBeforeAnyBodyIsBuffered) {
  Framer framer(100);
  // Header announcing 1 MiB followed by a little of the body.
  ByteVector bytes = hex("30 80 80 40");
  bytes.resize(bytes.size() + 50, 0x41);
  std::vector<Collected> got;
  const Status status = feedAll(framer, Bytes(bytes), got);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::PacketTooLarge);
  EXPECT_LE(framer.bufferedBytes(), 4u);  // at most the header itself
  EXPECT_TRUE(got.empty());
}

TEST(Framer, TooLargeAfterAValidFrameDeliversTheValidOneFirst) {
  Framer framer(100);
  const ByteVector bytes = concat({packet(0xC0, ""), hex("30 80 01")});
  std::vector<Collected> got;
  const Status status = feedAll(framer, Bytes(bytes), got);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::PacketTooLarge);
  EXPECT_EQ(got.size(), 1u);
}

TEST(Framer, MaximumCountsTheFixedHeaderAndIsInclusive) {
  const ByteVector exact = packet(0x30, ByteVector(97, 0x61));  // 1 + 1 + 97
  ASSERT_EQ(exact.size(), 99u);
  {
    Framer framer(99);
    std::vector<Collected> got;
    ASSERT_TRUE(feedAll(framer, Bytes(exact), got).ok());
    EXPECT_EQ(got.size(), 1u);
  }
  {
    Framer framer(98);
    std::vector<Collected> got;
    const Status status = feedAll(framer, Bytes(exact), got);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().kind, ErrorKind::PacketTooLarge);
  }
}

TEST(Framer, SetMaxPacketSizeAppliesToLaterFrames) {
  Framer framer;
  const ByteVector small = packet(0x30, ByteVector(20, 0x61));
  std::vector<Collected> got;
  ASSERT_TRUE(feedAll(framer, Bytes(small), got).ok());
  framer.setMaxPacketSize(10);
  EXPECT_EQ(framer.maxPacketSize(), 10u);
  const Status status = feedAll(framer, Bytes(small), got);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::PacketTooLarge);
}

TEST(Framer, ReturningFalseStopsFeeding) {
  const ByteVector stream = sampleStream();
  for (const std::size_t split : {std::size_t{0}, std::size_t{5}}) {
    Framer framer;
    int calls = 0;
    if (split > 0) {
      ASSERT_TRUE(framer.feed(Bytes(stream.data(), split), [&](const Frame&) {
        ++calls;
        return false;
      }).ok());
    }
    const Status status = framer.feed(Bytes(stream.data() + split, stream.size() - split),
                                      [&](const Frame&) {
                                        ++calls;
                                        return false;
                                      });
    EXPECT_TRUE(status.ok());
    EXPECT_EQ(calls, 1);
  }
}

TEST(Framer, ResetDropsAPartialFrame) {
  Framer framer;
  const ByteVector partial = hex("30 05 00 03");
  std::vector<Collected> got;
  ASSERT_TRUE(feedAll(framer, Bytes(partial), got).ok());
  EXPECT_EQ(framer.bufferedBytes(), 4u);
  framer.reset();
  EXPECT_EQ(framer.bufferedBytes(), 0u);
  const ByteVector ping = packet(0xC0, "");
  ASSERT_TRUE(feedAll(framer, Bytes(ping), got).ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].header, 0xC0);
}

}  // namespace
}  // namespace midge::codec::test
