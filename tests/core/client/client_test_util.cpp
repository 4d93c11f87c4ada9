// SPDX-License-Identifier: Apache-2.0
#include "tests/core/client/client_test_util.hpp"

#include <stdexcept>
#include <utility>

namespace midge::client::test {

using codec::PacketType;
using codec::ProtocolVersion;

Sent parse(ByteVector bytes, ProtocolVersion version) {
  Sent sent;
  sent.bytes = std::make_shared<ByteVector>(std::move(bytes));
  codec::Framer framer;
  const Status status = framer.feed(Bytes(*sent.bytes), [&](const codec::Frame& frame) {
    // A CONNECT decodes its own version, so one call serves every packet.
    auto decoded = codec::decodePacket(frame, version);
    if (!decoded) throw std::runtime_error(decoded.error().detail);
    sent.packets.push_back(std::move(decoded).value());
    return true;
  });
  sent.framingOk = status.ok() && framer.bufferedBytes() == 0;
  return sent;
}

ByteVector encode(const codec::Packet& packet, ProtocolVersion version) {
  ByteVector out;
  if (!codec::encodePacket(packet, version, out)) throw std::runtime_error("encode failed");
  return out;
}

ByteVector connack(ProtocolVersion version, std::uint8_t code, bool sessionPresent,
                   const codec::Properties& properties) {
  codec::Connack packet;
  packet.reasonCode = code;
  packet.sessionPresent = sessionPresent;
  packet.properties = properties;
  return encode(codec::Packet{packet}, version);
}

ByteVector ack(PacketType type, std::uint16_t packetId, ProtocolVersion version,
               ReasonCode reason) {
  codec::Ack packet;
  packet.type = type;
  packet.packetId = packetId;
  packet.reason = reason;
  return encode(codec::Packet{packet}, version);
}

ByteVector serverPublish(ProtocolVersion version, std::string_view topic,
                         std::string_view payload, std::uint8_t qos, std::uint16_t packetId,
                         bool dup) {
  codec::Publish packet;
  packet.topic = topic;
  packet.payload = asBytes(payload);
  packet.qos = qos;
  packet.packetId = packetId;
  packet.dup = dup;
  return encode(codec::Packet{packet}, version);
}

Bytes view(const ByteVector& bytes) { return Bytes(bytes); }

OutboundMessage message(std::string topic, std::string payload, std::uint8_t qos, bool retain) {
  OutboundMessage out;
  out.topic = std::move(topic);
  out.payload.assign(payload.begin(), payload.end());
  out.qos = qos;
  out.retain = retain;
  return out;
}

std::vector<ClientEvent> eventsOf(const std::vector<ClientEvent>& events, ClientEventKind kind) {
  std::vector<ClientEvent> out;
  for (const auto& event : events) {
    if (event.kind == kind) out.push_back(event);
  }
  return out;
}

ClientOptions optionsFor(ProtocolVersion version) {
  ClientOptions options;
  options.version = version;
  options.clientId = "edge-1";
  options.cleanStart = false;
  options.keepAliveSeconds = 30;
  options.sessionExpirySeconds = version == ProtocolVersion::V5 ? 3600 : 0;
  return options;
}

Connected::Connected(ClientOptions options, ClientJournal* journal,
                     const codec::Properties& connackProperties)
    : client(options, journal), version(options.version) {
  if (!client.connect(0)) throw std::runtime_error("connect failed");
  client.takeBytes();
  client.onBytes(view(connack(version, 0, false, connackProperties)), 0);
  if (client.state() != ClientState::Connected) throw std::runtime_error("not connected");
  client.takeBytes();
  client.takeEvents();
}

}  // namespace midge::client::test
