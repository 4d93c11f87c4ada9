// SPDX-License-Identifier: Apache-2.0
// A blocking WebSocket client for byte-exact tests: it sends whatever HTTP request and
// frames a test builds (masked or not, well formed or not) and reads the broker's HTTP
// response and frames back with timeouts. It encodes independently of port/websocket, so
// a bug there cannot hide itself in both sides.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace midge::test::websocket {

using ByteVector = std::vector<std::uint8_t>;

struct HttpResponse {
  int status = 0;  // 0: the connection closed or timed out before a status line
  std::string head;  // status line and headers
  std::string header(const std::string& name) const;  // "" when absent
};

struct Frame {
  bool fin = true;
  std::uint8_t opcode = 0;
  ByteVector payload;
  std::uint16_t closeCode() const;  // for Close frames; 1005 when it carries none
};

enum Opcode : std::uint8_t {
  kContinuation = 0x0, kText = 0x1, kBinary = 0x2, kClose = 0x8, kPing = 0x9, kPong = 0xA
};

// A valid upgrade request for `path`, with `extraHeaders` ("Name: value\r\n" lines)
// added; `replace` drops the default header lines whose names it lists.
std::string upgradeRequest(const std::string& extraHeaders = "",
                           const std::vector<std::string>& drop = {});

// Encodes one client frame. Masked unless `masked` is false; `rsv` goes into bits 4-6.
ByteVector frame(std::uint8_t opcode, const ByteVector& payload, bool fin = true,
                 bool masked = true, std::uint8_t rsv = 0);
// A header that announces `length` payload bytes without carrying them.
ByteVector frameHeader(std::uint8_t opcode, std::uint64_t length, bool fin = true,
                       bool masked = true);
ByteVector closeFrame(std::uint16_t code);

class WsRawClient {
 public:
  explicit WsRawClient(std::uint16_t port);  // throws std::runtime_error
  ~WsRawClient();
  WsRawClient(const WsRawClient&) = delete;
  WsRawClient& operator=(const WsRawClient&) = delete;

  bool send(const ByteVector& bytes);
  bool send(const std::string& text);
  // Reads up to the blank line after the headers.
  HttpResponse readResponse(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Sends upgradeRequest() and expects 101; throws otherwise.
  void upgrade();
  std::optional<Frame> readFrame(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Reads frames until a Close frame; its code, or nullopt if none came.
  std::optional<std::uint16_t> readCloseCode(std::chrono::milliseconds timeout =
                                                 std::chrono::seconds(5));
  // The peer closed the TCP connection (after anything still buffered).
  bool waitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Reads one MQTT packet from binary frames (which may split or combine packets):
  // its first byte, or nullopt.
  std::optional<ByteVector> readMqttPacket(std::chrono::milliseconds timeout =
                                               std::chrono::seconds(5));

 private:
  bool fill(std::size_t wanted, std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  ByteVector buffer_;
  ByteVector mqttBytes_;  // payload of binary frames not yet returned as packets
};

}  // namespace midge::test::websocket
