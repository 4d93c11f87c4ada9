// SPDX-License-Identifier: Apache-2.0
// What midge-bench puts between MQTT and the socket for --transport ws and wss: the
// client side of the WebSocket upgrade and of RFC 6455 framing (masked frames, one per
// flush, possibly holding several packets), with TLS below it for wss. Sans-IO like the
// broker's filters: the client hands in what it read and writes out what comes back.
// Server certificates are not verified: the broker is the one on loopback the benchmark
// started, and the handshake is not what is measured.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/util/span.hpp"

namespace midge::bench {

enum class Transport : std::uint8_t { Tcp, WebSocket, WebSocketTls };

class WireTransport {
 public:
  static std::unique_ptr<WireTransport> create(Transport kind);
  virtual ~WireTransport() = default;
  // After the TCP connect: the first handshake bytes (ClientHello or the HTTP request).
  virtual bool start(std::vector<std::uint8_t>& wireOut, std::string& error) = 0;
  // Bytes read from the socket. MQTT bytes go to mqttOut; handshake replies to wireOut.
  virtual bool receive(Bytes wireIn, std::vector<std::uint8_t>& mqttOut,
                       std::vector<std::uint8_t>& wireOut, std::string& error) = 0;
  // True once the WebSocket upgrade is accepted: MQTT may flow.
  virtual bool ready() const = 0;
  // MQTT bytes to send, as one frame (inside TLS records for wss).
  virtual bool send(Bytes mqtt, std::vector<std::uint8_t>& wireOut, std::string& error) = 0;
};

}  // namespace midge::bench
