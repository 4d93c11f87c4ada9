// SPDX-License-Identifier: Apache-2.0
#include "core/codec/ack.hpp"

namespace midge::codec {

namespace {

bool isAckType(PacketType type) noexcept {
  return type == PacketType::Puback || type == PacketType::Pubrec ||
         type == PacketType::Pubrel || type == PacketType::Pubcomp;
}

// What we send; on receipt MQTT 3.1 also allows DUP on PUBREL (validQos1Flags).
std::uint8_t requiredFlags(PacketType type) noexcept {
  return type == PacketType::Pubrel ? 0x02 : 0x00;
}

}  // namespace

bool isValidAckReason(PacketType type, ReasonCode reason) noexcept {
  if (type == PacketType::Pubrel || type == PacketType::Pubcomp) {
    return reason == ReasonCode::Success || reason == ReasonCode::PacketIdentifierNotFound;
  }
  switch (reason) {
    case ReasonCode::Success:
    case ReasonCode::NoMatchingSubscribers:
    case ReasonCode::UnspecifiedError:
    case ReasonCode::ImplementationSpecificError:
    case ReasonCode::NotAuthorized:
    case ReasonCode::TopicNameInvalid:
    case ReasonCode::PacketIdentifierInUse:
    case ReasonCode::QuotaExceeded:
    case ReasonCode::PayloadFormatInvalid: return true;
    default: return false;
  }
}

Result<Ack> decodeAck(const Frame& frame, ProtocolVersion version) {
  Ack ack;
  ack.type = frame.type();
  if (!isAckType(ack.type)) {
    return Error{ErrorKind::ImplementationError, "decodeAck called for another packet type"};
  }
  const bool flagsValid = ack.type == PacketType::Pubrel
                              ? validQos1Flags(frame.flags(), version)
                              : frame.flags() == 0;
  if (!flagsValid) {
    return malformed(ack.type == PacketType::Pubrel ? "PUBREL fixed header flags not 0010"
                                                    : "acknowledgement fixed header flags not 0");
  }
  Reader reader(frame.body);
  MIDGE_TRY(reader.u16(ack.packetId, "acknowledgement packet identifier truncated"));
  if (ack.packetId == 0) return protocolError("acknowledgement with packet identifier 0");
  if (version != ProtocolVersion::V5) {
    MIDGE_TRY(reader.expectEnd("acknowledgement longer than 2 bytes before MQTT 5"));
    return ack;
  }
  if (reader.atEnd()) return ack;
  std::uint8_t reason = 0;
  MIDGE_TRY(reader.u8(reason, "acknowledgement reason code truncated"));
  ack.reason = static_cast<ReasonCode>(reason);
  if (!isValidAckReason(ack.type, ack.reason)) {
    return protocolError("acknowledgement reason code not allowed for its type");
  }
  if (reader.atEnd()) return ack;
  MIDGE_TRY(readProperties(reader, scopeOf(ack.type), ack.properties));
  MIDGE_TRY(reader.expectEnd("acknowledgement has bytes after its properties"));
  return ack;
}

Status encodeAck(const Ack& ack, ProtocolVersion version, std::vector<std::uint8_t>& out) {
  if (!isAckType(ack.type)) {
    return Error{ErrorKind::ImplementationError, "encodeAck called for another packet type"};
  }
  const auto header = static_cast<std::uint8_t>((static_cast<unsigned>(ack.type) << 4) |
                                                requiredFlags(ack.type));
  const bool v5 = version == ProtocolVersion::V5;
  const bool withProperties = v5 && !propertiesEmpty(ack.properties);
  const bool withReason = v5 && (withProperties || ack.reason != ReasonCode::Success);
  return encodeFrame(header, out, [&](auto& sink) {
    sink.u16(ack.packetId);
    if (withReason) sink.u8(static_cast<std::uint8_t>(ack.reason));
    if (withProperties) emitProperties(ack.properties, sink);
  });
}

}  // namespace midge::codec
