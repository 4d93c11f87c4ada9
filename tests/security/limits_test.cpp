// SPDX-License-Identifier: Apache-2.0
// Limits with the real broker: each configured limit refuses the client that exceeds it
// with the specified answer, logs it, and leaves every other client alone. The last test
// checks that a subscriber which stops reading cannot make the broker's memory grow.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "tests/integration/broker_process.hpp"
#include "tests/security/security_support.hpp"

namespace midge::test::security {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Topics = std::vector<std::string>;

constexpr std::uint8_t kV311 = 4;
constexpr std::uint8_t kV5 = 5;
constexpr std::uint8_t kPacketTooLarge = 0x95;
constexpr std::uint8_t kQuotaExceeded = 0x97;
constexpr std::uint8_t kNoMatchingSubscribers = 0x10;
constexpr std::uint8_t kTopicNameInvalid = 0x90;
constexpr std::uint8_t kTopicFilterInvalid = 0x8F;

// A subscriber for bulk traffic: counts the PUBLISH packets of a stream without keeping
// them (RawClient keeps every packet it reads, which would hold hundreds of MiB here).
class StreamSubscriber {
 public:
  StreamSubscriber(std::uint16_t port, const std::string& clientId, const std::string& filter) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
    }
    sendAll(wire::connect(connectSpec(kV311, clientId)));
    if (!readUntil(kConnack, 1, 5s)) throw std::runtime_error(clientId + ": no CONNACK");
    sendAll(wire::subscribe(1, filter, 0));
    if (!readUntil(kSuback, 1, 5s)) throw std::runtime_error(clientId + ": no SUBACK");
  }
  ~StreamSubscriber() {
    if (fd_ >= 0) ::close(fd_);
  }
  StreamSubscriber(const StreamSubscriber&) = delete;
  StreamSubscriber& operator=(const StreamSubscriber&) = delete;

  // Reads until `count` packets of `type` have arrived since the connection opened.
  bool readUntil(std::uint8_t type, std::size_t count, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (counts_[type] < count) {
      if (parseOne()) continue;
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      pollfd entry{fd_, POLLIN, 0};
      if (::poll(&entry, 1, static_cast<int>(left)) <= 0) continue;
      std::uint8_t chunk[65536];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n == 0 || (n < 0 && errno != EINTR)) return false;
      if (n > 0) buffer_.insert(buffer_.end(), chunk, chunk + n);
    }
    return true;
  }
  std::size_t publishes() const { return counts_[kPublish]; }

 private:
  void sendAll(const ByteVector& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      sent += static_cast<std::size_t>(n);
    }
  }

  // Consumes one complete packet from the buffer, if there is one.
  bool parseOne() {
    std::size_t at = consumed_ + 1;
    std::size_t length = 0;
    for (int shift = 0;; shift += 7) {
      if (at >= buffer_.size()) return false;
      const std::uint8_t byte = buffer_[at++];
      length |= static_cast<std::size_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) break;
    }
    if (buffer_.size() - at < length) return false;
    ++counts_[buffer_[consumed_] >> 4];
    consumed_ = at + length;
    if (consumed_ > (1u << 20)) {
      buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(consumed_));
      consumed_ = 0;
    }
    return true;
  }

  int fd_ = -1;
  ByteVector buffer_;
  std::size_t consumed_ = 0;
  std::size_t counts_[16] = {};
};

class SecurityLimits : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure()) std::cerr << "---- broker log ----\n" << broker_.log() << "----\n";
  }

  void startWith(const std::vector<std::string>& lines) {
    for (const std::string& line : lines) broker_.addConfigLine(line);
    broker_.start();
    // A subscriber connected before any client misbehaves: it must keep being served.
    bystander_ = subscriber(broker_.port(), connectSpec(kV311, "bystander"), "bystander/#");
  }

  std::unique_ptr<RawClient> connected(std::uint8_t level, const std::string& clientId) {
    auto client = std::make_unique<RawClient>(broker_.port());
    const int code = connectCode(*client, connectSpec(level, clientId));
    if (code != 0) throw std::runtime_error(clientId + ": CONNACK " + std::to_string(code));
    return client;
  }

  std::uint8_t publishQos1(RawClient& client, const std::string& topic,
                           const std::string& payload, bool v5) {
    const auto packetId = static_cast<std::uint16_t>(++packets_ % 60000 + 1);
    client.send(wire::publish(topic, payload, 1, packetId, false, v5));
    return ackReason(client.expect(kPuback));
  }

  void expectBystanderServed() {
    auto checker = connected(kV311, "checker-" + std::to_string(++checks_));
    EXPECT_EQ(publishQos1(*checker, "bystander/check", "still here", false), 0);
    EXPECT_EQ(topicsUntil(*bystander_, "bystander/check"), Topics{"bystander/check"});
  }

  // A connection the broker may refuse while it still counts a client that just left:
  // retried until admitted or the deadline passes.
  std::unique_ptr<RawClient> admittedWithin(const std::string& clientId,
                                            std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      auto client = std::make_unique<RawClient>(broker_.port());
      if (connectCode(*client, connectSpec(kV311, clientId)) == 0) return client;
      if (Clock::now() >= deadline) return nullptr;
    }
  }

  BrokerProcess broker_;
  std::unique_ptr<RawClient> bystander_;
  int packets_ = 0;
  int checks_ = 0;
  std::size_t peakKiB_ = 0;
};

