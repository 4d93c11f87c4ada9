// SPDX-License-Identifier: Apache-2.0
// The WebSocket filter without sockets: the handshake, frames fed in every split, and the
// frame guard's verdicts. The broker-level behaviour is in raw_websocket_test.cpp.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "port/websocket/frame_guard.hpp"
#include "port/websocket/http_upgrade.hpp"
#include "port/websocket/websocket_session.hpp"

namespace midge::port {
namespace {

using ByteVector = std::vector<std::uint8_t>;

const std::string kRequest =
    "GET /mqtt HTTP/1.1\r\nHost: broker\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Protocol: mqttv3.1, mqtt\r\n\r\n";

ByteVector maskedBinary(const ByteVector& payload, bool fin = true, std::uint8_t opcode = 2) {
  ByteVector out{static_cast<std::uint8_t>((fin ? 0x80 : 0) | opcode),
                 static_cast<std::uint8_t>(0x80 | payload.size()), 1, 2, 3, 4};
  for (std::size_t i = 0; i < payload.size(); ++i) {
    out.push_back(static_cast<std::uint8_t>(payload[i] ^ (i % 4 + 1)));
  }
  return out;
}

TEST(HttpUpgrade, AcceptKeyMatchesRfc6455Example) {
  EXPECT_EQ(websocket::acceptKeyFor("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(HttpUpgrade, FirstOfferedMqttSubprotocolIsChosen) {
  const websocket::UpgradeAnswer answer = websocket::answerUpgrade(kRequest, WebSocketOptions{});
  ASSERT_TRUE(answer.accepted) << answer.reason;
  EXPECT_EQ(answer.subprotocol, "mqttv3.1");
}

TEST(WebSocketSession, RequestAndFramesFedOneByteAtATimeGiveTheMqttBytes) {
  WebSocketSession session(std::make_shared<const WebSocketOptions>());
  std::string wire = kRequest;
  const ByteVector first = maskedBinary({0xC0}, false);
  const ByteVector second = maskedBinary({0x00, 0xC0, 0x00}, true, 0);
  wire.append(first.begin(), first.end());
  wire.append(second.begin(), second.end());
  ByteVector plain;
  ByteVector out;
  for (char c : wire) {
    const auto byte = static_cast<std::uint8_t>(c);
    ASSERT_TRUE(session.onReceive(Bytes(&byte, 1), plain, out)) << session.error();
  }
  EXPECT_TRUE(session.handshakeDone());
  EXPECT_EQ(plain, (ByteVector{0xC0, 0x00, 0xC0, 0x00}));  // two PINGREQs across fragments
  EXPECT_EQ(std::string(out.begin(), out.begin() + 12), "HTTP/1.1 101");
}

TEST(WebSocketSession, EachSendIsOneUnmaskedBinaryFrame) {
  WebSocketSession session(std::make_shared<const WebSocketOptions>());
  ByteVector plain;
  ByteVector out;
  ASSERT_TRUE(session.onReceive(asBytes(kRequest), plain, out));
  out.clear();
  const ByteVector packet(300, 0x30);
  ASSERT_TRUE(session.onSend(Bytes(packet), out));
  ASSERT_EQ(out.size(), 4 + packet.size());
  EXPECT_EQ(out[0], 0x82);
  EXPECT_EQ(out[1], 126);
  EXPECT_EQ((out[2] << 8) | out[3], 300);
}

TEST(FrameGuard, HeaderSplitOverReadsIsJudgedWhenComplete) {
  websocket::FrameGuard guard(1000);
  const ByteVector header{0x82, 0xFE, 0x10, 0x00, 1, 2, 3, 4};  // 4096 bytes announced
  websocket::FrameVerdict verdict;
  for (std::size_t i = 0; i < header.size(); ++i) {
    verdict = guard.scan(Bytes(&header[i], 1));
    if (i + 1 < header.size()) {
      EXPECT_FALSE(verdict.refused);
    }
  }
  EXPECT_TRUE(verdict.refused);
  EXPECT_EQ(verdict.closeCode, websocket::kCloseMessageTooBig);
  EXPECT_EQ(verdict.acceptedBytes, 0u);
}

}  // namespace
}  // namespace midge::port
