// Per-connection I/O: accept, read, write, close and the TLS filter seam.
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstring>

#include "port/net/callbacks.hpp"
#include "port/net/connection.hpp"
#include "port/net/event_loop.hpp"
#include "port/net/listen_socket.hpp"

namespace midge::port {
namespace {

// evbuffer_peek fills at most this many chunks per pass; more passes follow if needed.
constexpr int kPeekChunks = 8;

}  // namespace

std::string EventLoop::Callbacks::describe(const Connection& c) {
  return "connection " + std::to_string(c.id) + " from " + c.peer.address;
}

void EventLoop::Callbacks::onAccept(evconnlistener*, evutil_socket_t fd, sockaddr* address,
                                    int length, void* listener) {
  auto* l = static_cast<Listener*>(listener);
  l->loop->accept(*l, fd, formatSocketAddress(address, static_cast<socklen_t>(length)));
}
void EventLoop::Callbacks::onRead(bufferevent*, void* connection) {
  auto* c = static_cast<Connection*>(connection);
  c->loop->onReadable(*c);
}
void EventLoop::Callbacks::onWrite(bufferevent*, void* connection) {
  auto* c = static_cast<Connection*>(connection);
  c->loop->onWriteDrained(*c);
}
void EventLoop::Callbacks::onEvent(bufferevent*, short what, void* connection) {
  auto* c = static_cast<Connection*>(connection);
  c->loop->onSocketEvent(*c, what);
}
void EventLoop::Callbacks::onConnectionTimer(evutil_socket_t, short, void* connection) {
  auto* c = static_cast<Connection*>(connection);
  c->loop->onConnectionTimer(*c);
}
void EventLoop::Callbacks::onOutputChanged(evbuffer*, const evbuffer_cb_info* info,
                                           void* self) {
  // Bytes leave the output buffer only when the socket write takes them.
  static_cast<EventLoop*>(self)->counters_.bytesSent += info->n_deleted;
}

void EventLoop::accept(Listener& listener, int fd, const std::string& peer) {
  const std::string where = "listener " + std::to_string(listener.spec.index);
  const char* refusal = nullptr;
  if (stopping_) {
    refusal = "shutting down";
  } else if (listener.spec.maxConnections != 0 &&
             listener.active >= listener.spec.maxConnections) {
    refusal = "listener is at its connection limit";
  } else if (options_.maxConnectionsGlobal != 0 &&
             connections_.size() >= options_.maxConnectionsGlobal) {
    refusal = "broker is at its global connection limit";
  }
  if (refusal != nullptr) {
    // Accepting and closing at once tells the client now, instead of leaving it in the
    // backlog until its own connect timeout.
    ++counters_.connectionsRefused;
    evutil_closesocket(fd);
    log(LogLevel::Warning, "refused connection from " + peer + " on " + where + ": " + refusal);
    return;
  }
  int on = 1;
  // MQTT packets are small and latency matters more than segment count.
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  bufferevent* bev = bufferevent_socket_new(base_, fd, BEV_OPT_CLOSE_ON_FREE);
  if (bev == nullptr) {
    evutil_closesocket(fd);
    log(LogLevel::Error, "cannot set up connection from " + peer + ": out of memory");
    return;
  }
  auto owned = std::make_unique<Connection>();
  Connection& c = *owned;
  c.loop = this;
  c.id = nextId_++;
  c.listener = &listener;
  c.bev = bev;
  c.peer.address = peer;
  c.peer.listenerPort = listener.port;
  c.peer.listenerIndex = listener.spec.index;
  connections_.emplace(c.id, std::move(owned));
  ++listener.active;
  ++counters_.connectionsAccepted;

  bufferevent_setcb(bev, &Callbacks::onRead, &Callbacks::onWrite, &Callbacks::onEvent, &c);
  bufferevent_setwatermark(bev, EV_READ, 0, options_.readHighWatermark);
  bufferevent_setwatermark(bev, EV_WRITE, options_.writeLowWatermark, 0);
  bufferevent_set_max_single_read(bev, options_.maxReadPerTurn);
  evbuffer_add_cb(bufferevent_get_output(bev), &Callbacks::onOutputChanged, this);
  bufferevent_enable(bev, EV_READ);

  if (listener.spec.tls != nullptr) {
    c.filter = listener.spec.tls->create();
    if (c.filter == nullptr) {
      ++counters_.tlsFailures;
      log(LogLevel::Error, Callbacks::describe(c) + ": cannot create a TLS session");
      destroy(c, false);
      return;
    }
    c.state = ConnectionState::Handshaking;
    armTimer(c, listener.spec.tlsHandshakeTimeoutMs);
    log(LogLevel::Debug, "accepted " + Callbacks::describe(c) + " on " + where + ", TLS handshake");
    return;
  }
  c.state = ConnectionState::Open;
  c.engineKnows = true;
  log(LogLevel::Debug, "accepted " + Callbacks::describe(c) + " on " + where);
  handler_->onOpen(c.id, c.peer);
  markTurn();
}

void EventLoop::onReadable(Connection& c) {
  evbuffer* input = bufferevent_get_input(c.bev);
  std::size_t total = evbuffer_get_length(input);
  counters_.bytesReceived += total;
  if (c.state == ConnectionState::Closing || c.state == ConnectionState::Lingering) {
    evbuffer_drain(input, total);  // the engine is done with this connection
    return;
  }
  const ConnectionId id = c.id;
  bool delivered = false;
  while (evbuffer_get_length(input) > 0) {
    evbuffer_iovec chunks[kPeekChunks];
    int n = evbuffer_peek(input, -1, nullptr, chunks, kPeekChunks);
    if (n <= 0) break;
    int filled = n < kPeekChunks ? n : kPeekChunks;
    std::size_t consumed = 0;
    for (int i = 0; i < filled; ++i) {
      Bytes chunk(static_cast<const std::uint8_t*>(chunks[i].iov_base), chunks[i].iov_len);
      consumed += chunk.size();
      if (c.filter == nullptr) {
        handler_->onBytes(id, chunk);
        delivered = true;
      } else {
        // A partial TLS record or a handshake message gives the engine nothing: no turn.
        delivered = deliverWire(c, chunk) || delivered;
      }
      // The engine (or the filter) may have closed the connection: what follows is
      // discarded, as after a DISCONNECT.
      if (c.state != ConnectionState::Open && c.state != ConnectionState::Handshaking) break;
    }
    evbuffer_drain(input, consumed);
    if (c.state != ConnectionState::Open && c.state != ConnectionState::Handshaking) {
      evbuffer_drain(input, evbuffer_get_length(input));
    }
  }
  if (delivered) markTurn();
}

// TLS path: wire bytes go through the filter; the engine hears of the connection only
// once the handshake is complete. Returns whether the engine got onOpen or onBytes, so
// that a read which gave it nothing ends no turn.
bool EventLoop::deliverWire(Connection& c, Bytes wire) {
  plainScratch_.clear();
  wireScratch_.clear();
  bool ok = c.filter->onReceive(wire, plainScratch_, wireScratch_);
  if (!wireScratch_.empty()) writeWire(c, Bytes(wireScratch_));
  if (!ok) {
    ++counters_.tlsFailures;
    log(LogLevel::Warning, Callbacks::describe(c) + ": TLS error: " + c.filter->error());
    beginClose(c);  // flushes the alert the filter may have queued; onClose comes later
    return false;
  }
  bool delivered = false;
  if (c.state == ConnectionState::Handshaking && c.filter->handshakeDone()) {
    if (c.timer != nullptr) event_del(c.timer);
    c.state = ConnectionState::Open;
    c.engineKnows = true;
    c.peer.tls = true;
    c.peer.certIdentity = c.filter->peerIdentity();
    log(LogLevel::Debug, Callbacks::describe(c) + ": TLS handshake done" +
                             (c.peer.certIdentity.empty() ? "" : ", client " +
                                                                     c.peer.certIdentity));
    handler_->onOpen(c.id, c.peer);
    delivered = true;
  }
  if (c.state == ConnectionState::Open && !plainScratch_.empty()) {
    handler_->onBytes(c.id, Bytes(plainScratch_));
    delivered = true;
  }
  return delivered;
}

void EventLoop::onWriteDrained(Connection& c) {
  std::size_t pending = evbuffer_get_length(bufferevent_get_output(c.bev));
  if (c.state == ConnectionState::Closing) {
    if (pending == 0) finishClose(c);
    return;
  }
  if (c.state == ConnectionState::Open && c.congested && pending <= options_.writeLowWatermark) {
    c.congested = false;
    handler_->onWritable(c.id);
    markTurn();
  }
}

void EventLoop::onSocketEvent(Connection& c, short what) {
  if ((what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) == 0) return;
  if (c.state != ConnectionState::Lingering) {
    if ((what & BEV_EVENT_ERROR) != 0) {
      log(LogLevel::Info, Callbacks::describe(c) + ": " +
                              evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    } else {
      log(LogLevel::Debug, Callbacks::describe(c) + " closed by the peer");
    }
  }
  destroy(c, true);
}

void EventLoop::onConnectionTimer(Connection& c) {
  switch (c.state) {
    case ConnectionState::Handshaking:
      ++counters_.tlsFailures;
      log(LogLevel::Warning, Callbacks::describe(c) + ": TLS handshake not done within " +
                                 std::to_string(c.listener->spec.tlsHandshakeTimeoutMs) +
                                 " ms; dropped");
      destroy(c, false);
      return;
    case ConnectionState::Closing:
      log(LogLevel::Info, Callbacks::describe(c) + ": peer did not take its final " +
                              std::to_string(evbuffer_get_length(bufferevent_get_output(c.bev))) +
                              " bytes within " + std::to_string(options_.closeFlushTimeoutMs) +
                              " ms; dropped");
      destroy(c, true);
      return;
    case ConnectionState::Lingering:
    case ConnectionState::Open:
      destroy(c, true);
      return;
  }
}

// Stops reading and lets the output drain; finishClose() follows from the write callback,
// or from the deferred pass when nothing is pending (never from inside close()).
void EventLoop::beginClose(Connection& c) {
  if (c.state == ConnectionState::Closing || c.state == ConnectionState::Lingering) return;
  c.state = ConnectionState::Closing;
  bufferevent_disable(c.bev, EV_READ);
  bufferevent_setwatermark(c.bev, EV_WRITE, 0, 0);
  armTimer(c, options_.closeFlushTimeoutMs);
  if (evbuffer_get_length(bufferevent_get_output(c.bev)) == 0) {
    defer(c.id, Deferred::FinishClose);
  }
}

// Everything is written: send FIN, tell the engine, then wait for the peer's FIN while
// discarding its input. Closing with unread input would send a reset, and a reset can make
// the peer's kernel discard the final bytes (CONNACK, DISCONNECT) before it reads them.
void EventLoop::finishClose(Connection& c) {
  ::shutdown(bufferevent_getfd(c.bev), SHUT_WR);
  c.state = ConnectionState::Lingering;
  bufferevent_setwatermark(c.bev, EV_READ, 0, 0);
  bufferevent_enable(c.bev, EV_READ);
  armTimer(c, options_.closeFlushTimeoutMs);
  if (c.engineKnows) {
    c.engineKnows = false;
    handler_->onClose(c.id);
    markTurn();
  }
}

void EventLoop::destroy(Connection& c, bool notifyEngine) {
  const ConnectionId id = c.id;
  c.state = ConnectionState::Lingering;  // sends from inside onClose are ignored
  if (notifyEngine && c.engineKnows) {
    c.engineKnows = false;
    handler_->onClose(id);
    markTurn();
  }
  if (c.listener != nullptr && c.listener->active > 0) --c.listener->active;
  if (c.timer != nullptr) event_free(c.timer);
  // Safe inside this bufferevent's own callbacks: libevent defers the final release.
  bufferevent_free(c.bev);
  connections_.erase(id);  // c is gone from here on
  if (stopping_ && connections_.empty()) event_base_loopexit(base_, nullptr);
}

void EventLoop::armTimer(Connection& c, std::uint32_t ms) {
  if (c.timer == nullptr) {
    c.timer = event_new(base_, -1, 0, &Callbacks::onConnectionTimer, &c);
    if (c.timer == nullptr) return;  // without memory for a timer the peer's EOF still ends it
  }
  timeval tv{};
  tv.tv_sec = static_cast<decltype(tv.tv_sec)>(ms / 1000);
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>((ms % 1000) * 1000);
  event_add(c.timer, &tv);
}

void EventLoop::writeWire(Connection& c, Bytes wire) {
  evbuffer* output = bufferevent_get_output(c.bev);
  if (bufferevent_write(c.bev, wire.data(), wire.size()) != 0) {
    log(LogLevel::Error, Callbacks::describe(c) + ": cannot queue " + std::to_string(wire.size()) +
                             " bytes; closing");
    beginClose(c);
    return;
  }
  if (evbuffer_get_length(output) > options_.writeHighWatermark) c.congested = true;
}

void EventLoop::send(ConnectionId id, Bytes bytes) {
  auto it = connections_.find(id);
  if (it == connections_.end() || it->second->state != ConnectionState::Open) return;
  Connection& c = *it->second;
  if (c.filter == nullptr) {
    writeWire(c, bytes);
    return;
  }
  sendScratch_.clear();
  if (!c.filter->onSend(bytes, sendScratch_)) {
    ++counters_.tlsFailures;
    log(LogLevel::Warning, Callbacks::describe(c) + ": TLS error while sending: " + c.filter->error());
    beginClose(c);
    return;
  }
  writeWire(c, Bytes(sendScratch_));
}

void EventLoop::close(ConnectionId id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  beginClose(*it->second);
}

bool EventLoop::congested(ConnectionId id) const {
  auto it = connections_.find(id);
  return it != connections_.end() && it->second->congested;
}

}  // namespace midge::port
