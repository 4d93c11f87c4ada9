// SPDX-License-Identifier: Apache-2.0
// The event loop over real loopback sockets, driven by a recording engine.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <set>
#include <thread>

#include "port/net/event_loop.hpp"
#include "tests/port/net/net_test_support.hpp"

namespace midge::port::testing {
namespace {

std::string pattern(std::size_t n, std::size_t seed = 0) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + seed) % 26);
  return s;
}

TEST(EventLoop, EchoDeliversOpenBytesCloseInOrder) {
  FakeEngine engine;
  auto loop = makeLoop(fastOptions(), engine);
  std::string error;
  ASSERT_TRUE(loop->addListener({"127.0.0.1", 0, 3}, error)) << error;
  const std::uint16_t port = loop->boundPort(3);
  ASSERT_NE(port, 0);

  std::string echoed;
  std::atomic<bool> done{false};
  std::thread client([&] {
    Client c;
    if (c.connect("127.0.0.1", port) && c.send("hello, broker")) echoed = c.read(13);
    c.closeNow();
    engine.waitUntil([&] { return engine.count(Kind::Close) == 1; });
    done = true;
  });
  bool finished = runUntil(*loop, engine, [&] { return done.load(); });
  client.join();
  ASSERT_TRUE(finished);

  EXPECT_EQ(echoed, "hello, broker");
  auto ids = engine.opened();
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(engine.received(ids[0]), "hello, broker");
  std::vector<Kind> kinds;
  PeerInfo peer;
  for (const Event& e : engine.events()) {
    if (e.id != ids[0]) continue;
    if (kinds.empty() || kinds.back() != e.kind) kinds.push_back(e.kind);
    if (e.kind == Kind::Open) peer = e.peer;
  }
  EXPECT_EQ(kinds, (std::vector<Kind>{Kind::Open, Kind::Bytes, Kind::Close}));
  EXPECT_EQ(peer.address.rfind("127.0.0.1:", 0), 0u) << peer.address;
  EXPECT_EQ(peer.listenerIndex, 3);
  EXPECT_EQ(peer.listenerPort, port);
  EXPECT_FALSE(peer.tls);
  EXPECT_EQ(loop->counters().connectionsAccepted, 1u);
  EXPECT_EQ(loop->counters().bytesReceived, 13u);
  EXPECT_EQ(loop->counters().bytesSent, 13u);
  expectWellFormed(engine);
}

void echoOver(const char* bindAddress, const std::vector<const char*>& connectTo) {
  FakeEngine engine;
  auto loop = makeLoop(fastOptions(), engine);
  std::string error;
  ASSERT_TRUE(loop->addListener({bindAddress, 0, 0}, error)) << error;
  const std::uint16_t port = loop->boundPort(0);
  std::vector<std::string> echoed(connectTo.size());
  std::atomic<bool> done{false};
  std::thread client([&] {
    for (std::size_t i = 0; i < connectTo.size(); ++i) {
      Client c;
      std::string message = std::string("via ") + connectTo[i];
      if (c.connect(connectTo[i], port) && c.send(message)) echoed[i] = c.read(message.size());
    }
    done = true;
  });
  ASSERT_TRUE(runUntil(*loop, engine, [&] { return done.load(); }));
  client.join();
  for (std::size_t i = 0; i < connectTo.size(); ++i) {
    EXPECT_EQ(echoed[i], std::string("via ") + connectTo[i]);
  }
  std::set<std::string> families;
  for (const Event& e : engine.events()) {
    if (e.kind == Kind::Open) families.insert(e.peer.address.substr(0, 1));
  }
  EXPECT_EQ(families.size(), std::set<const char*>(connectTo.begin(), connectTo.end()).size());
  expectWellFormed(engine);
}

TEST(EventLoop, ServesIpv6) {
  if (!ipv6Loopback()) GTEST_SKIP() << "no IPv6 loopback on this host";
  echoOver("::1", {"::1"});
}

