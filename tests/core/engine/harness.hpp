// SPDX-License-Identifier: Apache-2.0
// Drives a whole Broker engine without sockets: a fake clock, an Output that frames what
// the engine sends per connection, and clients that speak through the real codec.
#pragma once

#include <deque>
#include <map>
#include <set>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/codec/codec.hpp"
#include "core/engine/broker.hpp"
#include "persistence/memory/memory_store.hpp"

namespace midge::testing {

class FakeClock final : public Clock {
 public:
  std::uint64_t monotonicMs() const override { return ms; }
  std::int64_t wallSeconds() const override { return wall + static_cast<std::int64_t>(ms / 1000); }
  void advanceSeconds(std::uint64_t seconds) { ms += seconds * 1000; }
  std::uint64_t ms = 5000;
  std::int64_t wall = 1'700'000'000;
};

struct ReceivedFrame {
  std::uint8_t header = 0;
  std::vector<std::uint8_t> body;
};

class FakeOutput final : public Output {
 public:
  struct Peer {
    codec::Framer framer;
    std::deque<ReceivedFrame> frames;
    bool closeRequested = false;
  };
  void send(ConnectionId id, Bytes bytes) override {
    Peer& peer = peers[id];
    Status status = peer.framer.feed(bytes, [&](const codec::Frame& frame) {
      peer.frames.push_back({frame.header, {frame.body.begin(), frame.body.end()}});
      return true;
    });
    EXPECT_TRUE(status.ok()) << "the engine sent bytes that do not frame";
  }
  void close(ConnectionId id) override { peers[id].closeRequested = true; }
  bool congested(ConnectionId id) const override { return congestedIds.count(id) != 0; }
  void log(LogLevel, std::string_view message) override { logs.emplace_back(message); }

  bool logged(std::string_view text) const {
    for (const auto& line : logs) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }

  std::map<ConnectionId, Peer> peers;
  std::set<ConnectionId> congestedIds;
  std::vector<std::string> logs;
};

class Harness;

class Client {
 public:
  Client(Harness& harness, ConnectionId id, codec::ProtocolVersion version)
      : harness_(harness), id_(id), version_(version) {}

  ConnectionId id() const { return id_; }
  codec::ProtocolVersion version() const { return version_; }

  void sendBytes(const std::vector<std::uint8_t>& bytes);
  void send(const codec::Packet& packet);
  // The next packet the broker sent to this client; fails the test if there is none.
  // Views in the result stay valid until the next call.
  codec::Packet next();
  template <typename T>
  T nextAs() {
    codec::Packet packet = next();
    T* value = std::get_if<T>(&packet);
    EXPECT_NE(value, nullptr) << "unexpected packet type, index " << packet.index();
    return value != nullptr ? *value : T{};
  }
  bool hasPacket() const;
  bool closeRequested() const;
  // The broker closed us: simulate the port reporting it.
  void dropConnection();

  codec::Connack connect(std::string_view clientId, bool cleanStart = true,
                         std::optional<std::uint32_t> sessionExpiry = std::nullopt,
                         std::optional<codec::Will> will = std::nullopt,
                         std::optional<std::string_view> username = std::nullopt);
  void subscribe(std::string_view filter, std::uint8_t options, std::uint32_t identifier = 0);
  void publish(std::string_view topic, std::string_view payload, std::uint8_t qos,
               bool retain = false, std::uint16_t packetId = 0);

 private:
  Harness& harness_;
  ConnectionId id_;
  codec::ProtocolVersion version_;
  ReceivedFrame current_;
  std::uint16_t nextPacketId_ = 1;
};

class Harness {
 public:
  explicit Harness(EngineConfig config = {}, Authenticator* authenticatorInUse = nullptr)
      : config_(config),
        authenticatorInUse_(authenticatorInUse != nullptr ? *authenticatorInUse : authenticator) {
    rebuild();
  }

  // A new Broker over the same store: what a restart looks like to the engine.
  void rebuild() {
    broker_.reset();
    output.peers.clear();
    broker_ = std::make_unique<Broker>(config_, store, output, clock, authenticatorInUse_);
    EXPECT_TRUE(broker_->restore().ok());
  }
  Broker& broker() { return *broker_; }

  std::unique_ptr<Client> open(codec::ProtocolVersion version = codec::ProtocolVersion::V5,
                               PeerInfo peer = {}) {
    const ConnectionId id = nextId_++;
    peer.address = "127.0.0.1:" + std::to_string(40000 + id);
    broker_->onOpen(id, peer);
    return std::make_unique<Client>(*this, id, version);
  }

