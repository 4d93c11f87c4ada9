// SPDX-License-Identifier: Apache-2.0
// The client side of fuzz_engine: an Output that frames and decodes everything the engine
// sends, and a per-connection model of what the client sent, so that every answer can be
// checked against the request it answers. A broken invariant aborts with a message naming
// it; libFuzzer then saves the input.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/codec/codec.hpp"
#include "core/engine/io.hpp"
#include "core/topic/topic.hpp"

namespace midge::fuzz {

using codec::ProtocolVersion;

[[noreturn]] inline void violation(const char* what, ConnectionId id = 0,
                                   const std::string& detail = {}) {
  std::fprintf(stderr, "fuzz_engine: INVARIANT VIOLATED: %s (connection %llu)%s%s\n", what,
               static_cast<unsigned long long>(id), detail.empty() ? "" : ": ",
               detail.c_str());
  std::abort();
}

// Removes one occurrence of value; false if there was none.
template <typename Container, typename Value>
bool takeOne(Container& container, const Value& value) {
  auto it = container.find(value);
  if (it == container.end()) return false;
  container.erase(it);
  return true;
}

struct ConnectionModel {
  enum class Stage : std::uint8_t { AwaitPuback, AwaitPubrec, AwaitPubcomp };

  ConnectionId id = 0;
  bool open = true;             // onOpen reported, onClose not yet
  bool closeRequested = false;  // the engine called close()
  ProtocolVersion version = ProtocolVersion::V311;
  std::string clientId;  // from the CONNECT; empty: none, or assigned by the broker
  bool sawFirstClientFrame = false;
  bool clientStreamBroken = false;
  codec::Framer clientFramer;
  codec::Framer brokerFramer;

  bool connackSeen = false;
  bool accepted = false;  // CONNACK with reason 0

  // What the client announced in CONNECT (v5).
  std::uint32_t maxPacketSize = 0;
  std::uint16_t receiveMaximum = 65535;
  std::uint16_t topicAliasMaximum = 0;
  std::map<std::uint16_t, std::string> aliases;  // broker -> client

  std::map<std::uint16_t, Stage> outbound;  // broker -> client QoS 1/2 in flight

  // Client requests that need an answer from the broker.
  std::multiset<std::uint16_t> awaitingPuback;
  std::multiset<std::uint16_t> awaitingPubrec;
  std::multiset<std::uint16_t> awaitingPubcomp;
  std::multimap<std::uint16_t, std::vector<std::string>> awaitingSuback;  // id -> filters
  std::multimap<std::uint16_t, std::size_t> awaitingUnsuback;  // id -> filter count
  std::size_t awaitingPingresp = 0;

  std::set<std::uint16_t> pubrecReceived;  // inbound QoS 2 the client may now PUBREL

  // Acknowledgements of this turn for ids the client has not seen in flight. When several
  // events share a turn, the client may acknowledge a PUBLISH that the engine created but
  // has not flushed yet; the engine applies it, so the model must too when the PUBLISH
  // shows up. Counting such a PUBLISH as not in flight can only make the checks looser.
  std::multiset<std::pair<codec::PacketType, std::uint16_t>> earlyAcks;

  bool hasUnansweredRequest() const {
    return !awaitingPuback.empty() || !awaitingPubrec.empty() || !awaitingPubcomp.empty() ||
           !awaitingSuback.empty() || !awaitingUnsuback.empty() || awaitingPingresp != 0;
  }

  // Candidates for an acknowledgement the client sends: ids the broker has in flight.
  std::vector<std::uint16_t> outboundIn(Stage stage) const {
    std::vector<std::uint16_t> ids;
    for (const auto& entry : outbound) {
      if (entry.second == stage) ids.push_back(entry.first);
    }
    return ids;
  }
};

class CheckingOutput final : public Output {
 public:
  // A new engine instance: connections of the previous one are gone.
  void reset() {
    connections.clear();
    congestedIds.clear();
    bytesSent = 0;
  }

  ConnectionModel& opened(ConnectionId id) {
    ConnectionModel& model = connections[id];
    model.id = id;
    return model;
  }

  // The engine flushed a turn: early acknowledgements can no longer meet their PUBLISH.
  void turnEnded() {
    for (auto& entry : connections) entry.second.earlyAcks.clear();
  }

