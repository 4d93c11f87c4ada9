// SPDX-License-Identifier: Apache-2.0
// Server side of one MQTT-over-WebSocket connection as a sans-IO StreamFilter: first the
// HTTP Upgrade request (http_upgrade.hpp), then RFC 6455 frames through libwslay, which
// unmasks, answers pings and closes. The payload of binary frames streams to the engine
// as it arrives: a frame may carry part of an MQTT packet or several packets, and no
// message is reassembled in memory (wslay's no-buffering mode). Each engine send becomes
// one binary frame.
//
// Memory: the request headers while the handshake runs (at most maxHeaderBytes), then
// wslay's context (about 4.5 KiB with its receive buffer) and whatever frames wait in its
// send queue during one call.
//
// Contract for the caller, as for TlsSession:
//   - Write wireOut to the socket after every call, also when the call returned false (it
//     holds the HTTP error response or the Close frame that tells the client why).
//   - After false, close the connection; error() says why, for the log.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "port/stream_filter.hpp"
#include "port/websocket/frame_guard.hpp"
#include "port/websocket/websocket_options.hpp"

struct wslay_event_context;

namespace midge::port {

class WebSocketSession final : public StreamFilter {
 public:
  explicit WebSocketSession(std::shared_ptr<const WebSocketOptions> options);
  ~WebSocketSession() override;
  WebSocketSession(const WebSocketSession&) = delete;  // wslay holds a pointer to this
  WebSocketSession& operator=(const WebSocketSession&) = delete;

  bool onReceive(Bytes wireIn, std::vector<std::uint8_t>& plainOut,
                 std::vector<std::uint8_t>& wireOut) override;
  bool onSend(Bytes plainIn, std::vector<std::uint8_t>& wireOut) override;
  bool handshakeDone() const override { return upgraded_; }
  std::string peerIdentity() const override { return {}; }
  std::string error() const override { return error_; }
  const char* protocolName() const override { return "WebSocket"; }
  bool encrypted() const override { return false; }
  bool closedByPeer() const override { return closedByPeer_; }
  // Sends a Close frame with 1000 (normal closure) unless one was sent already.
  void closeGracefully(std::vector<std::uint8_t>& wireOut) override;

  // The subprotocol agreed in the handshake ("mqtt", "mqttv3.1" or "").
  const std::string& subprotocol() const { return subprotocol_; }

 private:
  struct Callbacks;  // the C callbacks handed to wslay

  bool readUpgradeRequest(Bytes& wireIn, std::vector<std::uint8_t>& wireOut);
  bool readFrames(Bytes wireIn, std::vector<std::uint8_t>& plainOut,
                  std::vector<std::uint8_t>& wireOut);
  bool startWslay();
  void flushWslay();
  bool fail(std::string reason);

  std::shared_ptr<const WebSocketOptions> options_;
  std::string request_;  // the HTTP request headers so far; freed after the handshake
  websocket::FrameGuard guard_;
  wslay_event_context* wslay_ = nullptr;
  // Valid during a public call only.
  Bytes pendingInput_;
  std::vector<std::uint8_t>* wireSink_ = nullptr;
  std::vector<std::uint8_t>* plainSink_ = nullptr;
  std::uint8_t frameOpcode_ = 0;  // opcode of the frame whose payload wslay is passing on
  bool upgraded_ = false;
  bool failed_ = false;
  bool closedByPeer_ = false;
  std::string subprotocol_;
  std::string error_;
};

// One per WebSockets listener: hands out a WebSocketSession per accepted connection.
class WebSocketServerContext final : public StreamFilterFactory {
 public:
  explicit WebSocketServerContext(WebSocketOptions options);
  std::unique_ptr<StreamFilter> create() override;
  const WebSocketOptions& options() const { return *options_; }

 private:
  std::shared_ptr<const WebSocketOptions> options_;
};

}  // namespace midge::port
