// SPDX-License-Identifier: Apache-2.0
#include "core/codec/packet.hpp"

namespace midge::codec {

namespace {

template <typename T>
Result<Packet> widen(Result<T> decoded) {
  if (!decoded.ok()) return decoded.error();
  return Packet(std::move(decoded).value());
}

struct TypeOf {
  PacketType operator()(const Connect&) const noexcept { return PacketType::Connect; }
  PacketType operator()(const Connack&) const noexcept { return PacketType::Connack; }
  PacketType operator()(const Publish&) const noexcept { return PacketType::Publish; }
  PacketType operator()(const Ack& ack) const noexcept { return ack.type; }
  PacketType operator()(const Subscribe&) const noexcept { return PacketType::Subscribe; }
  PacketType operator()(const Suback&) const noexcept { return PacketType::Suback; }
  PacketType operator()(const Unsubscribe&) const noexcept { return PacketType::Unsubscribe; }
  PacketType operator()(const Unsuback&) const noexcept { return PacketType::Unsuback; }
  PacketType operator()(const Pingreq&) const noexcept { return PacketType::Pingreq; }
  PacketType operator()(const Pingresp&) const noexcept { return PacketType::Pingresp; }
  PacketType operator()(const Disconnect&) const noexcept { return PacketType::Disconnect; }
  PacketType operator()(const Auth&) const noexcept { return PacketType::Auth; }
};

struct Encode {
  ProtocolVersion version;
  std::vector<std::uint8_t>& out;
  Status operator()(const Connect& p) const { return encodeConnect(p, version, out); }
  Status operator()(const Connack& p) const { return encodeConnack(p, version, out); }
  Status operator()(const Publish& p) const { return encodePublish(p, version, out); }
  Status operator()(const Ack& p) const { return encodeAck(p, version, out); }
  Status operator()(const Subscribe& p) const { return encodeSubscribe(p, version, out); }
  Status operator()(const Suback& p) const { return encodeSuback(p, version, out); }
  Status operator()(const Unsubscribe& p) const { return encodeUnsubscribe(p, version, out); }
  Status operator()(const Unsuback& p) const { return encodeUnsuback(p, version, out); }
  Status operator()(const Pingreq& p) const { return encodePingreq(p, version, out); }
  Status operator()(const Pingresp& p) const { return encodePingresp(p, version, out); }
  Status operator()(const Disconnect& p) const { return encodeDisconnect(p, version, out); }
  Status operator()(const Auth& p) const { return encodeAuth(p, version, out); }
};

}  // namespace

PacketType packetTypeOf(const Packet& packet) noexcept { return std::visit(TypeOf{}, packet); }

Result<Packet> decodePacket(const Frame& frame, ProtocolVersion version) {
  switch (frame.type()) {
    case PacketType::Connect: return widen(decodeConnect(frame, version));
    case PacketType::Connack: return widen(decodeConnack(frame, version));
    case PacketType::Publish: return widen(decodePublish(frame, version));
    case PacketType::Puback:
    case PacketType::Pubrec:
    case PacketType::Pubrel:
    case PacketType::Pubcomp: return widen(decodeAck(frame, version));
    case PacketType::Subscribe: return widen(decodeSubscribe(frame, version));
    case PacketType::Suback: return widen(decodeSuback(frame, version));
    case PacketType::Unsubscribe: return widen(decodeUnsubscribe(frame, version));
    case PacketType::Unsuback: return widen(decodeUnsuback(frame, version));
    case PacketType::Pingreq: return widen(decodePingreq(frame, version));
    case PacketType::Pingresp: return widen(decodePingresp(frame, version));
    case PacketType::Disconnect: return widen(decodeDisconnect(frame, version));
    case PacketType::Auth: return widen(decodeAuth(frame, version));
  }
  return malformed("reserved packet type 0");
}

Status encodePacket(const Packet& packet, ProtocolVersion version,
                    std::vector<std::uint8_t>& out) {
  return std::visit(Encode{version, out}, packet);
}

}  // namespace midge::codec