TEST(EventLoop, EmptyBindAddressServesIpv4AndIpv6OnOnePort) {
  if (!ipv6Loopback()) {
    echoOver("", {"127.0.0.1"});
    return;
  }
  echoOver("", {"127.0.0.1", "::1"});
}

TEST(EventLoop, ManyClientsGetDistinctIdsAndTheirOwnEcho) {
  constexpr std::size_t kClients = 64;
  FakeEngine engine;
  auto loop = makeLoop(fastOptions(), engine);
  std::string error;
  ASSERT_TRUE(loop->addListener({"127.0.0.1", 0, 0}, error)) << error;
  const std::uint16_t port = loop->boundPort(0);
  std::atomic<std::size_t> good{0};
  std::atomic<bool> done{false};
  std::thread client([&] {
    std::vector<Client> clients(kClients);
    for (auto& c : clients) c.connect("127.0.0.1", port);
    for (std::size_t i = 0; i < kClients; ++i) clients[i].send(pattern(100 + i, i));
    for (std::size_t i = 0; i < kClients; ++i) {
      if (clients[i].read(100 + i) == pattern(100 + i, i)) ++good;
    }
    clients.clear();
    engine.waitUntil([&] { return engine.count(Kind::Close) == kClients; });
    done = true;
  });
  ASSERT_TRUE(runUntil(*loop, engine, [&] { return done.load(); }));
  client.join();
  EXPECT_EQ(good.load(), kClients);
  auto ids = engine.opened();
  EXPECT_EQ(std::set<ConnectionId>(ids.begin(), ids.end()).size(), kClients);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end())) << "ids are handed out in order";
  std::size_t expectedBytes = 0;
  for (std::size_t i = 0; i < kClients; ++i) expectedBytes += 100 + i;
  EXPECT_EQ(loop->counters().bytesReceived, expectedBytes);
  EXPECT_EQ(loop->counters().connectionsAccepted, kClients);
  expectWellFormed(engine);
}

TEST(EventLoop, IdsAreNeverReused) {
  FakeEngine engine;
  auto loop = makeLoop(fastOptions(), engine);
  std::string error;
  ASSERT_TRUE(loop->addListener({"127.0.0.1", 0, 0}, error)) << error;
  const std::uint16_t port = loop->boundPort(0);
  std::atomic<bool> done{false};
  std::thread client([&] {
    for (std::size_t i = 0; i < 5; ++i) {
      Client c;
      c.connect("127.0.0.1", port);
      c.send("x");
      c.read(1);
      c.closeNow();
      engine.waitUntil([&] { return engine.count(Kind::Close) == i + 1; });
    }
    done = true;
  });
  ASSERT_TRUE(runUntil(*loop, engine, [&] { return done.load(); }));
  client.join();
  auto ids = engine.opened();
  ASSERT_EQ(ids.size(), 5u);
  EXPECT_EQ(std::set<ConnectionId>(ids.begin(), ids.end()).size(), 5u);
}

// Three connections wait in the backlog and each has bytes queued before the loop first
// polls. The first poll finds the listener ready (one accept callback takes all three), the
// second finds the three sockets readable (three read callbacks): each batch reaches the
// engine in full before the single endOfTurn that ends it. An endOfTurn per callback, or
// one that waits for a later iteration, breaks the expected sequence.
TEST(EventLoop, EndOfTurnFollowsAllEventsOfOneBatchOnce) {
  FakeEngine engine;
  auto loop = makeLoop(tickFreeOptions(), engine);  // a tick would join or split batches
  std::string error;
  ASSERT_TRUE(loop->addListener({"127.0.0.1", 0, 0}, error)) << error;
  const std::uint16_t port = loop->boundPort(0);
  Client clients[3];
  for (auto& c : clients) {
    ASSERT_TRUE(c.connect("127.0.0.1", port));
    ASSERT_TRUE(c.send("ping"));
  }
  // Acknowledged bytes sit in the accepted socket's queue, and the connection is in the
  // backlog: from here on, nothing the kernel does can split the batches.
  for (auto& c : clients) ASSERT_TRUE(c.waitUntilAcked());

  int turns = 0;
  engine.endOfTurnHook = [&] {
    if (++turns == 2) loop->stop();
  };
  runWithoutTicks(*loop, engine);

  auto events = engine.events();
  std::string firstTwoTurns;
  int seen = 0;
  for (const Event& e : events) {
    firstTwoTurns += std::string(firstTwoTurns.empty() ? "" : " ") + kindName(e.kind);
    if (e.kind == Kind::EndOfTurn && ++seen == 2) break;
  }
  EXPECT_EQ(firstTwoTurns, "open open open END bytes bytes bytes END") << trace(events);
  for (auto& c : clients) EXPECT_EQ(c.read(4), "ping");
  expectWellFormed(engine);
}

