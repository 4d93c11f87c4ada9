// SPDX-License-Identifier: Apache-2.0
// The tiny MQTT client of examples/cortex-m, on the host, against a scripted broker behind
// a fake transport: what it sends is decoded with the project codec, what the broker says
// is encoded with it. Partial sends and receives, refusals, timeouts, a broker that drops
// the connection and malformed input are all driven from here, with a fake clock.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "core/codec/codec.hpp"
#include "examples/cortex-m/client/tiny_client.hpp"
#include "tests/examples/alloc_counter.hpp"

namespace midge::tiny {
namespace {

using Buffer = std::vector<std::uint8_t>;

// The broker side of the transport. Bytes for the client queue in `toClient`; what the
// client sends accumulates in `fromClient`.
struct FakeLink {
  Buffer fromClient;
  std::deque<std::uint8_t> toClient;
  // A chunk size limits each call, like a socket with a small buffer: after a chunk the
  // next call transfers nothing ("would block"), so one process() moves only a little.
  std::size_t sendChunk = SIZE_MAX;
  std::size_t recvChunk = SIZE_MAX;
  bool sendStalled = false;  // send returns 0: buffer full
  bool closed = false;       // after the queued bytes are read, recv fails
  bool sendWouldBlock = false;
  bool recvWouldBlock = false;

  static std::int32_t send(void* context, const std::uint8_t* data, std::size_t size) {
    auto& link = *static_cast<FakeLink*>(context);
    if (link.closed) return -1;
    if (link.sendStalled) return 0;
    if (link.sendChunk != SIZE_MAX && (link.sendWouldBlock = !link.sendWouldBlock) == false) {
      return 0;
    }
    const std::size_t take = std::min(size, link.sendChunk);
    link.fromClient.insert(link.fromClient.end(), data, data + take);
    return static_cast<std::int32_t>(take);
  }

  static std::int32_t recv(void* context, std::uint8_t* buffer, std::size_t size) {
    auto& link = *static_cast<FakeLink*>(context);
    if (link.toClient.empty()) return link.closed ? -1 : 0;
    if (link.recvChunk != SIZE_MAX && (link.recvWouldBlock = !link.recvWouldBlock) == false) {
      return 0;
    }
    const std::size_t take = std::min({size, link.recvChunk, link.toClient.size()});
    std::copy_n(link.toClient.begin(), take, buffer);
    link.toClient.erase(link.toClient.begin(), link.toClient.begin() + static_cast<long>(take));
    return static_cast<std::int32_t>(take);
  }

  Transport transport() { return Transport{this, &FakeLink::send, &FakeLink::recv}; }

  void queue(const Buffer& bytes) { toClient.insert(toClient.end(), bytes.begin(), bytes.end()); }