TEST_F(SecurityLimits, PacketOverMaxPacketSizeEndsTheConnectionWith0x95) {
  startWith({"max_packet_size 1000"});
  auto v5 = connected(kV5, "big-v5");
  v5->send(wire::publish("bystander/big", std::string(2000, 'x'), 0, 0, false, true));
  const ReadResult answer = v5->read(3s);
  ASSERT_EQ(answer.status, ReadStatus::Packet);
  ASSERT_EQ(answer.packet.type(), kDisconnect);
  EXPECT_EQ(wire::reasonOf(answer.packet), kPacketTooLarge);
  EXPECT_TRUE(v5->waitClosed(3s));

  // 3.1.1 has no DISCONNECT from the server: the connection is closed.
  auto v311 = connected(kV311, "big-v311");
  v311->send(wire::publish("bystander/big", std::string(2000, 'x'), 1, 1));
  EXPECT_TRUE(v311->waitClosed(3s));
  for (const RawPacket& packet : v311->received()) EXPECT_NE(packet.type(), kPuback);

  EXPECT_TRUE(broker_.waitForLog("big-v311", 3s));
  EXPECT_EQ(broker_.countInLog("disconnected by the broker (packet too large)"), 2u);
  expectBystanderServed();  // and the oversized messages never reached it
}

TEST_F(SecurityLimits, PayloadOverMessageSizeLimitIsRefusedAndTheClientStays) {
  startWith({"message_size_limit 100"});
  auto v5 = connected(kV5, "payload-v5");
  auto v311 = connected(kV311, "payload-v311");

  EXPECT_EQ(publishQos1(*v5, "bystander/large", std::string(101, 'x'), true), kPacketTooLarge);
  // 3.1.1 cannot refuse in a PUBACK: acknowledged and dropped.
  EXPECT_EQ(publishQos1(*v311, "bystander/large", std::string(101, 'x'), false), 0);
  EXPECT_EQ(publishQos1(*v5, "bystander/small", std::string(100, 'x'), true), 0);
  EXPECT_EQ(topicsUntil(*bystander_, "bystander/small"), Topics{"bystander/small"});
  EXPECT_TRUE(broker_.waitForLog("payload of 101 bytes exceeds message_size_limit", 3s));
}

TEST_F(SecurityLimits, ConnectionOverMaxConnectionsIsClosedAtOnce) {
  // The bystander takes one of the three places.
  startWith({"max_connections 3", "sys_interval 1"});
  // The port probe of BrokerProcess::start() may still hold a place for a moment.
  auto second = admittedWithin("second", 5s);
  ASSERT_TRUE(second);
  auto third = admittedWithin("third", 5s);
  ASSERT_TRUE(third);

  const std::size_t mark = broker_.logMark();
  RawClient extra(broker_.port());
  EXPECT_EQ(connectCode(extra, connectSpec(kV311, "extra")), -1);
  EXPECT_TRUE(broker_.waitForLog("listener is at its connection limit", 3s, mark));
  EXPECT_GE(broker_.countInLog("refused connection from 127.0.0.1", mark), 1u);

  // Admitted clients are untouched, and a place that frees up can be taken again.
  second->send(wire::pingreq());
  EXPECT_EQ(second->expect(kPingresp).type(), kPingresp);
  third.reset();
  auto monitor = admittedWithin("monitor", 5s);
  ASSERT_TRUE(monitor);
  monitor->send(wire::subscribe(1, "$SYS/broker/midge/connections/refused", 0));
  monitor->expect(kSuback);
  const wire::PublishView refused = wire::parsePublish(monitor->expect(kPublish, 3s));
  EXPECT_NE(refused.payload, "0");
}

TEST_F(SecurityLimits, ConnectionOverGlobalMaxConnectionsIsClosedAtOnce) {
  const std::uint16_t second = pickFreeLoopbackPort();
  startWith({"global_max_connections 2", "listener " + std::to_string(second) + " 127.0.0.1"});
  ASSERT_TRUE(waitForTcpPort(second, 5s));
  auto other = admittedWithin("other", 5s);
  ASSERT_TRUE(other);
  const std::size_t mark = broker_.logMark();
  RawClient extra(second);
  EXPECT_TRUE(extra.waitClosed(3s));
  EXPECT_TRUE(broker_.waitForLog("broker is at its global connection limit", 3s, mark));
}

