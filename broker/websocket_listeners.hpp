// SPDX-License-Identifier: Apache-2.0
// The stream filter of each "protocol websockets" listener: WebSockets alone (ws), or
// WebSockets inside the listener's TLS (wss). Built from websocket_listeners_wslay.cpp
// or, with MIDGE_WITH_WEBSOCKETS=OFF, websocket_listeners_off.cpp.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "broker/config/config.hpp"
#include "broker/tls_listeners.hpp"
#include "port/stream_filter.hpp"

namespace midge::app {

class WebSocketListeners {
 public:
  WebSocketListeners();
  ~WebSocketListeners();
  WebSocketListeners(const WebSocketListeners&) = delete;
  WebSocketListeners& operator=(const WebSocketListeners&) = delete;

  // `tls` must be created already and outlive this object. False with `error` naming
  // the listener.
  bool create(const config::Config& config, const TlsListeners& tls, std::string& error);
  // The filter factory for a listener: the WebSocket one (over TLS where configured) for
  // websockets listeners, tls.factoryFor(i) for the others. Owned by these objects.
  port::StreamFilterFactory* factoryFor(std::size_t listenerIndex) const;

 private:
  struct Factories;
  std::unique_ptr<Factories> factories_;
};

}  // namespace midge::app
