// SPDX-License-Identifier: Apache-2.0
// Both sides are plain socket bufferevents (no filter bufferevent anywhere), so libevent
// 2.1 keeps its timers straight; the TLS work happens in the StreamFilter between them.
// finish() frees the sockets at once but leaves this object to the owner, which destroys
// it outside the callback that ended it.
#include "port/http/tls_relay.hpp"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>

namespace midge::port {

namespace {

// One TLS record's worth of bytes per filter call, like the MQTT listeners.
constexpr std::size_t kChunkBytes = 16 * 1024;

// A ClientHello starts with 0x16; an HTTP request starts with an upper-case method.
bool startsHttpMethod(std::uint8_t first) { return first >= 'A' && first <= 'Z'; }

timeval fromMilliseconds(int ms) {
  return timeval{ms / 1000, static_cast<suseconds_t>((ms % 1000) * 1000)};
}

}  // namespace

struct TlsRelay::Callbacks {
  static void wireRead(bufferevent*, void* context) {
    static_cast<TlsRelay*>(context)->onWireReadable();
  }
  static void wireWritten(bufferevent*, void* context) {
    auto& relay = *static_cast<TlsRelay*>(context);
    if (relay.state_ == State::Closing) {
      relay.finish();
    } else {
      relay.updateFlow();
    }
  }
  static void wireEvent(bufferevent*, short what, void* context) {
    auto& relay = *static_cast<TlsRelay*>(context);
    if ((what & BEV_EVENT_TIMEOUT) != 0) {
      relay.log(LogLevel::Notice, "closed: the client read nothing for " +
                                      std::to_string(relay.limits_.writeStallTimeoutMs) +
                                      " ms (write stall timeout)");
    } else if ((what & BEV_EVENT_ERROR) != 0 && relay.state_ != State::Closing) {
      relay.log(LogLevel::Info, std::string("socket error: ") +
                                    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    }
    relay.finish();
  }
  static void plainRead(bufferevent*, void* context) {
    static_cast<TlsRelay*>(context)->onPlainReadable();
  }
  static void plainWritten(bufferevent*, void* context) {
    static_cast<TlsRelay*>(context)->updateFlow();
  }
  static void plainEvent(bufferevent*, short, void* context) {
    // evhttp ended the connection (after an answer with "Connection: close", an idle
    // timeout or a refused request): what it wrote is already in our output.
    static_cast<TlsRelay*>(context)->closeAfterFlush();
  }
  static void deadline(evutil_socket_t, short, void* context) {
    auto& relay = *static_cast<TlsRelay*>(context);
    relay.log(LogLevel::Notice, "TLS handshake not done within " +
                                    std::to_string(relay.limits_.handshakeTimeoutMs) + " ms, closed");
    relay.owner_.relayHandshakeFailed(relay);
    relay.finish();
  }
};

TlsRelay::TlsRelay(event_base* base, int fd, std::string peer, std::unique_ptr<StreamFilter> filter,
                   const sockaddr_un& local, socklen_t localLength, const TlsRelayLimits& limits,
                   std::string name, TlsRelayOwner& owner)
    : base_(base),
      peer_(std::move(peer)),
      filter_(std::move(filter)),
      local_(local),
      localLength_(localLength),
      limits_(limits),
      name_(std::move(name)),
      owner_(owner) {
  wire_ = bufferevent_socket_new(base_, fd, BEV_OPT_CLOSE_ON_FREE);
  if (wire_ == nullptr) ::close(fd);
}

TlsRelay::~TlsRelay() {
  if (plain_ != nullptr) bufferevent_free(plain_);
  if (wire_ != nullptr) bufferevent_free(wire_);
  if (deadline_ != nullptr) event_free(deadline_);
}

bool TlsRelay::start() {
  if (wire_ == nullptr || filter_ == nullptr) return false;
  deadline_ = evtimer_new(base_, Callbacks::deadline, this);
  if (deadline_ == nullptr) return false;
  const timeval handshake = fromMilliseconds(limits_.handshakeTimeoutMs);
  evtimer_add(deadline_, &handshake);
  const timeval stall = fromMilliseconds(limits_.writeStallTimeoutMs);
  bufferevent_set_timeouts(wire_, nullptr, &stall);
  bufferevent_setcb(wire_, Callbacks::wireRead, Callbacks::wireWritten, Callbacks::wireEvent, this);
  bufferevent_enable(wire_, EV_READ | EV_WRITE);
  return true;
}

void TlsRelay::log(LogLevel level, const std::string& what) {
  owner_.relayLog(level, name_ + ": " + peer_ + ": " + what);
}

void TlsRelay::onWireReadable() {
  evbuffer* input = bufferevent_get_input(wire_);
  while (!finished_ && evbuffer_get_length(input) > 0) {
    if (state_ == State::Closing) {
      evbuffer_drain(input, evbuffer_get_length(input));
      return;
    }
    const std::size_t length = std::min(evbuffer_get_length(input), kChunkBytes);
    const std::uint8_t* data = evbuffer_pullup(input, static_cast<ev_ssize_t>(length));
    if (!sawFirstByte_) {
      sawFirstByte_ = true;
      if (startsHttpMethod(data[0])) {
        evbuffer_drain(input, evbuffer_get_length(input));
        answerPlainHttp();
        return;
      }
    }
    const bool ok = feedFilter(data, length);
    if (!finished_) evbuffer_drain(input, length);
    if (!ok) return;
  }
}

bool TlsRelay::feedFilter(const std::uint8_t* data, std::size_t length) {
  plainScratch_.clear();
  wireScratch_.clear();
  const bool ok = filter_->onReceive(Bytes(data, length), plainScratch_, wireScratch_);
  // Also after a failure: it may hold the alert that tells the client why.
  if (!wireScratch_.empty()) bufferevent_write(wire_, wireScratch_.data(), wireScratch_.size());
  if (state_ == State::Handshaking && filter_->handshakeDone()) {
    state_ = State::Relaying;
    evtimer_del(deadline_);
    peerIdentity_ = filter_->peerIdentity();
    owner_.relayHandshakeDone(*this);
    if (!connectLocal()) {
      closeAfterFlush();
      return false;
    }
  }
  if (!plainScratch_.empty() && plain_ != nullptr) {
    bufferevent_write(plain_, plainScratch_.data(), plainScratch_.size());
  }
  if (!ok) {
    const std::string why = filter_->error();
    if (!filter_->handshakeDone()) {
      log(LogLevel::Notice, std::string(filter_->protocolName()) + ": " + why);
      owner_.relayHandshakeFailed(*this);
    } else {
      // The client's close_notify is the ordinary end of a session.
      const bool orderly = why.rfind("peer closed", 0) == 0;
      log(orderly ? LogLevel::Debug : LogLevel::Notice,
          std::string(filter_->protocolName()) + (orderly ? ": " : " error: ") + why);
    }
    closeAfterFlush();
    return false;
  }
  updateFlow();
  return true;
}

bool TlsRelay::connectLocal() {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    log(LogLevel::Error, std::string("cannot create the internal socket: ") + std::strerror(errno));
    return false;
  }
  // Autobind: the kernel picks a unique abstract name, which only this socket holds
  // while it is open; the server admits requests from names its relays registered.
  sockaddr_un self{};
  self.sun_family = AF_UNIX;
  socklen_t selfLength = sizeof self;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&self), sizeof(sa_family_t)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&self), &selfLength) != 0 ||
      selfLength <= offsetof(sockaddr_un, sun_path)) {
    log(LogLevel::Error, std::string("cannot bind the internal socket: ") + std::strerror(errno));
    ::close(fd);
    return false;
  }
  localName_.assign(self.sun_path, selfLength - offsetof(sockaddr_un, sun_path));
  owner_.relayLocalName(*this, localName_);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&local_), localLength_) != 0 &&
      errno != EINPROGRESS) {
    // EAGAIN: evhttp's backlog is full, so the server is far past max_connections.
    log(LogLevel::Warning, std::string("cannot reach the HTTP server's internal socket: ") +
                               std::strerror(errno));
    ::close(fd);
    return false;
  }
  plain_ = bufferevent_socket_new(base_, fd, BEV_OPT_CLOSE_ON_FREE);
  if (plain_ == nullptr) {
    ::close(fd);
    return false;
  }
  bufferevent_setcb(plain_, Callbacks::plainRead, Callbacks::plainWritten, Callbacks::plainEvent,
                    this);
  bufferevent_enable(plain_, EV_READ | EV_WRITE);
  return true;
}

