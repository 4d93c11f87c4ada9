// SPDX-License-Identifier: Apache-2.0
// One https connection of the operator endpoint: TLS (any StreamFilter) on the accepted
// TCP socket, plaintext relayed both ways to evhttp's local AF_UNIX socket once the
// handshake is done. evhttp in libevent 2.1 cannot run over a bufferevent filter without
// leaving freed timers in the loop, so it gets plain sockets and never sees TLS.
//
// Limits, each logged when it bites:
// - the handshake must be done within handshakeTimeoutMs of the accept;
// - output that makes no progress for writeStallTimeoutMs closes the connection;
// - at most maxBufferedBytes wait in each direction: past that the relay stops reading
//   from the side that produces them until the other side has taken them.
// A first byte that starts an HTTP method (plain HTTP sent to the https port) is answered
// with a plain-text 400 and the connection closed.
//
// The relay binds its local socket to a kernel-chosen abstract name before connecting,
// so the server can tell, from getpeername on its side, that a connection is one of its
// own relays and not a local process talking to the internal socket directly.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/engine/io.hpp"
#include "port/stream_filter.hpp"

struct event_base;
struct bufferevent;
struct event;

namespace midge::port {

struct TlsRelayLimits {
  int handshakeTimeoutMs = 10000;
  int writeStallTimeoutMs = 10000;
  // Four full TLS records; a /metrics answer of a large broker fits a few times over.
  std::size_t maxBufferedBytes = 64 * 1024;
};

class TlsRelay;

// What a relay needs from the server that owns it. Single-threaded, like the loop.
class TlsRelayOwner {
 public:
  virtual void relayLog(LogLevel level, const std::string& message) = 0;
  virtual void relayHandshakeDone(TlsRelay& relay) = 0;
  virtual void relayHandshakeFailed(TlsRelay& relay) = 0;
  // The relay's local socket is bound to `name` and about to connect; until
  // relayFinished the server admits requests from that name.
  virtual void relayLocalName(TlsRelay& relay, const std::string& name) = 0;
  // Last call of a relay: the owner destroys it, the relay touches nothing after.
  virtual void relayFinished(TlsRelay& relay) = 0;

 protected:
  ~TlsRelayOwner() = default;
};

class TlsRelay {
 public:
  // Takes the accepted descriptor. start() arms the handshake deadline and reads.
  TlsRelay(event_base* base, int fd, std::string peer, std::unique_ptr<StreamFilter> filter,
           const sockaddr_un& local, socklen_t localLength, const TlsRelayLimits& limits,
           std::string name, TlsRelayOwner& owner);
  ~TlsRelay();
  TlsRelay(const TlsRelay&) = delete;
  TlsRelay& operator=(const TlsRelay&) = delete;

  // False when the socket cannot be set up; the caller then destroys the relay.
  bool start();
  const std::string& peer() const { return peer_; }
  const std::string& localName() const { return localName_; }
  const std::string& peerIdentity() const { return peerIdentity_; }
  // Set by the owner at accept: every request on this connection is answered 503.
  bool excess = false;

 private:
  enum class State { Handshaking, Relaying, Closing };
  struct Callbacks;

  void onWireReadable();
  void onPlainReadable();
  bool feedFilter(const std::uint8_t* data, std::size_t length);
  bool connectLocal();
  void answerPlainHttp();
  void closeAfterFlush();
  void finish();
  void log(LogLevel level, const std::string& what);
  void updateFlow();

  event_base* base_;
  std::string peer_;
  std::unique_ptr<StreamFilter> filter_;
  sockaddr_un local_{};
  socklen_t localLength_ = 0;
  TlsRelayLimits limits_;
  std::string name_;
  TlsRelayOwner& owner_;
  bufferevent* wire_ = nullptr;   // the TCP socket to the client
  bufferevent* plain_ = nullptr;  // the AF_UNIX socket to evhttp, after the handshake
  event* deadline_ = nullptr;
  State state_ = State::Handshaking;
  bool sawFirstByte_ = false;
  bool finished_ = false;
  std::string localName_;
  std::string peerIdentity_;
  std::vector<std::uint8_t> plainScratch_;
  std::vector<std::uint8_t> wireScratch_;
};

}  // namespace midge::port
