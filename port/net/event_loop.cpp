// SPDX-License-Identifier: Apache-2.0
// Loop-wide machinery: creation, listeners, the turn, the tick, signals, graceful stop,
// logging and the clock. Per-socket I/O lives in socket.cpp.
#include "port/net/event_loop.hpp"

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "port/net/callbacks.hpp"
#include "port/net/socket.hpp"
#include "port/net/listen_socket.hpp"

namespace midge::port {
namespace {

timeval toTimeval(std::uint32_t ms) {
  timeval tv{};
  tv.tv_sec = static_cast<decltype(tv.tv_sec)>(ms / 1000);
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>((ms % 1000) * 1000);
  return tv;
}

const char* signalName(int signal) {
  switch (signal) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    default: return "signal";
  }
}

}  // namespace

void EventLoop::Callbacks::onTurn(evutil_socket_t, short, void* self) {
  static_cast<EventLoop*>(self)->endTurn();
}
void EventLoop::Callbacks::onDeferred(evutil_socket_t, short, void* self) {
  static_cast<EventLoop*>(self)->runDeferred();
}
void EventLoop::Callbacks::onTick(evutil_socket_t, short, void* self) {
  static_cast<EventLoop*>(self)->tick();
}
void EventLoop::Callbacks::onSignal(evutil_socket_t signal, short, void* self) {
  static_cast<EventLoop*>(self)->onSignal(signal);
}
void EventLoop::Callbacks::onShutdownDeadline(evutil_socket_t, short, void* self) {
  static_cast<EventLoop*>(self)->onShutdownDeadline();
}
void EventLoop::Callbacks::onAcceptRetry(evutil_socket_t, short, void* listener) {
  auto* l = static_cast<Listener*>(listener);
  l->loop->resumeAccepting(*l);
}
void EventLoop::Callbacks::onAcceptError(evconnlistener*, void* listener) {
  auto* l = static_cast<Listener*>(listener);
  l->loop->pauseAccepting(*l, EVUTIL_SOCKET_ERROR());
}

EventLoop::EventLoop(const LoopOptions& options) : options_(options) {}

std::unique_ptr<EventLoop> EventLoop::create(const LoopOptions& options, std::string& error) {
  if (options.writeLowWatermark > options.writeHighWatermark) {
    error = "write low watermark is above the high watermark";
    return nullptr;
  }
  if (options.tickMs == 0 || options.maxReadPerTurn == 0) {
    error = "tick interval and read size per turn must be positive";
    return nullptr;
  }
  std::unique_ptr<EventLoop> loop(new EventLoop(options));
  if (!loop->init(error)) return nullptr;
  return loop;
}

bool EventLoop::init(std::string& error) {
  // A write to a reset connection must come back as EPIPE, not kill the process.
  struct sigaction ignore{};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  if (::sigaction(SIGPIPE, &ignore, nullptr) != 0) {
    error = std::string("cannot ignore SIGPIPE: ") + std::strerror(errno);
    return false;
  }
  readBuffer_.resize(options_.maxReadPerTurn);
  base_ = event_base_new();
  if (base_ == nullptr) {
    error = "cannot create the libevent event base";
    return false;
  }
  turnEvent_ = event_new(base_, -1, 0, &Callbacks::onTurn, this);
  deferredEvent_ = event_new(base_, -1, 0, &Callbacks::onDeferred, this);
  tickEvent_ = event_new(base_, -1, EV_PERSIST, &Callbacks::onTick, this);
  shutdownTimer_ = event_new(base_, -1, 0, &Callbacks::onShutdownDeadline, this);
  if (turnEvent_ == nullptr || deferredEvent_ == nullptr || tickEvent_ == nullptr ||
      shutdownTimer_ == nullptr) {
    error = "cannot create loop events";
    return false;
  }
  timeval tick = toTimeval(options_.tickMs);
  if (event_add(tickEvent_, &tick) != 0) {
    error = "cannot start the tick timer";
    return false;
  }
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) {
    event* ev = event_new(base_, signal, EV_SIGNAL | EV_PERSIST, &Callbacks::onSignal, this);
    if (ev == nullptr || event_add(ev, nullptr) != 0) {
      if (ev != nullptr) event_free(ev);
      error = std::string("cannot watch ") + signalName(signal);
      return false;
    }
    signalEvents_.push_back(ev);
  }
  return true;
}

EventLoop::~EventLoop() {
  // No engine callbacks from here on: the engine may already be gone.
  for (auto& entry : sockets_) {
    Socket& c = *entry.second;
    if (c.timer != nullptr) event_free(c.timer);
    if (c.io != nullptr) {
      evutil_socket_t fd = event_get_fd(c.io);
      event_free(c.io);
      evutil_closesocket(fd);
    }
  }
  sockets_.clear();
  for (auto& l : listeners_) {
    for (evconnlistener* s : l->sockets) evconnlistener_free(s);
    if (l->retryTimer != nullptr) event_free(l->retryTimer);
  }
  for (event* ev : signalEvents_) event_free(ev);
  for (event* ev : {turnEvent_, deferredEvent_, tickEvent_, shutdownTimer_}) {
    if (ev != nullptr) event_free(ev);
  }
  if (base_ != nullptr) event_base_free(base_);
}