void TlsRelay::onPlainReadable() {
  evbuffer* input = bufferevent_get_input(plain_);
  while (state_ == State::Relaying && evbuffer_get_length(input) > 0) {
    const std::size_t length = std::min(evbuffer_get_length(input), kChunkBytes);
    const std::uint8_t* data = evbuffer_pullup(input, static_cast<ev_ssize_t>(length));
    wireScratch_.clear();
    const bool ok = filter_->onSend(Bytes(data, length), wireScratch_);
    evbuffer_drain(input, length);
    if (!wireScratch_.empty()) bufferevent_write(wire_, wireScratch_.data(), wireScratch_.size());
    if (!ok) {
      log(LogLevel::Notice, std::string(filter_->protocolName()) + " error: " + filter_->error());
      closeAfterFlush();
      return;
    }
  }
  updateFlow();
}

void TlsRelay::updateFlow() {
  if (state_ != State::Relaying || plain_ == nullptr) return;
  // Each side reads only while the other side's output is under the limit, so neither a
  // client that reads slowly nor one that sends fast makes the relay's memory grow.
  const bool towardClientFull =
      evbuffer_get_length(bufferevent_get_output(wire_)) >= limits_.maxBufferedBytes;
  const bool towardServerFull =
      evbuffer_get_length(bufferevent_get_output(plain_)) >= limits_.maxBufferedBytes;
  if (towardClientFull) {
    if ((bufferevent_get_enabled(plain_) & EV_READ) != 0) {
      log(LogLevel::Info, std::to_string(limits_.maxBufferedBytes) +
                              " bytes wait for the client; pausing until it reads");
    }
    bufferevent_disable(plain_, EV_READ);
  } else {
    bufferevent_enable(plain_, EV_READ);
  }
  if (towardServerFull) {
    if ((bufferevent_get_enabled(wire_) & EV_READ) != 0) {
      log(LogLevel::Info, std::to_string(limits_.maxBufferedBytes) +
                              " bytes wait for the HTTP server; pausing the client");
    }
    bufferevent_disable(wire_, EV_READ);
  } else {
    bufferevent_enable(wire_, EV_READ);
  }
}

