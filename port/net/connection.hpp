// Private to port/net: the per-socket state behind an EventLoop connection id.
#pragma once

#include <memory>
#include <vector>

#include "core/engine/io.hpp"
#include "port/net/event_loop.hpp"
#include "port/stream_filter.hpp"

namespace midge::port {

// Handshaking -> Open -> Closing -> Lingering -> destroyed; any state may be destroyed
// directly when the peer goes away. The engine knows the connection from onOpen (at
// accept for TCP, when the filter finishes its handshake for TLS) until onClose.
enum class ConnectionState : std::uint8_t {
  Handshaking,  // TLS: the filter has not finished; the engine has not heard of it yet
  Open,
  Closing,    // close() was called: reading stopped, pending bytes are being written
  Lingering,  // all bytes written and FIN sent; input is discarded until the peer's FIN
};

struct EventLoop::Listener {
  EventLoop* loop = nullptr;
  ListenerSpec spec;
  std::uint16_t port = 0;
  std::vector<evconnlistener*> sockets;
  std::vector<std::string> addresses;
  event* retryTimer = nullptr;  // re-enables accepting after EMFILE
  std::size_t active = 0;
};

struct EventLoop::Connection {
  EventLoop* loop = nullptr;
  ConnectionId id = 0;
  Listener* listener = nullptr;
  bufferevent* bev = nullptr;
  event* timer = nullptr;  // handshake, close-flush or linger deadline, by state
  std::unique_ptr<StreamFilter> filter;
  PeerInfo peer;
  ConnectionState state = ConnectionState::Open;
  bool engineKnows = false;  // onOpen delivered and onClose not yet
  bool congested = false;    // above the high watermark; onWritable pending
};

}  // namespace midge::port
