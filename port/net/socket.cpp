// SPDX-License-Identifier: Apache-2.0
// Per-connection I/O: accept, read, write, close and the stream filter seam (TLS,
// WebSockets, or both).
//
// Each socket has one plain libevent event rather than a bufferevent: reads land in the
// loop's one buffer and go straight to the filter or the engine, and writes go straight
// to the kernel, so only the bytes the kernel did not take are kept per connection. An
// idle connection then costs its Socket and one event, nothing more.
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "port/net/callbacks.hpp"
#include "port/net/socket.hpp"
#include "port/net/event_loop.hpp"
#include "port/net/listen_socket.hpp"

namespace midge::port {
namespace {

bool wouldBlock(int error) {
  return error == EAGAIN || error == EWOULDBLOCK || error == EINTR;
}

}  // namespace

std::string EventLoop::Callbacks::describe(const Socket& c) {
  return "connection " + std::to_string(c.id) + " from " + c.address;
}

void EventLoop::Callbacks::onAccept(evconnlistener*, evutil_socket_t fd, sockaddr* address,
                                    int length, void* listener) {
  auto* l = static_cast<Listener*>(listener);
  l->loop->accept(*l, fd, formatSocketAddress(address, static_cast<socklen_t>(length)));
}
void EventLoop::Callbacks::onIo(evutil_socket_t, short what, void* connection) {
  auto* c = static_cast<Socket*>(connection);
  c->listener->loop->onSocketReady(*c, what);
}
void EventLoop::Callbacks::onSocketTimer(evutil_socket_t, short, void* connection) {
  auto* c = static_cast<Socket*>(connection);
  c->listener->loop->onSocketTimer(*c);
}

void EventLoop::accept(Listener& listener, int fd, const std::string& peer) {
  const std::string where = "listener " + std::to_string(listener.spec.index);
  if (const char* refusal = acceptRefusal(listener, peer)) {
    // Accepting and closing at once tells the client now, instead of leaving it in the
    // backlog until its own connect timeout.
    ++counters_.connectionsRefused;
    evutil_closesocket(fd);
    log(LogLevel::Warning, "refused connection from " + peer + " on " + where + ": " + refusal);
    return;
  }
  Socket* c = adoptSocket(listener, fd, peer);
  if (c == nullptr) return;
  if (listener.spec.tls != nullptr) {
    beginHandshake(*c, where);
    return;
  }
  log(LogLevel::Debug, "accepted " + Callbacks::describe(*c) + " on " + where);
  announceOpen(*c);
  markTurn();
}

// Why a just-accepted socket must be closed at once, or nullptr to keep it.
const char* EventLoop::acceptRefusal(const Listener& listener, const std::string& peer) {
  if (stopping_) return "shutting down";
  if (listener.spec.maxConnections != 0 && listener.active >= listener.spec.maxConnections) {
    return "listener is at its connection limit";
  }
  if (options_.maxConnectionsGlobal != 0 && sockets_.size() >= options_.maxConnectionsGlobal) {
    return "broker is at its global connection limit";
  }
  // Last, because it counts the attempt: a socket refused above must not use up its
  // address's handshake budget.
  if (listener.spec.tls != nullptr && !admitTlsHandshake(peer)) {
    return "too many TLS handshakes from this address (max_connect_rate)";
  }
  return nullptr;
}

// Makes the descriptor a Socket the loop watches and counts; nullptr (descriptor closed)
// if libevent cannot watch it.
EventLoop::Socket* EventLoop::adoptSocket(Listener& listener, int fd, const std::string& peer) {
  int on = 1;
  // MQTT packets are small and latency matters more than segment count.
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  // The listener accepts non-blocking already; a blocking write would stall every client.
  evutil_make_socket_nonblocking(fd);
  auto owned = std::make_unique<Socket>();
  Socket& c = *owned;
  c.io = event_new(base_, fd, EV_READ | EV_PERSIST, &Callbacks::onIo, &c);
  if (c.io == nullptr || event_add(c.io, nullptr) != 0) {
    if (c.io != nullptr) event_free(c.io);
    evutil_closesocket(fd);
    log(LogLevel::Error, "cannot set up connection from " + peer + ": out of memory");
    return nullptr;
  }
  c.interest = EV_READ;
  c.id = nextId_++;
  c.listener = &listener;
  c.address = peer;
  sockets_.emplace(c.id, std::move(owned));
  ++listener.active;
  ++counters_.connectionsAccepted;
  return &c;
}

// The engine hears of a TLS socket only once its handshake is done (announceOpen).
void EventLoop::beginHandshake(Socket& c, const std::string& where) {
  c.filter = c.listener->spec.tls->create();
  if (c.filter == nullptr) {
    ++counters_.tlsFailures;
    log(LogLevel::Error, Callbacks::describe(c) + ": cannot create a stream filter");
    destroy(c, false);
    return;
  }
  c.state = SocketState::Handshaking;
  armTimer(c, c.listener->spec.tlsHandshakeTimeoutMs);
  log(LogLevel::Debug, "accepted " + Callbacks::describe(c) + " on " + where + ", " +
                           c.filter->protocolName() + " handshake");
}

// The one place a socket becomes known to the engine, with everything the engine is told
// about its peer: at accept for TCP, when the filter's handshake is done otherwise.
void EventLoop::announceOpen(Socket& c) {
  c.state = SocketState::Open;
  c.engineKnows = true;
  PeerInfo info;
  info.address = c.address;
  info.listenerPort = c.listener->port;
  info.listenerIndex = c.listener->spec.index;
  if (c.filter != nullptr) {
    info.tls = c.filter->encrypted();
    info.certIdentity = c.filter->peerIdentity();
  }
  handler_->onOpen(c.id, info);
}

// Counted per second like CONNECTs in the engine, but at accept: by the time a CONNECT
// arrives over TLS, the handshake has already been paid for.
bool EventLoop::admitTlsHandshake(const std::string& peer) {
  if (options_.maxTlsHandshakesPerSecond == 0) return true;
  // The host part of "host:port" / "[v6]:port".
  const std::size_t colon = peer.rfind(':');
  std::string address = colon == std::string::npos ? peer : peer.substr(0, colon);
  const std::uint64_t second = monotonicMs() / 1000;
  if (second != handshakeSecond_) {
    handshakeSecond_ = second;
    handshakesThisSecond_.clear();
  }
  return ++handshakesThisSecond_[std::move(address)] <= options_.maxTlsHandshakesPerSecond;
}

void EventLoop::onSocketReady(Socket& c, short what) {
  // Writing first: a peer that reset the connection is then reported by the write.
  if ((what & EV_WRITE) != 0 && !flushPending(c)) return;
  if ((what & EV_READ) != 0) onReadable(c);
}

// One read() per callback, at most maxReadPerTurn bytes, so that one fast publisher cannot
// take a whole turn; level-triggered readiness brings the rest in the next iteration.
bool EventLoop::onReadable(Socket& c) {
  if (c.state == SocketState::Closing) return true;  // reading is paused
  ssize_t n = ::read(event_get_fd(c.io), readBuffer_.data(), readBuffer_.size());
  if (n < 0) {
    int error = errno;
    if (wouldBlock(error)) return true;
    if (c.state != SocketState::Lingering) {
      log(LogLevel::Info, Callbacks::describe(c) + ": " + evutil_socket_error_to_string(error));
    }
    destroy(c, true);
    return false;
  }
  if (n == 0) {
    if (c.state != SocketState::Lingering) {
      log(LogLevel::Debug, Callbacks::describe(c) + " closed by the peer");
    }
    destroy(c, true);
    return false;
  }
  counters_.bytesReceived += static_cast<std::uint64_t>(n);
  if (c.state == SocketState::Lingering) return true;  // the engine is done with it
  Bytes chunk(readBuffer_.data(), static_cast<std::size_t>(n));
  if (c.filter == nullptr) {
    // If the engine closes the connection inside onBytes, nothing more of it is read.
    handler_->onBytes(c.id, chunk);
    markTurn();
  } else if (deliverWire(c, chunk)) {
    // A partial TLS record or a handshake message gives the engine nothing: no turn.
    markTurn();
  }
  return true;
}

// Filter path: wire bytes go through the filter; the engine hears of the connection only
// once the handshake is complete. Returns whether the engine got onOpen or onBytes, so
// that a read which gave it nothing ends no turn.
bool EventLoop::deliverWire(Socket& c, Bytes wire) {
  plainScratch_.clear();
  wireScratch_.clear();
  bool ok = c.filter->onReceive(wire, plainScratch_, wireScratch_);
  if (!wireScratch_.empty()) writeWire(c, Bytes(wireScratch_));
  if (!ok && c.filter->closedByPeer()) {
    log(LogLevel::Info, Callbacks::describe(c) + ": " + c.filter->error());
    beginClose(c);  // flushes the filter's answer to the close
    return false;
  }
  if (!ok) {
    ++counters_.tlsFailures;
    log(LogLevel::Warning, Callbacks::describe(c) + ": " + c.filter->protocolName() +
                               " error: " + c.filter->error());
    beginClose(c);  // flushes the alert the filter may have queued; onClose comes later
    return false;
  }
  bool delivered = false;
  if (c.state == SocketState::Handshaking && c.filter->handshakeDone()) {
    if (c.filter->encrypted()) ++counters_.tlsHandshakes;
    if (c.timer != nullptr) {
      event_free(c.timer);  // an open connection needs no timer until it closes
      c.timer = nullptr;
    }
    const std::string identity = c.filter->peerIdentity();
    log(LogLevel::Debug, Callbacks::describe(c) + ": " + c.filter->protocolName() +
                             " handshake done" + (identity.empty() ? "" : ", client " + identity));
    announceOpen(c);
    delivered = true;
  }
  if (c.state == SocketState::Open && !plainScratch_.empty()) {
    handler_->onBytes(c.id, Bytes(plainScratch_));
    delivered = true;
  }
  return delivered;
}

// The socket is writable and bytes are pending: write what the kernel takes, then report
// a drained close or the fall below the low watermark.
bool EventLoop::flushPending(Socket& c) {
  PendingOutput* p = c.pending.get();
  const int fd = event_get_fd(c.io);
  while (p != nullptr && p->size() > 0) {
    ssize_t n = ::write(fd, p->bytes.data() + p->head, p->size());
    if (n < 0) {
      int error = errno;
      if (wouldBlock(error)) break;
      if (c.state != SocketState::Lingering) {
        log(LogLevel::Info, Callbacks::describe(c) + ": " + evutil_socket_error_to_string(error));
      }
      destroy(c, true);
      return false;
    }
    counters_.bytesSent += static_cast<std::uint64_t>(n);
    p->head += static_cast<std::size_t>(n);
  }
  const std::size_t left = pendingBytes(c);
  if (left == 0) {
    c.pending.reset();  // an idle connection keeps no write buffer
  } else if (p->head * 2 >= p->bytes.size()) {
    // Dropping the written prefix only once it is half the buffer keeps the moves linear.
    p->bytes.erase(p->bytes.begin(), p->bytes.begin() + static_cast<std::ptrdiff_t>(p->head));
    p->head = 0;
  }
  updateInterest(c);
  if (c.state == SocketState::Closing) {
    if (left == 0) finishClose(c);
    return true;
  }
  if (c.state == SocketState::Open && c.congested && left <= options_.writeLowWatermark) {
    c.congested = false;
    updateInterest(c);
    handler_->onWritable(c.id);
    markTurn();
  }
  return true;
}

std::size_t EventLoop::pendingBytes(const Socket& c) {
  return c.pending == nullptr ? 0 : c.pending->size();
}

// Reading stops while closing (the engine is done with the input) and resumes while
// lingering; writing is watched only while bytes are pending. Reading also stops while the
// connection is congested: a client that sends and never reads would otherwise make its
// answers (PUBACKs, PINGRESPs) pile up here without bound. The engine already holds back
// deliveries then; once the client has read down to the low watermark, reading resumes.
void EventLoop::updateInterest(Socket& c) {
  const bool paused = c.state == SocketState::Closing ||
                      (c.state == SocketState::Open && c.congested);
  std::uint8_t want = paused ? 0 : EV_READ;
  if (pendingBytes(c) != 0) want = static_cast<std::uint8_t>(want | EV_WRITE);
  if (want == c.interest) return;
  // An event's flags are fixed while it is added: take it out, reassign, put it back.
  // Safe inside its own callback: libevent no longer touches the event after calling it.
  const evutil_socket_t fd = event_get_fd(c.io);
  event_del(c.io);
  c.interest = want;
  if (want == 0) return;
  if (event_assign(c.io, base_, fd, static_cast<short>(want | EV_PERSIST), &Callbacks::onIo,
                   &c) != 0 ||
      event_add(c.io, nullptr) != 0) {
    log(LogLevel::Error, Callbacks::describe(c) + ": cannot watch the socket; closing");
    c.interest = 0;
    c.state = SocketState::Lingering;
    defer(c.id, Deferred::Drop);
  }
}

void EventLoop::onSocketTimer(Socket& c) {
  switch (c.state) {
    case SocketState::Handshaking:
      ++counters_.tlsFailures;
      log(LogLevel::Warning, Callbacks::describe(c) + ": " + c.filter->protocolName() +
                                 " handshake not done within " +
                                 std::to_string(c.listener->spec.tlsHandshakeTimeoutMs) +
                                 " ms; dropped");
      destroy(c, false);
      return;
    case SocketState::Closing:
      log(LogLevel::Info, Callbacks::describe(c) + ": peer did not take its final " +
                              std::to_string(pendingBytes(c)) + " bytes within " +
                              std::to_string(options_.closeFlushTimeoutMs) + " ms; dropped");
      destroy(c, true);
      return;
    case SocketState::Lingering:
    case SocketState::Open:
      destroy(c, true);
      return;
  }
}

// Stops reading and lets the output drain; finishClose() follows from the write callback,
// or from the deferred pass when nothing is pending (never from inside close()).
void EventLoop::beginClose(Socket& c) {
  if (c.state == SocketState::Closing || c.state == SocketState::Lingering) return;
  if (c.filter != nullptr && c.state == SocketState::Open) {
    // A WebSocket peer learns of the close from a Close frame, not from the bare FIN.
    sendScratch_.clear();
    c.filter->closeGracefully(sendScratch_);
    if (!sendScratch_.empty()) writeWire(c, Bytes(sendScratch_));
    if (c.state == SocketState::Lingering) return;  // the write failed; dropped later
  }
  c.state = SocketState::Closing;
  updateInterest(c);
  armTimer(c, options_.closeFlushTimeoutMs);
  if (pendingBytes(c) == 0) defer(c.id, Deferred::FinishClose);
}

// Everything is written: send FIN, tell the engine, then wait for the peer's FIN while
// discarding its input. Closing with unread input would send a reset, and a reset can make
// the peer's kernel discard the final bytes (CONNACK, DISCONNECT) before it reads them.
void EventLoop::finishClose(Socket& c) {
  ::shutdown(event_get_fd(c.io), SHUT_WR);
  c.state = SocketState::Lingering;
  updateInterest(c);
  armTimer(c, options_.closeFlushTimeoutMs);
  if (c.engineKnows) {
    c.engineKnows = false;
    handler_->onClose(c.id);
    markTurn();
  }
}

void EventLoop::destroy(Socket& c, bool notifyEngine) {
  const ConnectionId id = c.id;
  c.state = SocketState::Lingering;  // sends from inside onClose are ignored
  if (notifyEngine && c.engineKnows) {
    c.engineKnows = false;
    handler_->onClose(id);
    markTurn();
  }
  if (c.listener != nullptr && c.listener->active > 0) --c.listener->active;
  if (c.timer != nullptr) event_free(c.timer);
  // Safe inside this event's own callback: libevent does not touch it after the call.
  const evutil_socket_t fd = event_get_fd(c.io);
  event_free(c.io);
  evutil_closesocket(fd);
  sockets_.erase(id);  // c is gone from here on
  if (stopping_ && sockets_.empty()) event_base_loopexit(base_, nullptr);
}

void EventLoop::armTimer(Socket& c, std::uint32_t ms) {
  if (c.timer == nullptr) {
    c.timer = event_new(base_, -1, 0, &Callbacks::onSocketTimer, &c);
    if (c.timer == nullptr) return;  // without memory for a timer the peer's EOF still ends it
  }
  timeval tv{};
  tv.tv_sec = static_cast<decltype(tv.tv_sec)>(ms / 1000);
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>((ms % 1000) * 1000);
  event_add(c.timer, &tv);
}

// Writes straight to the kernel while nothing is pending (order is kept: once bytes are
// pending, new ones queue behind them). Never calls back into the engine: a write error
// drops the connection from the deferred pass.
void EventLoop::writeWire(Socket& c, Bytes wire) {
  std::size_t written = 0;
  if (pendingBytes(c) == 0) {
    ssize_t n = ::write(event_get_fd(c.io), wire.data(), wire.size());
    if (n < 0) {
      int error = errno;
      if (!wouldBlock(error)) {
        log(LogLevel::Info, Callbacks::describe(c) + ": " + evutil_socket_error_to_string(error));
        c.pending.reset();
        c.state = SocketState::Lingering;  // later sends and closes are ignored
        updateInterest(c);
        defer(c.id, Deferred::Drop);
        return;
      }
      n = 0;
    }
    written = static_cast<std::size_t>(n);
    counters_.bytesSent += written;
  }
  if (written == wire.size()) return;
  if (c.pending == nullptr) c.pending = std::make_unique<PendingOutput>();
  c.pending->bytes.insert(c.pending->bytes.end(), wire.data() + written,
                          wire.data() + wire.size());
  if (pendingBytes(c) > options_.writeHighWatermark) c.congested = true;
  updateInterest(c);
}

void EventLoop::send(ConnectionId id, Bytes bytes) {
  auto it = sockets_.find(id);
  if (it == sockets_.end() || it->second->state != SocketState::Open) return;
  Socket& c = *it->second;
  if (c.filter == nullptr) {
    writeWire(c, bytes);
    return;
  }
  sendScratch_.clear();
  if (!c.filter->onSend(bytes, sendScratch_)) {
    ++counters_.tlsFailures;
    log(LogLevel::Warning, Callbacks::describe(c) + ": " + c.filter->protocolName() +
                               " error while sending: " + c.filter->error());
    beginClose(c);
    return;
  }
  writeWire(c, Bytes(sendScratch_));
}

void EventLoop::close(ConnectionId id) {
  auto it = sockets_.find(id);
  if (it == sockets_.end()) return;
  beginClose(*it->second);
}

bool EventLoop::congested(ConnectionId id) const {
  auto it = sockets_.find(id);
  return it != sockets_.end() && it->second->congested;
}

}  // namespace midge::port