  void tick(std::uint64_t seconds) {
    for (std::uint64_t i = 0; i < seconds; ++i) {
      clock.advanceSeconds(1);
      broker_->onTick();
      broker_->endOfTurn();
    }
  }

  FakeClock clock;
  FakeOutput output;
  store::MemoryStore store;
  AllowAllAuthenticator authenticator;

 private:
  EngineConfig config_;
  Authenticator& authenticatorInUse_;
  std::unique_ptr<Broker> broker_;
  ConnectionId nextId_ = 1;
};

inline void Client::sendBytes(const std::vector<std::uint8_t>& bytes) {
  harness_.broker().onBytes(id_, Bytes(bytes.data(), bytes.size()));
  harness_.broker().endOfTurn();
}

inline void Client::send(const codec::Packet& packet) {
  std::vector<std::uint8_t> bytes;
  ASSERT_TRUE(codec::encodePacket(packet, version_, bytes).ok());
  sendBytes(bytes);
}

inline codec::Packet Client::next() {
  auto& frames = harness_.output.peers[id_].frames;
  if (frames.empty()) {
    ADD_FAILURE() << "expected a packet from the broker, got none";
    return codec::Pingresp{};
  }
  current_ = std::move(frames.front());
  frames.pop_front();
  codec::Frame frame;
  frame.header = current_.header;
  frame.body = Bytes(current_.body.data(), current_.body.size());
  Result<codec::Packet> packet = codec::decodePacket(frame, version_);
  EXPECT_TRUE(packet.ok()) << "the broker sent a packet the codec rejects";
  return packet.ok() ? packet.value() : codec::Packet(codec::Pingresp{});
}

inline bool Client::hasPacket() const {
  auto it = harness_.output.peers.find(id_);
  return it != harness_.output.peers.end() && !it->second.frames.empty();
}

inline bool Client::closeRequested() const {
  auto it = harness_.output.peers.find(id_);
  return it != harness_.output.peers.end() && it->second.closeRequested;
}

inline void Client::dropConnection() {
  harness_.broker().onClose(id_);
  harness_.broker().endOfTurn();
}

inline codec::Connack Client::connect(std::string_view clientId, bool cleanStart,
                                      std::optional<std::uint32_t> sessionExpiry,
                                      std::optional<codec::Will> will,
                                      std::optional<std::string_view> username) {
  codec::Connect connect;
  connect.username = username;
  connect.version = version_;
  connect.cleanStart = cleanStart;
  connect.keepAlive = 60;
  connect.clientId = clientId;
  connect.will = will;
  if (version_ == codec::ProtocolVersion::V5) connect.properties.sessionExpiryInterval = sessionExpiry;
  send(connect);
  return nextAs<codec::Connack>();
}

inline void Client::subscribe(std::string_view filter, std::uint8_t options,
                              std::uint32_t identifier) {
  codec::Subscribe subscribe;
  subscribe.packetId = nextPacketId_++;
  subscribe.entries.push_back({filter, options});
  if (identifier != 0) subscribe.properties.subscriptionIdentifiers.push_back(identifier);
  send(subscribe);
  auto suback = nextAs<codec::Suback>();
  EXPECT_EQ(suback.packetId, subscribe.packetId);
}

inline void Client::publish(std::string_view topic, std::string_view payload, std::uint8_t qos,
                            bool retain, std::uint16_t packetId) {
  codec::Publish publish;
  publish.topic = topic;
  publish.payload = asBytes(payload);
  publish.qos = qos;
  publish.retain = retain;
  publish.packetId = qos == 0 ? 0 : (packetId != 0 ? packetId : nextPacketId_++);
  send(publish);
}

inline std::string payloadOf(const codec::Publish& publish) {
  return std::string(asStringView(publish.payload));
}

// Drains the client's packets: the latest payload of each topic it was sent (a $SYS
// watcher's view of the counters).
inline std::map<std::string, std::string> latestPayloadsSeenBy(Client& client) {
  std::map<std::string, std::string> latest;
  while (client.hasPacket()) {
    codec::Packet packet = client.next();
    if (auto* publish = std::get_if<codec::Publish>(&packet)) {
      latest[std::string(publish->topic)] = payloadOf(*publish);
    }
  }
  return latest;
}

}  // namespace midge::testing
