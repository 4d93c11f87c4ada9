// SPDX-License-Identifier: Apache-2.0
// Every packet as one variant, and the dispatchers from a frame to the per-type decoder
// and from a packet to the per-type encoder.
#pragma once

#include <cstdint>
#include <variant>
#include <vector>

#include "core/codec/ack.hpp"
#include "core/codec/auth.hpp"
#include "core/codec/connack.hpp"
#include "core/codec/connect.hpp"
#include "core/codec/disconnect.hpp"
#include "core/codec/framer.hpp"
#include "core/codec/ping.hpp"
#include "core/codec/publish.hpp"
#include "core/codec/suback.hpp"
#include "core/codec/subscribe.hpp"
#include "core/codec/unsuback.hpp"
#include "core/codec/unsubscribe.hpp"
#include "core/util/result.hpp"

namespace midge::codec {

using Packet = std::variant<Connect, Connack, Publish, Ack, Subscribe, Suback, Unsubscribe,
                            Unsuback, Pingreq, Pingresp, Disconnect, Auth>;

// The wire type of a packet (an Ack reports its own type).
PacketType packetTypeOf(const Packet& packet) noexcept;

// Decodes one whole frame. CONNECT decodes its own version (MQIsdp/3, MQTT/4, MQTT/5) and
// ignores `version`; every other packet uses the connection's negotiated version. The
// reserved type 0, and type 15 (AUTH) before v5, are Malformed. Which packets may flow
// in which direction (a client sending CONNACK, say) is for the engine to decide.
Result<Packet> decodePacket(const Frame& frame, ProtocolVersion version);

// Encoders APPEND a whole packet (fixed header included) to out; they return an error
// (ImplementationError) only when a field cannot be represented (e.g. string > 65535),
// and then append nothing. CONNECT is encoded with its own version field.
Status encodePacket(const Packet& packet, ProtocolVersion version,
                    std::vector<std::uint8_t>& out);

}  // namespace midge::codec