  ConnectionModel* find(ConnectionId id) {
    auto it = connections.find(id);
    return it == connections.end() ? nullptr : &it->second;
  }

  // Bytes the driver is about to hand to the engine: learn what the client asked.
  void clientSends(ConnectionModel& model, Bytes bytes) {
    if (model.clientStreamBroken) return;
    Status status = model.clientFramer.feed(bytes, [&](const codec::Frame& frame) {
      noteClientFrame(model, frame);
      return true;
    });
    if (!status.ok()) model.clientStreamBroken = true;
  }

  void send(ConnectionId id, Bytes bytes) override {
    ConnectionModel* model = find(id);
    if (model == nullptr) violation("send() to a connection the engine was never told about", id);
    if (!model->open) violation("send() after onClose", id);
    if (model->closeRequested) violation("send() after close()", id);
    if (bytes.empty()) violation("send() with no bytes", id);
    bytesSent += bytes.size();
    Status status = model->brokerFramer.feed(bytes, [&](const codec::Frame& frame) {
      checkBrokerFrame(*model, frame);
      return true;
    });
    if (!status.ok()) violation("the engine sent bytes that do not frame", id, status.error().detail);
    if (model->brokerFramer.bufferedBytes() != 0) {
      violation("send() ended inside a packet", id);
    }
  }

  void close(ConnectionId id) override {
    ConnectionModel* model = find(id);
    if (model == nullptr) violation("close() of a connection the engine was never told about", id);
    if (!model->open) violation("close() after onClose", id);
    model->closeRequested = true;  // a second close() is harmless: the port ignores it
  }

  bool congested(ConnectionId id) const override { return congestedIds.count(id) != 0; }

  void log(LogLevel, std::string_view message) override {
    if (message.empty()) violation("empty log line");
    if (trace) std::fprintf(stderr, "  log: %.*s\n", static_cast<int>(message.size()), message.data());
    ++logLines;
  }

  struct SessionModel {
    std::set<std::uint32_t> receivedQos2;  // markers delivered with QoS 2
    bool sharedSubscriptions = false;
  };

  // Payload marker: 'M' and four hex digits, ASCII so that it is valid UTF-8.
  static constexpr std::size_t kMarkerSize = 5;
  static void writeMarker(std::uint32_t marker, std::uint8_t* out) {
    static const char kHex[] = "0123456789abcdef";
    out[0] = 'M';
    for (std::size_t i = 0; i < 4; ++i) out[4 - i] = static_cast<std::uint8_t>(kHex[(marker >> (4 * i)) & 15u]);
  }
  static std::optional<std::uint32_t> readMarker(Bytes payload) {
    if (payload.size() < kMarkerSize || payload[0] != 'M') return std::nullopt;
    std::uint32_t marker = 0;
    for (std::size_t i = 1; i < kMarkerSize; ++i) {
      const char c = static_cast<char>(payload[i]);
      const std::uint32_t digit = c >= '0' && c <= '9' ? static_cast<std::uint32_t>(c - '0')
                                  : c >= 'a' && c <= 'f' ? static_cast<std::uint32_t>(c - 'a' + 10)
                                                         : 16u;
      if (digit > 15) return std::nullopt;
      marker = marker << 4 | digit;
    }
    return marker;
  }

  // The world outlives one engine instance (reset() keeps these): sessions by client id,
  // and the QoS 2 messages each publisher may still resend, by (client id, packet id).
  std::map<std::string, SessionModel> sessions;
  std::map<std::pair<std::string, std::uint16_t>, std::uint32_t> openQos2;
  // Filters each client id asked for, with the highest QoS asked (the granted QoS is at
  // most that); a refused filter is dropped unless it was granted before.
  struct Grant {
    std::uint8_t qos = 0;
    std::size_t pending = 0;  // SUBSCRIBEs without a SUBACK yet
    bool confirmed = false;   // a SUBACK granted it
  };
  std::map<std::string, std::map<std::string, Grant>> everGranted;

