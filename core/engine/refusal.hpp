// SPDX-License-Identifier: Apache-2.0
// A refusal: what a handler decided the client may not do, and why. Handlers make one and
// hand it to Broker::refuse, the one place that turns it into the answer on the wire
// (answerFor), the counters (countRefusal) and a log line, as Mosquitto does at the tail of
// its packet dispatch.
//
// @code
//   if (publish.qos > connection.maxQos) {
//     return Refusal::connection(ReasonCode::QoSNotSupported, "PUBLISH above max_qos");
//   }
//   ...
//   if (!allowed) return Refusal::publish(ackType, publish.packetId, ReasonCode::NotAuthorized,
//                                         "not authorized to publish to " + topic);
// @endcode
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "core/codec/codec.hpp"
#include "core/engine/connection.hpp"
#include "core/engine/stats.hpp"

namespace midge {

struct Refusal {
  // What is refused, which decides the packet that carries the reason.
  enum class Scope : std::uint8_t {
    // The CONNECT (or the AUTH exchange it started): CONNACK with the reason (3.x: the
    // closest return code), then close.
    Connect,
    // The connection from here on: v5 DISCONNECT (CONNACK while authenticating, nothing
    // before CONNECT), 3.x a close without a packet.
    Connection,
    // One PUBLISH: v5 PUBACK/PUBREC with the reason, 3.x a success ack (it cannot say
    // no); nothing for QoS 0. The connection stays open.
    Publish,
  };

  Scope scope = Scope::Connection;
  ReasonCode reason = ReasonCode::UnspecifiedError;
  std::string why;  // for the log: what was wrong, in the operator's terms
  // Close without any packet: the client forbade a CONNACK that large (MQTT-3.1.2-24), or
  // no packet may carry the reason yet (connect_timeout while an AUTH exchange runs).
  bool silent = false;
  codec::PacketType ackType = codec::PacketType::Puback;  // Publish only
  std::uint16_t packetId = 0;                             // Publish only; 0: QoS 0
  // Who is refused, for the log, while no session names the connection yet (CONNECT, AUTH).
  std::string clientId;

  static Refusal connect(ReasonCode reason, std::string why) {
    return make(Scope::Connect, reason, std::move(why));
  }
  static Refusal connection(ReasonCode reason, std::string why) {
    return make(Scope::Connection, reason, std::move(why));
  }
  static Refusal silently(Scope scope, ReasonCode reason, std::string why) {
    Refusal refusal = make(scope, reason, std::move(why));
    refusal.silent = true;
    return refusal;
  }
  // A codec or validation error ends the connection with the reason its kind maps to.
  static Refusal connection(const Error& error) {
    return make(Scope::Connection, reasonCodeFor(error.kind),
                std::string(errorKindName(error.kind)) + ": " + error.detail);
  }
  static Refusal publish(codec::PacketType ackType, std::uint16_t packetId, ReasonCode reason,
                         std::string why) {
    Refusal refusal = make(Scope::Publish, reason, std::move(why));
    refusal.ackType = ackType;
    refusal.packetId = packetId;
    return refusal;
  }

 private:
  static Refusal make(Scope scope, ReasonCode reason, std::string why) {
    Refusal refusal;
    refusal.scope = scope;
    refusal.reason = reason;
    refusal.why = std::move(why);
    return refusal;
  }
};

// What a handler returns: nothing when the packet was accepted.
using Refused = std::optional<Refusal>;

// The packet that answers a refusal, and whether the connection then closes.
struct RefusalAnswer {
  enum class Packet : std::uint8_t { None, Connack, Disconnect, Ack };
  Packet packet = Packet::None;
  std::uint8_t code = 0;  // on the wire: a v5 reason code or a 3.x CONNACK return code
  // The CONNACK to a protocol level we do not know is 3.1.1's, which every version reads.
  codec::ProtocolVersion encodeAs = codec::ProtocolVersion::V5;
  bool close = true;
};

// The reason a refusal carries on the wire and in the counters: a code below 0x80 would
// read as success to the client, so it becomes 0x80 (unspecified error).
ReasonCode refusalReason(const Refusal& refusal) noexcept;

// The one mapping from a refusal to its answer, for a connection of this version in this
// state.
RefusalAnswer answerFor(const Refusal& refusal, codec::ProtocolVersion version,
                        ConnectionState state) noexcept;

// Counts the refusal per reason and in the named counters $SYS has always published
// (clients/refused, clients/protocol-errors, keepalive and connect timeouts; for a refused
// PUBLISH: publish/denied, quota/refused, dropped too large).
void countRefusal(Stats& stats, const Refusal& refusal, ConnectionState state) noexcept;

// "not-authorized" ($SYS topic level, separator '-') or "not_authorized" (metrics label,
// separator '_'): the reason's name in lower case.
std::string refusalSlug(ReasonCode reason, char separator);

// The refusals counted under a reason (0 for a code below 0x80).
inline std::uint64_t refusalCount(const Stats& stats, ReasonCode reason) noexcept {
  const auto code = static_cast<std::uint8_t>(reason);
  return code < Stats::kFirstRefusalCode ? 0 : stats.refusals[code - Stats::kFirstRefusalCode];
}

// Calls visit(reason, count) for each reason refused at least once, in code order: $SYS
// and /metrics show those only, not a zero for every reason MQTT 5 defines.
template <typename Visit>
void forEachRefusalCounted(const Stats& stats, Visit&& visit) {
  for (unsigned code = Stats::kFirstRefusalCode; code <= 0xFF; ++code) {
    const auto reason = static_cast<ReasonCode>(code);
    const std::uint64_t count = refusalCount(stats, reason);
    if (count != 0) visit(reason, count);
  }
}

}  // namespace midge