void TlsRelay::answerPlainHttp() {
  log(LogLevel::Notice, "plain HTTP sent to the https listener (use https://), answered 400");
  owner_.relayHandshakeFailed(*this);
  static const char kBody[] = "This port speaks HTTPS: use https://\n";
  const std::string answer = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n"
                             "Connection: close\r\nContent-Length: " +
                             std::to_string(sizeof kBody - 1) + "\r\n\r\n" + kBody;
  bufferevent_write(wire_, answer.data(), answer.size());
  closeAfterFlush();
}

void TlsRelay::closeAfterFlush() {
  if (finished_ || state_ == State::Closing) return;
  state_ = State::Closing;
  if (deadline_ != nullptr) evtimer_del(deadline_);
  if (plain_ != nullptr) bufferevent_disable(plain_, EV_READ | EV_WRITE);
  bufferevent_disable(wire_, EV_READ);
  // TLS sends no close_notify here (StreamFilter has no such step for TLS); the answers
  // carry their length, so a client can tell a complete one from a cut one.
  if (evbuffer_get_length(bufferevent_get_output(wire_)) == 0) {
    finish();
  } else {
    bufferevent_enable(wire_, EV_WRITE);  // wireWritten finishes once it is out
  }
}

void TlsRelay::finish() {
  if (finished_) return;
  finished_ = true;
  if (deadline_ != nullptr) evtimer_del(deadline_);
  // The owner forgets the local name before the socket that holds it closes.
  owner_.relayFinished(*this);
  if (plain_ != nullptr) {
    bufferevent_free(plain_);
    plain_ = nullptr;
  }
  if (wire_ != nullptr) {
    bufferevent_free(wire_);
    wire_ = nullptr;
  }
}

}  // namespace midge::port
