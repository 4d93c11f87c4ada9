// SPDX-License-Identifier: Apache-2.0
#include "core/codec/subscribe.hpp"

namespace midge::codec {

Result<Subscribe> decodeSubscribe(const Frame& frame, ProtocolVersion version) {
  if (!validQos1Flags(frame.flags(), version)) return malformed("SUBSCRIBE fixed header flags not 0010");
  Subscribe subscribe;
  Reader reader(frame.body);
  MIDGE_TRY(reader.u16(subscribe.packetId, "SUBSCRIBE packet identifier truncated"));
  if (subscribe.packetId == 0) return protocolError("SUBSCRIBE with packet identifier 0");
  const bool v5 = version == ProtocolVersion::V5;
  if (v5) MIDGE_TRY(readProperties(reader, PropertyScope::Subscribe, subscribe.properties));
  if (reader.atEnd()) return protocolError("SUBSCRIBE with no topic filter");
  while (!reader.atEnd()) {
    SubscribeEntry entry;
    MIDGE_TRY(reader.utf8(entry.filter, "SUBSCRIBE topic filter truncated",
                          "SUBSCRIBE topic filter is not valid UTF-8"));
    MIDGE_TRY(reader.u8(entry.options, "SUBSCRIBE options missing after a topic filter"));
    if (v5) {
      if ((entry.options & 0xC0) != 0) return malformed("SUBSCRIBE reserved option bits set");
      if (subscriptionQos(entry.options) == 3) return protocolError("SUBSCRIBE with QoS 3");
      if (subscriptionRetainHandling(entry.options) == 3) {
        return protocolError("SUBSCRIBE with Retain Handling 3");
      }
    } else {
      if ((entry.options & 0xFC) != 0) return malformed("SUBSCRIBE reserved option bits set");
      if (subscriptionQos(entry.options) == 3) return malformed("SUBSCRIBE with QoS 3");
    }
    subscribe.entries.push_back(entry);
  }
  return subscribe;
}

Status encodeSubscribe(const Subscribe& subscribe, ProtocolVersion version,
                       std::vector<std::uint8_t>& out) {
  constexpr auto kHeader =
      static_cast<std::uint8_t>((static_cast<unsigned>(PacketType::Subscribe) << 4) | 0x02);
  const bool v5 = version == ProtocolVersion::V5;
  return encodeFrame(kHeader, out, [&](auto& sink) {
    sink.u16(subscribe.packetId);
    if (v5) emitProperties(subscribe.properties, sink);
    for (const SubscribeEntry& entry : subscribe.entries) {
      sink.utf8(entry.filter, "SUBSCRIBE topic filter longer than 65535 bytes");
      // Options bits beyond QoS do not exist before v5.
      sink.u8(v5 ? entry.options : subscriptionQos(entry.options));
    }
  });
}

}  // namespace midge::codec