void EventLoop::setHandler(ConnectionEvents* handler) { handler_ = handler; }

void EventLoop::setSignalCallbacks(std::function<void()> onShutdown,
                                   std::function<void()> onReload) {
  onShutdown_ = std::move(onShutdown);
  onReload_ = std::move(onReload);
}

void EventLoop::setLogSink(std::function<void(LogLevel, std::string_view)> sink) {
  logSink_ = std::move(sink);
}

bool EventLoop::addListener(const ListenerSpec& spec, std::string& error) {
  if (stopping_) {
    error = "the loop is stopping";
    return false;
  }
  ListenSockets sockets;
  std::string notice;
  if (!openListenSockets(spec.bindAddress, spec.port, sockets, error, notice, spec.restrictions)) {
    return false;
  }
  if (!notice.empty()) {
    log(LogLevel::Notice, "listener " + std::to_string(spec.index) + ": " + notice);
  }
  auto listener = std::make_unique<Listener>();
  listener->loop = this;
  listener->spec = spec;
  listener->port = sockets.port;
  listener->addresses = sockets.addresses;
  listener->retryTimer = event_new(base_, -1, 0, &Callbacks::onAcceptRetry, listener.get());
  bool ok = listener->retryTimer != nullptr;
  std::size_t taken = 0;
  for (; ok && taken < sockets.fds.size(); ++taken) {
    // Backlog -1: the socket is already listening.
    evconnlistener* s = evconnlistener_new(base_, &Callbacks::onAccept, listener.get(),
                                           LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1,
                                           sockets.fds[taken]);
    if (s == nullptr) {
      ok = false;
      break;
    }
    evconnlistener_set_error_cb(s, &Callbacks::onAcceptError);
    listener->sockets.push_back(s);
  }
  if (!ok) {
    for (std::size_t i = taken; i < sockets.fds.size(); ++i) ::close(sockets.fds[i]);
    for (evconnlistener* s : listener->sockets) evconnlistener_free(s);
    if (listener->retryTimer != nullptr) event_free(listener->retryTimer);
    error = "cannot watch the listening socket";
    return false;
  }
  std::string where;
  for (const std::string& a : sockets.addresses) where += (where.empty() ? "" : ", ") + a;
  log(LogLevel::Notice, "listener " + std::to_string(spec.index) + " on " + where +
                             (!spec.filterName.empty() ? " (" + spec.filterName + ")"
                              : spec.tls != nullptr   ? " (TLS)"
                                                      : ""));
  listeners_.push_back(std::move(listener));
  return true;
}

std::uint16_t EventLoop::boundPort(int listenerIndex) const {
  for (const auto& l : listeners_) {
    if (l->spec.index == listenerIndex) return l->port;
  }
  return 0;
}

int EventLoop::run() {
  if (handler_ == nullptr) {
    log(LogLevel::Error, "event loop started without an engine");
    return 1;
  }
  running_ = true;
  if (stopRequested_) stop();
  int rc = event_base_dispatch(base_);
  running_ = false;
  return rc < 0 ? 1 : 0;
}

void EventLoop::stop() {
  if (!running_) {
    stopRequested_ = true;
    return;
  }
  if (stopping_) return;
  stopping_ = true;
  for (auto& l : listeners_) {
    for (evconnlistener* s : l->sockets) evconnlistener_free(s);
    l->sockets.clear();
    event_del(l->retryTimer);
  }
  for (auto& entry : sockets_) {
    Socket& c = *entry.second;
    if (c.state == SocketState::Handshaking) {
      defer(c.id, Deferred::Drop);
    } else if (c.state == SocketState::Open) {
      beginClose(c);
    }
  }
  timeval deadline = toTimeval(options_.shutdownFlushTimeoutMs);
  event_add(shutdownTimer_, &deadline);
  // The deferred pass ends the loop once no connection is left, also when there was none.
  event_active(deferredEvent_, 0, 0);
  deferredPending_ = true;
}

void EventLoop::onShutdownDeadline() {
  std::size_t unflushed = 0;
  for (auto& entry : sockets_) {
    if (entry.second->state != SocketState::Lingering) ++unflushed;
  }
  if (unflushed != 0) {
    log(LogLevel::Warning, "shutdown: " + std::to_string(unflushed) +
                               " connection(s) did not finish writing in time; cutting them");
  }
  cutEverything();
}

