// SPDX-License-Identifier: Apache-2.0
// Byte-exact tests of a WebSockets listener on the real broker: every refused handshake
// gets its HTTP status, every refused frame its close code, and each a log line; valid
// edge cases (fragments, several packets per frame, pings) work.
#include <gtest/gtest.h>

#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "tests/integration/broker_process.hpp"
#include "tests/integration/raw_client.hpp"
#include "tests/websockets/ws_raw_client.hpp"

namespace midge::test::websocket {
namespace {

using namespace std::chrono_literals;

ByteVector concat(const ByteVector& a, const ByteVector& b) {
  ByteVector out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

class RawWebSocket : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_.setWriteListener(false);
    broker_.addConfigLine("listener {PORT} 127.0.0.1");
    broker_.addConfigLine("protocol websockets");
  }
  void start() {
    tcpPort_ = pickFreeLoopbackPort();
    broker_.addConfigLine("listener " + std::to_string(tcpPort_) + " 127.0.0.1");
    broker_.start();
    ASSERT_TRUE(waitForTcpPort(tcpPort_, 5s));
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << "---- broker log ----\n" << broker_.log() << "----\n";
  }

  // Sends `request`, expects `status`, a closed connection and `logLine` in the log.
  void expectRefused(const std::string& request, int status, const std::string& logLine) {
    WsRawClient client(broker_.port());
    client.send(request);
    const HttpResponse response = client.readResponse();
    EXPECT_EQ(response.status, status) << response.head;
    EXPECT_EQ(response.header("Connection"), "close");
    EXPECT_TRUE(client.waitClosed());
    EXPECT_TRUE(broker_.waitForLog(logLine, 5s)) << "missing log line: " << logLine;
  }

