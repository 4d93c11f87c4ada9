// SPDX-License-Identifier: Apache-2.0
// PUBLISH (3.1.1 section 3.3, 5.0 section 3.3).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/codec/framer.hpp"
#include "core/codec/properties.hpp"
#include "core/util/result.hpp"

namespace midge::codec {

struct Publish {
  bool dup = false;
  std::uint8_t qos = 0;
  bool retain = false;
  std::string_view topic;
  std::uint16_t packetId = 0;  // only for QoS 1 and 2
  Properties properties;       // v5 only
  Bytes payload;
};

// Checks the data representation only: QoS 3, DUP on QoS 0, topic UTF-8, packet
// identifier 0 (Malformed / ProtocolError), an empty topic without a Topic Alias
// (ProtocolError). Wildcards in the topic, alias ranges and a Subscription Identifier sent
// by a client are the engine's to judge (they need connection state or direction).
Result<Publish> decodePublish(const Frame& frame, ProtocolVersion version);
// The same, decoding into a caller's object (reused across messages on the hot path).
Status decodePublish(const Frame& frame, ProtocolVersion version, Publish& out);

// Writes DUP/QoS/RETAIN from the struct, a packet identifier only for QoS > 0 and
// properties only for v5.
Status encodePublish(const Publish& publish, ProtocolVersion version,
                     std::vector<std::uint8_t>& out);

}  // namespace midge::codec
