// SPDX-License-Identifier: Apache-2.0
// Outbound flow: the in-flight window, the session queue, packet identifiers, expiry,
// topic aliases toward clients, and what of it is persisted.
#include <algorithm>

#include "core/engine/broker.hpp"

namespace midge {

Connection* Broker::onlineConnection(const Session& session) {
  if (session.connection == 0) return nullptr;
  Connection* connection = findConnection(session.connection);
  if (connection == nullptr || connection->state != ConnectionState::Connected) return nullptr;
  return connection;
}

std::size_t Broker::windowFor(const Connection& connection) const {
  std::size_t window = connection.clientReceiveMaximum;
  if (config_.maxInflightMessages != 0) {
    window = std::min<std::size_t>(window, config_.maxInflightMessages);
  }
  return window;
}

bool Broker::windowFull(const Session& session, const Connection& connection) const {
  if (session.inflight.size() - session.resendsPending >= windowFor(connection)) return true;
  if (config_.maxInflightBytes == 0) return false;
  // Summed on demand: the window is small, and a running total would have to be kept
  // right on every path that ends a delivery.
  std::size_t bytes = 0;
  for (const Delivery& delivery : session.inflight) bytes += delivery.message->payload.size();
  return bytes >= config_.maxInflightBytes;
}

bool Broker::messageExpired(const Message& message) const {
  return message.expiresAt != 0 && clock_.wallSeconds() >= message.expiresAt;
}

bool Broker::overMemoryBudget(std::size_t extra) const {
  return config_.memoryLimit != 0 && memoryUsed_ + extra > config_.memoryLimit;
}

std::size_t Broker::deliveryBytes(const Message& message) {
  return message.payload.size() + message.topic.size() + message.properties.size();
}

void Broker::addInflight(Session& session, Delivery&& delivery) {
  const std::size_t bytes = deliveryBytes(*delivery.message);
  session.inflightBytes += bytes;
  addMemory(bytes);
  session.inflight.push_back(std::move(delivery));
}

std::vector<Delivery>::iterator Broker::eraseInflight(Session& session,
                                                      std::vector<Delivery>::iterator it) {
  const std::size_t bytes = deliveryBytes(*it->message);
  session.inflightBytes -= bytes;
  memoryUsed_ -= bytes;
  if (it->resendPending) --session.resendsPending;
  return session.inflight.erase(it);
}

void Broker::deliver(Session& session, const MessagePtr& message, std::uint8_t qos,
                     bool retain, std::vector<std::uint32_t> subscriptionIds, Pacing pacing) {
  Connection* connection = onlineConnection(session);
  Delivery delivery;
  delivery.message = message;
  delivery.qos = qos;
  delivery.retain = retain;
  delivery.subscriptionIds = std::move(subscriptionIds);

  const bool canSendNow = connection != nullptr && pacing == Pacing::SendNowIfPossible &&
                          session.queue.empty() && session.resendsPending == 0 &&
                          !output_.congested(connection->id) &&
                          (qos == 0 || !windowFull(session, *connection));
  if (canSendNow) {
    if (qos == 0) {
      queuePublish(*connection, delivery, false);
      return;
    }
    delivery.sequence = session.nextSequence++;
    delivery.packetId = allocatePacketId(session);
    delivery.state = store::DeliveryState::PublishSent;
    if (!queuePublish(*connection, delivery, false)) return;
    persistDelivery(session, delivery);
    addInflight(session, std::move(delivery));
    return;
  }
  // Offline QoS 0 is only kept when the operator asked for it (queue_qos0_messages).
  if (qos == 0 && connection == nullptr && !config_.queueQos0Messages) return;
  // Online with nothing ahead of it, a queued message would wait for an event that may not
  // come (an ack, the socket draining): endOfTurn pumps it after this turn's flush.
  if (connection != nullptr) wantsPump(*connection);

  const std::size_t bytes = deliveryBytes(*message);
  const bool queueFull =
      (config_.maxQueuedMessages != 0 && session.queue.size() >= config_.maxQueuedMessages) ||
      (config_.maxQueuedBytes != 0 && session.queuedBytes + bytes > config_.maxQueuedBytes);
  const bool overBudget = !queueFull && overMemoryBudget(bytes);
  if (queueFull || overBudget) {
    ++stats_.messagesDropped;
    ++(queueFull ? stats_.droppedQueueFull : stats_.droppedMemoryLimit);
    return;
  }
  delivery.sequence = session.nextSequence++;
  session.queuedBytes += bytes;
  addMemory(bytes);
  persistDelivery(session, delivery);
  session.queue.push_back(std::move(delivery));
}

void Broker::wantsPump(Connection& connection) {
  if (connection.inPumpList) return;
  connection.inPumpList = true;
  pumpAfterFlush_.push_back(connection.id);
}

// Called by endOfTurn after the flush: whatever was queued for an online client that could
// take it is sent now, as far as its window and socket allow. What this writes to the store
// is committed, like any turn's, before its bytes leave.
void Broker::pumpAfterFlush() {
  std::vector<ConnectionId> ids;
  ids.swap(pumpAfterFlush_);
  for (ConnectionId id : ids) {
    Connection* connection = findConnection(id);
    if (connection == nullptr) continue;
    connection->inPumpList = false;
    if (connection->session != nullptr && connection->state == ConnectionState::Connected) {
      turn_.beginWriter(id, connection->turn);
      pumpQueue(*connection->session);
      turn_.endWriter();
    }
  }
}

void Broker::pumpQueue(Session& session) {
  Connection* connection = onlineConnection(session);
  if (connection == nullptr) return;
  // Deferred resends go first: they are older than anything queued.
  if (!sendDeferredResends(session, *connection)) return;
  ClientIdentity identity{session.clientId, session.username, session.listenerIndex};
  while (!session.queue.empty() && !output_.congested(connection->id)) {
    Delivery& front = session.queue.front();
    if (front.qos > 0 && windowFull(session, *connection)) break;
    Delivery delivery = std::move(front);
    session.queue.pop_front();
    const std::size_t bytes = deliveryBytes(*delivery.message);
    session.queuedBytes -= bytes;
    memoryUsed_ -= bytes;
    if (messageExpired(*delivery.message)) {
      ++stats_.messagesExpired;
      forgetDelivery(session, delivery);
      continue;
    }
    // The ACL may have changed (SIGHUP) since the message was queued, or the session's
    // identity was unknown then (a store from before identities).
    if (!authenticator_.allowReceive(identity, delivery.message->topic)) {
      ++stats_.messagesDropped;
      log(LogLevel::Notice, "queued message on " + delivery.message->topic + " for " +
                                session.clientId + " dropped: no longer authorized");
      forgetDelivery(session, delivery);
      continue;
    }
    if (delivery.qos == 0) {
      queuePublish(*connection, delivery, false);
      forgetDelivery(session, delivery);
      continue;
    }
    delivery.packetId = allocatePacketId(session);
    delivery.state = store::DeliveryState::PublishSent;
    if (!queuePublish(*connection, delivery, false)) {
      forgetDelivery(session, delivery);
      continue;
    }
    persistDelivery(session, delivery);
    addInflight(session, std::move(delivery));
  }
}

// false: the window or the socket is full before every deferred resend left.
bool Broker::sendDeferredResends(Session& session, Connection& connection) {
  for (auto it = session.inflight.begin();
       session.resendsPending != 0 && it != session.inflight.end();) {
    if (!it->resendPending) {
      ++it;
      continue;
    }
    if (output_.congested(connection.id) || windowFull(session, connection)) return false;
    it->resendPending = false;
    --session.resendsPending;
    if (!queuePublish(connection, *it, true)) {
      forgetDelivery(session, *it);  // too large for this connection's Maximum Packet Size
      it = eraseInflight(session, it);
      continue;
    }
    ++it;
  }
  return true;
}

bool Broker::queuePublish(Connection& connection, Delivery& delivery, bool dup) {
  const Message& message = *delivery.message;
  codec::Publish publish;
  publish.dup = dup;
  publish.qos = delivery.qos;
  publish.retain = delivery.retain;
  publish.topic = message.topic;
  publish.packetId = delivery.packetId;
  publish.payload = Bytes(message.payload.data(), message.payload.size());
  std::string_view newAlias;
  if (connection.version == codec::ProtocolVersion::V5) {
    codec::Properties& properties = publish.properties;
    properties.preEncoded = Bytes(message.properties.data(), message.properties.size());
    properties.subscriptionIdentifiers = delivery.subscriptionIds;
    if (message.expiresAt != 0) {
      const std::int64_t remaining = message.expiresAt - clock_.wallSeconds();
      if (remaining > 0) {
        properties.messageExpiryInterval = static_cast<std::uint32_t>(remaining);
      } else if (!dup) {
        ++stats_.messagesExpired;
        return false;
      }
      // A resend (DUP) of a PUBLISH the client may already hold is never dropped for
      // expiry: the QoS flow must complete (MQTT 5 4.3.3-7).
    }
    if (connection.clientTopicAliasMaximum != 0) newAlias = useTopicAlias(connection, publish);
  }
  flushEarlyIfLarge(connection);
  std::vector<std::uint8_t>& out = turn_.buffer(connection.id, connection.turn);
  const std::size_t before = out.size();
  Status status = codec::encodePublish(publish, connection.version, out);
  const std::size_t size = out.size() - before;
  if (!status.ok() ||
      (connection.clientMaxPacketSize != 0 && size > connection.clientMaxPacketSize)) {
    // MQTT 5 3.1.2.25: a packet larger than the client's Maximum Packet Size is discarded
    // as if delivered.
    out.resize(before);
    if (!newAlias.empty()) connection.extra().outboundTopicAliases.erase(std::string(newAlias));
    ++stats_.messagesDropped;
    ++stats_.droppedTooLarge;
    return false;
  }
  ++stats_.messagesSent;
  ++stats_.messagesSentByQos[delivery.qos > 2 ? 2 : delivery.qos];
  stats_.payloadBytesSentByQos[delivery.qos > 2 ? 2 : delivery.qos] += message.payload.size();
  return true;
}

// Aliases save the topic bytes on every later message: worth it on constrained links.
// Returns the topic if this PUBLISH sets a new alias (undone if the PUBLISH is dropped).
std::string_view Broker::useTopicAlias(Connection& connection, codec::Publish& publish) {
  auto& aliases = connection.extra().outboundTopicAliases;
  auto alias = aliases.find(publish.topic);
  if (alias != aliases.end()) {
    publish.properties.topicAlias = alias->second;
    publish.topic = std::string_view();
    return std::string_view();
  }
  if (aliases.size() >= std::min(connection.clientTopicAliasMaximum,
                                 config_.maxOutboundTopicAliases)) {
    return std::string_view();
  }
  const auto next = static_cast<std::uint16_t>(aliases.size() + 1);
  aliases.emplace(publish.topic, next);
  publish.properties.topicAlias = next;
  return publish.topic;
}

void Broker::queuePubrel(Connection& connection, std::uint16_t packetId) {
  codec::Ack ack;
  ack.type = codec::PacketType::Pubrel;
  ack.packetId = packetId;
  queuePacket(connection, ack);
}

std::uint16_t Broker::allocatePacketId(Session& session) {
  for (;;) {
    session.lastPacketId = static_cast<std::uint16_t>(session.lastPacketId + 1);
    if (session.lastPacketId == 0) continue;
    const std::uint16_t candidate = session.lastPacketId;
    const bool inUse = std::any_of(session.inflight.begin(), session.inflight.end(),
                                   [&](const Delivery& d) { return d.packetId == candidate; });
    if (!inUse) return candidate;
  }
}

void Broker::persistMessage(const MessagePtr& message) {
  if (message->persisted) return;
  store::MessageRecord record;
  record.id = message->id;
  record.topic = message->topic;
  record.payload = message->payload;
  record.properties = message->properties;
  record.qos = message->qos;
  record.retain = message->retain;
  record.expiresAt = message->expiresAt;
  store_.saveMessage(record);
  message->persisted = true;
}

void Broker::persistDelivery(const Session& session, const Delivery& delivery) {
  if (!session.durable() || delivery.qos == 0) return;
  persistMessage(delivery.message);
  store::DeliveryRecord record;
  record.clientId = session.clientId;
  record.sequence = delivery.sequence;
  record.messageId = delivery.message->id;
  record.packetId = delivery.packetId;
  record.qos = delivery.qos;
  record.retain = delivery.retain;
  record.state = delivery.state;
  record.subscriptionIds = delivery.subscriptionIds;
  store_.saveDelivery(record);
}

void Broker::forgetDelivery(Session& session, const Delivery& delivery) {
  if (session.durable() && delivery.qos > 0) {
    store_.deleteDelivery(session.clientId, delivery.sequence);
  }
}

void Broker::dropQueued(Session& session) {
  memoryUsed_ -= session.queuedBytes + session.inflightBytes;
  session.queuedBytes = 0;
  session.inflightBytes = 0;
  session.queue.clear();
  session.inflight.clear();
  session.resendsPending = 0;
}

}  // namespace midge
