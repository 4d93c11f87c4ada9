// SPDX-License-Identifier: Apache-2.0
// MQTT 5.0 reason codes (spec 2.4) as named constants. MQTT 3.1.1 has only CONNACK return
// codes 0..5; they are listed separately because their numbers differ from v5's.
#pragma once

#include <cstdint>

#include "core/util/result.hpp"

namespace midge {

enum class ReasonCode : std::uint8_t {
  Success = 0x00,  // also NormalDisconnection and GrantedQoS0
  GrantedQoS1 = 0x01,
  GrantedQoS2 = 0x02,
  DisconnectWithWill = 0x04,
  NoMatchingSubscribers = 0x10,
  NoSubscriptionExisted = 0x11,
  ContinueAuthentication = 0x18,
  ReAuthenticate = 0x19,
  UnspecifiedError = 0x80,
  MalformedPacket = 0x81,
  ProtocolError = 0x82,
  ImplementationSpecificError = 0x83,
  UnsupportedProtocolVersion = 0x84,
  ClientIdentifierNotValid = 0x85,
  BadUserNameOrPassword = 0x86,
  NotAuthorized = 0x87,
  ServerUnavailable = 0x88,
  ServerBusy = 0x89,
  Banned = 0x8A,
  ServerShuttingDown = 0x8B,
  BadAuthenticationMethod = 0x8C,
  KeepAliveTimeout = 0x8D,
  SessionTakenOver = 0x8E,
  TopicFilterInvalid = 0x8F,
  TopicNameInvalid = 0x90,
  PacketIdentifierInUse = 0x91,
  PacketIdentifierNotFound = 0x92,
  ReceiveMaximumExceeded = 0x93,
  TopicAliasInvalid = 0x94,
  PacketTooLarge = 0x95,
  MessageRateTooHigh = 0x96,
  QuotaExceeded = 0x97,
  AdministrativeAction = 0x98,
  PayloadFormatInvalid = 0x99,
  RetainNotSupported = 0x9A,
  QoSNotSupported = 0x9B,
  UseAnotherServer = 0x9C,
  ServerMoved = 0x9D,
  SharedSubscriptionsNotSupported = 0x9E,
  ConnectionRateExceeded = 0x9F,
  MaximumConnectTime = 0xA0,
  SubscriptionIdentifiersNotSupported = 0xA1,
  WildcardSubscriptionsNotSupported = 0xA2,
};

constexpr ReasonCode kNormalDisconnection = ReasonCode::Success;
constexpr ReasonCode kGrantedQoS0 = ReasonCode::Success;

constexpr bool isFailure(ReasonCode code) noexcept {
  return static_cast<std::uint8_t>(code) >= 0x80;
}

// MQTT 3.1 / 3.1.1 CONNACK return codes (3.1.1 section 3.2.2.3).
enum class ConnackReturnCode : std::uint8_t {
  Accepted = 0,
  UnacceptableProtocolVersion = 1,
  IdentifierRejected = 2,
  ServerUnavailable = 3,
  BadUserNameOrPassword = 4,
  NotAuthorized = 5,
};

// Maps a v5 CONNACK reason to the closest 3.1.1 return code, as mosquitto does when it
// refuses a 3.1.1 client for a reason only v5 can name.
ConnackReturnCode legacyConnackCode(ReasonCode code) noexcept;

const char* reasonCodeName(ReasonCode code) noexcept;

// The one mapping from an error kind to the v5 reason code that answers it.
ReasonCode reasonCodeFor(ErrorKind kind) noexcept;

}  // namespace midge
