// The StreamFilter seam with a fake "TLS": the client says HELLO, the filter answers
// WELCOME, and from then on every byte is XORed with 0x5A in both directions.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "port/net/event_loop.hpp"
#include "port/stream_filter.hpp"
#include "tests/port/net/net_test_support.hpp"

namespace midge::port::testing {
namespace {

constexpr char kHello[] = "HELLO";
constexpr std::size_t kHelloSize = sizeof(kHello) - 1;
constexpr std::uint8_t kKey = 0x5A;

std::string xorred(const std::string& s) {
  std::string out = s;
  for (char& ch : out) ch = static_cast<char>(static_cast<std::uint8_t>(ch) ^ kKey);
  return out;
}

class XorFilter : public StreamFilter {
 public:
  bool onReceive(Bytes wireIn, std::vector<std::uint8_t>& plainOut,
                 std::vector<std::uint8_t>& wireOut) override {
    std::size_t i = 0;
    while (!done_ && i < wireIn.size()) {
      if (static_cast<char>(wireIn[i]) != kHello[hello_]) {
        error_ = "bad handshake byte";
        const std::string alert = "ALERT";
        wireOut.insert(wireOut.end(), alert.begin(), alert.end());
        return false;
      }
      ++i;
      if (++hello_ == kHelloSize) {
        done_ = true;
        const std::string welcome = "WELCOME";
        wireOut.insert(wireOut.end(), welcome.begin(), welcome.end());
      }
    }
    for (; i < wireIn.size(); ++i) plainOut.push_back(wireIn[i] ^ kKey);
    return true;
  }
  bool onSend(Bytes plainIn, std::vector<std::uint8_t>& wireOut) override {
    if (asStringView(plainIn) == "FAIL") {
      error_ = "refusing to encrypt";
      return false;
    }
    for (std::uint8_t b : plainIn) wireOut.push_back(b ^ kKey);
    return true;
  }
  bool handshakeDone() const override { return done_; }
  std::string peerIdentity() const override { return "CN=sensor-7"; }
  std::string error() const override { return error_; }

 private:
  std::size_t hello_ = 0;
  bool done_ = false;
  std::string error_;
};

class XorFactory : public StreamFilterFactory {
 public:
  std::unique_ptr<StreamFilter> create() override {
    ++created;
    return std::make_unique<XorFilter>();
  }
  int created = 0;
};

struct TlsFixture {
  XorFactory factory;
  FakeEngine engine;
  std::vector<std::string> logs;
  std::unique_ptr<EventLoop> loop;
  std::uint16_t port = 0;