  std::map<ConnectionId, ConnectionModel> connections;
  std::set<ConnectionId> congestedIds;
  std::uint64_t bytesSent = 0;
  std::uint64_t logLines = 0;
  std::size_t maxInflight = 0;  // EngineConfig::maxInflightMessages, 0: none
  bool trace = false;           // print every packet (MIDGE_FUZZ_TRACE=1)
  bool strict = false;          // no workarounds for known engine bugs (MIDGE_FUZZ_STRICT=1)

 private:
  static void traceFrame(ConnectionId id, const char* direction, const codec::Frame& frame,
                         const codec::Packet& packet) {
    std::string detail;
    if (const auto* publish = std::get_if<codec::Publish>(&packet)) {
      detail = " topic '" + std::string(publish->topic) + "' qos " +
               std::to_string(publish->qos) + " id " + std::to_string(publish->packetId) +
               (publish->dup ? " dup" : "") + (publish->retain ? " retain" : "") +
               " payload " + std::to_string(publish->payload.size());
    } else if (const auto* ack = std::get_if<codec::Ack>(&packet)) {
      detail = " id " + std::to_string(ack->packetId) + " reason " +
               std::to_string(static_cast<unsigned>(ack->reason));
    } else if (const auto* connack = std::get_if<codec::Connack>(&packet)) {
      detail = " reason " + std::to_string(connack->reasonCode) +
               (connack->sessionPresent ? " session present" : "");
    } else if (const auto* connect = std::get_if<codec::Connect>(&packet)) {
      detail = " v" + std::to_string(static_cast<unsigned>(connect->version)) + " id '" +
               std::string(connect->clientId) + "'" + (connect->cleanStart ? " clean" : "") +
               (connect->will ? " will '" + std::string(connect->will->topic) + "'" : "");
    } else if (const auto* disconnect = std::get_if<codec::Disconnect>(&packet)) {
      detail = " reason " + std::to_string(static_cast<unsigned>(disconnect->reason));
    } else if (const auto* suback = std::get_if<codec::Suback>(&packet)) {
      detail = " id " + std::to_string(suback->packetId) + " codes";
      for (std::uint8_t code : suback->reasonCodes) detail += " " + std::to_string(code);
    } else if (const auto* subscribe = std::get_if<codec::Subscribe>(&packet)) {
      detail = " id " + std::to_string(subscribe->packetId);
      for (const auto& entry : subscribe->entries) {
        detail += " '" + std::string(entry.filter) + "'/" + std::to_string(entry.options);
      }
    }
    std::fprintf(stderr, "  %s %llu %s%s\n", direction, static_cast<unsigned long long>(id),
                 codec::packetTypeName(frame.type()), detail.c_str());
  }

  void noteClientFrame(ConnectionModel& model, const codec::Frame& frame) {
    if (!model.sawFirstClientFrame) {
      model.sawFirstClientFrame = true;
      if (frame.type() != codec::PacketType::Connect) return;
      // The engine adopts the version of a CONNECT that decodes; otherwise it stays 3.1.1.
      Result<codec::Connect> connect = codec::decodeConnect(frame);
      if (!connect.ok()) return;
      model.version = connect.value().version;
      model.clientId = std::string(connect.value().clientId);
      if (trace) traceFrame(model.id, "client ->", frame, codec::Packet(connect.value()));
      const codec::Properties& properties = connect.value().properties;
      if (model.version == ProtocolVersion::V5) {
        model.maxPacketSize = properties.maximumPacketSize.value_or(0);
        model.receiveMaximum = properties.receiveMaximum.value_or(65535);
        model.topicAliasMaximum = properties.topicAliasMaximum.value_or(0);
      }
      return;
    }
    Result<codec::Packet> decoded = codec::decodePacket(frame, model.version);
    if (!decoded.ok()) {
      if (trace) std::fprintf(stderr, "  client %llu -> undecodable %s\n",
                              static_cast<unsigned long long>(model.id),
                              codec::packetTypeName(frame.type()));
      return;
    }
    const codec::Packet& packet = decoded.value();
    if (trace) traceFrame(model.id, "client ->", frame, packet);
    if (const auto* publish = std::get_if<codec::Publish>(&packet)) {
      if (publish->qos == 1) model.awaitingPuback.insert(publish->packetId);
      if (publish->qos == 2) model.awaitingPubrec.insert(publish->packetId);
    } else if (const auto* ack = std::get_if<codec::Ack>(&packet)) {
      noteClientAck(model, *ack);
    } else if (const auto* subscribe = std::get_if<codec::Subscribe>(&packet)) {
      std::vector<std::string> filters;
      for (const codec::SubscribeEntry& entry : subscribe->entries) {
        filters.emplace_back(entry.filter);
        if (!model.clientId.empty()) {
          // Counted from the request on: the connection may close before the SUBACK.
          Grant& grant = everGranted[model.clientId][filters.back()];
          grant.qos = std::max(grant.qos, codec::subscriptionQos(entry.options));
          ++grant.pending;
        }
        if (entry.filter.substr(0, 7) == "$share/" && !model.clientId.empty()) {
          sessions[model.clientId].sharedSubscriptions = true;
        }
      }
      model.awaitingSuback.emplace(subscribe->packetId, std::move(filters));
    } else if (const auto* unsubscribe = std::get_if<codec::Unsubscribe>(&packet)) {
      model.awaitingUnsuback.emplace(unsubscribe->packetId, unsubscribe->filters.size());
    } else if (std::holds_alternative<codec::Pingreq>(packet)) {
      ++model.awaitingPingresp;
    }
  }

