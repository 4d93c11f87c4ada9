// SPDX-License-Identifier: Apache-2.0
#include "core/codec/disconnect.hpp"

namespace midge::codec {

bool isValidDisconnectReason(ReasonCode reason) noexcept {
  switch (reason) {
    case ReasonCode::Success:
    case ReasonCode::DisconnectWithWill:
    case ReasonCode::UnspecifiedError:
    case ReasonCode::MalformedPacket:
    case ReasonCode::ProtocolError:
    case ReasonCode::ImplementationSpecificError:
    case ReasonCode::NotAuthorized:
    case ReasonCode::ServerBusy:
    case ReasonCode::ServerShuttingDown:
    case ReasonCode::KeepAliveTimeout:
    case ReasonCode::SessionTakenOver:
    case ReasonCode::TopicFilterInvalid:
    case ReasonCode::TopicNameInvalid:
    case ReasonCode::ReceiveMaximumExceeded:
    case ReasonCode::TopicAliasInvalid:
    case ReasonCode::PacketTooLarge:
    case ReasonCode::MessageRateTooHigh:
    case ReasonCode::QuotaExceeded:
    case ReasonCode::AdministrativeAction:
    case ReasonCode::PayloadFormatInvalid:
    case ReasonCode::RetainNotSupported:
    case ReasonCode::QoSNotSupported:
    case ReasonCode::UseAnotherServer:
    case ReasonCode::ServerMoved:
    case ReasonCode::SharedSubscriptionsNotSupported:
    case ReasonCode::ConnectionRateExceeded:
    case ReasonCode::MaximumConnectTime:
    case ReasonCode::SubscriptionIdentifiersNotSupported:
    case ReasonCode::WildcardSubscriptionsNotSupported: return true;
    default: return false;
  }
}

Result<Disconnect> decodeDisconnect(const Frame& frame, ProtocolVersion version) {
  if (frame.flags() != 0) return malformed("DISCONNECT fixed header flags not 0");
  Disconnect disconnect;
  Reader reader(frame.body);
  if (version != ProtocolVersion::V5) {
    MIDGE_TRY(reader.expectEnd("DISCONNECT with a non-zero remaining length before MQTT 5"));
    return disconnect;
  }
  if (reader.atEnd()) return disconnect;
  std::uint8_t reason = 0;
  MIDGE_TRY(reader.u8(reason, "DISCONNECT reason code truncated"));
  disconnect.reason = static_cast<ReasonCode>(reason);
  if (!isValidDisconnectReason(disconnect.reason)) {
    return protocolError("DISCONNECT reason code not allowed");
  }
  if (reader.atEnd()) return disconnect;
  MIDGE_TRY(readProperties(reader, PropertyScope::Disconnect, disconnect.properties));
  MIDGE_TRY(reader.expectEnd("DISCONNECT has bytes after its properties"));
  return disconnect;
}

Status encodeDisconnect(const Disconnect& disconnect, ProtocolVersion version,
                        std::vector<std::uint8_t>& out) {
  constexpr auto kHeader =
      static_cast<std::uint8_t>(static_cast<unsigned>(PacketType::Disconnect) << 4);
  const bool v5 = version == ProtocolVersion::V5;
  const bool withProperties = v5 && !propertiesEmpty(disconnect.properties);
  const bool withReason = v5 && (withProperties || disconnect.reason != ReasonCode::Success);
  return encodeFrame(kHeader, out, [&](auto& sink) {
    if (withReason) sink.u8(static_cast<std::uint8_t>(disconnect.reason));
    if (withProperties) emitProperties(disconnect.properties, sink);
  });
}

}  // namespace midge::codec
