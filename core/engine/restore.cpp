// SPDX-License-Identifier: Apache-2.0
// Rebuilding broker state from the store after a restart (or a crash), and the store from
// broker state after a failed commit.
#include <algorithm>
#include <unordered_map>

#include "core/engine/broker.hpp"
#include "core/engine/pass_through.hpp"

namespace midge {

// Each record type in the order its references need: messages before the deliveries and
// retained entries that name them, sessions before their subscriptions and deliveries.
Status Broker::restore() {
  store::Snapshot snapshot;
  MIDGE_TRY(store_.load(snapshot));
  const RestoredMessages messages = restoreMessages(snapshot.messages);
  for (const store::SessionRecord& record : snapshot.sessions) restoreSession(record);
  for (const store::SubscriptionRecord& record : snapshot.subscriptions) {
    restoreSubscription(record);
  }
  for (store::DeliveryRecord& record : snapshot.deliveries) restoreDelivery(record, messages);
  for (const store::InboundQos2Record& record : snapshot.inboundQos2) {
    if (Session* session = sessions_.find(record.clientId)) {
      session->inboundQos2.insert(record.packetId);
    }
  }
  for (const store::RetainedRecord& record : snapshot.retained) {
    restoreRetained(record, messages);
  }

  // Sessions whose expiry ran out while the broker was down are purged now.
  for (Session* session : sessions_.expired(clock_.monotonicMs())) destroySession(*session);

  log(LogLevel::Notice, "restored " + std::to_string(sessions_.size()) + " sessions, " +
                            std::to_string(router_.subscriptionCount()) + " subscriptions, " +
                            std::to_string(snapshot.deliveries.size()) + " queued or in-flight " +
                            "messages and " + std::to_string(router_.retainedCount()) +
                            " retained messages");
  if (store_.hasPendingWrites()) {
    Status status = store_.commit();
    if (!status.ok()) return status;
  }
  return Status::success();
}

Broker::RestoredMessages Broker::restoreMessages(std::vector<store::MessageRecord>& records) {
  RestoredMessages messages;
  for (store::MessageRecord& record : records) {
    auto message = std::make_shared<Message>();
    message->id = record.id;
    message->topic = std::move(record.topic);
    message->payload = std::move(record.payload);
    message->properties = std::move(record.properties);
    message->qos = record.qos;
    message->retain = record.retain;
    message->expiresAt = record.expiresAt;
    message->persisted = true;
    nextMessageId_ = std::max(nextMessageId_, record.id + 1);
    messages.emplace(record.id, std::move(message));
  }
  return messages;
}

void Broker::restoreSubscription(const store::SubscriptionRecord& record) {
  Session* found = sessions_.find(record.clientId);
  if (found == nullptr) return;
  Session& session = *found;
  router_.subscribe(record.filter, session.index, record.options, record.identifier);
  session.subscriptions[record.filter] = SubscriptionEntry{record.options, record.identifier};
}

void Broker::restoreDelivery(store::DeliveryRecord& record, const RestoredMessages& messages) {
  Session* session = sessions_.find(record.clientId);
  auto message = messages.find(record.messageId);
  if (session == nullptr || message == messages.end()) return;
  Session& owner = *session;
  Delivery delivery;
  delivery.message = message->second;
  delivery.sequence = record.sequence;
  delivery.packetId = record.packetId;
  delivery.qos = record.qos;
  delivery.retain = record.retain;
  delivery.state = record.state;
  delivery.subscriptionIds = std::move(record.subscriptionIds);
  owner.nextSequence = std::max(owner.nextSequence, record.sequence + 1);
  if (delivery.state == store::DeliveryState::Queued) {
    const std::size_t bytes = deliveryBytes(*delivery.message);
    owner.queuedBytes += bytes;
    addMemory(bytes);
    owner.queue.push_back(std::move(delivery));
  } else {
    owner.lastPacketId = std::max(owner.lastPacketId, delivery.packetId);
    addInflight(owner, std::move(delivery));
  }
}

void Broker::restoreRetained(const store::RetainedRecord& record,
                             const RestoredMessages& messages) {
  auto message = messages.find(record.messageId);
  if (message == messages.end()) return;
  if (messageExpired(*message->second)) {
    store_.deleteRetained(record.topic);  // expired while the broker was down
    return;
  }
  router_.restoreRetained(record.topic, message->second);
  addMemory(message->second->footprint());
}

void Broker::restoreSession(const store::SessionRecord& record) {
  Session& session = sessions_.create(record.clientId);
  session.version = static_cast<codec::ProtocolVersion>(record.protocolVersion);
  session.expirySeconds = record.expirySeconds;
  session.inStore = true;
  session.identityKnown = record.identityKnown;
  session.username = record.username;
  session.certIdentity = record.certIdentity;
  session.listenerIndex = record.listenerIndex;
  const std::int64_t nowWall = clock_.wallSeconds();
  const std::uint64_t nowMs = clock_.monotonicMs();
  // A session that was online when the broker stopped counts as disconnected now.
  const std::int64_t since = record.disconnectedAt != 0 ? record.disconnectedAt : nowWall;
  const std::uint64_t offlineMs = static_cast<std::uint64_t>(std::max<std::int64_t>(0, nowWall - since)) * 1000;
  session.disconnectedAtWall = since;
  session.disconnectedAtMs = nowMs > offlineMs ? nowMs - offlineMs : 0;
  if (record.will) {
    WillMessage will;
    will.topic = record.will->topic;
    will.payload = record.will->payload;
    will.qos = record.will->qos;
    will.retain = record.will->retain;
    will.delaySeconds = record.will->delaySeconds;
    codec::Properties properties;
    if (codec::decodeWillPropertiesBody(Bytes(record.will->properties.data(),
                                              record.will->properties.size()),
                                        properties)
            .ok()) {
      will.expirySeconds = properties.messageExpiryInterval.value_or(0);
      encodePassThroughProperties(properties, will.properties);
    } else {
      log(LogLevel::Warning, "the stored will of " + record.clientId +
                                 " has unreadable properties; published without them");
    }
    // Counted from the disconnect (or from now, for a session that was online when the
    // broker went down: its network connection ended without DISCONNECT then).
    const std::int64_t dueWall = since + std::int64_t{will.delaySeconds};
    session.willDueMs = nowMs + static_cast<std::uint64_t>(std::max<std::int64_t>(0, dueWall - nowWall)) * 1000;
    session.will = std::make_unique<WillMessage>(std::move(will));
  }
}

// A failed commit rolled the store back to the last good turn, but the engine's memory kept
// that turn: a session's new delivery, an inbound QoS 2 packet id, a retained message. Left
// so, a later turn could acknowledge on the strength of memory alone (a resent QoS 2
// PUBLISH answered from the in-memory packet id, say) while the disk lacks the message.
// Writing again what memory holds for everything the failed turns touched makes the two
// agree at the next successful commit. Only the touched sessions and topics are rewritten,
// in the first turn that needs the store again (see endOfTurn).
void Broker::resyncStore() {
  const std::vector<std::string> clientIds(store_.touchedSessions().begin(),
                                           store_.touchedSessions().end());
  for (const std::string& clientId : clientIds) {
    store_.deleteSession(clientId);
    Session* found = sessions_.find(clientId);
    if (found == nullptr) continue;
    Session& session = *found;
    session.inStore = false;
    if (!session.durable()) continue;
    sessions_.persist(session);
    for (const auto& [filter, entry] : session.subscriptions) {
      store_.saveSubscription({clientId, filter, entry.options, entry.identifier});
    }
    const auto rewrite = [&](const Delivery& delivery) {
      delivery.message->persisted = false;
      persistDelivery(session, delivery);
    };
    std::for_each(session.inflight.begin(), session.inflight.end(), rewrite);
    std::for_each(session.queue.begin(), session.queue.end(), rewrite);
    for (std::uint16_t packetId : session.inboundQos2) store_.saveInboundQos2(clientId, packetId);
  }
  const std::vector<std::string> topics(store_.touchedRetained().begin(),
                                        store_.touchedRetained().end());
  for (const std::string& topicName : topics) {
    const MessagePtr* retained = router_.retained(topicName);
    if (retained == nullptr) {
      store_.deleteRetained(topicName);
      continue;
    }
    (*retained)->persisted = false;
    persistMessage(*retained);
    store_.saveRetained({topicName, (*retained)->id});
  }
}

}  // namespace midge
