// SPDX-License-Identifier: Apache-2.0
// Test doubles for the port tests: a recording engine and blocking loopback clients.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/engine/io.hpp"
#include "port/net/event_loop.hpp"

namespace midge::port::testing {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Generous: a deadline only ends a test that is already failing.
constexpr milliseconds kDeadline{10000};

enum class Kind { Open, Bytes, Writable, Close, Tick, EndOfTurn };

struct Event {
  Kind kind;
  ConnectionId id;
  std::string data;
  PeerInfo peer;
};

// Records every call from the loop, echoes bytes back when asked, and lets a test hook
// any call. All calls must come from the loop thread and must never nest.
class FakeEngine : public ConnectionEvents {
 public:
  Output* out = nullptr;
  bool echo = true;
  std::function<void(ConnectionId, const PeerInfo&)> openHook;
  std::function<void(ConnectionId, const std::string&)> bytesHook;
  std::function<void(ConnectionId)> writableHook;
  std::function<void(ConnectionId)> closeHook;
  std::function<void()> tickHook;
  std::function<void()> endOfTurnHook;

  void onOpen(ConnectionId id, const PeerInfo& peer) override {
    Nesting guard(*this);
    record({Kind::Open, id, {}, peer});
    if (openHook) openHook(id, peer);
  }
  void onBytes(ConnectionId id, Bytes bytes) override {
    Nesting guard(*this);
    std::string data(asStringView(bytes));
    record({Kind::Bytes, id, data, {}});
    if (echo && out != nullptr) out->send(id, bytes);
    if (bytesHook) bytesHook(id, data);
  }
  void onWritable(ConnectionId id) override {
    Nesting guard(*this);
    record({Kind::Writable, id, {}, {}});
    if (writableHook) writableHook(id);
  }
  void onClose(ConnectionId id) override {
    Nesting guard(*this);
    record({Kind::Close, id, {}, {}});
    if (closeHook) closeHook(id);
  }
  void onTick() override {
    Nesting guard(*this);
    record({Kind::Tick, 0, {}, {}});
    if (tickHook) tickHook();
  }
  void endOfTurn() override {
    Nesting guard(*this);
    record({Kind::EndOfTurn, 0, {}, {}});
    if (endOfTurnHook) endOfTurnHook();
  }

  std::vector<Event> events() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return events_;
  }
  std::size_t count(Kind kind) const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::size_t n = 0;
    for (const Event& e : events_) n += e.kind == kind ? 1 : 0;
    return n;
  }
  std::string received(ConnectionId id) const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string all;
    for (const Event& e : events_) {
      if (e.kind == Kind::Bytes && e.id == id) all += e.data;
    }
    return all;
  }
  std::vector<ConnectionId> opened() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<ConnectionId> ids;
    for (const Event& e : events_) {
      if (e.kind == Kind::Open) ids.push_back(e.id);
    }
    return ids;
  }
  // Waits for an event, not for time: wakes on every recorded call.
  bool waitUntil(const std::function<bool()>& condition, milliseconds timeout = kDeadline) {
    std::unique_lock<std::mutex> lock(mutex_);
    auto until = Clock::now() + timeout;
    while (true) {
      lock.unlock();
      bool met = condition();
      lock.lock();
      if (met) return true;
      if (cv_.wait_until(lock, until) == std::cv_status::timeout) {
        lock.unlock();
        return condition();
      }
    }
  }
  bool nested() const { return nested_; }

 private:
  struct Nesting {
    explicit Nesting(FakeEngine& e) : engine(e) {
      if (engine.depth_++ > 0) engine.nested_ = true;
    }
    ~Nesting() { --engine.depth_; }
    FakeEngine& engine;
  };
  void record(Event e) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      events_.push_back(std::move(e));
    }
    cv_.notify_all();
  }

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Event> events_;
  int depth_ = 0;
  bool nested_ = false;
};

inline const char* kindName(Kind kind) {
  switch (kind) {
    case Kind::Open: return "open";
    case Kind::Bytes: return "bytes";
    case Kind::Writable: return "writable";
    case Kind::Close: return "close";
    case Kind::Tick: return "tick";
    case Kind::EndOfTurn: return "END";
  }
  return "?";
}

// "open#1 END bytes#1 ..." so that a failure shows the sequence that broke a rule.
inline std::string trace(const std::vector<Event>& events) {
  std::ostringstream out;
  for (const Event& e : events) {
    out << (&e == events.data() ? "" : " ") << kindName(e.kind);
    if (e.id != 0) out << '#' << e.id;
  }
  return out.str();
}

// The rules every run must keep: per id open first, nothing after close; every batch of
// events ends with one endOfTurn; no engine call inside another.
inline void expectWellFormed(const FakeEngine& engine, bool allowEmptyTurns = false) {
  EXPECT_FALSE(engine.nested()) << "the loop re-entered the engine";
  std::map<ConnectionId, int> state;  // 0 unseen, 1 open, 2 closed
  bool eventsSinceTurn = false;
  const std::vector<Event> events = engine.events();
  SCOPED_TRACE("events: " + trace(events));
  for (const Event& e : events) {
    switch (e.kind) {
      case Kind::Open:
        EXPECT_EQ(state[e.id], 0) << "connection " << e.id << " opened twice";
        state[e.id] = 1;
        break;
      case Kind::Bytes:
      case Kind::Writable:
      case Kind::Close:
        EXPECT_EQ(state[e.id], 1) << "event for connection " << e.id
                                  << " outside open..close";
        if (e.kind == Kind::Close) state[e.id] = 2;
        break;
      case Kind::Tick:
        break;
      case Kind::EndOfTurn:
        if (!allowEmptyTurns) {
          EXPECT_TRUE(eventsSinceTurn) << "endOfTurn without events";
        }
        eventsSinceTurn = false;
        continue;
    }
    eventsSinceTurn = true;
  }
  EXPECT_FALSE(eventsSinceTurn) << "the last events were not followed by endOfTurn";
}

