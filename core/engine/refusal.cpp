// SPDX-License-Identifier: Apache-2.0
// Refusals: the one mapping to the wire, the counters and the log line.
#include "core/engine/refusal.hpp"

#include <cctype>

#include "core/engine/broker.hpp"

namespace midge {

namespace {

RefusalAnswer answerConnect(ReasonCode reason, codec::ProtocolVersion version) {
  RefusalAnswer answer;
  answer.packet = RefusalAnswer::Packet::Connack;
  answer.encodeAs = version;
  answer.code = version == codec::ProtocolVersion::V5
                    ? static_cast<std::uint8_t>(reason)
                    : static_cast<std::uint8_t>(legacyConnackCode(reason));
  return answer;
}

RefusalAnswer answerConnection(ReasonCode reason, codec::ProtocolVersion version,
                               ConnectionState state) {
  RefusalAnswer answer;
  if (state == ConnectionState::AwaitingConnect) {
    if (reason == ReasonCode::UnsupportedProtocolVersion) {
      // 3.1.1 section 3.1.2.2: return code 0x01, in the 3.1.1 format every version reads.
      answer.packet = RefusalAnswer::Packet::Connack;
      answer.encodeAs = codec::ProtocolVersion::V311;
      answer.code = static_cast<std::uint8_t>(ConnackReturnCode::UnacceptableProtocolVersion);
    }
    return answer;  // no CONNECT we understood: nothing else may answer
  }
  if (version != codec::ProtocolVersion::V5) return answer;  // 3.x has no DISCONNECT to send
  // No CONNACK has been sent while authenticating, so a DISCONNECT is not allowed yet
  // (MQTT 5 3.14.0-1): the CONNACK carries the reason.
  answer.packet = state == ConnectionState::Authenticating ? RefusalAnswer::Packet::Connack
                                                           : RefusalAnswer::Packet::Disconnect;
  answer.code = static_cast<std::uint8_t>(reason);
  return answer;
}

RefusalAnswer answerPublish(const Refusal& refusal, ReasonCode reason,
                            codec::ProtocolVersion version) {
  RefusalAnswer answer;
  answer.close = false;
  if (refusal.packetId == 0) return answer;  // QoS 0: no ack to carry it
  answer.packet = RefusalAnswer::Packet::Ack;
  answer.encodeAs = version;
  // 3.x cannot say no in an ack: the message is dropped and acknowledged, as the spec
  // allows for authorization failures and Mosquitto does.
  answer.code = version == codec::ProtocolVersion::V5 ? static_cast<std::uint8_t>(reason) : 0;
  return answer;
}

// Reasons that end a connection without the client having broken a rule: they have
// counters of their own (timeouts, quota) or are not the client's doing at all.
bool isProtocolViolation(ReasonCode reason) {
  switch (reason) {
    case ReasonCode::SessionTakenOver:
    case ReasonCode::KeepAliveTimeout:
    case ReasonCode::MaximumConnectTime:
    case ReasonCode::QuotaExceeded:
    case ReasonCode::ServerShuttingDown:
      return false;
    default:
      return true;
  }
}

}  // namespace

ReasonCode refusalReason(const Refusal& refusal) noexcept {
  return isFailure(refusal.reason) ? refusal.reason : ReasonCode::UnspecifiedError;
}

RefusalAnswer answerFor(const Refusal& refusal, codec::ProtocolVersion version,
                        ConnectionState state) noexcept {
  if (refusal.silent) return RefusalAnswer{};
  const ReasonCode reason = refusalReason(refusal);
  switch (refusal.scope) {
    case Refusal::Scope::Connect: return answerConnect(reason, version);
    case Refusal::Scope::Connection: return answerConnection(reason, version, state);
    case Refusal::Scope::Publish: return answerPublish(refusal, reason, version);
  }
  return RefusalAnswer{};
}

void countRefusal(Stats& stats, const Refusal& refusal, ConnectionState state) noexcept {
  const ReasonCode reason = refusalReason(refusal);
  ++stats.refusals[static_cast<std::uint8_t>(reason) - Stats::kFirstRefusalCode];
  switch (refusal.scope) {
    case Refusal::Scope::Connect:
      ++stats.connectsRefused;
      if (reason == ReasonCode::BadUserNameOrPassword) ++stats.connectsRefusedBadCredentials;
      if (reason == ReasonCode::NotAuthorized) ++stats.connectsRefusedNotAuthorized;
      break;
    case Refusal::Scope::Connection:
      if (isProtocolViolation(reason)) ++stats.protocolViolations;
      if (reason == ReasonCode::KeepAliveTimeout) ++stats.keepaliveTimeouts;
      if (reason == ReasonCode::MaximumConnectTime && state != ConnectionState::Connected) {
        ++stats.connectTimeouts;
      }
      break;
    case Refusal::Scope::Publish:
      // The message's fate (denied, dropped, over quota) is counted where it is decided:
      // those counters also count what no client is refused for (a will the ACL denies).
      break;
  }
}

std::string refusalSlug(ReasonCode reason, char separator) {
  std::string slug = reasonCodeName(reason);
  for (char& c : slug) {
    c = c == ' ' || c == '-' ? separator
                             : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return slug;
}

void Broker::refuse(Connection& connection, const Refusal& refusal) {
  if (connection.state == ConnectionState::Closing) return;
  countRefusal(stats_, refusal, connection.state);
  log(LogLevel::Notice, refusalLogLine(connection, refusal));
  const RefusalAnswer answer = answerFor(refusal, connection.version, connection.state);
  switch (answer.packet) {
    case RefusalAnswer::Packet::None: break;
    case RefusalAnswer::Packet::Connack: {
      codec::Connack connack;
      connack.reasonCode = answer.code;
      queuePacketAs(connection, connack, answer.encodeAs);
      break;
    }
    case RefusalAnswer::Packet::Disconnect: {
      codec::Disconnect disconnect;
      disconnect.reason = static_cast<ReasonCode>(answer.code);
      queuePacketAs(connection, disconnect, answer.encodeAs);
      break;
    }
    case RefusalAnswer::Packet::Ack: {
      codec::Ack ack;
      ack.type = refusal.ackType;
      ack.packetId = refusal.packetId;
      ack.reason = static_cast<ReasonCode>(answer.code);
      queuePacketAs(connection, ack, answer.encodeAs);
      break;
    }
  }
  if (answer.close) closeConnection(connection);
}

std::string Broker::refusalLogLine(const Connection& connection, const Refusal& refusal) const {
  const std::string reason = reasonCodeName(refusalReason(refusal));
  std::string who = describe(connection);
  if (connection.session == nullptr && !refusal.clientId.empty()) {
    who = "client " + refusal.clientId + " (" + connection.peer.address + ")";
  }
  switch (refusal.scope) {
    case Refusal::Scope::Connect:
      return "refused connection from " + connection.peer.address + " (client id '" +
             refusal.clientId + "'): " + refusal.why + " (" + reason + ")";
    case Refusal::Scope::Connection:
      if (connection.state == ConnectionState::AwaitingConnect) {
        return who + " refused before CONNECT: " + refusal.why;
      }
      return who + " disconnected by the broker (" + reason + "): " + refusal.why;
    case Refusal::Scope::Publish:
      return who + ": PUBLISH refused (" + reason + "): " + refusal.why;
  }
  return who + ": " + refusal.why;
}

}  // namespace midge