TEST(EventLoop, CongestionAndOnWritableFollowTheWatermarks) {
  FakeEngine engine;
  engine.echo = false;
  LoopOptions options = fastOptions();
  options.writeHighWatermark = 256 * 1024;
  options.writeLowWatermark = 64 * 1024;
  auto loop = makeLoop(options, engine);
  std::string error;
  ASSERT_TRUE(loop->addListener({"127.0.0.1", 0, 0}, error)) << error;
  const std::uint16_t port = loop->boundPort(0);

  const std::string chunk = pattern(16 * 1024);
  std::size_t queued = 0;
  std::atomic<bool> sawCongestion{false};
  bool congestedBeforeQueueing = true;
  // The engine fills the connection until the loop says it is congested, as a session
  // delivering a backlog would, then waits for onWritable to finish with "END".
  engine.openHook = [&](ConnectionId id, const PeerInfo&) {
    congestedBeforeQueueing = loop->congested(id);
    while (!loop->congested(id)) {
      loop->send(id, asBytes(chunk));
      queued += chunk.size();
    }
    sawCongestion = true;
  };
  engine.writableHook = [&](ConnectionId id) {
    EXPECT_FALSE(loop->congested(id));
    loop->send(id, asBytes("END"));
    loop->close(id);
  };
  std::string got;
  std::atomic<bool> done{false};
  std::thread client([&] {
    Client c;
    c.connect("127.0.0.1", port);
    // Not reading until the engine has seen congestion: the loop buffers the rest.
    engine.waitUntil([&] { return sawCongestion.load(); });
    got = c.readToEof();
    done = true;
  });
  ASSERT_TRUE(runUntil(*loop, engine, [&] { return done.load(); }));
  client.join();

  EXPECT_FALSE(congestedBeforeQueueing);
  EXPECT_GT(queued, options.writeHighWatermark);
  ASSERT_EQ(got.size(), queued + 3);
  EXPECT_EQ(got.substr(queued), "END");
  EXPECT_EQ(got.substr(0, chunk.size()), chunk);
  EXPECT_EQ(engine.count(Kind::Writable), 1u);
  EXPECT_EQ(loop->counters().bytesSent, queued + 3);
  expectWellFormed(engine);
}

// A client that sends without ever reading: once the answers it does not read fill the
// write buffer past the high watermark, the loop stops reading from it. The client's
// writes then stall in the kernel instead of the broker's memory growing.
TEST(EventLoop, ClientThatNeverReadsIsNoLongerRead) {
  FakeEngine engine;  // echoes: every byte received makes an answer to send back
  LoopOptions options = fastOptions();
  options.writeHighWatermark = 256 * 1024;
  options.writeLowWatermark = 64 * 1024;
  auto loop = makeLoop(options, engine);
  std::string error;
  ASSERT_TRUE(loop->addListener({"127.0.0.1", 0, 0}, error)) << error;
  const std::uint16_t port = loop->boundPort(0);
  std::atomic<std::size_t> received{0};
  engine.bytesHook = [&](ConnectionId, const std::string& data) { received += data.size(); };

  constexpr std::size_t kOffered = std::size_t{128} << 20;
  std::atomic<std::size_t> written{0};
  std::atomic<bool> stalled{false};
  std::atomic<bool> finished{false};
  std::thread client([&] {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
        ::fcntl(fd, F_SETFL, O_NONBLOCK) == 0) {
      const std::string chunk = pattern(64 * 1024);
      while (written < kOffered) {
        const ssize_t n = ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
        if (n > 0) {
          written += static_cast<std::size_t>(n);
          continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) break;
        pollfd writable{fd, POLLOUT, 0};
        // Two seconds without the broker taking a byte: it has stopped reading.
        if (::poll(&writable, 1, 2000) == 0) {
          stalled = true;
          break;
        }
      }
    }
    finished = true;
    if (fd >= 0) ::close(fd);
  });
  ASSERT_TRUE(runUntil(*loop, engine, [&] { return finished.load(); }));
  client.join();
  EXPECT_TRUE(stalled.load()) << "the loop read all " << written.load() << " bytes";
  // What the loop took: the kernel's socket buffers both ways and the watermark, far from
  // everything the client offered.
  EXPECT_LT(received.load(), kOffered / 4);
}