  explicit TlsFixture(std::uint32_t handshakeTimeoutMs = 10000) {
    loop = makeLoop(fastOptions(), engine, &logs);
    ListenerSpec spec{"127.0.0.1", 0, 2};
    spec.tls = &factory;
    spec.tlsHandshakeTimeoutMs = handshakeTimeoutMs;
    std::string error;
    EXPECT_TRUE(loop->addListener(spec, error)) << error;
    port = loop->boundPort(2);
  }
};

TEST(TlsSeam, EngineSeesPlaintextOnlyAfterTheHandshake) {
  TlsFixture f;
  std::string reply;
  std::atomic<bool> done{false};
  std::thread client([&] {
    Client c;
    c.connect("127.0.0.1", f.port);
    // The handshake split over two writes, the first application bytes in the second.
    c.send("HEL");
    c.send("LO" + xorred("ping"));
    reply = c.read(7 + 4);
    done = true;
  });
  ASSERT_TRUE(runUntil(*f.loop, f.engine, [&] { return done.load(); }));
  client.join();
  EXPECT_EQ(reply, "WELCOME" + xorred("ping"));
  ASSERT_EQ(f.engine.opened().size(), 1u);
  Event open{Kind::Tick, 0, {}, {}};
  for (const Event& e : f.engine.events()) {
    if (e.kind != Kind::Tick && e.kind != Kind::EndOfTurn) {
      open = e;
      break;
    }
  }
  ASSERT_EQ(open.kind, Kind::Open) << "nothing reaches the engine before onOpen";
  EXPECT_TRUE(open.peer.tls);
  EXPECT_EQ(open.peer.certIdentity, "CN=sensor-7");
  EXPECT_EQ(open.peer.listenerIndex, 2);
  EXPECT_EQ(f.engine.received(open.id), "ping");
  EXPECT_EQ(f.factory.created, 1);
  // Wire bytes are counted, handshake included.
  EXPECT_EQ(f.loop->counters().bytesReceived, kHelloSize + 4);
  EXPECT_EQ(f.loop->counters().bytesSent, 7u + 4u);
  expectWellFormed(f.engine);
}

TEST(TlsSeam, UnfinishedHandshakeIsDroppedAfterTheTimeout) {
  TlsFixture f(/*handshakeTimeoutMs=*/100);
  std::string peer;
  bool eof = false;
  std::atomic<bool> done{false};
  std::thread client([&] {
    Client c;
    c.connect("127.0.0.1", f.port);
    c.send("HEL");  // and nothing more
    c.readToEof();
    eof = c.eof();
    done = true;
  });
  ASSERT_TRUE(runUntil(*f.loop, f.engine, [&] { return done.load(); }));
  client.join();
  EXPECT_TRUE(eof);
  EXPECT_TRUE(f.engine.opened().empty());
  EXPECT_EQ(f.engine.count(Kind::Close), 0u) << "the engine never heard of it";
  EXPECT_EQ(f.loop->counters().tlsFailures, 1u);
  EXPECT_TRUE(anyLogContains(f.logs, "from 127.0.0.1:"));
  EXPECT_TRUE(anyLogContains(f.logs, "TLS handshake not done within 100 ms"));
  EXPECT_EQ(f.loop->connectionCount(), 0u);
  expectWellFormed(f.engine);
}

TEST(TlsSeam, FilterErrorFlushesTheAlertAndIsLogged) {
  TlsFixture f;
  std::string got;
  bool eof = false;
  std::atomic<bool> done{false};
  std::thread client([&] {
    Client c;
    c.connect("127.0.0.1", f.port);
    c.send("JUNK");
    got = c.readToEof();
    eof = c.eof();
    done = true;
  });
  ASSERT_TRUE(runUntil(*f.loop, f.engine, [&] { return done.load(); }));
  client.join();
  EXPECT_EQ(got, "ALERT");
  EXPECT_TRUE(eof);
  EXPECT_TRUE(f.engine.opened().empty());
  EXPECT_EQ(f.loop->counters().tlsFailures, 1u);
  EXPECT_TRUE(anyLogContains(f.logs, "from 127.0.0.1:"));
  EXPECT_TRUE(anyLogContains(f.logs, "bad handshake byte"));
  expectWellFormed(f.engine);
}

TEST(TlsSeam, SendErrorClosesAnOpenConnection) {
  TlsFixture f;
  f.engine.echo = false;
  f.engine.bytesHook = [&](ConnectionId id, const std::string& data) {
    f.loop->send(id, asBytes(data == "go" ? "FAIL" : "ok"));
  };
  std::string got;
  bool eof = false;
  std::atomic<bool> done{false};
  std::thread client([&] {
    Client c;
    c.connect("127.0.0.1", f.port);
    c.send("HELLO");
    c.read(7);
    c.send(xorred("go"));
    got = c.readToEof();
    eof = c.eof();
    f.engine.waitUntil([&] { return f.engine.count(Kind::Close) == 1; });
    done = true;
  });
  ASSERT_TRUE(runUntil(*f.loop, f.engine, [&] { return done.load(); }));
  client.join();
  EXPECT_TRUE(got.empty()) << got;
  EXPECT_TRUE(eof);
  EXPECT_EQ(f.engine.count(Kind::Close), 1u);
  EXPECT_TRUE(anyLogContains(f.logs, "refusing to encrypt"));
  expectWellFormed(f.engine);
}

}  // namespace
}  // namespace midge::port::testing