TEST_F(SecurityLimits, MemoryLimitRefusesV5QoS1PublishesWith0x97OnceQueuesAreFull) {
  startWith({"memory_limit 100000", "max_queued_messages 0", "sys_interval 1"});
  // A subscriber that never acknowledges: past its in-flight window everything queues.
  auto stuck = subscriber(broker_.port(), connectSpec(kV311, "stuck"), "load/#");
  auto publisher = connected(kV5, "loader");
  const std::string payload(1000, 'p');
  int accepted = 0;
  std::uint8_t reason = 0;
  for (int i = 0; i < 1000 && reason == 0; ++i) {
    reason = publishQos1(*publisher, "load/data", payload, true);
    if (reason == 0) ++accepted;
  }
  EXPECT_EQ(reason, kQuotaExceeded);
  // The budget covers about 100 queued payloads (plus the 20 in flight, which are not
  // counted): the refusal must come near that, not at once and not never.
  EXPECT_GT(accepted, 50);
  EXPECT_LT(accepted, 200);

  // A 3.1.1 QoS 1 publisher cannot be told why: it is disconnected instead of acked.
  auto legacy = connected(kV311, "legacy-loader");
  legacy->send(wire::publish("load/data", payload, 1, 9));
  EXPECT_TRUE(legacy->waitClosed(3s));
  for (const RawPacket& packet : legacy->received()) EXPECT_NE(packet.type(), kPuback);
  EXPECT_TRUE(broker_.waitForLog("memory_limit reached", 3s));

  // Once the stuck subscriber's queue is gone, messages are taken again.
  stuck->send(wire::disconnect());
  EXPECT_TRUE(stuck->waitClosed(3s));
  const auto deadline = Clock::now() + 3s;
  while (reason == kQuotaExceeded && Clock::now() < deadline) {
    reason = publishQos1(*publisher, "load/data", payload, true);
  }
  EXPECT_EQ(reason, kNoMatchingSubscribers);
  expectBystanderServed();
}

// max_inflight_bytes holds QoS 1/2 messages in the queue once that many payload bytes are
// unacknowledged, whatever max_inflight_messages allows.
TEST_F(SecurityLimits, OutgoingBytesInFlightStopAtMaxInflightBytes) {
  startWith({"max_inflight_bytes 3000"});
  auto slow = subscriber(broker_.port(), connectSpec(kV311, "never-acks"), "window/#");
  auto publisher = connected(kV311, "window-publisher");
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(publishQos1(*publisher, "window/data", std::string(1000, 'w'), false), 0);
  }
  // Everything the broker sends at once went out while it routed the publishes, before it
  // answers this PINGREQ: count the PUBLISH packets ahead of the PINGRESP.
  slow->send(wire::pingreq());
  int inFlight = 0;
  for (;;) {
    const ReadResult result = slow->read(3s);
    ASSERT_EQ(result.status, ReadStatus::Packet);
    if (result.packet.type() == kPingresp) break;
    if (result.packet.type() == kPublish) ++inFlight;
  }
  EXPECT_GE(inFlight, 1);
  EXPECT_LE(inFlight, 3);  // a third message of 1009 bytes already crosses 3000
}

TEST_F(SecurityLimits, TopicsOverMaxTopicLevelsAreRefused) {
  startWith({"max_topic_levels 3"});
  auto v5 = connected(kV5, "deep");
  v5->send(wire::subscribe(1, "a/b/c/d", 1, true));
  const RawPacket suback = v5->expect(kSuback);
  EXPECT_EQ(suback.body.back(), kTopicFilterInvalid);
  v5->send(wire::subscribe(2, "a/b/c", 1, true));
  EXPECT_EQ(v5->expect(kSuback).body.back(), 1);

  v5->send(wire::publish("a/b/c/d", "deep", 0, 0, false, true));
  const ReadResult answer = v5->read(3s);
  ASSERT_EQ(answer.status, ReadStatus::Packet);
  ASSERT_EQ(answer.packet.type(), kDisconnect);
  EXPECT_EQ(wire::reasonOf(answer.packet), kTopicNameInvalid);
  EXPECT_TRUE(v5->waitClosed(3s));
  expectBystanderServed();
}

TEST_F(SecurityLimits, TopicsOverMaxTopicLengthAreRefused) {
  startWith({"max_topic_length 16"});
  auto v311 = connected(kV311, "long");
  v311->send(wire::publish("bystander/0123456789", "long", 1, 1));
  EXPECT_TRUE(v311->waitClosed(3s));
  expectBystanderServed();
}