  // Mirrors which client acknowledgements end a broker -> client flow (MQTT 4.3, 4.9).
  void noteClientAck(ConnectionModel& model, const codec::Ack& ack) {
    using Stage = ConnectionModel::Stage;
    auto it = model.outbound.find(ack.packetId);
    switch (ack.type) {
      case codec::PacketType::Puback:
        if (it != model.outbound.end() && it->second == Stage::AwaitPuback) {
          model.outbound.erase(it);
        } else {
          model.earlyAcks.insert({ack.type, ack.packetId});
        }
        break;
      case codec::PacketType::Pubrec:
        if (static_cast<std::uint8_t>(ack.reason) < 0x80) break;
        if (it != model.outbound.end() && it->second != Stage::AwaitPuback) {
          model.outbound.erase(it);
        } else {
          model.earlyAcks.insert({ack.type, ack.packetId});
        }
        break;
      case codec::PacketType::Pubrel:
        model.awaitingPubcomp.insert(ack.packetId);
        model.pubrecReceived.erase(ack.packetId);
        // After PUBREL the client never resends that PUBLISH: the id starts a new message.
        if (!model.clientId.empty()) openQos2.erase({model.clientId, ack.packetId});
        break;
      default:
        if (it != model.outbound.end() && it->second == Stage::AwaitPubcomp) {
          model.outbound.erase(it);
        } else {
          model.earlyAcks.insert({ack.type, ack.packetId});
        }
        break;
    }
  }

