// SPDX-License-Identifier: Apache-2.0
#include "core/codec/publish.hpp"

namespace midge::codec {

Status decodePublish(const Frame& frame, ProtocolVersion version, Publish& out) {
  const std::uint8_t flags = frame.flags();
  out.dup = (flags & 0x08) != 0;
  out.qos = static_cast<std::uint8_t>((flags >> 1) & 0x03);
  out.retain = (flags & 0x01) != 0;
  if (out.qos == 3) return malformed("PUBLISH with QoS 3");
  if (out.qos == 0 && out.dup) return malformed("PUBLISH with QoS 0 and DUP set");

  Reader reader(frame.body);
  MIDGE_TRY(reader.utf8(out.topic, "PUBLISH topic name truncated",
                        "PUBLISH topic name is not valid UTF-8"));
  out.packetId = 0;
  if (out.qos > 0) {
    MIDGE_TRY(reader.u16(out.packetId, "PUBLISH packet identifier truncated"));
    if (out.packetId == 0) return protocolError("PUBLISH with packet identifier 0");
  }
  out.properties = Properties{};
  if (version == ProtocolVersion::V5) {
    MIDGE_TRY(readProperties(reader, PropertyScope::Publish, out.properties));
    if (out.topic.empty() && !out.properties.topicAlias) {
      return protocolError("PUBLISH with an empty topic name and no Topic Alias");
    }
  } else if (out.topic.empty()) {
    return protocolError("PUBLISH with an empty topic name");
  }
  out.payload = reader.rest();
  return Status::success();
}

Result<Publish> decodePublish(const Frame& frame, ProtocolVersion version) {
  Publish publish;
  MIDGE_TRY(decodePublish(frame, version, publish));
  return publish;
}

Status encodePublish(const Publish& publish, ProtocolVersion version,
                     std::vector<std::uint8_t>& out) {
  if (publish.qos > 2) return Error{ErrorKind::ImplementationError, "PUBLISH QoS above 2"};
  const auto header = static_cast<std::uint8_t>(
      (static_cast<unsigned>(PacketType::Publish) << 4) | (publish.dup ? 0x08u : 0u) |
      (static_cast<unsigned>(publish.qos) << 1) | (publish.retain ? 0x01u : 0u));
  return encodeFrame(header, out, [&](auto& sink) {
    sink.utf8(publish.topic, "PUBLISH topic longer than 65535 bytes");
    if (publish.qos > 0) sink.u16(publish.packetId);
    if (version == ProtocolVersion::V5) emitProperties(publish.properties, sink);
    sink.raw(publish.payload);
  });
}

}  // namespace midge::codec
