// SPDX-License-Identifier: Apache-2.0
#include <vector>

#include "broker/websocket_listeners.hpp"

namespace midge::app {

struct WebSocketListeners::Factories {
  std::vector<port::StreamFilterFactory*> byListener;
};

WebSocketListeners::WebSocketListeners() : factories_(std::make_unique<Factories>()) {}
WebSocketListeners::~WebSocketListeners() = default;

bool WebSocketListeners::create(const config::Config& config, const TlsListeners& tls,
                                std::string& error) {
  for (std::size_t i = 0; i < config.listeners.size(); ++i) {
    const config::Listener& listener = config.listeners[i];
    if (listener.protocol == config::ListenerProtocol::WebSockets) {
      error = "the listener at " + listener.definedAt +
              " speaks websockets, but this midge was built without WebSockets "
              "(MIDGE_WITH_WEBSOCKETS=OFF)";
      return false;
    }
    factories_->byListener.push_back(tls.factoryFor(i));
  }
  return true;
}

port::StreamFilterFactory* WebSocketListeners::factoryFor(std::size_t listenerIndex) const {
  if (listenerIndex >= factories_->byListener.size()) return nullptr;
  return factories_->byListener[listenerIndex];
}

}  // namespace midge::app
