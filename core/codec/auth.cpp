// SPDX-License-Identifier: Apache-2.0
#include "core/codec/auth.hpp"

namespace midge::codec {

bool isValidAuthReason(ReasonCode reason) noexcept {
  return reason == ReasonCode::Success || reason == ReasonCode::ContinueAuthentication ||
         reason == ReasonCode::ReAuthenticate;
}

Result<Auth> decodeAuth(const Frame& frame, ProtocolVersion version) {
  if (version != ProtocolVersion::V5) return malformed("AUTH packet before MQTT 5");
  if (frame.flags() != 0) return malformed("AUTH fixed header flags not 0");
  Auth auth;
  Reader reader(frame.body);
  if (reader.atEnd()) return auth;
  std::uint8_t reason = 0;
  MIDGE_TRY(reader.u8(reason, "AUTH reason code truncated"));
  auth.reason = static_cast<ReasonCode>(reason);
  if (!isValidAuthReason(auth.reason)) return protocolError("AUTH reason code not allowed");
  if (reader.atEnd()) return auth;
  MIDGE_TRY(readProperties(reader, PropertyScope::Auth, auth.properties));
  MIDGE_TRY(reader.expectEnd("AUTH has bytes after its properties"));
  return auth;
}

Status encodeAuth(const Auth& auth, ProtocolVersion version, std::vector<std::uint8_t>& out) {
  if (version != ProtocolVersion::V5) {
    return Error{ErrorKind::ImplementationError, "AUTH exists only in MQTT 5"};
  }
  constexpr auto kHeader =
      static_cast<std::uint8_t>(static_cast<unsigned>(PacketType::Auth) << 4);
  const bool withProperties = !propertiesEmpty(auth.properties);
  const bool withReason = withProperties || auth.reason != ReasonCode::Success;
  return encodeFrame(kHeader, out, [&](auto& sink) {
    if (withReason) sink.u8(static_cast<std::uint8_t>(auth.reason));
    if (withProperties) emitProperties(auth.properties, sink);
  });
}

}  // namespace midge::codec
