// SPDX-License-Identifier: Apache-2.0
// The driver of the sans-IO engine on libevent: listeners, connections, the tick, signals
// and the clock. One thread, one event_base; the engine is called only from loop callbacks.
//
// A turn is one libevent callback batch: every read, accept, close and tick callback that
// becomes ready in one loop iteration delivers its events to the engine first, then the
// engine gets exactly one endOfTurn() (group commit). See docs/port.md.
//
// Example:
//   std::string error;
//   auto loop = midge::port::EventLoop::create({}, error);
//   if (!loop) { fprintf(stderr, "%s\n", error.c_str()); return 1; }
//   loop->setHandler(&engine);
//   if (!loop->addListener({"", 1883, 0}, error)) { ...; return 1; }
//   return loop->run();  // until SIGINT/SIGTERM or stop()
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/engine/io.hpp"
#include "port/net/listen_socket.hpp"
#include "port/stream_filter.hpp"

struct event_base;
struct event;
struct evconnlistener;

namespace midge::port {

struct ListenerSpec {
  // "" listens on every IPv4 and IPv6 address (two sockets, the IPv6 one IPV6_V6ONLY);
  // a name such as "localhost" binds every address it resolves to.
  std::string bindAddress;
  std::uint16_t port = 0;  // 0: the kernel picks one, see EventLoop::boundPort()
  int index = 0;           // reported to the engine in PeerInfo::listenerIndex
  std::size_t maxConnections = 0;  // 0: unlimited
  // null: plain TCP; else TLS, WebSockets or both. Not owned, must outlive the loop.
  StreamFilterFactory* tls = nullptr;
  std::string filterName{};  // for the log, e.g. "WebSockets over TLS"; "": "TLS" if tls is set
  std::uint32_t tlsHandshakeTimeoutMs = 10000;
  ListenRestrictions restrictions{};  // socket_domain, bind_interface
};

struct LoopOptions {
  // Bytes read from one socket per read callback, so one fast publisher cannot starve the
  // other connections of a turn. Also the size of the one read buffer the loop shares by
  // all connections (the engine's framer keeps partial packets itself).
  std::size_t maxReadPerTurn = 64 * 1024;
  // Bytes the kernel did not take are kept per connection; congested() turns true when
  // they exceed the high mark and onWritable() fires once they have drained to the low
  // mark: the gap keeps the engine from flapping.
  std::size_t writeHighWatermark = 1 << 20;
  std::size_t writeLowWatermark = 256 * 1024;
  std::uint32_t tickMs = 100;
  std::size_t maxConnectionsGlobal = 0;  // 0: unlimited
  // close(): how long a peer that does not read may hold its final bytes in memory, and
  // how long a closed socket waits for the peer's FIN so that unread input does not turn
  // the close into a reset that destroys those final bytes.
  std::uint32_t closeFlushTimeoutMs = 5000;
  // Graceful stop: how long pending writes may take before every socket is cut.
  std::uint32_t shutdownFlushTimeoutMs = 3000;
  // After accept() fails for lack of descriptors (EMFILE), the listener pauses this long
  // instead of spinning on the still-readable listening socket.
  std::uint32_t acceptRetryMs = 1000;
  // TLS handshakes started per second per client address (max_connect_rate); 0: no limit.
  // A handshake costs the broker an asymmetric-key operation before any CONNECT can be
  // counted, so without this one address could spend the broker's CPU without limit.
  std::uint32_t maxTlsHandshakesPerSecond = 0;
};

// For $SYS statistics. Bytes are counted on the wire (TLS records included).
struct NetCounters {
  std::uint64_t bytesReceived = 0;
  std::uint64_t bytesSent = 0;  // handed to the kernel, not merely queued
  std::uint64_t connectionsAccepted = 0;
  std::uint64_t connectionsRefused = 0;  // over maxConnections, or during shutdown
  std::uint64_t acceptErrors = 0;
  std::uint64_t tlsFailures = 0;  // handshake timeouts and filter errors (TLS, WebSockets)
  std::uint64_t tlsHandshakes = 0;  // completed
};

class EventLoop final : public Output, public Clock {
 public:
  // Null on failure, with error set. Ignores SIGPIPE for the process: a peer that resets
  // its connection must surface as a write error, not kill the broker.
  static std::unique_ptr<EventLoop> create(const LoopOptions& options, std::string& error);
  ~EventLoop() override;
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // The engine; must be set before run(). Not owned.
  void setHandler(ConnectionEvents* handler);
  // Opens the listening sockets now (so a busy port is reported at startup). False with
  // error set, e.g. "cannot bind 0.0.0.0:1883: Address already in use".
  bool addListener(const ListenerSpec& spec, std::string& error);
  // The port a listener is bound to (useful with port 0), 0 for an unknown index.
  std::uint16_t boundPort(int listenerIndex) const;

