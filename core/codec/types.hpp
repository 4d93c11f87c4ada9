// SPDX-License-Identifier: Apache-2.0
// Protocol versions and packet types shared by every part of the codec.
#pragma once

#include <cstdint>

namespace midge::codec {

// Values are the CONNECT protocol levels, so a decoded level converts directly.
enum class ProtocolVersion : std::uint8_t { V31 = 3, V311 = 4, V5 = 5 };

// PUBREL, SUBSCRIBE and UNSUBSCRIBE carry flags 0010. MQTT 3.1 had no fixed flags yet: its
// clients set DUP on a resend after reconnecting, and refusing that would keep their QoS 2
// exchanges from ever completing.
constexpr bool validQos1Flags(std::uint8_t flags, ProtocolVersion version) noexcept {
  return flags == 0x02 || (version == ProtocolVersion::V31 && flags == 0x0A);
}

enum class PacketType : std::uint8_t {
  Connect = 1,
  Connack,
  Publish,
  Puback,
  Pubrec,
  Pubrel,
  Pubcomp,
  Subscribe,
  Suback,
  Unsubscribe,
  Unsuback,
  Pingreq,
  Pingresp,
  Disconnect,
  Auth
};

// "CONNECT", "PUBLISH", ... and "reserved" for 0 or anything out of range; for logs.
const char* packetTypeName(PacketType type) noexcept;

}  // namespace midge::codec
