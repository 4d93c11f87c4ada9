// SPDX-License-Identifier: Apache-2.0
// The engine allocates when a session, a subscription or a message comes into being, and
// not on the paths that repeat between them: a ping, an ack, a delivery through an
// existing subscription reuse what is there (design brief: bounded, predictable memory on
// small boards). Counted with a replaced operator new (tests/core/topic/allocation_counter).
#include <algorithm>
#include <array>

#include "tests/core/engine/harness.hpp"
#include "tests/core/topic/allocation_counter.hpp"

namespace midge::testing {
namespace {

using codec::ProtocolVersion;
using topic::testing::allocationCount;

// Keeps the last packet sent to one connection in a fixed array: an Output that
// allocated would be counted against the engine.
class FixedOutput final : public Output {
 public:
  void send(ConnectionId id, Bytes bytes) override {
    if (id != watched) return;
    lastSize = std::min(bytes.size(), last.size());
    std::copy_n(bytes.begin(), lastSize, last.begin());
    ++sends;
  }
  void close(ConnectionId) override { ++closes; }
  bool congested(ConnectionId) const override { return false; }
  void log(LogLevel, std::string_view) override {}

  ConnectionId watched = 0;
  std::array<std::uint8_t, 256> last{};
  std::size_t lastSize = 0;
  long sends = 0;
  long closes = 0;
};

std::vector<std::uint8_t> encode(const codec::Packet& packet) {
  std::vector<std::uint8_t> bytes;
  EXPECT_TRUE(codec::encodePacket(packet, ProtocolVersion::V311, bytes).ok());
  return bytes;
}

class EngineAllocation : public ::testing::Test {
 protected:
  static constexpr ConnectionId kSubscriber = 1;
  static constexpr ConnectionId kPublisher = 2;

  EngineAllocation() {
    output.watched = kSubscriber;
    EngineConfig config;
    config.sysIntervalSeconds = 0;
    broker = std::make_unique<Broker>(config, store, output, clock, authenticator);
    EXPECT_TRUE(broker->restore().ok());
    for (ConnectionId id : {kSubscriber, kPublisher}) {
      PeerInfo peer;
      peer.address = "127.0.0.1:" + std::to_string(40000 + id);
      broker->onOpen(id, peer);
      codec::Connect connect;
      connect.clientId = id == kSubscriber ? "subscriber" : "publisher";
      connect.keepAlive = 60;
      feed(id, encode(connect));
    }
    codec::Subscribe subscribe;
    subscribe.packetId = 1;
    subscribe.entries.push_back({"sensors/t", 1});
    feed(kSubscriber, encode(subscribe));
  }

  void feed(ConnectionId id, const std::vector<std::uint8_t>& bytes) {
    broker->onBytes(id, Bytes(bytes.data(), bytes.size()));
    broker->endOfTurn();
  }

  // One QoS 1 message through: publisher PUBLISH, subscriber PUBLISH and its PUBACK.
  void publishAndAcknowledge(const std::vector<std::uint8_t>& publish) {
    const long before = output.sends;
    feed(kPublisher, publish);
    ASSERT_EQ(output.sends, before + 1) << "the subscriber got no PUBLISH";
    // A 3.1.1 QoS 1 PUBLISH to a short topic: 0x32, length, topic length, topic, id.
    const std::size_t idAt = 2 + 2 + std::string_view("sensors/t").size();
    ASSERT_GT(output.lastSize, idAt + 1);
    const auto packetId = static_cast<std::uint16_t>(output.last[idAt] << 8 | output.last[idAt + 1]);
    std::array<std::uint8_t, 4> puback{0x40, 0x02, static_cast<std::uint8_t>(packetId >> 8),
                                       static_cast<std::uint8_t>(packetId & 0xFF)};
    broker->onBytes(kSubscriber, Bytes(puback.data(), puback.size()));
    broker->endOfTurn();
  }

  FakeClock clock;
  FixedOutput output;
  store::MemoryStore store;
  AllowAllAuthenticator authenticator;
  std::unique_ptr<Broker> broker;
};

TEST_F(EngineAllocation, PingsAllocateNothing) {
  const std::vector<std::uint8_t> ping = encode(codec::Pingreq{});
  for (int i = 0; i < 10; ++i) feed(kSubscriber, ping);  // buffers reach their size
  const long sendsBefore = output.sends;
  const long before = allocationCount();
  for (int i = 0; i < 1000; ++i) feed(kSubscriber, ping);
  EXPECT_EQ(allocationCount() - before, 0);
  EXPECT_EQ(output.sends - sendsBefore, 1000) << "every PINGREQ was answered";
}

TEST_F(EngineAllocation, AQos1MessageCostsOnlyTheMessage) {
  codec::Publish publish;
  publish.topic = "sensors/t";
  publish.qos = 1;
  publish.packetId = 1;
  publish.payload = asBytes("21.5");
  const std::vector<std::uint8_t> bytes = encode(publish);
  for (int i = 0; i < 100; ++i) publishAndAcknowledge(bytes);
  const long before = allocationCount();
  constexpr int kMessages = 1000;
  for (int i = 0; i < kMessages; ++i) publishAndAcknowledge(bytes);
  const long total = allocationCount() - before;
  // The message itself (one block, shared by every subscriber it reaches) and its bytes.
  // The deliveries, the acks and both connections' buffers reuse what the warm-up made;
  // the in-flight deque's fixed-size chunks come and go once every few dozen messages.
  EXPECT_LE(total, 2 * kMessages + kMessages / 20) << total << " allocations for "
                                                   << kMessages << " messages";
  EXPECT_EQ(output.closes, 0);
}

}  // namespace
}  // namespace midge::testing
