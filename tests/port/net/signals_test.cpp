// SPDX-License-Identifier: Apache-2.0
// Signals raised in-process: SIGHUP reloads, SIGTERM stops gracefully, a second SIGTERM
// cuts at once.
#include <gtest/gtest.h>

#include <csignal>

#include "port/net/event_loop.hpp"
#include "tests/port/net/net_test_support.hpp"

namespace midge::port::testing {
namespace {

TEST(Signals, SighupCallsTheReloadCallback) {
  FakeEngine engine;
  auto loop = makeLoop(fastOptions(), engine);
  int reloads = 0, shutdowns = 0;
  loop->setSignalCallbacks([&] { ++shutdowns; }, [&] { ++reloads; });
  bool raised = false;
  engine.tickHook = [&] {
    if (!raised) raised = std::raise(SIGHUP) == 0;
  };
  ASSERT_TRUE(runUntil(*loop, engine, [&] { return reloads > 0; }));
  EXPECT_EQ(reloads, 1);
  EXPECT_EQ(shutdowns, 0);
  expectWellFormed(engine, /*allowEmptyTurns=*/true);
}

TEST(Signals, SigtermFlushesTheShutdownMessageAndClosesEveryConnection) {
  FakeEngine engine;
  auto loop = makeLoop(fastOptions(), engine);
  std::string error;
  ASSERT_TRUE(loop->addListener({"127.0.0.1", 0, 0}, error)) << error;
  const std::uint16_t port = loop->boundPort(0);
  // The broker's shutdown callback has the engine say goodbye to every client.
  loop->setSignalCallbacks(
      [&] {
        for (ConnectionId id : engine.opened()) loop->send(id, asBytes("bye"));
      },
      nullptr);
  Client client;
  ASSERT_TRUE(client.connect("127.0.0.1", port));
  ASSERT_TRUE(client.send("hi"));
  bool raised = false;
  engine.tickHook = [&] {
    if (!raised && engine.received(1) == "hi") raised = std::raise(SIGTERM) == 0;
  };
  // The signal stops the loop; the predicate never does.
  ASSERT_TRUE(runUntil(*loop, engine, [] { return false; }));
  EXPECT_TRUE(raised);
  EXPECT_EQ(client.readToEof(), "hibye");
  EXPECT_TRUE(client.eof());
  EXPECT_EQ(engine.count(Kind::Close), 1u);
  EXPECT_EQ(loop->connectionCount(), 0u);
  Client late;
  EXPECT_FALSE(late.connect("127.0.0.1", port)) << "still accepting after shutdown";
  expectWellFormed(engine, /*allowEmptyTurns=*/true);
}

TEST(Signals, SecondSigtermCutsConnectionsThatDoNotDrain) {
  FakeEngine engine;
  engine.echo = false;
  LoopOptions options = fastOptions();
  options.shutdownFlushTimeoutMs = 600000;  // only the second signal can end this run
  std::vector<std::string> logs;
  auto loop = makeLoop(options, engine, &logs);
  std::string error;
  ASSERT_TRUE(loop->addListener({"127.0.0.1", 0, 0}, error)) << error;
  const std::string flood(32 * 1024 * 1024, 'x');  // more than the socket buffers take
  loop->setSignalCallbacks(
      [&] {
        for (ConnectionId id : engine.opened()) loop->send(id, asBytes(flood));
      },
      nullptr);
  Client client;  // never reads
  ASSERT_TRUE(client.connect("127.0.0.1", loop->boundPort(0)));
  int raised = 0;
  engine.tickHook = [&] {
    if (raised == 0 && engine.opened().size() == 1) {
      raised += std::raise(SIGTERM) == 0;
    } else if (raised == 1) {
      raised += std::raise(SIGTERM) == 0;  // still flushing: the loop is stopping
    }
  };
  ASSERT_TRUE(runUntil(*loop, engine, [] { return false; }));
  EXPECT_EQ(raised, 2);
  EXPECT_EQ(engine.count(Kind::Close), 1u);
  EXPECT_TRUE(anyLogContains(logs, "again during shutdown"));
  expectWellFormed(engine, /*allowEmptyTurns=*/true);
}

}  // namespace
}  // namespace midge::port::testing
