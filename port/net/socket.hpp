// SPDX-License-Identifier: Apache-2.0
// Private to port/net: the per-socket state behind an EventLoop connection id. Named
// Socket, not Connection: core/engine/connection.hpp is the MQTT side of the same id.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/engine/io.hpp"
#include "port/net/event_loop.hpp"
#include "port/stream_filter.hpp"

namespace midge::port {

// Handshaking -> Open -> Closing -> Lingering -> destroyed; any state may be destroyed
// directly when the peer goes away. The engine knows the connection from onOpen (at
// accept for TCP, when the filter finishes its handshake for TLS) until onClose.
enum class SocketState : std::uint8_t {
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

// Bytes the kernel did not take yet. Allocated on the first short write and freed once
// drained, so an idle connection holds no write buffer at all.
struct PendingOutput {
  std::vector<std::uint8_t> bytes;
  std::size_t head = 0;  // bytes[0, head) are already written
  std::size_t size() const { return bytes.size() - head; }
};

// Kept small: one exists per connection, and idle connections are the common case. The
// socket has one libevent event (read, plus write while output is pending); reads go
// through the loop-wide buffer, so nothing is kept per connection on the read side.
struct EventLoop::Socket {
  Listener* listener = nullptr;  // also reaches the loop
  event* io = nullptr;           // the socket: EV_READ unless closing, EV_WRITE while pending
  event* timer = nullptr;        // handshake, close-flush or linger deadline; only once armed
  std::unique_ptr<StreamFilter> filter;
  std::unique_ptr<PendingOutput> pending;
  ConnectionId id = 0;
  std::string address;  // the peer, for logs; PeerInfo is built when the engine hears of it
  SocketState state = SocketState::Open;
  std::uint8_t interest = 0;  // the EV_READ/EV_WRITE flags io is registered with
  bool engineKnows = false;   // onOpen delivered and onClose not yet
  bool congested = false;     // above the high watermark; onWritable pending
};

}  // namespace midge::port