  BrokerProcess broker_;
  std::uint16_t tcpPort_ = 0;
};

// ---- the HTTP upgrade ------------------------------------------------------------------

TEST_F(RawWebSocket, ValidUpgradeAnswers101WithAcceptAndMqttSubprotocol) {
  start();
  WsRawClient client(broker_.port());
  client.send(upgradeRequest());
  const HttpResponse response = client.readResponse();
  ASSERT_EQ(response.status, 101) << response.head;
  // RFC 6455 section 1.3: this key gives exactly this accept value.
  EXPECT_EQ(response.header("Sec-WebSocket-Accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_EQ(response.header("Sec-WebSocket-Protocol"), "mqtt");
}

TEST_F(RawWebSocket, PlainHttpRequestWithoutUpgradeGets426) {
  start();
  expectRefused("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 426, "no 'Upgrade: websocket' header");
}

TEST_F(RawWebSocket, MqttBytesOnAWebSocketsPortGet400AtOnce) {
  start();
  expectRefused(std::string("\x10\x0c\x00\x04MQTT", 8), 400, "not an HTTP request");
}

TEST_F(RawWebSocket, WrongWebSocketVersionGets426NamingVersion13) {
  start();
  WsRawClient client(broker_.port());
  client.send(upgradeRequest("Sec-WebSocket-Version: 8\r\n", {"Sec-WebSocket-Version"}));
  const HttpResponse response = client.readResponse();
  EXPECT_EQ(response.status, 426);
  EXPECT_EQ(response.header("Sec-WebSocket-Version"), "13");
  EXPECT_TRUE(broker_.waitForLog("unsupported Sec-WebSocket-Version '8'", 5s));
}

TEST_F(RawWebSocket, MissingKeyGets400) {
  start();
  expectRefused(upgradeRequest("", {"Sec-WebSocket-Key"}), 400, "missing Sec-WebSocket-Key");
}

TEST_F(RawWebSocket, KeyThatIsNotSixteenBytesGets400) {
  start();
  expectRefused(upgradeRequest("Sec-WebSocket-Key: c2hvcnQ=\r\n", {"Sec-WebSocket-Key"}), 400,
                "Sec-WebSocket-Key is not a base64-encoded 16-byte value");
}

TEST_F(RawWebSocket, PostGets405) {
  start();
  std::string request = upgradeRequest();
  request.replace(0, 3, "POST");
  expectRefused(request, 405, "WebSocket upgrades use GET");
}

TEST_F(RawWebSocket, NonMqttSubprotocolGets400) {
  start();
  expectRefused(upgradeRequest("Sec-WebSocket-Protocol: chat\r\n", {"Sec-WebSocket-Protocol"}),
                400, "offers no MQTT subprotocol");
}

TEST_F(RawWebSocket, OversizeHeaderGets431) {
  broker_.addConfigLine("websockets_headers_size 512");
  start();
  expectRefused(upgradeRequest("X-Padding: " + std::string(600, 'p') + "\r\n"), 431,
                "HTTP request headers exceed 512 bytes");
}

TEST_F(RawWebSocket, OriginOutsideTheAllowListGets403AndListedOriginIsAccepted) {
  broker_.addConfigLine("websockets_origin https://dashboard.example");
  start();
  expectRefused(upgradeRequest("Origin: https://evil.example\r\n"), 403,
                "origin 'https://evil.example' is not in websockets_origin");
  expectRefused(upgradeRequest(), 403, "no Origin header");
  WsRawClient client(broker_.port());
  client.send(upgradeRequest("Origin: https://dashboard.example\r\n"));
  EXPECT_EQ(client.readResponse().status, 101);
}

// ---- frames ----------------------------------------------------------------------------

class RawWebSocketFrames : public RawWebSocket {
 protected:
  // An upgraded client with an MQTT session (CONNACK read).
  std::unique_ptr<WsRawClient> session(const wire::ConnectSpec& spec = {}) {
    auto client = std::make_unique<WsRawClient>(broker_.port());
    client->upgrade();
    client->send(frame(kBinary, wire::connect(spec)));
    std::optional<ByteVector> connack = client->readMqttPacket();
    if (!connack || (*connack)[0] != 0x20) throw std::runtime_error("no CONNACK");
    return client;
  }

  void expectClose(const ByteVector& bytes, std::uint16_t code, const std::string& logLine) {
    auto client = session();
    client->send(bytes);
    EXPECT_EQ(client->readCloseCode(), std::optional<std::uint16_t>(code));
    EXPECT_TRUE(client->waitClosed());
    EXPECT_TRUE(broker_.waitForLog(logLine, 5s)) << "missing log line: " << logLine;
  }
};

TEST_F(RawWebSocketFrames, UnmaskedClientFrameIsClosedWith1002) {
  start();
  expectClose(frame(kBinary, wire::pingreq(), true, false), 1002, "unmasked frame from the client");
}

TEST_F(RawWebSocketFrames, UnknownOpcodeIsClosedWith1002) {
  start();
  expectClose(frame(0x3, {1, 2}), 1002, "frame with unknown opcode 0x03");
}

TEST_F(RawWebSocketFrames, ReservedBitsAreClosedWith1002) {
  start();
  expectClose(frame(kBinary, wire::pingreq(), true, true, 0x4), 1002, "reserved bits set");
}

TEST_F(RawWebSocketFrames, TextFrameIsClosedWith1003) {
  start();
  expectClose(frame(kText, {'h', 'i'}), 1003, "text frame (MQTT travels in binary frames only)");
}

TEST_F(RawWebSocketFrames, FrameLargerThanMaxPacketSizeIsClosedWith1009) {
  broker_.addConfigLine("max_packet_size 1000");
  start();
  expectClose(frameHeader(kBinary, 5000), 1009, "frame of 5000 bytes exceeds the limit of 1000");
}

TEST_F(RawWebSocketFrames, CloseInTheMiddleOfAPacketIsEchoedAndPublishesTheWill) {
  start();
  RawClient watcher(tcpPort_);
  wire::ConnectSpec watcherSpec;
  watcherSpec.clientId = "watcher";
  handshake(watcher, watcherSpec);
  watcher.send(wire::subscribe(1, "will/#", 0));
  watcher.expect(kSuback);

  wire::ConnectSpec spec;
  spec.clientId = "half-packet";
  spec.will = wire::Will{"will/ws", "gone", 0, false, {}};
  auto client = session(spec);
  const ByteVector publish = wire::publish("ws/half", "never complete");
  client->send(frame(kBinary, ByteVector(publish.begin(), publish.begin() + 6)));
  client->send(closeFrame(1000));
  EXPECT_EQ(client->readCloseCode(), std::optional<std::uint16_t>(1000));
  EXPECT_TRUE(client->waitClosed());
  EXPECT_TRUE(broker_.waitForLog("client closed the WebSocket (1000, normal closure)", 5s));
  // Without a DISCONNECT the close is abnormal: the will goes out, the half PUBLISH does not.
  const wire::PublishView will = wire::parsePublish(watcher.expect(kPublish));
  EXPECT_EQ(will.topic, "will/ws");
  EXPECT_EQ(will.payload, "gone");
}

TEST_F(RawWebSocketFrames, FragmentsAndSeveralPacketsPerFrameAndPingsWork) {
  start();
  auto client = std::make_unique<WsRawClient>(broker_.port());
  client->upgrade();
  // CONNECT split over a fragmented message: a first frame and a continuation.
  const ByteVector connect = wire::connect({});
  client->send(frame(kBinary, ByteVector(connect.begin(), connect.begin() + 5), false));
  client->send(frame(kPing, {'p'}));  // a control frame between fragments is allowed
  client->send(frame(kContinuation, ByteVector(connect.begin() + 5, connect.end()), true));
  std::optional<Frame> pong = client->readFrame();
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->opcode, kPong);
  EXPECT_EQ(pong->payload, ByteVector{'p'});
  std::optional<ByteVector> connack = client->readMqttPacket();
  ASSERT_TRUE(connack);
  EXPECT_EQ((*connack)[0], 0x20);
  // SUBSCRIBE and PINGREQ in one frame.
  client->send(frame(kBinary, concat(wire::subscribe(7, "ws/t", 1), wire::pingreq())));
  std::optional<ByteVector> suback = client->readMqttPacket();
  ASSERT_TRUE(suback);
  EXPECT_EQ((*suback)[0], 0x90);
  std::optional<ByteVector> pingresp = client->readMqttPacket();
  ASSERT_TRUE(pingresp);
  EXPECT_EQ((*pingresp)[0], 0xD0);
}

TEST_F(RawWebSocketFrames, DisconnectIsAnsweredWithCloseFrame1000) {
  start();
  auto client = session();
  client->send(frame(kBinary, wire::disconnect()));
  EXPECT_EQ(client->readCloseCode(), std::optional<std::uint16_t>(1000));
  EXPECT_TRUE(client->waitClosed());
}

TEST_F(RawWebSocketFrames, ContinuationWithoutAMessageIsClosedWith1002) {
  start();
  expectClose(frame(kContinuation, wire::pingreq()), 1002,
              "continuation frame without a message to continue");
}

}  // namespace
}  // namespace midge::test::websocket
