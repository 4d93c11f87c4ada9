// SPDX-License-Identifier: Apache-2.0
// Per network connection state. A connection is bound to a session once CONNECT succeeds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <map>
#include <memory>
#include <vector>

#include "core/codec/codec.hpp"
#include "core/engine/io.hpp"
#include "core/engine/session.hpp"
#include "core/engine/turn_output.hpp"

namespace midge {

struct ConnectionExtras {
  std::vector<std::string> inboundTopicAliases;  // alias N at index N-1
  // std::less<> allows lookups by string_view without building a string per PUBLISH.
  std::map<std::string, std::uint16_t, std::less<>> outboundTopicAliases;
  std::string authMethod;
  // The CONNECT frame kept until the CONNACK (across an enhanced authentication exchange),
  // so that its decoded views stay valid.
  std::vector<std::uint8_t> heldConnect;
  std::uint8_t heldConnectHeader = 0;
};

enum class ConnectionState : std::uint8_t { AwaitingConnect, Authenticating, Connected, Closing };

struct Connection {
  ConnectionId id = 0;
  PeerInfo peer;
  codec::Framer framer;
  ConnectionState state = ConnectionState::AwaitingConnect;
  codec::ProtocolVersion version = codec::ProtocolVersion::V311;
  Session* session = nullptr;

  std::uint64_t openedAtMs = 0;
  std::uint64_t lastReceiveMs = 0;
  std::uint16_t keepAliveSeconds = 0;

  // Limits of the listener that accepted the connection (per listener in Mosquitto).
  std::uint8_t maxQos = 2;
  std::uint16_t maxTopicAlias = 10;

  // What the client told us it can take.
  std::uint32_t clientMaxPacketSize = 0;  // 0: protocol maximum
  std::uint16_t clientReceiveMaximum = 65535;
  std::uint16_t clientTopicAliasMaximum = 0;
  bool requestProblemInformation = true;

  bool publishWillOnClose = true;  // cleared by DISCONNECT 0x00
  // CONNECT carried Mosquitto's bridge flag (3.1/3.1.1): its subscriptions get No Local
  // and Retain As Published, as Mosquitto gives them, so a bridge is not sent its own
  // messages back.
  bool bridge = false;

  // Rarely used state lives behind one pointer: memory per idle connection is a headline
  // figure, and most connections never use aliases or enhanced authentication.
  std::unique_ptr<ConnectionExtras> extras;
  ConnectionExtras& extra() {
    if (!extras) extras = std::make_unique<ConnectionExtras>();
    return *extras;
  }

  // Bytes of this turn, sent at endOfTurn after the store committed (group commit).
  TurnBuffer turn;
  bool inPumpList = false;  // its session queue is pumped after this turn's flush
};

}  // namespace midge
