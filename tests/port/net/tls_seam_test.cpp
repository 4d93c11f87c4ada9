// SPDX-License-Identifier: Apache-2.0
// The StreamFilter seam with a fake "TLS": the client says HELLO, the filter answers
// WELCOME, and from then on both directions carry records, as TLS does: one length byte,
// then that many bytes XORed with 0x5A. A record split over reads gives no plaintext until
// its last byte arrives, and an empty record (like a TLS message without application data)
// gives none at all.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "port/net/event_loop.hpp"
#include "port/stream_filter.hpp"
#include "tests/port/net/net_test_support.hpp"

namespace midge::port::testing {
namespace {

constexpr char kHello[] = "HELLO";
constexpr std::size_t kHelloSize = sizeof(kHello) - 1;
constexpr std::uint8_t kKey = 0x5A;
constexpr std::size_t kMaxRecord = 255;

// The wire form of `plain`: records of at most 255 bytes; "" is one empty record.
std::string sealed(const std::string& plain) {
  std::string out;
  std::size_t at = 0;
  do {
    std::size_t n = std::min(kMaxRecord, plain.size() - at);
    out.push_back(static_cast<char>(n));
    for (std::size_t i = 0; i < n; ++i) {
      out.push_back(static_cast<char>(static_cast<std::uint8_t>(plain[at + i]) ^ kKey));
    }
    at += n;
  } while (at < plain.size());
  return out;
}

class XorFactory;

class XorFilter : public StreamFilter {
 public:
  explicit XorFilter(XorFactory& factory) : factory_(factory) {}
  bool onReceive(Bytes wireIn, std::vector<std::uint8_t>& plainOut,
                 std::vector<std::uint8_t>& wireOut) override;
  bool onSend(Bytes plainIn, std::vector<std::uint8_t>& wireOut) override {
    if (asStringView(plainIn) == "FAIL") {
      error_ = "refusing to encrypt";
      return false;
    }
    std::string wire = sealed(std::string(asStringView(plainIn)));
    wireOut.insert(wireOut.end(), wire.begin(), wire.end());
    return true;
  }
  bool handshakeDone() const override { return done_; }
  std::string peerIdentity() const override { return "CN=sensor-7"; }
  std::string error() const override { return error_; }
  const char* protocolName() const override { return "TLS"; }
  bool encrypted() const override { return true; }

 private:
  XorFactory& factory_;
  std::size_t hello_ = 0;
  bool done_ = false;
  std::vector<std::uint8_t> record_;  // the record received so far, length byte first
  std::string error_;
};

class XorFactory : public StreamFilterFactory {
 public:
  std::unique_ptr<StreamFilter> create() override {
    ++created;
    return std::make_unique<XorFilter>(*this);
  }
  // Called from the loop thread by every filter, for a client thread that must know the
  // loop has read what it sent before it sends more.
  void countWireBytes(std::size_t n) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      wireBytes_ += n;
    }
    changed_.notify_all();
  }
  bool waitForWireBytes(std::size_t total, milliseconds timeout = kDeadline) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return wireBytes_ >= total; });
  }
  int created = 0;

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t wireBytes_ = 0;
};

bool XorFilter::onReceive(Bytes wireIn, std::vector<std::uint8_t>& plainOut,
                          std::vector<std::uint8_t>& wireOut) {
  factory_.countWireBytes(wireIn.size());
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
  for (; i < wireIn.size(); ++i) {
    record_.push_back(wireIn[i]);
    if (record_.size() == 1u + record_[0]) {
      for (std::size_t k = 1; k < record_.size(); ++k) plainOut.push_back(record_[k] ^ kKey);
      record_.clear();
    }
  }
  return true;
}

struct TlsFixture {
  XorFactory factory;
  FakeEngine engine;
  std::vector<std::string> logs;
  std::unique_ptr<EventLoop> loop;
  std::uint16_t port = 0;

  explicit TlsFixture(std::uint32_t handshakeTimeoutMs = 10000,
                      const LoopOptions& options = fastOptions()) {
    loop = makeLoop(options, engine, &logs);
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
    c.send("LO" + sealed("ping"));
    reply = c.read(7 + 5);
    done = true;
  });
  ASSERT_TRUE(runUntil(*f.loop, f.engine, [&] { return done.load(); }));
  client.join();
  EXPECT_EQ(reply, "WELCOME" + sealed("ping"));
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
  // Wire bytes are counted, handshake and record headers included.
  EXPECT_EQ(f.loop->counters().bytesReceived, kHelloSize + 5);
  EXPECT_EQ(f.loop->counters().bytesSent, 7u + 5u);
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
    c.send(sealed("go"));
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

// Reads that give the engine nothing, here an empty record and the first half of a record,
// end no turn: every endOfTurn follows an event. Without ticks, the turns the engine sees
// are exactly those of the connection.
TEST(TlsSeam, AReadThatYieldsNoPlaintextEndsNoTurn) {
  TlsFixture f(10000, tickFreeOptions());
  f.engine.closeHook = [&](ConnectionId) { f.loop->stop(); };
  const std::string record = sealed("ping");
  std::string welcome, reply;
  bool fedSeparately = true;
  std::thread client([&] {
    Client c;
    if (c.connect("127.0.0.1", f.port) && c.send(kHello)) welcome = c.read(7);
    if (welcome == "WELCOME") {
      std::size_t sent = kHelloSize;
      // Each part is read by the loop before the next one is sent: one read each.
      for (const std::string& part : {sealed(""), record.substr(0, 3)}) {
        c.send(part);
        sent += part.size();
        fedSeparately = f.factory.waitForWireBytes(sent) && fedSeparately;
      }
      c.send(record.substr(3));
      reply = c.read(record.size());
    }
    c.closeNow();  // the engine's onClose stops the loop
  });
  runWithoutTicks(*f.loop, f.engine);
  client.join();
  EXPECT_EQ(welcome, "WELCOME");
  EXPECT_TRUE(fedSeparately);
  EXPECT_EQ(reply, record) << "the engine echoes what it got";
  EXPECT_EQ(trace(f.engine.events()), "open#1 END bytes#1 END close#1 END");
  expectWellFormed(f.engine);
}

}  // namespace
}  // namespace midge::port::testing
