// SPDX-License-Identifier: Apache-2.0
#include "core/codec/unsubscribe.hpp"

namespace midge::codec {

Result<Unsubscribe> decodeUnsubscribe(const Frame& frame, ProtocolVersion version) {
  if (!validQos1Flags(frame.flags(), version)) return malformed("UNSUBSCRIBE fixed header flags not 0010");
  Unsubscribe unsubscribe;
  Reader reader(frame.body);
  MIDGE_TRY(reader.u16(unsubscribe.packetId, "UNSUBSCRIBE packet identifier truncated"));
  if (unsubscribe.packetId == 0) return protocolError("UNSUBSCRIBE with packet identifier 0");
  if (version == ProtocolVersion::V5) {
    MIDGE_TRY(readProperties(reader, PropertyScope::Unsubscribe, unsubscribe.properties));
  }
  if (reader.atEnd()) return protocolError("UNSUBSCRIBE with no topic filter");
  while (!reader.atEnd()) {
    std::string_view filter;
    MIDGE_TRY(reader.utf8(filter, "UNSUBSCRIBE topic filter truncated",
                          "UNSUBSCRIBE topic filter is not valid UTF-8"));
    unsubscribe.filters.push_back(filter);
  }
  return unsubscribe;
}

Status encodeUnsubscribe(const Unsubscribe& unsubscribe, ProtocolVersion version,
                         std::vector<std::uint8_t>& out) {
  constexpr auto kHeader =
      static_cast<std::uint8_t>((static_cast<unsigned>(PacketType::Unsubscribe) << 4) | 0x02);
  return encodeFrame(kHeader, out, [&](auto& sink) {
    sink.u16(unsubscribe.packetId);
    if (version == ProtocolVersion::V5) emitProperties(unsubscribe.properties, sink);
    for (const std::string_view filter : unsubscribe.filters) {
      sink.utf8(filter, "UNSUBSCRIBE topic filter longer than 65535 bytes");
    }
  });
}

}  // namespace midge::codec