  void checkBrokerFrame(ConnectionModel& model, const codec::Frame& frame) {
    const ConnectionId id = model.id;
    Result<codec::Packet> decoded = codec::decodePacket(frame, model.version);
    if (!decoded.ok()) {
      violation("the engine sent a packet the codec rejects for the connection's version", id,
                std::string(codec::packetTypeName(frame.type())) + ": " + decoded.error().detail);
    }
    if (model.maxPacketSize != 0 && frame.wireSize > model.maxPacketSize) {
      violation("packet larger than the client's Maximum Packet Size", id,
                codec::packetTypeName(frame.type()));
    }
    if (model.connackSeen && !model.accepted) violation("a packet after a refusing CONNACK", id);
    const codec::Packet& packet = decoded.value();
    if (trace) traceFrame(id, "broker ->", frame, packet);
    switch (frame.type()) {
      case codec::PacketType::Connack: {
        if (model.connackSeen) violation("a second CONNACK", id);
        model.connackSeen = true;
        const auto& connack = std::get<codec::Connack>(packet);
        model.accepted = connack.reasonCode == 0;
        if (model.accepted && !connack.sessionPresent && !model.clientId.empty()) {
          // A new session: what the old one received or had in flight is forgotten.
          sessions.erase(model.clientId);
          for (auto it = openQos2.begin(); it != openQos2.end();) {
            it = it->first.first == model.clientId ? openQos2.erase(it) : std::next(it);
          }
        }
        return;
      }
      case codec::PacketType::Auth:
        if (model.connackSeen) violation("AUTH after CONNACK without re-authentication", id);
        return;
      case codec::PacketType::Disconnect:
        if (model.version != ProtocolVersion::V5) violation("DISCONNECT to a 3.x client", id);
        if (!model.accepted) violation("DISCONNECT before a successful CONNACK (MQTT-3.14.0-1)", id);
        return;
      case codec::PacketType::Connect:
      case codec::PacketType::Subscribe:
      case codec::PacketType::Unsubscribe:
      case codec::PacketType::Pingreq:
        violation("the engine sent a packet only a client sends", id,
                  codec::packetTypeName(frame.type()));
      default: break;
    }
    if (!model.accepted) {
      violation("a packet before CONNACK", id, codec::packetTypeName(frame.type()));
    }
    if (const auto* publish = std::get_if<codec::Publish>(&packet)) {
      checkPublish(model, *publish);
    } else if (const auto* ack = std::get_if<codec::Ack>(&packet)) {
      checkBrokerAck(model, *ack);
    } else if (const auto* suback = std::get_if<codec::Suback>(&packet)) {
      auto it = model.awaitingSuback.find(suback->packetId);
      if (it == model.awaitingSuback.end()) violation("SUBACK without a SUBSCRIBE", id);
      if (it->second.size() != suback->reasonCodes.size()) {
        violation("SUBACK reason count differs from the SUBSCRIBE's filter count", id);
      }
      if (!model.clientId.empty()) {
        auto& grants = everGranted[model.clientId];
        for (std::size_t i = 0; i < it->second.size(); ++i) {
          auto grant = grants.find(it->second[i]);
          if (grant == grants.end()) continue;
          --grant->second.pending;
          if (suback->reasonCodes[i] < 0x80) {
            grant->second.confirmed = true;
          } else if (!grant->second.confirmed && grant->second.pending == 0) {
            grants.erase(grant);  // refused, and never granted before
          }
        }
      }
      model.awaitingSuback.erase(it);
    } else if (const auto* unsuback = std::get_if<codec::Unsuback>(&packet)) {
      auto it = model.awaitingUnsuback.find(unsuback->packetId);
      if (it == model.awaitingUnsuback.end()) violation("UNSUBACK without an UNSUBSCRIBE", id);
      if (model.version == ProtocolVersion::V5 &&
          it->second != unsuback->reasonCodes.size()) {
        violation("UNSUBACK reason count differs from the UNSUBSCRIBE's filter count", id);
      }
      model.awaitingUnsuback.erase(it);
    } else if (std::holds_alternative<codec::Pingresp>(packet)) {
      if (model.awaitingPingresp == 0) violation("PINGRESP without a PINGREQ", id);
      --model.awaitingPingresp;
    }
  }

  void checkPublish(ConnectionModel& model, const codec::Publish& publish) {
    const ConnectionId id = model.id;
    std::string topicName(publish.topic);
    if (publish.properties.topicAlias) {
      const std::uint16_t alias = *publish.properties.topicAlias;
      if (alias > model.topicAliasMaximum) {
        violation("topic alias above the client's Topic Alias Maximum", id);
      }
      if (publish.topic.empty()) {
        auto known = model.aliases.find(alias);
        if (known == model.aliases.end()) {
          violation("topic alias used before it was set", id);
        }
        topicName = known->second;
      } else {
        model.aliases[alias] = topicName;
      }
    }
    if (!topic::validateTopicName(topicName).ok()) {
      violation("PUBLISH with an invalid topic name", id, topicName);
    }
    checkSubscribed(model, topicName, publish.qos);
    checkExactlyOnce(model, publish);
    if (publish.qos == 0) return;
    using Stage = ConnectionModel::Stage;
    auto it = model.outbound.find(publish.packetId);
    if (it != model.outbound.end()) {
      if (!publish.dup) {
        violation("a new PUBLISH reuses a packet id still in flight", id,
                  std::to_string(publish.packetId));
      }
      return;
    }
    const codec::PacketType ends =
        publish.qos == 1 ? codec::PacketType::Puback : codec::PacketType::Pubrec;
    if (takeOne(model.earlyAcks, std::make_pair(ends, publish.packetId))) return;
    model.outbound[publish.packetId] = publish.qos == 1 ? Stage::AwaitPuback : Stage::AwaitPubrec;
    std::size_t window = model.receiveMaximum;
    if (maxInflight != 0 && maxInflight < window) window = maxInflight;
    if (model.outbound.size() > window) {
      violation("more QoS 1/2 PUBLISH in flight than the Receive Maximum", id,
                std::to_string(model.outbound.size()) + " > " + std::to_string(window));
    }
  }