  // Splits what the client sent into whole packets and forgets them.
  std::vector<Buffer> takePackets() {
    std::vector<Buffer> packets;
    std::size_t offset = 0;
    for (;;) {
      const codec::FixedHeader header =
          codec::parseFixedHeader(fromClient.data() + offset, fromClient.size() - offset);
      if (header.state != codec::FixedHeader::State::Complete) break;
      const std::size_t size = header.headerSize + header.remainingLength;
      if (fromClient.size() - offset < size) break;
      packets.emplace_back(fromClient.begin() + static_cast<long>(offset),
                           fromClient.begin() + static_cast<long>(offset + size));
      offset += size;
    }
    fromClient.erase(fromClient.begin(), fromClient.begin() + static_cast<long>(offset));
    return packets;
  }
};

codec::Frame frameOf(const Buffer& packet) {
  const codec::FixedHeader header = codec::parseFixedHeader(packet.data(), packet.size());
  if (header.state != codec::FixedHeader::State::Complete) throw std::runtime_error("no frame");
  codec::Frame frame;
  frame.header = packet[0];
  frame.body = Bytes(packet.data() + header.headerSize, header.remainingLength);
  frame.wireSize = packet.size();
  return frame;
}

codec::PacketType typeOf(const Buffer& packet) { return frameOf(packet).type(); }

template <typename Packet>
Buffer encoded(const Packet& packet) {
  Buffer out;
  if (!codec::encodePacket(packet, codec::ProtocolVersion::V311, out).ok()) {
    throw std::runtime_error("test packet does not encode");
  }
  return out;
}

Buffer connack(std::uint8_t code = 0, bool sessionPresent = false) {
  codec::Connack packet;
  packet.reasonCode = code;
  packet.sessionPresent = sessionPresent;
  return encoded(codec::Packet(packet));
}

Buffer puback(std::uint16_t id) {
  codec::Ack ack;
  ack.type = codec::PacketType::Puback;
  ack.packetId = id;
  return encoded(codec::Packet(ack));
}

Buffer suback(std::uint16_t id, std::uint8_t code) {
  codec::Suback packet;
  packet.packetId = id;
  packet.reasonCodes = {code};
  return encoded(codec::Packet(packet));
}

Buffer publishToClient(const std::string& topic, const std::string& payload, std::uint8_t qos,
                       std::uint16_t id = 0) {
  codec::Publish packet;
  packet.topic = topic;
  packet.payload = asBytes(payload);
  packet.qos = qos;
  packet.packetId = id;
  return encoded(codec::Packet(packet));
}

struct Events {
  int connected = 0;
  bool sessionPresent = false;
  std::vector<DisconnectReason> disconnects;
  std::vector<std::pair<std::string, std::string>> messages;
  std::vector<std::uint8_t> messageQos;
  std::vector<std::uint16_t> acked;
  std::vector<std::pair<std::uint16_t, std::uint8_t>> subscribed;

  static Events& of(void* context) { return *static_cast<Events*>(context); }
  Callbacks callbacks() {
    Callbacks c;
    c.context = this;
    c.onConnected = [](void* context, bool present) {
      ++of(context).connected;
      of(context).sessionPresent = present;
    };
    c.onDisconnected = [](void* context, DisconnectReason reason) {
      of(context).disconnects.push_back(reason);
    };
    c.onMessage = [](void* context, const IncomingMessage& message) {
      of(context).messages.emplace_back(std::string(message.topic),
                                        std::string(asStringView(message.payload)));
      of(context).messageQos.push_back(message.qos);
    };
    c.onPublishAcked = [](void* context, std::uint16_t id) { of(context).acked.push_back(id); };
    c.onSubscribed = [](void* context, std::uint16_t id, std::uint8_t code) {
      of(context).subscribed.emplace_back(id, code);
    };
    return c;
  }
};

class TinyClientTest : public ::testing::Test {
 protected:
  TinyClientTest() : client_(link_.transport(), {tx_, rx_, inflight_}, events_.callbacks()) {
    options_.clientId = "sensor-17";
    options_.keepAliveSeconds = 30;
  }

  // Runs process() until the client has nothing left to send or read, advancing no time.
  void pump(int rounds = 50) {
    for (int i = 0; i < rounds; ++i) client_.process(now_);
  }

  void connectAndAccept() {
    ASSERT_EQ(client_.connect(options_, now_), ClientStatus::Ok);
    pump();
    const auto packets = link_.takePackets();
    ASSERT_EQ(packets.size(), 1u);
    ASSERT_EQ(typeOf(packets[0]), codec::PacketType::Connect);
    link_.queue(connack());
    pump();
    ASSERT_EQ(client_.state(), State::Connected);
  }