  // Dispatches until stop() has finished; returns 0, or 1 if libevent failed. SIGINT and
  // SIGTERM call the shutdown callback and then stop(); a second one cuts every socket at
  // once. SIGHUP calls the reload callback. Not re-entrant; call at most once.
  int run();
  // Graceful stop, from the loop thread (a callback) or before run(): stops accepting,
  // drops unfinished TLS handshakes, flushes and closes every connection (each one the
  // engine knows gets onClose), and cuts what is left after shutdownFlushTimeoutMs.
  void stop();
  // As SIGTERM (the shutdown callback, then stop()), from a loop callback of its own: safe
  // to call from inside an engine call, which must not be re-entered.
  void shutdownSoon(std::string reason);
  void setSignalCallbacks(std::function<void()> onShutdown, std::function<void()> onReload);
  // Default: Error and Warning lines go to stderr.
  void setLogSink(std::function<void(LogLevel, std::string_view)> sink);

  const NetCounters& counters() const { return counters_; }
  // For servers that share the loop's thread (the operator HTTP listener).
  event_base* eventBase() const { return base_; }
  std::size_t connectionCount() const { return sockets_.size(); }

  // Output (contract in core/engine/io.hpp). Unknown or closing ids are ignored: the
  // engine may still hold an id whose onClose is on its way.
  void send(ConnectionId id, Bytes bytes) override;
  void close(ConnectionId id) override;
  bool congested(ConnectionId id) const override;
  void log(LogLevel level, std::string_view message) override;

  // Clock: CLOCK_MONOTONIC milliseconds and wall-clock seconds since the epoch.
  std::uint64_t monotonicMs() const override;
  std::int64_t wallSeconds() const override;

 private:
  struct Socket;
  struct Listener;
  struct Callbacks;  // the C callbacks handed to libevent
  enum class Deferred : std::uint8_t { FinishClose, Drop };

  explicit EventLoop(const LoopOptions& options);
  bool init(std::string& error);

  void accept(Listener& listener, int fd, const std::string& peer);
  const char* acceptRefusal(const Listener& listener, const std::string& peer);
  Socket* adoptSocket(Listener& listener, int fd, const std::string& peer);
  void beginHandshake(Socket& c, const std::string& where);
  bool admitTlsHandshake(const std::string& peer);
  void announceOpen(Socket& c);
  bool deliverWire(Socket& c, Bytes wire);  // true if the engine heard of anything
  void onSocketReady(Socket& c, short what);
  bool onReadable(Socket& c);  // false once c is destroyed
  bool flushPending(Socket& c);  // false once c is destroyed
  void updateInterest(Socket& c);
  static std::size_t pendingBytes(const Socket& c);
  void onSocketTimer(Socket& c);
  void beginClose(Socket& c);
  void finishClose(Socket& c);
  void destroy(Socket& c, bool notifyEngine);
  void writeWire(Socket& c, Bytes wire);
  void armTimer(Socket& c, std::uint32_t ms);
  void defer(ConnectionId id, Deferred what);
  void runDeferred();
  void markTurn();
  void endTurn();
  void tick();
  void onSignal(int signal);
  void beginShutdown(const std::string& reason);
  void onShutdownDeadline();
  void pauseAccepting(Listener& listener, int error);
  void resumeAccepting(Listener& listener);
  void cutEverything();

  LoopOptions options_;
  ConnectionEvents* handler_ = nullptr;
  event_base* base_ = nullptr;
  event* turnEvent_ = nullptr;
  event* deferredEvent_ = nullptr;
  event* tickEvent_ = nullptr;
  event* shutdownTimer_ = nullptr;
  std::vector<event*> signalEvents_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::unordered_map<ConnectionId, std::unique_ptr<Socket>> sockets_;
  std::vector<std::pair<ConnectionId, Deferred>> deferred_;
  ConnectionId nextId_ = 1;
  bool turnPending_ = false;
  bool deferredPending_ = false;
  bool running_ = false;
  bool stopRequested_ = false;
  bool stopping_ = false;
  NetCounters counters_;
  // Handshakes per address in the current second; cleared when the second changes, so it
  // holds at most the addresses of one second.
  std::unordered_map<std::string, std::uint32_t> handshakesThisSecond_;
  std::uint64_t handshakeSecond_ = 0;
  std::vector<std::uint8_t> readBuffer_;     // maxReadPerTurn bytes, shared by all sockets
  std::vector<std::uint8_t> plainScratch_;    // filter output on the receive path
  std::vector<std::uint8_t> wireScratch_;     // filter output on the receive path
  std::vector<std::uint8_t> sendScratch_;     // filter output on the send path
  std::string shutdownReason_;  // for shutdownSoon()'s callback
  std::function<void()> onShutdown_;
  std::function<void()> onReload_;
  std::function<void(LogLevel, std::string_view)> logSink_;
};

}  // namespace midge::port
