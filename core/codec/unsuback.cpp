// SPDX-License-Identifier: Apache-2.0
#include "core/codec/unsuback.hpp"

namespace midge::codec {

bool isValidUnsubackReason(ReasonCode reason) noexcept {
  switch (reason) {
    case ReasonCode::Success:
    case ReasonCode::NoSubscriptionExisted:
    case ReasonCode::UnspecifiedError:
    case ReasonCode::ImplementationSpecificError:
    case ReasonCode::NotAuthorized:
    case ReasonCode::TopicFilterInvalid:
    case ReasonCode::PacketIdentifierInUse: return true;
    default: return false;
  }
}

Result<Unsuback> decodeUnsuback(const Frame& frame, ProtocolVersion version) {
  if (frame.flags() != 0) return malformed("UNSUBACK fixed header flags not 0");
  Unsuback unsuback;
  Reader reader(frame.body);
  MIDGE_TRY(reader.u16(unsuback.packetId, "UNSUBACK packet identifier truncated"));
  if (unsuback.packetId == 0) return protocolError("UNSUBACK with packet identifier 0");
  if (version != ProtocolVersion::V5) {
    MIDGE_TRY(reader.expectEnd("UNSUBACK longer than 2 bytes before MQTT 5"));
    return unsuback;
  }
  MIDGE_TRY(readProperties(reader, PropertyScope::Unsuback, unsuback.properties));
  const Bytes codes = reader.rest();
  if (codes.empty()) return protocolError("UNSUBACK with no reason code");
  for (const std::uint8_t code : codes) {
    if (!isValidUnsubackReason(static_cast<ReasonCode>(code))) {
      return protocolError("UNSUBACK reason code not allowed");
    }
  }
  unsuback.reasonCodes.assign(codes.begin(), codes.end());
  return unsuback;
}

Status encodeUnsuback(const Unsuback& unsuback, ProtocolVersion version,
                      std::vector<std::uint8_t>& out) {
  constexpr auto kHeader =
      static_cast<std::uint8_t>(static_cast<unsigned>(PacketType::Unsuback) << 4);
  const bool v5 = version == ProtocolVersion::V5;
  return encodeFrame(kHeader, out, [&](auto& sink) {
    sink.u16(unsuback.packetId);
    if (!v5) return;
    emitProperties(unsuback.properties, sink);
    sink.raw(Bytes(unsuback.reasonCodes.data(), unsuback.reasonCodes.size()));
  });
}

}  // namespace midge::codec
