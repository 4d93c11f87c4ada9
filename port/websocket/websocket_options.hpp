// SPDX-License-Identifier: Apache-2.0
// Settings of one WebSockets listener, named after the Mosquitto keywords they come from
// (websockets_headers_size, websockets_origin). See docs/configuration.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace midge::port {

struct WebSocketOptions {
  // The HTTP Upgrade request, request line and headers together, is read into memory
  // before anything is answered: this bounds what an unauthenticated peer can make the
  // broker hold. Browsers send 400-900 bytes; cookies for the same host can add more.
  std::size_t maxHeaderBytes = 4096;
  // Frame payloads stream through without being buffered, so this is a sanity bound, not
  // a memory one: no single frame may be larger than the largest MQTT packet accepted.
  std::uint64_t maxFrameBytes = 268435460;
  // Exact Origin header values a browser page may connect from; empty allows any
  // (and requests without Origin, which only non-browser clients send).
  std::vector<std::string> allowedOrigins;
};

}  // namespace midge::port
