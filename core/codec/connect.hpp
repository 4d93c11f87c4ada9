// SPDX-License-Identifier: Apache-2.0
// CONNECT (3.1 "MQIsdp" level 3, 3.1.1 section 3.1, 5.0 section 3.1).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/codec/framer.hpp"
#include "core/codec/properties.hpp"
#include "core/util/result.hpp"

namespace midge::codec {

struct Will {
  std::string_view topic;
  Bytes payload;
  std::uint8_t qos = 0;
  bool retain = false;
  Properties properties;  // v5 Will Properties
};

struct Connect {
  ProtocolVersion version = ProtocolVersion::V311;
  bool cleanStart = true;  // Clean Session in 3.1 / 3.1.1
  // Mosquitto's bridge flag (`try_private`): bit 0x80 of the protocol level, 3.1 and 3.1.1
  // only. It tells the server the client is a bridge, so that it is not sent its own
  // messages back (loop avoidance before v5 had No Local).
  bool bridge = false;
  std::uint16_t keepAlive = 0;
  std::string_view clientId;
  std::optional<Will> will;
  std::optional<std::string_view> username;
  std::optional<Bytes> password;
  Properties properties;
};

// The protocol version comes from the packet itself ("MQIsdp"/3, "MQTT"/4, "MQTT"/5), so
// the version argument is ignored. Errors: an unknown protocol name is Malformed; a known
// name with another level is UnsupportedVersion (answer with CONNACK 0x84, or return
// code 1 in 3.1.1 format); level 0x83 ("MQIsdp") and 0x84 ("MQTT") are 3.1 and 3.1.1 with
// the bridge flag, 0x85 is UnsupportedVersion; the reserved flag, Will QoS 3, Will
// QoS/Retain without the Will flag, a password without a user name before v5, and trailing
// bytes are Malformed;
// Authentication Data without an Authentication Method is a ProtocolError. Client
// identifier length limits are broker policy and are not checked here.
Result<Connect> decodeConnect(const Frame& frame,
                              ProtocolVersion ignored = ProtocolVersion::V311);

// Encodes with connect.version (the argument is ignored, as for decoding). Fails with
// ImplementationError for a password without a user name before v5, and for the bridge
// flag with v5 (MQTT 5 has no such flag; a v5 bridge uses No Local instead).
Status encodeConnect(const Connect& connect, ProtocolVersion ignored,
                     std::vector<std::uint8_t>& out);

}  // namespace midge::codec
