// SPDX-License-Identifier: Apache-2.0
#include "core/codec/suback.hpp"

#include "core/codec/reason_code.hpp"

namespace midge::codec {

bool isValidSubackReason(ProtocolVersion version, std::uint8_t code) noexcept {
  if (code <= 2) return true;
  if (version == ProtocolVersion::V31) return false;
  if (version == ProtocolVersion::V311) return code == 0x80;
  switch (static_cast<ReasonCode>(code)) {
    case ReasonCode::UnspecifiedError:
    case ReasonCode::ImplementationSpecificError:
    case ReasonCode::NotAuthorized:
    case ReasonCode::TopicFilterInvalid:
    case ReasonCode::PacketIdentifierInUse:
    case ReasonCode::QuotaExceeded:
    case ReasonCode::SharedSubscriptionsNotSupported:
    case ReasonCode::SubscriptionIdentifiersNotSupported:
    case ReasonCode::WildcardSubscriptionsNotSupported: return true;
    default: return false;
  }
}

Result<Suback> decodeSuback(const Frame& frame, ProtocolVersion version) {
  if (frame.flags() != 0) return malformed("SUBACK fixed header flags not 0");
  Suback suback;
  Reader reader(frame.body);
  MIDGE_TRY(reader.u16(suback.packetId, "SUBACK packet identifier truncated"));
  if (suback.packetId == 0) return protocolError("SUBACK with packet identifier 0");
  if (version == ProtocolVersion::V5) {
    MIDGE_TRY(readProperties(reader, PropertyScope::Suback, suback.properties));
  }
  const Bytes codes = reader.rest();
  if (codes.empty()) return protocolError("SUBACK with no reason code");
  for (const std::uint8_t code : codes) {
    if (!isValidSubackReason(version, code)) return protocolError("SUBACK reason code not allowed");
  }
  suback.reasonCodes.assign(codes.begin(), codes.end());
  return suback;
}

Status encodeSuback(const Suback& suback, ProtocolVersion version,
                    std::vector<std::uint8_t>& out) {
  constexpr auto kHeader =
      static_cast<std::uint8_t>(static_cast<unsigned>(PacketType::Suback) << 4);
  return encodeFrame(kHeader, out, [&](auto& sink) {
    sink.u16(suback.packetId);
    if (version == ProtocolVersion::V5) emitProperties(suback.properties, sink);
    sink.raw(Bytes(suback.reasonCodes.data(), suback.reasonCodes.size()));
  });
}

}  // namespace midge::codec
