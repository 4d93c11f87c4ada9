// SPDX-License-Identifier: Apache-2.0
#include <vector>

#include "broker/websocket_listeners.hpp"
#include "core/engine/config.hpp"
#include "port/websocket/filter_chain.hpp"
#include "port/websocket/websocket_session.hpp"

namespace midge::app {

struct WebSocketListeners::Factories {
  std::vector<std::unique_ptr<port::WebSocketServerContext>> websockets;
  std::vector<std::unique_ptr<port::FilterChainFactory>> chains;
  std::vector<port::StreamFilterFactory*> byListener;
};

WebSocketListeners::WebSocketListeners() : factories_(std::make_unique<Factories>()) {}
WebSocketListeners::~WebSocketListeners() = default;

bool WebSocketListeners::create(const config::Config& config, const TlsListeners& tls,
                                std::string&) {
  for (std::size_t i = 0; i < config.listeners.size(); ++i) {
    const config::Listener& listener = config.listeners[i];
    port::StreamFilterFactory* tlsFactory = tls.factoryFor(i);
    if (listener.protocol != config::ListenerProtocol::WebSockets) {
      factories_->byListener.push_back(tlsFactory);
      continue;
    }
    port::WebSocketOptions options;
    options.maxHeaderBytes = config.websocketsHeadersSize;
    options.maxFrameBytes = inboundPacketLimit(config.maxPacketSize);
    options.allowedOrigins = listener.websocketsOrigins;
    auto websocket = std::make_unique<port::WebSocketServerContext>(std::move(options));
    port::StreamFilterFactory* factory = websocket.get();
    if (tlsFactory != nullptr) {
      auto chain = std::make_unique<port::FilterChainFactory>(*tlsFactory, *websocket);
      factory = chain.get();
      factories_->chains.push_back(std::move(chain));
    }
    factories_->websockets.push_back(std::move(websocket));
    factories_->byListener.push_back(factory);
  }
  return true;
}

port::StreamFilterFactory* WebSocketListeners::factoryFor(std::size_t listenerIndex) const {
  if (listenerIndex >= factories_->byListener.size()) return nullptr;
  return factories_->byListener[listenerIndex];
}

}  // namespace midge::app