// Runs the loop in this thread until a hook of the test calls stop(), for tests in which a
// tick would blur the turns under test: the tick interval is the deadline, and a tick
// stops the loop and fails the test.
inline void runWithoutTicks(EventLoop& loop, FakeEngine& engine) {
  auto previous = engine.tickHook;
  engine.tickHook = [&] {
    ADD_FAILURE() << "deadline: the test did not stop the loop before the first tick";
    loop.stop();
  };
  EXPECT_EQ(loop.run(), 0);
  engine.tickHook = previous;
}

inline LoopOptions tickFreeOptions() {
  LoopOptions o;
  o.tickMs = static_cast<std::uint32_t>(3 * kDeadline.count());
  o.shutdownFlushTimeoutMs = 200;
  return o;
}

// Runs the loop in this thread until `done` (checked on every tick) or the deadline.
// Returns false on timeout. The loop stops gracefully either way.
inline bool runUntil(EventLoop& loop, FakeEngine& engine, const std::function<bool()>& done,
                     milliseconds timeout = kDeadline) {
  auto deadline = Clock::now() + timeout;
  bool timedOut = false;
  bool stopped = false;
  auto previous = engine.tickHook;
  engine.tickHook = [&] {
    if (previous) previous();
    if (stopped) return;
    if (done()) {
      stopped = true;
      loop.stop();
    } else if (Clock::now() > deadline) {
      stopped = timedOut = true;
      loop.stop();
    }
  };
  EXPECT_EQ(loop.run(), 0);
  engine.tickHook = previous;
  return !timedOut;
}

inline bool ipv6Loopback() {
  int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

// A blocking loopback client whose reads wait on poll() with a deadline.
class Client {
 public:
  Client() = default;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  Client(Client&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  ~Client() { closeNow(); }

  bool connect(const char* address, std::uint16_t port) {
    closeNow();
    sockaddr_storage s{};
    socklen_t length = 0;
    if (std::strchr(address, ':') != nullptr) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&s);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(port);
      if (::inet_pton(AF_INET6, address, &a->sin6_addr) != 1) return false;
      length = sizeof(*a);
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&s);
      a->sin_family = AF_INET;
      a->sin_port = htons(port);
      if (::inet_pton(AF_INET, address, &a->sin_addr) != 1) return false;
      length = sizeof(*a);
    }
    fd_ = ::socket(s.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&s), length) != 0) {
      closeNow();
      return false;
    }
    return true;
  }
  bool send(const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  }
  // Reads until `n` bytes, EOF or the deadline; returns what arrived.
  std::string read(std::size_t n, milliseconds timeout = kDeadline) {
    std::string data;
    auto until = Clock::now() + timeout;
    while (data.size() < n && !eof_) {
      if (!readSome(data, n - data.size(), until)) break;
    }
    return data;
  }
  // Reads everything up to EOF (or the deadline); eof() tells which.
  std::string readToEof(milliseconds timeout = kDeadline) {
    std::string data;
    auto until = Clock::now() + timeout;
    while (!eof_) {
      if (!readSome(data, 1 << 16, until)) break;
    }
    return data;
  }
  // Waits until the peer's kernel has acknowledged every byte sent. Those bytes are then
  // queued on the peer's socket, which is readable, and a connection still waiting in the
  // listener's backlog is complete and can be accepted. connect() returning promises
  // neither: the final ACK of the handshake may still be in flight on a loaded host.
  // Linux only (SIOCOUTQ); there is no event for an ACK, so this polls with a deadline.
  bool waitUntilAcked(milliseconds timeout = kDeadline) const {
    auto until = Clock::now() + timeout;
    while (true) {
      int unacked = 0;
      if (::ioctl(fd_, SIOCOUTQ, &unacked) != 0) return false;
      if (unacked == 0) return true;
      if (Clock::now() > until) return false;
      ::poll(nullptr, 0, 1);
    }
  }
  bool eof() const { return eof_; }
  int fd() const { return fd_; }
  void closeNow() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    eof_ = false;
  }

 private:
  bool readSome(std::string& data, std::size_t max, Clock::time_point until) {
    auto left = std::chrono::duration_cast<milliseconds>(until - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    char buffer[1 << 16];
    std::size_t want = max < sizeof(buffer) ? max : sizeof(buffer);
    ssize_t n = ::recv(fd_, buffer, want, 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) {
      eof_ = true;
      return false;
    }
    if (n < 0) return errno == EINTR;
    data.append(buffer, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool eof_ = false;
};

inline std::unique_ptr<EventLoop> makeLoop(LoopOptions options, FakeEngine& engine,
                                           std::vector<std::string>* logs = nullptr) {
  std::string error;
  auto loop = EventLoop::create(options, error);
  EXPECT_NE(loop, nullptr) << error;
  if (!loop) return loop;
  loop->setHandler(&engine);
  engine.out = loop.get();
  loop->setLogSink([logs](LogLevel, std::string_view line) {
    if (logs != nullptr) logs->emplace_back(line);
  });
  return loop;
}

inline bool anyLogContains(const std::vector<std::string>& logs, const std::string& text) {
  for (const std::string& line : logs) {
    if (line.find(text) != std::string::npos) return true;
  }
  return false;
}

inline LoopOptions fastOptions() {
  LoopOptions o;
  o.tickMs = 5;
  // The client of a test usually runs in the loop's thread and cannot answer the FIN of a
  // graceful stop: its sockets are cut after this.
  o.shutdownFlushTimeoutMs = 200;
  return o;
}

}  // namespace midge::port::testing