TEST_F(SecurityLimits, ConnectsOverMaxConnectRateAreRefusedWith0x9F) {
  startWith({"max_connect_rate 2"});
  // Ten CONNECTs from one address span at most two one-second windows, so at most four
  // can be admitted whatever the timing.
  int admitted = 0;
  int refused = 0;
  for (int i = 0; i < 10; ++i) {
    RawClient client(broker_.port());
    const int code = connectCode(client, connectSpec(kV5, "rate-" + std::to_string(i)));
    if (code == 0) ++admitted;
    if (code == 0x9F) ++refused;
  }
  EXPECT_LE(admitted, 4);
  EXPECT_EQ(admitted + refused, 10);
  EXPECT_TRUE(broker_.waitForLog("max_connect_rate", 3s));
}

TEST_F(SecurityLimits, ConnectionWithoutConnectIsDroppedAfterConnectTimeout) {
  startWith({"connect_timeout 1"});
  RawClient silent(broker_.port());
  const auto opened = Clock::now();
  EXPECT_TRUE(silent.waitClosed(5s));
  EXPECT_GE(Clock::now() - opened, 900ms);
  EXPECT_TRUE(broker_.waitForLog("no CONNECT completed within connect_timeout", 3s));
  expectBystanderServed();
}

TEST_F(SecurityLimits, SubscriberThatStopsReadingDoesNotMakeTheBrokerGrow) {
  constexpr std::size_t kPayloadBytes = 64 * 1024;
  constexpr std::size_t kBatch = 16;  // 1 MiB
  constexpr std::size_t kPushedMiB = 200;
  // The configured bound on what a stalled subscriber may hold: its queue, plus the
  // port's write buffer (1 MiB high-water mark) and allocator slack.
  constexpr std::size_t kQueueBytes = 8u << 20;
  constexpr std::size_t kAllowedGrowthKiB = (kQueueBytes >> 10) * 3 + 16 * 1024;
  // Under AddressSanitizer freed blocks sit in a quarantine (256 MiB by default) before
  // reuse, which would measure the sanitizer instead of the broker.
  std::string asan = std::getenv("ASAN_OPTIONS") != nullptr ? std::getenv("ASAN_OPTIONS") : "";
  broker_.setEnvironment("ASAN_OPTIONS", asan + (asan.empty() ? "" : ":") + "quarantine_size_mb=8");
  startWith({"max_queued_bytes " + std::to_string(kQueueBytes)});

  // Subscribed, then never reads its socket again.
  auto stalled = subscriber(broker_.port(), connectSpec(kV311, "stalled"), "bulk/#", 0);
  StreamSubscriber fast(broker_.port(), "fast", "bulk/#");
  RawClient publisher(broker_.port());
  ASSERT_EQ(connectCode(publisher, connectSpec(kV311, "bulk-publisher")), 0);
  const ByteVector packet = wire::publish("bulk/data", std::string(kPayloadBytes, 'b'));

  // Warm up past the point where the stalled subscriber's queue is full, then measure.
  std::size_t sent = 0;
  const auto push = [&](std::size_t batches) {
    for (std::size_t b = 0; b < batches; ++b) {
      for (std::size_t i = 0; i < kBatch; ++i) ASSERT_TRUE(publisher.send(packet));
      sent += kBatch;
      // The fast subscriber receives every message: the stalled one holds nobody up.
      ASSERT_TRUE(fast.readUntil(kPublish, sent, 20s)) << "fast subscriber got "
                                                       << fast.publishes() << " of " << sent;
      peakKiB_ = std::max(peakKiB_, residentKiB(broker_.pid()));
    }
  };
  push(32);
  if (HasFatalFailure()) return;
  const std::size_t baselineKiB = residentKiB(broker_.pid());
  ASSERT_GT(baselineKiB, 0u);
  peakKiB_ = baselineKiB;
  push(kPushedMiB - 32);
  if (HasFatalFailure()) return;
  std::cerr << "broker VmRSS after warm-up " << baselineKiB << " KiB, peak " << peakKiB_
            << " KiB after " << sent * kPayloadBytes / (1u << 20) << " MiB\n";
  EXPECT_LT(peakKiB_ - baselineKiB, kAllowedGrowthKiB);
#ifndef MIDGE_TEST_SANITIZED
  EXPECT_LT(peakKiB_, 64u * 1024);
#endif
  expectBystanderServed();
  // The stalled subscriber was slowed down, not thrown out: it gets its backlog now.
  EXPECT_EQ(stalled->expect(kPublish, 5s).type(), kPublish);
}

}  // namespace
}  // namespace midge::test::security