void EventLoop::cutEverything() {
  std::vector<ConnectionId> ids;
  ids.reserve(sockets_.size());
  for (auto& entry : sockets_) ids.push_back(entry.first);
  for (ConnectionId id : ids) {
    auto it = sockets_.find(id);
    if (it != sockets_.end()) destroy(*it->second, true);
  }
  event_base_loopexit(base_, nullptr);
}

// The turn: every callback that hands events to the engine calls markTurn(), and no other
// (a read that gave the engine nothing must not end a turn). The first call of an
// iteration activates turnEvent_, which libevent appends to the tail of the active queue:
// the read/accept/close/tick callbacks already ready in this iteration run before it, then
// the engine gets one endOfTurn(). One priority is enough for that, and unlike a lower
// priority it cannot be starved by a steady stream of reads.
void EventLoop::markTurn() {
  if (turnPending_) return;
  turnPending_ = true;
  event_active(turnEvent_, 0, 0);
}

void EventLoop::endTurn() {
  turnPending_ = false;
  if (handler_ != nullptr) handler_->endOfTurn();
}

void EventLoop::tick() {
  if (handler_ == nullptr) return;
  handler_->onTick();
  markTurn();
}

void EventLoop::onSignal(int signal) {
  if (signal == SIGHUP) {
    log(LogLevel::Notice, "SIGHUP: reloading");
    if (onReload_) {
      onReload_();
      markTurn();  // the reload may have changed what the engine sends
    }
    return;
  }
  if (stopping_) {
    log(LogLevel::Warning, std::string(signalName(signal)) +
                                " again during shutdown: closing every connection now");
    cutEverything();
    return;
  }
  beginShutdown(signalName(signal));
}

void EventLoop::beginShutdown(const std::string& reason) {
  if (stopping_) return;
  log(LogLevel::Notice, reason + ": shutting down");
  // The callback may have the engine send a last DISCONNECT: stop() then flushes it.
  if (onShutdown_) {
    onShutdown_();
    markTurn();
  }
  stop();
}

void EventLoop::shutdownSoon(std::string reason) {
  if (stopping_ || !shutdownReason_.empty()) return;
  shutdownReason_ = std::move(reason);
  const timeval now{0, 0};
  const auto callback = [](evutil_socket_t, short, void* loop) {
    auto* self = static_cast<EventLoop*>(loop);
    self->beginShutdown(self->shutdownReason_);
  };
  if (event_base_once(base_, -1, EV_TIMEOUT, callback, this, &now) != 0) {
    log(LogLevel::Error, "cannot schedule the shutdown (" + shutdownReason_ + ")");
  }
}

void EventLoop::defer(ConnectionId id, Deferred what) {
  deferred_.emplace_back(id, what);
  if (!deferredPending_) {
    deferredPending_ = true;
    event_active(deferredEvent_, 0, 0);
  }
}

// Work that must not run inside an Output call (the engine would be re-entered) nor
// inside the caller's stack: closes whose output is already empty, and dropped handshakes.
void EventLoop::runDeferred() {
  deferredPending_ = false;
  std::vector<std::pair<ConnectionId, Deferred>> work;
  work.swap(deferred_);
  for (const auto& [id, what] : work) {
    auto it = sockets_.find(id);
    if (it == sockets_.end()) continue;
    Socket& c = *it->second;
    if (what == Deferred::Drop) {
      destroy(c, true);
    } else if (c.state == SocketState::Closing &&
               pendingBytes(c) == 0) {
      finishClose(c);
    }
  }
  if (stopping_ && sockets_.empty()) event_base_loopexit(base_, nullptr);
}

void EventLoop::pauseAccepting(Listener& listener, int error) {
  ++counters_.acceptErrors;
  log(LogLevel::Error, "accept failed on listener " + std::to_string(listener.spec.index) +
                            ": " + evutil_socket_error_to_string(error) + "; pausing for " +
                            std::to_string(options_.acceptRetryMs) + " ms");
  // The listening socket stays readable while the backlog is full: without a pause the
  // loop would spin on it.
  for (evconnlistener* s : listener.sockets) evconnlistener_disable(s);
  timeval retry = toTimeval(options_.acceptRetryMs);
  event_add(listener.retryTimer, &retry);
}

void EventLoop::resumeAccepting(Listener& listener) {
  if (stopping_) return;
  for (evconnlistener* s : listener.sockets) evconnlistener_enable(s);
}

void EventLoop::log(LogLevel level, std::string_view message) {
  if (logSink_) {
    logSink_(level, message);
  } else if (level <= LogLevel::Warning) {
    std::fprintf(stderr, "midge: %.*s\n", static_cast<int>(message.size()), message.data());
  }
}


std::uint64_t EventLoop::monotonicMs() const {
  auto now = std::chrono::steady_clock::now().time_since_epoch();
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
}

std::int64_t EventLoop::wallSeconds() const {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::seconds>(now).count());
}

}  // namespace midge::port
