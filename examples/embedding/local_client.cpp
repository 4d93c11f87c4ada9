// SPDX-License-Identifier: Apache-2.0
#include "examples/embedding/local_client.hpp"

#include <utility>

namespace midge::embedding {
namespace {
constexpr codec::ProtocolVersion kVersion = codec::ProtocolVersion::V311;
}

LocalClient::LocalClient(ConnectionEvents& engine, ConnectionId id, std::string clientId)
    : engine_(engine), id_(id), clientId_(std::move(clientId)) {}

void LocalClient::publish(std::string topic, std::string payload, std::uint8_t qos, bool retain) {
  if (pending_.size() == kMaxQueued) {
    pending_.pop_front();
    ++dropped_;
  }
  pending_.push_back({std::move(topic), std::move(payload), qos, retain});
}

void LocalClient::subscribe(std::string filter, std::uint8_t qos) {
  subscriptions_.push_back({std::move(filter), qos});
  if (connected_) {
    codec::Subscribe subscribe;
    subscribe.packetId = nextPacketId();
    subscribe.entries.push_back({subscriptions_.back().filter, qos});
    send(subscribe);
  }
}

std::uint16_t LocalClient::nextPacketId() {
  if (++lastPacketId_ == 0) lastPacketId_ = 1;
  return lastPacketId_;
}

// Encoding fails only for fields over 64 KiB (a topic, say); the encoders then append
// nothing, so such a packet is skipped rather than sent truncated. The per-type encoders
// are called directly: wrapping a packet in codec::Packet would copy it for nothing.
void LocalClient::send(const codec::Connect& connect) {
  (void)codec::encodeConnect(connect, kVersion, outbound_);
}
void LocalClient::send(const codec::Subscribe& subscribe) {
  (void)codec::encodeSubscribe(subscribe, kVersion, outbound_);
}
void LocalClient::send(const codec::Publish& publish) {
  (void)codec::encodePublish(publish, kVersion, outbound_);
}
void LocalClient::send(const codec::Ack& ack) { (void)codec::encodeAck(ack, kVersion, outbound_); }

void LocalClient::open() {
  PeerInfo peer;
  peer.address = "in-process";
  engine_.onOpen(id_, peer);
  open_ = true;
  connected_ = false;
  framer_.reset();
  inbound_.clear();
  codec::Connect connect;
  connect.version = kVersion;
  connect.clientId = clientId_;
  connect.cleanStart = true;
  connect.keepAlive = 0;  // no network between us and the engine: nothing to detect
  send(connect);
}

void LocalClient::sendSubscriptions() {
  for (const Subscription& subscription : subscriptions_) {
    codec::Subscribe subscribe;
    subscribe.packetId = nextPacketId();
    subscribe.entries.push_back({subscription.filter, subscription.qos});
    send(subscribe);
  }
}

void LocalClient::handle(const codec::Packet& packet) {
  if (const auto* connack = std::get_if<codec::Connack>(&packet)) {
    connected_ = connack->reasonCode == 0;
    if (connected_) sendSubscriptions();
    return;
  }
  if (const auto* publish = std::get_if<codec::Publish>(&packet)) {
    if (onMessage_) onMessage_(publish->topic, asStringView(publish->payload));
    if (publish->qos == 1) {
      codec::Ack ack;
      ack.type = codec::PacketType::Puback;
      ack.packetId = publish->packetId;
      send(ack);
    }
    // Subscriptions are made at QoS 0 or 1 by this client, so QoS 2 never arrives.
  }
  // SUBACK, PUBACK, PINGRESP: nothing to do for a client that cannot lose its connection.
}

void LocalClient::service() {
  if (closePending_) {
    closePending_ = false;
    if (open_) engine_.onClose(id_);
    open_ = false;
    connected_ = false;
  }
  if (!open_) open();

  if (!inbound_.empty()) {
    std::vector<std::uint8_t> bytes;
    bytes.swap(inbound_);
    const Status framed = framer_.feed(bytes, [this](const codec::Frame& frame) {
      Result<codec::Packet> packet = codec::decodePacket(frame, kVersion);
      if (packet.ok()) handle(*packet);
      return true;
    });
    if (!framed.ok()) closePending_ = true;  // cannot happen with our own engine; start over
  }

  if (connected_) {
    while (!pending_.empty()) {
      const PendingPublish& next = pending_.front();
      codec::Publish publish;
      publish.topic = next.topic;
      publish.payload = asBytes(next.payload);
      publish.qos = next.qos;
      publish.retain = next.retain;
      publish.packetId = next.qos > 0 ? nextPacketId() : 0;
      send(publish);
      pending_.pop_front();
    }
  }
  if (!outbound_.empty()) {
    std::vector<std::uint8_t> bytes;
    bytes.swap(outbound_);
    engine_.onBytes(id_, bytes);
  }
}

}  // namespace midge::embedding