  FakeLink link_;
  Events events_;
  std::uint8_t tx_[256] = {};
  std::uint8_t rx_[128] = {};
  std::uint8_t inflight_[96] = {};
  Client client_;
  ConnectOptions options_;
  std::uint32_t now_ = 1000;
};

TEST_F(TinyClientTest, ConnectCarriesIdentityKeepAliveAndWill) {
  options_.cleanSession = false;
  options_.will = WillFields{"plant/dev1/status", asBytes("offline"), 1, true};
  options_.username = std::string_view("gateway");
  options_.password = asBytes("secret");
  ASSERT_EQ(client_.connect(options_, now_), ClientStatus::Ok);
  EXPECT_EQ(client_.state(), State::AwaitingConnack);
  pump();

  const auto packets = link_.takePackets();
  ASSERT_EQ(packets.size(), 1u);
  const Result<codec::Connect> connect = codec::decodeConnect(frameOf(packets[0]));
  ASSERT_TRUE(connect.ok()) << connect.error().detail;
  EXPECT_EQ(connect->version, codec::ProtocolVersion::V311);
  EXPECT_EQ(connect->clientId, "sensor-17");
  EXPECT_EQ(connect->keepAlive, 30);
  EXPECT_FALSE(connect->cleanStart);
  ASSERT_TRUE(connect->will.has_value());
  EXPECT_EQ(connect->will->topic, "plant/dev1/status");
  EXPECT_EQ(asStringView(connect->will->payload), "offline");
  EXPECT_EQ(connect->will->qos, 1);
  EXPECT_TRUE(connect->will->retain);
  EXPECT_EQ(connect->username, std::optional<std::string_view>("gateway"));
  ASSERT_TRUE(connect->password.has_value());
  EXPECT_EQ(asStringView(*connect->password), "secret");

  link_.queue(connack(0, true));
  pump();
  EXPECT_EQ(client_.state(), State::Connected);
  EXPECT_EQ(events_.connected, 1);
  EXPECT_TRUE(events_.sessionPresent);
}

TEST_F(TinyClientTest, RefusedConnackIsReportedWithItsCode) {
  ASSERT_EQ(client_.connect(options_, now_), ClientStatus::Ok);
  pump();
  // The broker answers and closes at once; the refusal must win over the close.
  link_.queue(connack(5));
  link_.closed = true;
  pump();
  EXPECT_EQ(client_.state(), State::Idle);
  ASSERT_EQ(events_.disconnects.size(), 1u);
  EXPECT_EQ(events_.disconnects[0], DisconnectReason::Refused);
  EXPECT_EQ(client_.lastConnackCode(), 5);
  EXPECT_EQ(events_.connected, 0);
}

TEST_F(TinyClientTest, NoConnackInTimeEndsTheAttempt) {
  options_.connackTimeoutMs = 5000;
  ASSERT_EQ(client_.connect(options_, now_), ClientStatus::Ok);
  now_ += 4999;
  pump();
  EXPECT_EQ(client_.state(), State::AwaitingConnack);
  now_ += 1;
  pump();
  EXPECT_EQ(client_.state(), State::Idle);
  EXPECT_EQ(events_.disconnects, std::vector<DisconnectReason>{DisconnectReason::ConnackTimeout});
}

TEST_F(TinyClientTest, AnythingButConnackFirstIsAViolation) {
  ASSERT_EQ(client_.connect(options_, now_), ClientStatus::Ok);
  pump();
  link_.queue(puback(1));
  pump();
  EXPECT_EQ(events_.disconnects, std::vector<DisconnectReason>{DisconnectReason::ProtocolViolation});
}

TEST_F(TinyClientTest, PartialSendsDeliverWholePacketsInOrder) {
  link_.sendChunk = 1;
  ASSERT_EQ(client_.connect(options_, now_), ClientStatus::Ok);
  client_.process(now_);
  EXPECT_GT(client_.unsentBytes(), 0u);
  pump(200);
  EXPECT_EQ(client_.unsentBytes(), 0u);
  link_.queue(connack());
  pump();
  ASSERT_EQ(client_.state(), State::Connected);
  link_.takePackets();

  ASSERT_EQ(client_.publish("a/b", asBytes("one"), 0, false, now_), ClientStatus::Ok);
  ASSERT_EQ(client_.publish("a/b", asBytes("two"), 1, false, now_), ClientStatus::Ok);
  pump(200);
  const auto packets = link_.takePackets();
  ASSERT_EQ(packets.size(), 2u);
  const auto first = codec::decodePublish(frameOf(packets[0]), codec::ProtocolVersion::V311);
  const auto second = codec::decodePublish(frameOf(packets[1]), codec::ProtocolVersion::V311);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(asStringView(first->payload), "one");
  EXPECT_EQ(first->qos, 0);
  EXPECT_EQ(asStringView(second->payload), "two");
  EXPECT_EQ(second->qos, 1);
  EXPECT_NE(second->packetId, 0);
}

TEST_F(TinyClientTest, StalledTransportFillsTheBufferThenReportsNoSpace) {
  connectAndAccept();
  link_.takePackets();
  link_.sendStalled = true;
  const std::string payload(100, 'x');
  int accepted = 0;
  ClientStatus status = ClientStatus::Ok;
  while ((status = client_.publish("t", asBytes(payload), 0, false, now_)) == ClientStatus::Ok) {
    ++accepted;
    ASSERT_LT(accepted, 10);
  }
  EXPECT_EQ(status, ClientStatus::NoSpace);
  EXPECT_EQ(accepted, 2);  // 2 x 105 bytes fit in 256, a third does not
  link_.sendStalled = false;
  pump();
  EXPECT_EQ(link_.takePackets().size(), 2u);
  EXPECT_EQ(client_.publish("t", asBytes(payload), 0, false, now_), ClientStatus::Ok);
}

TEST_F(TinyClientTest, PartialReceivesAssembleOnePacket) {
  connectAndAccept();
  link_.recvChunk = 1;
  link_.queue(publishToClient("dev/cmd", "LED ON", 0));
  link_.queue(publishToClient("dev/cmd", "LED OFF", 0));
  client_.process(now_);
  EXPECT_EQ(events_.messages.size(), 0u);  // nothing is shown from half a packet
  pump(100);
  ASSERT_EQ(events_.messages.size(), 2u);
  EXPECT_EQ(events_.messages[0], std::make_pair(std::string("dev/cmd"), std::string("LED ON")));
  EXPECT_EQ(events_.messages[1].second, "LED OFF");
}

TEST_F(TinyClientTest, IncomingQos1IsAcknowledgedWithItsId) {
  connectAndAccept();
  link_.takePackets();
  link_.queue(publishToClient("dev/cmd", "reboot", 1, 4242));
  pump();
  ASSERT_EQ(events_.messages.size(), 1u);
  EXPECT_EQ(events_.messageQos[0], 1);
  const auto packets = link_.takePackets();
  ASSERT_EQ(packets.size(), 1u);
  const auto ack = codec::decodeAck(frameOf(packets[0]), codec::ProtocolVersion::V311);
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(ack->type, codec::PacketType::Puback);
  EXPECT_EQ(ack->packetId, 4242);
}

TEST_F(TinyClientTest, IncomingQos1WaitsForRoomForItsAckAndIsShownOnce) {
  connectAndAccept();
  link_.takePackets();
  link_.sendStalled = true;
  // 2 x 125 bytes, then one empty 5-byte PUBLISH: 1 byte is left, PUBACK needs 4.
  const std::string payload(120, 'x');
  while (client_.publish("t", asBytes(payload), 0, false, now_) == ClientStatus::Ok) {
  }
  while (client_.publish("t", Bytes(), 0, false, now_) == ClientStatus::Ok) {
  }
  EXPECT_EQ(client_.unsentBytes(), 255u);
  link_.queue(publishToClient("dev/cmd", "go", 1, 7));
  pump();
  EXPECT_EQ(events_.messages.size(), 0u);  // no room for PUBACK: the message waits
  link_.sendStalled = false;
  pump();
  ASSERT_EQ(events_.messages.size(), 1u);
  const auto packets = link_.takePackets();
  ASSERT_FALSE(packets.empty());
  EXPECT_EQ(typeOf(packets.back()), codec::PacketType::Puback);
}

TEST_F(TinyClientTest, Qos1PublishHoldsTheSlotUntilPuback) {
  connectAndAccept();
  link_.takePackets();
  std::uint16_t id = 0;
  ASSERT_EQ(client_.publish("plant/t", asBytes("21.5"), 1, false, now_, &id), ClientStatus::Ok);
  EXPECT_TRUE(client_.publishInFlight());
  EXPECT_EQ(client_.publish("plant/t", asBytes("21.6"), 1, false, now_), ClientStatus::Busy);
  EXPECT_EQ(client_.publish("plant/t", asBytes("qos0 still goes"), 0, false, now_),
            ClientStatus::Ok);
  pump();
  link_.queue(puback(static_cast<std::uint16_t>(id + 1)));  // not ours: ignored
  pump();
  EXPECT_TRUE(client_.publishInFlight());
  link_.queue(puback(id));
  pump();
  EXPECT_FALSE(client_.publishInFlight());
  EXPECT_EQ(events_.acked, std::vector<std::uint16_t>{id});
  std::uint16_t next = 0;
  ASSERT_EQ(client_.publish("plant/t", asBytes("21.6"), 1, false, now_, &next), ClientStatus::Ok);
  EXPECT_NE(next, id);
}

TEST_F(TinyClientTest, UnackedQos1IsResentWithDupAfterTheAckTimeout) {
  options_.ackTimeoutMs = 2000;
  options_.keepAliveSeconds = 0;
  connectAndAccept();
  link_.takePackets();
  std::uint16_t id = 0;
  ASSERT_EQ(client_.publish("plant/t", asBytes("21.5"), 1, false, now_, &id), ClientStatus::Ok);
  pump();
  auto packets = link_.takePackets();
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_FALSE(codec::decodePublish(frameOf(packets[0]), codec::ProtocolVersion::V311)->dup);

  now_ += 1999;
  pump();
  EXPECT_TRUE(link_.takePackets().empty());
  now_ += 1;
  pump();
  packets = link_.takePackets();
  ASSERT_EQ(packets.size(), 1u);
  const auto resent = codec::decodePublish(frameOf(packets[0]), codec::ProtocolVersion::V311);
  ASSERT_TRUE(resent.ok());
  EXPECT_TRUE(resent->dup);
  EXPECT_EQ(resent->packetId, id);
  EXPECT_EQ(asStringView(resent->payload), "21.5");
}

TEST_F(TinyClientTest, DroppedConnectionKeepsTheQos1PublishForTheNextSession) {
  connectAndAccept();
  link_.takePackets();
  std::uint16_t id = 0;
  ASSERT_EQ(client_.publish("plant/t", asBytes("21.5"), 1, false, now_, &id), ClientStatus::Ok);
  pump();
  link_.takePackets();

  link_.closed = true;  // the broker went away before its PUBACK
  pump();
  EXPECT_EQ(client_.state(), State::Idle);
  EXPECT_EQ(events_.disconnects, std::vector<DisconnectReason>{DisconnectReason::TransportClosed});
  EXPECT_TRUE(client_.publishInFlight());
  EXPECT_EQ(client_.publish("plant/t", asBytes("x"), 0, false, now_), ClientStatus::NotConnected);

  // The board reconnects its transport; the client resends after CONNACK.
  link_.closed = false;
  link_.fromClient.clear();
  connectAndAccept();
  const auto packets = link_.takePackets();
  ASSERT_EQ(packets.size(), 1u);
  const auto resent = codec::decodePublish(frameOf(packets[0]), codec::ProtocolVersion::V311);
  ASSERT_TRUE(resent.ok());
  EXPECT_TRUE(resent->dup);
  EXPECT_EQ(resent->packetId, id);
  EXPECT_EQ(asStringView(resent->payload), "21.5");
  link_.queue(puback(id));
  pump();
  EXPECT_FALSE(client_.publishInFlight());
}

TEST_F(TinyClientTest, SendFailureIsAConnectionLoss) {
  connectAndAccept();
  link_.closed = true;
  ASSERT_EQ(client_.publish("a", asBytes("b"), 0, false, now_), ClientStatus::Ok);
  client_.process(now_);
  EXPECT_EQ(events_.disconnects, std::vector<DisconnectReason>{DisconnectReason::TransportClosed});
  client_.process(now_);  // Idle: nothing more happens, no second report
  EXPECT_EQ(events_.disconnects.size(), 1u);
}

TEST_F(TinyClientTest, KeepAlivePingsWhenIdleAndGivesUpWithoutPingresp) {
  options_.keepAliveSeconds = 10;
  options_.pingTimeoutMs = 3000;
  connectAndAccept();
  link_.takePackets();
  now_ += 9999;
  pump();
  EXPECT_TRUE(link_.takePackets().empty());
  now_ += 1;
  pump();
  auto packets = link_.takePackets();
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_EQ(typeOf(packets[0]), codec::PacketType::Pingreq);
  link_.queue(encoded(codec::Packet(codec::Pingresp{})));
  pump();

  // Traffic postpones the next ping.
  now_ += 5000;
  ASSERT_EQ(client_.publish("a", asBytes("b"), 0, false, now_), ClientStatus::Ok);
  pump();
  link_.takePackets();
  now_ += 9999;
  pump();
  EXPECT_TRUE(link_.takePackets().empty());
  now_ += 1;
  pump();
  packets = link_.takePackets();
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_EQ(typeOf(packets[0]), codec::PacketType::Pingreq);
  now_ += 3000;  // and this one is never answered
  pump();
  EXPECT_EQ(events_.disconnects, std::vector<DisconnectReason>{DisconnectReason::PingTimeout});
}

TEST_F(TinyClientTest, TimersSurviveTheMillisecondCounterWrapping) {
  now_ = 0xFFFFF000u;
  options_.keepAliveSeconds = 10;
  connectAndAccept();
  link_.takePackets();
  now_ += 9999;  // wraps past zero
  pump();
  EXPECT_TRUE(link_.takePackets().empty());
  now_ += 1;
  pump();
  EXPECT_EQ(link_.takePackets().size(), 1u);
}

TEST_F(TinyClientTest, SubscribeReportsGrantAndRefusal) {
  connectAndAccept();
  link_.takePackets();
  std::uint16_t id = 0;
  ASSERT_EQ(client_.subscribe("plant/dev1/cmd", 1, &id), ClientStatus::Ok);
  EXPECT_EQ(client_.subscribe("other", 1), ClientStatus::Busy);
  pump();
  const auto packets = link_.takePackets();
  ASSERT_EQ(packets.size(), 1u);
  const auto subscribe =
      codec::decodeSubscribe(frameOf(packets[0]), codec::ProtocolVersion::V311);
  ASSERT_TRUE(subscribe.ok()) << subscribe.error().detail;
  ASSERT_EQ(subscribe->entries.size(), 1u);
  EXPECT_EQ(subscribe->entries[0].filter, "plant/dev1/cmd");
  EXPECT_EQ(codec::subscriptionQos(subscribe->entries[0].options), 1);
  EXPECT_EQ(subscribe->packetId, id);

  link_.queue(suback(id, 1));
  pump();
  ASSERT_EQ(events_.subscribed.size(), 1u);
  EXPECT_EQ(events_.subscribed[0], std::make_pair(id, std::uint8_t{1}));

  ASSERT_EQ(client_.subscribe("forbidden/#", 0, &id), ClientStatus::Ok);
  pump();
  link_.queue(suback(id, 0x80));
  pump();
  ASSERT_EQ(events_.subscribed.size(), 2u);
  EXPECT_EQ(events_.subscribed[1].second, 0x80);
}

TEST_F(TinyClientTest, DisconnectIsSentThenTheClientIsIdle) {
  connectAndAccept();
  link_.takePackets();
  ASSERT_EQ(client_.disconnect(), ClientStatus::Ok);
  EXPECT_EQ(client_.state(), State::Disconnecting);
  pump();
  const auto packets = link_.takePackets();
  ASSERT_EQ(packets.size(), 1u);
  EXPECT_EQ(typeOf(packets[0]), codec::PacketType::Disconnect);
  EXPECT_EQ(client_.state(), State::Idle);
  EXPECT_EQ(events_.disconnects, std::vector<DisconnectReason>{DisconnectReason::Requested});
}

TEST_F(TinyClientTest, BadCallsAreRefusedWithoutSendingAnything) {
  EXPECT_EQ(client_.publish("a", asBytes("b"), 0, false, now_), ClientStatus::NotConnected);
  EXPECT_EQ(client_.subscribe("a", 0), ClientStatus::NotConnected);
  EXPECT_EQ(client_.disconnect(), ClientStatus::NotConnected);
  ConnectOptions badWill = options_;
  badWill.will = WillFields{"status/#", asBytes("offline"), 1, true};
  EXPECT_EQ(client_.connect(badWill, now_), ClientStatus::BadParameter);
  ConnectOptions passwordOnly = options_;
  passwordOnly.password = asBytes("secret");
  EXPECT_EQ(client_.connect(passwordOnly, now_), ClientStatus::BadParameter);
  ConnectOptions hugeId = options_;
  const std::string longId(300, 'c');
  hugeId.clientId = longId;
  EXPECT_EQ(client_.connect(hugeId, now_), ClientStatus::TooLarge);
  EXPECT_EQ(client_.state(), State::Idle);

  connectAndAccept();
  link_.takePackets();
  EXPECT_EQ(client_.connect(options_, now_), ClientStatus::NotConnected);
  EXPECT_EQ(client_.publish("a/+", asBytes("b"), 0, false, now_), ClientStatus::BadParameter);
  EXPECT_EQ(client_.publish("", asBytes("b"), 0, false, now_), ClientStatus::BadParameter);
  EXPECT_EQ(client_.publish("a", asBytes("b"), 2, false, now_), ClientStatus::BadParameter);
  EXPECT_EQ(client_.publish("bad\xff", asBytes("b"), 0, false, now_), ClientStatus::BadParameter);
  EXPECT_EQ(client_.subscribe("a", 2), ClientStatus::BadParameter);
  EXPECT_EQ(client_.subscribe("", 0), ClientStatus::BadParameter);
  const std::string big(300, 'x');
  EXPECT_EQ(client_.publish("a", asBytes(big), 0, false, now_), ClientStatus::TooLarge);
  // Fits tx (256) but not the in-flight copy (96).
  const std::string medium(150, 'x');
  EXPECT_EQ(client_.publish("a", asBytes(medium), 1, false, now_), ClientStatus::TooLarge);
  EXPECT_FALSE(client_.publishInFlight());
  pump();
  EXPECT_TRUE(link_.takePackets().empty());
  EXPECT_EQ(client_.state(), State::Connected);
}

struct BadInput {
  const char* name;
  Buffer bytes;
  DisconnectReason reason;
};

class TinyClientBadInputTest : public TinyClientTest,
                               public ::testing::WithParamInterface<BadInput> {};

TEST_P(TinyClientBadInputTest, EndsTheConnection) {
  connectAndAccept();
  link_.queue(GetParam().bytes);
  pump();
  EXPECT_EQ(client_.state(), State::Idle);
  EXPECT_EQ(events_.disconnects, std::vector<DisconnectReason>{GetParam().reason});
  EXPECT_TRUE(events_.messages.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Broker, TinyClientBadInputTest,
    ::testing::Values(
        BadInput{"RemainingLengthFiveBytes", {0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01},
                 DisconnectReason::ProtocolViolation},
        BadInput{"RemainingLengthNotMinimal", {0x30, 0x80, 0x00},
                 DisconnectReason::ProtocolViolation},
        BadInput{"LargerThanReceiveBuffer", {0x30, 0x80, 0x01}, DisconnectReason::PacketTooLarge},
        BadInput{"PublishTopicTruncated", {0x30, 0x03, 0x00, 0x05, 'a'},
                 DisconnectReason::ProtocolViolation},
        BadInput{"PublishQos2NeverRequested", {0x34, 0x05, 0x00, 0x01, 'a', 0x00, 0x01},
                 DisconnectReason::ProtocolViolation},
        BadInput{"SecondConnack", {0x20, 0x02, 0x00, 0x00}, DisconnectReason::ProtocolViolation},
        BadInput{"SubackWithoutSubscribe", {0x90, 0x03, 0x00, 0x01, 0x00},
                 DisconnectReason::ProtocolViolation},
        BadInput{"PubackWrongLength", {0x40, 0x01, 0x00}, DisconnectReason::ProtocolViolation},
        BadInput{"PingrespWithBody", {0xD0, 0x01, 0x00}, DisconnectReason::ProtocolViolation},
        BadInput{"ClientOnlyPacket", {0xC0, 0x00}, DisconnectReason::ProtocolViolation}),
    [](const ::testing::TestParamInfo<BadInput>& param) { return param.param.name; });

// The point of the fixed buffers: once connected, publishing, receiving and acknowledging
// never touch the heap, which is what lets the firmware link without malloc.
TEST_F(TinyClientTest, HotPathDoesNotAllocate) {
  connectAndAccept();
  std::uint16_t subscribeId = 0;
  ASSERT_EQ(client_.subscribe("dev/cmd", 1, &subscribeId), ClientStatus::Ok);
  pump();
  link_.queue(suback(subscribeId, 1));
  pump();
  const Buffer incoming = publishToClient("dev/cmd", "LED ON", 1, 9);
  const Buffer ping = encoded(codec::Packet(codec::Pingresp{}));
  link_.takePackets();

  // The test's own containers grow outside the measured calls.
  events_.acked.reserve(64);
  events_.messages.reserve(64);
  events_.messageQos.reserve(64);
  link_.fromClient.reserve(4096);

  test::AllocationCounter counter;
  std::uint16_t id = 0;
  for (int i = 0; i < 20; ++i) {
    ClientStatus first = ClientStatus::NotConnected;
    ClientStatus second = ClientStatus::NotConnected;
    counter.measure([&] {
      first = client_.publish("plant/t", asBytes("21.5"), 1, false, now_, &id);
      second = client_.publish("plant/h", asBytes("40"), 0, false, now_);
      client_.process(now_);
    });
    ASSERT_EQ(first, ClientStatus::Ok);
    ASSERT_EQ(second, ClientStatus::Ok);
    link_.queue(puback(id));
    link_.queue(incoming);
    link_.queue(ping);
    counter.measure([&] { client_.process(now_); });
    link_.fromClient.clear();
  }
  EXPECT_EQ(counter.allocations(), 0u);
  EXPECT_EQ(events_.acked.size(), 20u);
  EXPECT_EQ(events_.messages.size(), 20u);
}

}  // namespace
}  // namespace midge::tiny

namespace midge::test {
namespace {

// The instrument itself: without this, a broken counter would make the test above pass.
TEST(AllocationCounter, SeesHeapAllocations) {
  AllocationCounter counter;
  counter.measure([] {
    std::vector<int> grown(64);
    ASSERT_EQ(grown.size(), 64u);
  });
  EXPECT_GE(counter.allocations(), 1u);
}

}  // namespace
}  // namespace midge::test
