// SPDX-License-Identifier: Apache-2.0
#include "core/codec/connect.hpp"

namespace midge::codec {

namespace {

constexpr std::uint8_t kUsernameFlag = 0x80;
constexpr std::uint8_t kPasswordFlag = 0x40;
constexpr std::uint8_t kWillRetainFlag = 0x20;
constexpr std::uint8_t kWillQosMask = 0x18;
constexpr std::uint8_t kWillFlag = 0x04;
constexpr std::uint8_t kCleanStartFlag = 0x02;
constexpr std::uint8_t kReservedFlag = 0x01;

// Mosquitto's bridge flag in the protocol level byte (`try_private`), 3.1 and 3.1.1 only.
constexpr std::uint8_t kBridgeLevelFlag = 0x80;

constexpr std::string_view kMqttName = "MQTT";
constexpr std::string_view kMqisdpName = "MQIsdp";

Status readVersion(Reader& reader, ProtocolVersion& version, bool& bridge) {
  std::string_view name;
  MIDGE_TRY(reader.utf8(name, "CONNECT protocol name truncated",
                        "CONNECT protocol name is not valid UTF-8"));
  std::uint8_t level = 0;
  MIDGE_TRY(reader.u8(level, "CONNECT protocol level truncated"));
  // Only below 5: an MQTT 5 bridge says what it wants with No Local, as Mosquitto does.
  if (level == (kBridgeLevelFlag | 3) || level == (kBridgeLevelFlag | 4)) {
    bridge = true;
    level = static_cast<std::uint8_t>(level & ~kBridgeLevelFlag);
  }
  if (name == kMqttName) {
    if (level == 4 || level == 5) {
      version = static_cast<ProtocolVersion>(level);
      return Status::success();
    }
    return Error{ErrorKind::UnsupportedVersion, "CONNECT \"MQTT\" with a level other than 4 or 5"};
  }
  if (name == kMqisdpName) {
    if (level == 3) {
      version = ProtocolVersion::V31;
      return Status::success();
    }
    return Error{ErrorKind::UnsupportedVersion, "CONNECT \"MQIsdp\" with a level other than 3"};
  }
  return malformed("CONNECT with an unknown protocol name");
}

}  // namespace

Result<Connect> decodeConnect(const Frame& frame, ProtocolVersion) {
  if (frame.flags() != 0) return malformed("CONNECT fixed header flags not 0");
  Connect connect;
  Reader reader(frame.body);
  MIDGE_TRY(readVersion(reader, connect.version, connect.bridge));
  const bool v5 = connect.version == ProtocolVersion::V5;

  std::uint8_t flags = 0;
  MIDGE_TRY(reader.u8(flags, "CONNECT flags truncated"));
  if ((flags & kReservedFlag) != 0) return malformed("CONNECT reserved flag set");
  const bool hasWill = (flags & kWillFlag) != 0;
  const auto willQos = static_cast<std::uint8_t>((flags & kWillQosMask) >> 3);
  const bool willRetain = (flags & kWillRetainFlag) != 0;
  if (willQos == 3) return malformed("CONNECT Will QoS 3");
  if (!hasWill && (willQos != 0 || willRetain)) {
    return malformed("CONNECT Will QoS or Will Retain set without the Will flag");
  }
  const bool hasUsername = (flags & kUsernameFlag) != 0;
  const bool hasPassword = (flags & kPasswordFlag) != 0;
  if (!v5 && hasPassword && !hasUsername) {
    return malformed("CONNECT password flag set without the user name flag");
  }
  connect.cleanStart = (flags & kCleanStartFlag) != 0;
  MIDGE_TRY(reader.u16(connect.keepAlive, "CONNECT keep alive truncated"));
  if (v5) {
    MIDGE_TRY(readProperties(reader, PropertyScope::Connect, connect.properties));
    if (connect.properties.authenticationData && !connect.properties.authenticationMethod) {
      return protocolError("CONNECT Authentication Data without Authentication Method");
    }
  }

  MIDGE_TRY(reader.utf8(connect.clientId, "CONNECT client identifier truncated",
                        "CONNECT client identifier is not valid UTF-8"));
  if (hasWill) {
    Will& will = connect.will.emplace();
    will.qos = willQos;
    will.retain = willRetain;
    if (v5) MIDGE_TRY(readProperties(reader, PropertyScope::Will, will.properties));
    MIDGE_TRY(reader.utf8(will.topic, "CONNECT Will topic truncated",
                          "CONNECT Will topic is not valid UTF-8"));
    MIDGE_TRY(reader.binary(will.payload, "CONNECT Will payload truncated"));
  }
  if (hasUsername) {
    std::string_view username;
    MIDGE_TRY(reader.utf8(username, "CONNECT user name truncated",
                          "CONNECT user name is not valid UTF-8"));
    connect.username = username;
  }
  if (hasPassword) {
    Bytes password;
    MIDGE_TRY(reader.binary(password, "CONNECT password truncated"));
    connect.password = password;
  }
  MIDGE_TRY(reader.expectEnd("CONNECT has bytes after the last field"));
  return connect;
}

Status encodeConnect(const Connect& connect, ProtocolVersion, std::vector<std::uint8_t>& out) {
  const bool v5 = connect.version == ProtocolVersion::V5;
  if (!v5 && connect.password && !connect.username) {
    return Error{ErrorKind::ImplementationError,
                 "CONNECT password without user name needs MQTT 5"};
  }
  if (v5 && connect.bridge) {
    return Error{ErrorKind::ImplementationError, "CONNECT bridge flag needs MQTT 3.1 or 3.1.1"};
  }
  if (connect.will && connect.will->qos > 2) {
    return Error{ErrorKind::ImplementationError, "CONNECT Will QoS above 2"};
  }
  std::uint8_t flags = 0;
  if (connect.cleanStart) flags |= kCleanStartFlag;
  if (connect.will) {
    flags = static_cast<std::uint8_t>(flags | kWillFlag | (connect.will->qos << 3) |
                                      (connect.will->retain ? kWillRetainFlag : 0));
  }
  if (connect.username) flags |= kUsernameFlag;
  if (connect.password) flags |= kPasswordFlag;
  const std::string_view name =
      connect.version == ProtocolVersion::V31 ? kMqisdpName : kMqttName;

  constexpr auto kHeader = static_cast<std::uint8_t>(static_cast<unsigned>(PacketType::Connect) << 4);
  return encodeFrame(kHeader, out, [&](auto& sink) {
    sink.utf8(name, "CONNECT protocol name too long");
    const auto level = static_cast<std::uint8_t>(connect.version);
    sink.u8(connect.bridge ? static_cast<std::uint8_t>(kBridgeLevelFlag | level) : level);
    sink.u8(flags);
    sink.u16(connect.keepAlive);
    if (v5) emitProperties(connect.properties, sink);
    sink.utf8(connect.clientId, "CONNECT client identifier longer than 65535 bytes");
    if (connect.will) {
      if (v5) emitProperties(connect.will->properties, sink);
      sink.utf8(connect.will->topic, "CONNECT Will topic longer than 65535 bytes");
      sink.binary(connect.will->payload, "CONNECT Will payload longer than 65535 bytes");
    }
    if (connect.username) {
      sink.utf8(*connect.username, "CONNECT user name longer than 65535 bytes");
    }
    if (connect.password) {
      sink.binary(*connect.password, "CONNECT password longer than 65535 bytes");
    }
  });
}

}  // namespace midge::codec
