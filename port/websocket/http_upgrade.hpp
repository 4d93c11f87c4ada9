// SPDX-License-Identifier: Apache-2.0
// The HTTP/1.1 half of the WebSocket opening handshake (RFC 6455 section 4.2) for MQTT
// (MQTT 5.0 section 6): checks one complete request header block and builds the answer,
// "101 Switching Protocols" with Sec-WebSocket-Accept and the mqtt subprotocol, or an
// HTTP error whose status says what was wrong.
//
//   UpgradeAnswer answer = answerUpgrade(headerBlock, options);
//   write(answer.response);
//   if (!answer.accepted) { log(answer.reason); close(); }
#pragma once

#include <string>
#include <string_view>

#include "port/websocket/websocket_options.hpp"

namespace midge::port::websocket {

struct UpgradeAnswer {
  bool accepted = false;
  int status = 0;            // 101, or the HTTP error status
  std::string response;      // the whole HTTP response, ready for the wire
  std::string reason;        // why it was refused, for the log; empty when accepted
  std::string subprotocol;   // "mqtt", "mqttv3.1" or "" (the client offered none)
};

// `request` is everything up to and including the blank line that ends the headers.
UpgradeAnswer answerUpgrade(std::string_view request, const WebSocketOptions& options);

// The refusal sent when the header block does not end within options.maxHeaderBytes.
UpgradeAnswer headerTooLarge(const WebSocketOptions& options);

// The refusal sent when the first byte cannot begin an HTTP request.
UpgradeAnswer notHttp();

// base64(SHA-1(key + GUID)), RFC 6455 section 4.2.2; exposed for tests.
std::string acceptKeyFor(std::string_view clientKey);

}  // namespace midge::port::websocket
