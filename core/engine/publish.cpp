// SPDX-License-Identifier: Apache-2.0
// PUBLISH from clients and the acknowledgement flows in both directions; routing to
// subscribers; retained messages.
#include <algorithm>

#include "core/engine/broker.hpp"
#include "core/engine/pass_through.hpp"

namespace midge {

namespace {

bool isV5(const Connection& connection) {
  return connection.version == codec::ProtocolVersion::V5;
}

// $SYS/ belongs to the broker: a client writing there could fake statistics dashboards
// rely on, so it is refused like an ACL denial (Mosquitto does the same).
bool isSysTopic(std::string_view topic) {
  return topic == "$SYS" || topic.rfind("$SYS/", 0) == 0;
}

codec::PacketType ackTypeFor(const codec::Publish& publish) {
  return publish.qos == 2 ? codec::PacketType::Pubrec : codec::PacketType::Puback;
}

}  // namespace

// handlePublish reads as named steps; the steps below are forced inline (they have this one
// caller) because as calls they cost about 2% more instructions per message
// (tests/bench/instructions, docs/benchmarks.md).
Refused Broker::handlePublish(Connection& connection, codec::Publish& publish) {
  const std::size_t qosIndex = publish.qos > 2 ? 2 : publish.qos;
  ++stats_.messagesReceived;
  ++stats_.messagesReceivedByQos[qosIndex];
  stats_.payloadBytesReceivedByQos[qosIndex] += publish.payload.size();
  if (Refused refused = checkPublishProtocol(connection, publish)) return refused;
  if (publish.qos == 2) {
    if (acknowledgeResentQos2(connection, publish)) return std::nullopt;
    if (Refused refused = admitQos2(connection)) return refused;
  }
  if (Refused refused = admitPublishPolicy(connection, publish)) return refused;
  takePublish(connection, publish);
  return std::nullopt;
}

// What the protocol forbids a client's PUBLISH: each breach ends the connection.
[[gnu::always_inline]] inline
Refused Broker::checkPublishProtocol(Connection& connection, codec::Publish& publish) {
  const bool v5 = isV5(connection);
  if (publish.qos > connection.maxQos) {
    return Refusal::connection(ReasonCode::QoSNotSupported, "PUBLISH above max_qos");
  }
  if (publish.retain && !config_.retainAvailable) {
    return Refusal::connection(ReasonCode::RetainNotSupported, "retained PUBLISH refused");
  }
  if (v5 && !publish.properties.subscriptionIdentifiers.empty()) {
    // MQTT 5 3.3.4: only the server puts Subscription Identifiers on a PUBLISH.
    return Refusal::connection(ReasonCode::ProtocolError,
                               "PUBLISH from a client carries a Subscription Identifier");
  }
  if (v5) {
    if (Refused refused = resolveTopicAlias(connection, publish)) return refused;
  }
  Status valid = topic::validateTopicName(publish.topic, topicLimits());
  if (!valid.ok()) return Refusal::connection(ReasonCode::TopicNameInvalid, valid.error().detail);
  if (topic::isSharePrefixed(publish.topic)) {
    // No subscription can ever match it: $share/ names a subscription, not a topic.
    return Refusal::connection(ReasonCode::TopicNameInvalid,
                               "PUBLISH to a $share/ topic name, which no subscriber can receive");
  }
  return std::nullopt;
}

// A resend of a QoS 2 message we already took: acknowledged, never delivered twice.
[[gnu::always_inline]] inline
bool Broker::acknowledgeResentQos2(Connection& connection, const codec::Publish& publish) {
  if (connection.session->inboundQos2.count(publish.packetId) == 0) return false;
  queueAck(connection, codec::PacketType::Pubrec, publish.packetId, ReasonCode::Success);
  return true;
}

[[gnu::always_inline]] inline Refused Broker::admitQos2(const Connection& connection) const {
  if (connection.session->inboundQos2.size() >= config_.maxInflightMessages &&
      config_.maxInflightMessages != 0) {
    return Refusal::connection(ReasonCode::ReceiveMaximumExceeded,
                               "more QoS 2 messages in flight than our Receive Maximum");
  }
  return std::nullopt;
}

// What the broker's policy refuses (payload format, size, ACL, memory): acknowledged with
// the reason where the version can say it (Broker::refuse decides how).
[[gnu::always_inline]] inline
Refused Broker::admitPublishPolicy(Connection& connection, const codec::Publish& publish) {
  Session& session = *connection.session;
  const codec::PacketType ackType = ackTypeFor(publish);
  if (publish.properties.payloadFormatIndicator.value_or(0) == 1 &&
      !codec::isValidMqttUtf8(asStringView(publish.payload))) {
    if (publish.qos == 0) {
      return Refusal::connection(ReasonCode::PayloadFormatInvalid, "payload is not UTF-8");
    }
    return Refusal::publish(ackType, publish.packetId, ReasonCode::PayloadFormatInvalid,
                            "payload is not UTF-8");
  }
  if (config_.messageSizeLimit != 0 && publish.payload.size() > config_.messageSizeLimit) {
    ++stats_.messagesDropped;
    ++stats_.droppedTooLarge;
    return Refusal::publish(ackType, publish.packetId, ReasonCode::PacketTooLarge,
                            "payload of " + std::to_string(publish.payload.size()) +
                                " bytes exceeds message_size_limit, dropped");
  }
  ClientIdentity identity{session.clientId, session.username, session.listenerIndex};
  if (isSysTopic(publish.topic) || !authenticator_.allowPublish(identity, publish.topic)) {
    ++stats_.publishDenied;
    return Refusal::publish(ackType, publish.packetId, ReasonCode::NotAuthorized,
                            "not authorized to publish to " + std::string(publish.topic));
  }
  if (overMemoryBudget(publish.payload.size() + publish.topic.size())) {
    ++stats_.quotaRefusals;
    if (!isV5(connection) && publish.qos > 0) {
      // Without a reason code the only honest refusal is to withhold the ack.
      return Refusal::connection(ReasonCode::QuotaExceeded, "memory_limit reached");
    }
    return Refusal::publish(ackType, publish.packetId, ReasonCode::QuotaExceeded,
                            "memory_limit reached");
  }
  return std::nullopt;
}

// The message is taken: stored once, retained, routed, then acknowledged.
[[gnu::always_inline]] inline
void Broker::takePublish(Connection& connection, const codec::Publish& publish) {
  Session& session = *connection.session;
  std::vector<std::uint8_t> properties;
  if (isV5(connection)) encodePassThroughProperties(publish.properties, properties);
  std::int64_t expiresAt = 0;
  if (publish.properties.messageExpiryInterval) {
    expiresAt = clock_.wallSeconds() + *publish.properties.messageExpiryInterval;
  }
  MessagePtr message = makeMessage(publish.topic, publish.payload, std::move(properties),
                                   publish.qos, publish.retain, expiresAt, session.index);
  if (publish.retain) updateRetained(message, true);
  const std::size_t receivers = routeMessage(message);
  if (receivers == 0) ++stats_.droppedNoSubscribers;

  if (publish.qos == 0) return;
  if (publish.qos == 2) {
    session.inboundQos2.insert(publish.packetId);
    if (session.durable()) store_.saveInboundQos2(session.clientId, publish.packetId);
  }
  queueAck(connection, ackTypeFor(publish), publish.packetId,
           receivers == 0 ? ReasonCode::NoMatchingSubscribers : ReasonCode::Success);
}

Refused Broker::resolveTopicAlias(Connection& connection, codec::Publish& publish) {
  if (!publish.properties.topicAlias) return std::nullopt;
  const std::uint16_t alias = *publish.properties.topicAlias;
  if (alias == 0 || alias > connection.maxTopicAlias) {
    return Refusal::connection(ReasonCode::TopicAliasInvalid,
                               "topic alias outside the announced Topic Alias Maximum");
  }
  // Allocated on first use: most connections never use aliases.
  std::vector<std::string>& aliases = connection.extra().inboundTopicAliases;
  if (aliases.size() < connection.maxTopicAlias) aliases.resize(connection.maxTopicAlias);
  std::string& slot = aliases[alias - 1u];
  if (publish.topic.empty()) {
    if (slot.empty()) {
      return Refusal::connection(ReasonCode::ProtocolError, "topic alias used before set");
    }
    publish.topic = slot;
  } else {
    slot.assign(publish.topic);
  }
  return std::nullopt;
}

MessagePtr Broker::makeMessage(std::string_view topic, Bytes payload,
                               std::vector<std::uint8_t> properties, std::uint8_t qos,
                               bool retain, std::int64_t expiresAt, SessionIndex publisher) {
  auto message = std::make_shared<Message>();
  message->id = nextMessageId_++;
  message->topic.assign(topic);
  message->payload.assign(payload.begin(), payload.end());
  message->properties = std::move(properties);
  message->qos = qos;
  message->retain = retain;
  message->expiresAt = expiresAt;
  message->publisher = publisher;
  return message;
}

bool Broker::canTakeNow(SessionIndex index) {
  Session* session = sessions_.byIndex(index);
  if (session == nullptr) return false;
  Connection* connection = onlineConnection(*session);
  return connection != nullptr && !windowFull(*session, *connection) &&
         !output_.congested(connection->id);
}

bool Broker::mayReceive(SessionIndex index, const Message& message) {
  const Session* session = sessions_.byIndex(index);
  if (session == nullptr) return false;
  // A session whose owner is not known yet (restored from a store without identities)
  // is checked when the message leaves the queue, under the identity it has by then.
  if (!session->identityKnown) return true;
  ClientIdentity identity{session->clientId, session->username, session->listenerIndex};
  return authenticator_.allowReceive(identity, message.topic);
}

void Broker::deliverTo(SessionIndex index, const MessagePtr& message, std::uint8_t qos,
                       bool retain, std::vector<std::uint32_t> subscriptionIds) {
  // mayReceive has just found the session: the router asks nothing in between.
  deliver(*sessions_.byIndex(index), message, qos, retain, std::move(subscriptionIds));
}

void Broker::updateRetained(const MessagePtr& message, bool persist) {
  const Router::RetainChange change = router_.retain(message);
  memoryUsed_ -= change.releasedBytes;
  if (change.stored) addMemory(change.addedBytes);
  if (!persist) return;
  if (change.cleared) store_.deleteRetained(message->topic);
  if (change.stored) {
    persistMessage(message);
    store_.saveRetained({message->topic, message->id});
  }
}

void Broker::queueAck(Connection& connection, codec::PacketType type, std::uint16_t packetId,
                     ReasonCode reason) {
  codec::Ack ack;
  ack.type = type;
  ack.packetId = packetId;
  ack.reason = reason;
  queuePacket(connection, ack);
}

void Broker::handlePuback(Connection& connection, const codec::Ack& ack) {
  Session& session = *connection.session;
  for (auto it = session.inflight.begin(); it != session.inflight.end(); ++it) {
    if (it->packetId == ack.packetId && it->qos == 1) {
      forgetDelivery(session, *it);
      eraseInflight(session, it);
      pumpQueue(session);
      return;
    }
  }
}

void Broker::handlePubrec(Connection& connection, const codec::Ack& ack) {
  Session& session = *connection.session;
  for (auto it = session.inflight.begin(); it != session.inflight.end(); ++it) {
    if (it->packetId != ack.packetId || it->qos != 2) continue;
    if (isFailure(ack.reason)) {
      // The receiver refused it: the flow ends here (MQTT 5 4.3.3).
      forgetDelivery(session, *it);
      eraseInflight(session, it);
      pumpQueue(session);
      return;
    }
    if (it->resendPending) {
      // The client had it from an earlier connection; its PUBREC settles the resend.
      it->resendPending = false;
      --session.resendsPending;
    }
    if (it->state == store::DeliveryState::PublishSent) {
      it->state = store::DeliveryState::PubrelSent;
      persistDelivery(session, *it);
    }
    queuePubrel(connection, ack.packetId);
    return;
  }
  if (isV5(connection)) {
    codec::Ack reply;
    reply.type = codec::PacketType::Pubrel;
    reply.packetId = ack.packetId;
    reply.reason = ReasonCode::PacketIdentifierNotFound;
    queuePacket(connection, reply);
  }
}

void Broker::handlePubrel(Connection& connection, const codec::Ack& ack) {
  Session& session = *connection.session;
  ReasonCode reason = ReasonCode::Success;
  if (session.inboundQos2.erase(ack.packetId) != 0) {
    if (session.durable()) store_.deleteInboundQos2(session.clientId, ack.packetId);
  } else {
    reason = ReasonCode::PacketIdentifierNotFound;
  }
  queueAck(connection, codec::PacketType::Pubcomp, ack.packetId, reason);
}

void Broker::handlePubcomp(Connection& connection, const codec::Ack& ack) {
  Session& session = *connection.session;
  for (auto it = session.inflight.begin(); it != session.inflight.end(); ++it) {
    if (it->packetId == ack.packetId && it->state == store::DeliveryState::PubrelSent) {
      forgetDelivery(session, *it);
      eraseInflight(session, it);
      pumpQueue(session);
      return;
    }
  }
}

}  // namespace midge
