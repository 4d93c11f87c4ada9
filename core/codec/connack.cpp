// SPDX-License-Identifier: Apache-2.0
#include "core/codec/connack.hpp"

namespace midge::codec {

bool isValidConnackReason(ReasonCode reason) noexcept {
  switch (reason) {
    case ReasonCode::Success:
    case ReasonCode::UnspecifiedError:
    case ReasonCode::MalformedPacket:
    case ReasonCode::ProtocolError:
    case ReasonCode::ImplementationSpecificError:
    case ReasonCode::UnsupportedProtocolVersion:
    case ReasonCode::ClientIdentifierNotValid:
    case ReasonCode::BadUserNameOrPassword:
    case ReasonCode::NotAuthorized:
    case ReasonCode::ServerUnavailable:
    case ReasonCode::ServerBusy:
    case ReasonCode::Banned:
    case ReasonCode::BadAuthenticationMethod:
    case ReasonCode::TopicNameInvalid:
    case ReasonCode::PacketTooLarge:
    case ReasonCode::QuotaExceeded:
    case ReasonCode::PayloadFormatInvalid:
    case ReasonCode::RetainNotSupported:
    case ReasonCode::QoSNotSupported:
    case ReasonCode::UseAnotherServer:
    case ReasonCode::ServerMoved:
    case ReasonCode::ConnectionRateExceeded: return true;
    default: return false;
  }
}

Result<Connack> decodeConnack(const Frame& frame, ProtocolVersion version) {
  if (frame.flags() != 0) return malformed("CONNACK fixed header flags not 0");
  Connack connack;
  Reader reader(frame.body);
  std::uint8_t ackFlags = 0;
  MIDGE_TRY(reader.u8(ackFlags, "CONNACK acknowledge flags truncated"));
  MIDGE_TRY(reader.u8(connack.reasonCode, "CONNACK return code truncated"));
  if (version != ProtocolVersion::V31) {
    // 3.1 had no session present flag; the byte was reserved and is ignored.
    if ((ackFlags & 0xFE) != 0) return malformed("CONNACK reserved acknowledge flags set");
    connack.sessionPresent = (ackFlags & 0x01) != 0;
  }
  if (version == ProtocolVersion::V5) {
    if (!isValidConnackReason(static_cast<ReasonCode>(connack.reasonCode))) {
      return protocolError("CONNACK reason code not allowed");
    }
    MIDGE_TRY(readProperties(reader, PropertyScope::Connack, connack.properties));
  } else if (connack.reasonCode > 5) {
    return protocolError("CONNACK return code above 5");
  }
  if (connack.sessionPresent && connack.reasonCode != 0) {
    return protocolError("CONNACK session present with a refusal");
  }
  MIDGE_TRY(reader.expectEnd("CONNACK has bytes after the last field"));
  return connack;
}

Status encodeConnack(const Connack& connack, ProtocolVersion version,
                     std::vector<std::uint8_t>& out) {
  const bool sessionPresent = version != ProtocolVersion::V31 && connack.sessionPresent;
  constexpr auto kHeader =
      static_cast<std::uint8_t>(static_cast<unsigned>(PacketType::Connack) << 4);
  return encodeFrame(kHeader, out, [&](auto& sink) {
    sink.u8(sessionPresent ? 1 : 0);
    sink.u8(connack.reasonCode);
    if (version == ProtocolVersion::V5) emitProperties(connack.properties, sink);
  });
}

}  // namespace midge::codec