// A peer that resets the connection while the broker still holds bytes it did not take:
// the engine hears onClose once and never onWritable.
TEST(EventLoop, PeerResetWithOutputPendingClosesOnce) {
  FakeEngine engine;
  engine.echo = false;
  LoopOptions options = fastOptions();
  options.writeHighWatermark = 64 * 1024;
  options.writeLowWatermark = 16 * 1024;
  auto loop = makeLoop(options, engine);
  std::string error;
  ASSERT_TRUE(loop->addListener({"127.0.0.1", 0, 0}, error)) << error;
  const std::uint16_t port = loop->boundPort(0);
  const std::string chunk = pattern(16 * 1024);
  std::atomic<bool> congested{false};
  engine.openHook = [&](ConnectionId id, const PeerInfo&) {
    while (!loop->congested(id)) loop->send(id, asBytes(chunk));
    congested = true;
  };
  std::atomic<bool> done{false};
  std::thread client([&] {
    Client c;
    c.connect("127.0.0.1", port);
    engine.waitUntil([&] { return congested.load(); });
    linger reset{1, 0};  // close() then sends RST instead of FIN
    ::setsockopt(c.fd(), SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
    c.closeNow();
    engine.waitUntil([&] { return engine.count(Kind::Close) == 1; });
    done = true;
  });
  ASSERT_TRUE(runUntil(*loop, engine, [&] { return done.load(); }));
  client.join();
  EXPECT_TRUE(congested.load());
  EXPECT_EQ(engine.count(Kind::Close), 1u);
  EXPECT_EQ(engine.count(Kind::Writable), 0u);
  expectWellFormed(engine);
}

// close() right after a large send: every byte reaches the client before EOF, even though
// the client keeps sending data the broker no longer reads.
TEST(EventLoop, CloseFlushesFinalBytesFirst) {
  FakeEngine engine;
  engine.echo = false;
  auto loop = makeLoop(fastOptions(), engine);
  std::string error;
  ASSERT_TRUE(loop->addListener({"127.0.0.1", 0, 0}, error)) << error;
  const std::uint16_t port = loop->boundPort(0);
  const std::string reply = pattern(2 * 1024 * 1024, 3);
  engine.bytesHook = [&](ConnectionId id, const std::string&) {
    loop->send(id, asBytes(reply));
    loop->close(id);
    loop->send(id, asBytes("after close"));  // ignored: the connection is closing
  };
  std::string got;
  bool eof = false;
  std::atomic<bool> done{false};
  std::thread client([&] {
    Client c;
    c.connect("127.0.0.1", port);
    c.send("request");
    c.send(pattern(64 * 1024, 9));  // unread by the broker
    got = c.readToEof();
    eof = c.eof();
    done = true;
  });
  ASSERT_TRUE(runUntil(*loop, engine, [&] { return done.load(); }));
  client.join();
  EXPECT_TRUE(eof);
  EXPECT_EQ(got.size(), reply.size());
  EXPECT_TRUE(got == reply) << "final bytes differ";
  ASSERT_EQ(engine.opened().size(), 1u);
  const ConnectionId id = engine.opened()[0];
  EXPECT_EQ(engine.count(Kind::Close), 1u);
  // The first onBytes closed it: no later bytes reached the engine.
  std::size_t bytesEvents = 0;
  for (const Event& e : engine.events()) bytesEvents += e.kind == Kind::Bytes && e.id == id;
  EXPECT_EQ(bytesEvents, 1u);
  expectWellFormed(engine);
}

TEST(EventLoop, CloseWithNothingPendingReportsOnCloseLater) {
  FakeEngine engine;
  engine.echo = false;
  auto loop = makeLoop(fastOptions(), engine);
  std::string error;
  ASSERT_TRUE(loop->addListener({"127.0.0.1", 0, 0}, error)) << error;
  const std::uint16_t port = loop->boundPort(0);
  bool closeReportedInline = false;
  engine.openHook = [&](ConnectionId id, const PeerInfo&) {
    std::size_t before = engine.count(Kind::Close);
    loop->close(id);
    closeReportedInline = engine.count(Kind::Close) != before;
  };
  bool eof = false;
  std::atomic<bool> done{false};
  std::thread client([&] {
    Client c;
    c.connect("127.0.0.1", port);
    c.readToEof();
    eof = c.eof();
    engine.waitUntil([&] { return engine.count(Kind::Close) == 1; });
    done = true;
  });
  ASSERT_TRUE(runUntil(*loop, engine, [&] { return done.load(); }));
  client.join();
  EXPECT_FALSE(closeReportedInline);
  EXPECT_TRUE(eof);
  EXPECT_EQ(engine.count(Kind::Close), 1u);
  expectWellFormed(engine);
}

// A peer that never reads cannot hold a closing connection forever.
TEST(EventLoop, CloseGivesUpOnAPeerThatDoesNotRead) {
  FakeEngine engine;
  engine.echo = false;
  LoopOptions options = fastOptions();
  options.closeFlushTimeoutMs = 100;
  std::vector<std::string> logs;
  auto loop = makeLoop(options, engine, &logs);
  std::string error;
  ASSERT_TRUE(loop->addListener({"127.0.0.1", 0, 0}, error)) << error;
  const std::uint16_t port = loop->boundPort(0);
  engine.openHook = [&](ConnectionId id, const PeerInfo&) {
    // More than loopback socket buffers take, so some stays queued in the loop.
    loop->send(id, asBytes(pattern(32 * 1024 * 1024)));
    loop->close(id);
  };
  Client c;
  ASSERT_TRUE(c.connect("127.0.0.1", port));
  ASSERT_TRUE(runUntil(*loop, engine, [&] { return engine.count(Kind::Close) == 1; }));
  EXPECT_TRUE(anyLogContains(logs, "did not take its final")) << "no log line";
  expectWellFormed(engine);
}

void refusesOverLimit(bool perListener) {
  FakeEngine engine;
  LoopOptions options = fastOptions();
  if (!perListener) options.maxConnectionsGlobal = 1;
  std::vector<std::string> logs;
  auto loop = makeLoop(options, engine, &logs);
  std::string error;
  ListenerSpec spec{"127.0.0.1", 0, 0};
  if (perListener) spec.maxConnections = 1;
  ASSERT_TRUE(loop->addListener(spec, error)) << error;
  const std::uint16_t port = loop->boundPort(0);
  std::string first, third;
  bool secondClosed = false;
  std::atomic<bool> done{false};
  std::thread client([&] {
    Client a, b, c;
    a.connect("127.0.0.1", port);
    a.send("a");
    first = a.read(1);
    b.connect("127.0.0.1", port);
    b.readToEof();
    secondClosed = b.eof();
    a.closeNow();
    engine.waitUntil([&] { return engine.count(Kind::Close) == 1; });
    c.connect("127.0.0.1", port);  // the slot is free again
    c.send("c");
    third = c.read(1);
    done = true;
  });
  ASSERT_TRUE(runUntil(*loop, engine, [&] { return done.load(); }));
  client.join();
  EXPECT_EQ(first, "a");
  EXPECT_TRUE(secondClosed);
  EXPECT_EQ(third, "c");
  EXPECT_EQ(engine.opened().size(), 2u) << "the refused connection never reaches the engine";
  EXPECT_EQ(loop->counters().connectionsRefused, 1u);
  EXPECT_EQ(loop->counters().connectionsAccepted, 2u);
  EXPECT_TRUE(anyLogContains(logs, "refused connection from 127.0.0.1:"));
  EXPECT_TRUE(anyLogContains(logs, "connection limit"));
  expectWellFormed(engine);
}

TEST(EventLoop, RefusesConnectionsOverTheListenerLimit) { refusesOverLimit(true); }
TEST(EventLoop, RefusesConnectionsOverTheGlobalLimit) { refusesOverLimit(false); }

TEST(EventLoop, TicksAdvanceTheClock) {
  FakeEngine engine;
  LoopOptions options;
  options.tickMs = 20;
  const auto start = static_cast<std::uint64_t>(
      std::chrono::duration_cast<milliseconds>(Clock::now().time_since_epoch()).count());
  auto loop = makeLoop(options, engine);
  std::vector<std::uint64_t> at;
  engine.tickHook = [&] { at.push_back(loop->monotonicMs()); };
  ASSERT_TRUE(runUntil(*loop, engine, [&] { return at.size() >= 5; }));
  ASSERT_GE(at.size(), 5u);
  EXPECT_TRUE(std::is_sorted(at.begin(), at.end()));
  // Timers never fire early; the slack covers libevent's coarse clock.
  constexpr std::uint64_t kSlackMs = 5;
  EXPECT_GE(at[4] - start + kSlackMs, 5u * options.tickMs);
  const auto wall = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  EXPECT_LE(std::abs(loop->wallSeconds() - wall), 1);
  expectWellFormed(engine);
}

TEST(EventLoop, RejectsInconsistentOptions) {
  LoopOptions options;
  options.writeLowWatermark = options.writeHighWatermark + 1;
  std::string error;
  EXPECT_EQ(EventLoop::create(options, error), nullptr);
  EXPECT_NE(error.find("watermark"), std::string::npos) << error;
  options = LoopOptions{};
  options.tickMs = 0;
  error.clear();
  EXPECT_EQ(EventLoop::create(options, error), nullptr);
  EXPECT_FALSE(error.empty());
}

TEST(EventLoop, RunWithoutAnEngineFails) {
  std::string error;
  auto loop = EventLoop::create({}, error);
  ASSERT_NE(loop, nullptr) << error;
  std::vector<std::string> logs;
  loop->setLogSink([&](LogLevel, std::string_view line) { logs.emplace_back(line); });
  EXPECT_EQ(loop->run(), 1);
  EXPECT_TRUE(anyLogContains(logs, "without an engine"));
}

TEST(EventLoop, OutputIgnoresUnknownIds) {
  FakeEngine engine;
  auto loop = makeLoop(fastOptions(), engine);
  std::string error;
  ASSERT_TRUE(loop->addListener({"127.0.0.1", 0, 0}, error)) << error;
  // An engine may still hold the id of a connection whose onClose is on its way.
  engine.tickHook = [&] {
    loop->send(424242, asBytes("lost"));
    loop->close(424242);
    EXPECT_FALSE(loop->congested(424242));
  };
  ASSERT_TRUE(runUntil(*loop, engine, [&] { return engine.count(Kind::Tick) >= 2; }));
  EXPECT_EQ(loop->counters().bytesSent, 0u);
  EXPECT_EQ(engine.count(Kind::Close), 0u);
}

TEST(EventLoop, StopBeforeRunReturnsAtOnce) {
  FakeEngine engine;
  auto loop = makeLoop({}, engine);
  loop->stop();
  EXPECT_EQ(loop->run(), 0);
  EXPECT_EQ(engine.count(Kind::Tick), 0u);
}

}  // namespace
}  // namespace midge::port::testing
