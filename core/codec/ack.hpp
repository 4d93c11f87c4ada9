// SPDX-License-Identifier: Apache-2.0
// PUBACK, PUBREC, PUBREL, PUBCOMP (3.1.1 sections 3.4-3.7, 5.0 sections 3.4-3.7): the
// acknowledgements of the QoS 1 and QoS 2 flows share one layout.
#pragma once

#include <cstdint>
#include <vector>

#include "core/codec/framer.hpp"
#include "core/codec/properties.hpp"
#include "core/codec/reason_code.hpp"
#include "core/util/result.hpp"

namespace midge::codec {

// PUBACK, PUBREC, PUBREL, PUBCOMP share one shape.
struct Ack {
  PacketType type = PacketType::Puback;
  std::uint16_t packetId = 0;
  ReasonCode reason = ReasonCode::Success;  // v5 only
  Properties properties;                    // v5 only
};

// True for the reason codes the spec lists for this acknowledgement type.
bool isValidAckReason(PacketType type, ReasonCode reason) noexcept;

// The type comes from the frame (which must be one of the four). Flags must be 0010 for
// PUBREL and 0000 for the others (Malformed); packet identifier 0 and a reason code the
// spec does not list for the type are ProtocolError. v5 short forms: remaining length 2
// means Success and no properties, 3 means no properties. Before v5 the length must be 2.
Result<Ack> decodeAck(const Frame& frame, ProtocolVersion version);

// v5 uses the shortest form the spec allows for the reason and properties.
Status encodeAck(const Ack& ack, ProtocolVersion version, std::vector<std::uint8_t>& out);

}  // namespace midge::codec