  // A client only receives topics it subscribed to, at most at the QoS it asked for. Sound
  // but loose: every filter the client id was ever granted counts, because a session keeps
  // delivering what it queued before an UNSUBSCRIBE, and a 3.1 CONNACK does not say
  // whether the session was kept.
  void checkSubscribed(const ConnectionModel& model, const std::string& topicName,
                       std::uint8_t qos) {
    if (model.clientId.empty()) return;
    int best = -1;
    for (const auto& entry : everGranted[model.clientId]) {
      if (topic::matches(entry.first, topicName) && entry.second.qos > best) {
        best = entry.second.qos;
      }
    }
    if (best < 0) {
      violation("PUBLISH on a topic the client never subscribed to", model.id,
                "client '" + model.clientId + "' topic '" + topicName + "'");
    }
    if (qos > best) {
      violation("PUBLISH above the QoS the client subscribed with", model.id,
                "topic '" + topicName + "' qos " + std::to_string(qos) + " > " +
                    std::to_string(best));
    }
  }

  // A QoS 2 message reaches a session at most once (design brief: durability contract).
  // Messages are told apart by the marker the driver writes into payloads; a resend by the
  // publisher carries the same marker. Not checked: DUP resends, RETAIN=1 deliveries
  // (retained messages are sent again on every SUBSCRIBE) and sessions with a shared
  // subscription (a shared and an ordinary match are two deliveries).
  void checkExactlyOnce(const ConnectionModel& model, const codec::Publish& publish) {
    if (publish.qos != 2 || publish.dup || publish.retain || model.clientId.empty()) return;
    const std::optional<std::uint32_t> marker = readMarker(publish.payload);
    if (!marker) return;
    SessionModel& session = sessions[model.clientId];
    if (session.sharedSubscriptions) return;
    if (!session.receivedQos2.insert(*marker).second) {
      violation("a QoS 2 message delivered twice to one session", model.id,
                "client '" + model.clientId + "' marker " + std::to_string(*marker));
    }
  }

  void checkBrokerAck(ConnectionModel& model, const codec::Ack& ack) {
    const ConnectionId id = model.id;
    using Stage = ConnectionModel::Stage;
    switch (ack.type) {
      case codec::PacketType::Puback:
        if (!takeOne(model.awaitingPuback, ack.packetId)) {
          violation("PUBACK without a QoS 1 PUBLISH", id, std::to_string(ack.packetId));
        }
        return;
      case codec::PacketType::Pubrec:
        if (!takeOne(model.awaitingPubrec, ack.packetId)) {
          violation("PUBREC without a QoS 2 PUBLISH", id, std::to_string(ack.packetId));
        }
        if (static_cast<std::uint8_t>(ack.reason) < 0x80) model.pubrecReceived.insert(ack.packetId);
        return;
      case codec::PacketType::Pubrel: {
        if (ack.reason != ReasonCode::Success) return;  // 0x92: answers an unknown PUBREC
        auto it = model.outbound.find(ack.packetId);
        if (it != model.outbound.end() && it->second == Stage::AwaitPuback) {
          violation("PUBREL for a packet id in flight as QoS 1", id);
        }
        if (takeOne(model.earlyAcks, std::make_pair(codec::PacketType::Pubcomp, ack.packetId))) {
          model.outbound.erase(ack.packetId);
          return;
        }
        // After a resumption the PUBLISH went on an earlier connection.
        model.outbound[ack.packetId] = Stage::AwaitPubcomp;
        return;
      }
      default:
        if (!takeOne(model.awaitingPubcomp, ack.packetId)) {
          violation("PUBCOMP without a PUBREL", id, std::to_string(ack.packetId));
        }
        return;
    }
  }
};

}  // namespace midge::fuzz
