// SPDX-License-Identifier: Apache-2.0
#include "persistence/memory/memory_store.hpp"

#include <algorithm>
#include <utility>

namespace midge::store {

// Applies one staged write to the committed maps. Every path that drops a reference to a
// message records the id, so commit() only has to look at those for garbage.
class MemoryStore::Applier {
 public:
  Applier(MemoryStore& store, std::vector<std::uint64_t>& candidates)
      : store_(store), candidates_(candidates) {}

  void operator()(SessionRecord& session) {
    std::string key = session.clientId;
    store_.sessions_.insert_or_assign(std::move(key), std::move(session));
  }

  void operator()(DeleteSession& write) {
    auto session = store_.sessions_.find(write.clientId);
    if (session != store_.sessions_.end()) store_.sessions_.erase(session);
    auto subscriptions = store_.subscriptions_.find(write.clientId);
    if (subscriptions != store_.subscriptions_.end()) store_.subscriptions_.erase(subscriptions);
    auto inbound = store_.inboundQos2_.find(write.clientId);
    if (inbound != store_.inboundQos2_.end()) store_.inboundQos2_.erase(inbound);
    auto deliveries = store_.deliveries_.find(write.clientId);
    if (deliveries != store_.deliveries_.end()) {
      for (const auto& entry : deliveries->second) {
        store_.release(entry.second.messageId, candidates_);
      }
      store_.deliveries_.erase(deliveries);
    }
  }

  void operator()(SubscriptionRecord& subscription) {
    auto& perClient = store_.subscriptions_[subscription.clientId];
    std::string key = subscription.filter;
    perClient.insert_or_assign(std::move(key), std::move(subscription));
  }

  void operator()(DeleteSubscription& write) {
    auto perClient = store_.subscriptions_.find(write.clientId);
    if (perClient == store_.subscriptions_.end()) return;
    auto subscription = perClient->second.find(write.filter);
    if (subscription != perClient->second.end()) perClient->second.erase(subscription);
    if (perClient->second.empty()) store_.subscriptions_.erase(perClient);
  }

  void operator()(MessageRecord& message) {
    StoredMessage& stored = store_.messages_[message.id];
    if (stored.saved) return;  // the contract: saving an existing id is a no-op
    stored.record = std::move(message);
    stored.saved = true;
    // Saved but perhaps never referenced in this turn: commit() decides.
    candidates_.push_back(stored.record.id);
  }

  void operator()(DeliveryRecord& delivery) {
    auto& perClient = store_.deliveries_[delivery.clientId];
    auto existing = perClient.find(delivery.sequence);
    store_.reference(delivery.messageId);
    if (existing != perClient.end()) {
      store_.release(existing->second.messageId, candidates_);
      existing->second = std::move(delivery);
    } else {
      std::uint64_t sequence = delivery.sequence;
      perClient.emplace(sequence, std::move(delivery));
    }
  }

  void operator()(DeleteDelivery& write) {
    auto perClient = store_.deliveries_.find(write.clientId);
    if (perClient == store_.deliveries_.end()) return;
    auto delivery = perClient->second.find(write.sequence);
    if (delivery == perClient->second.end()) return;
    store_.release(delivery->second.messageId, candidates_);
    perClient->second.erase(delivery);
    if (perClient->second.empty()) store_.deliveries_.erase(perClient);
  }

  void operator()(SaveInboundQos2& write) {
    store_.inboundQos2_[write.record.clientId].insert(write.record.packetId);
  }

  void operator()(DeleteInboundQos2& write) {
    auto perClient = store_.inboundQos2_.find(write.record.clientId);
    if (perClient == store_.inboundQos2_.end()) return;
    perClient->second.erase(write.record.packetId);
    if (perClient->second.empty()) store_.inboundQos2_.erase(perClient);
  }

  void operator()(RetainedRecord& retained) {
    store_.reference(retained.messageId);
    auto existing = store_.retained_.find(retained.topic);
    if (existing != store_.retained_.end()) {
      store_.release(existing->second, candidates_);
      existing->second = retained.messageId;
    } else {
      store_.retained_.emplace(std::move(retained.topic), retained.messageId);
    }
  }

  void operator()(DeleteRetained& write) {
    auto existing = store_.retained_.find(write.topic);
    if (existing == store_.retained_.end()) return;
    store_.release(existing->second, candidates_);
    store_.retained_.erase(existing);
  }

 private:
  MemoryStore& store_;
  std::vector<std::uint64_t>& candidates_;
};

void MemoryStore::reference(std::uint64_t messageId) { ++messages_[messageId].references; }

void MemoryStore::release(std::uint64_t messageId, std::vector<std::uint64_t>& candidates) {
  auto message = messages_.find(messageId);
  if (message == messages_.end() || message->second.references == 0) return;
  --message->second.references;
  if (message->second.references == 0) candidates.push_back(messageId);
}

Status MemoryStore::load(Snapshot& out) {
  out = Snapshot{};
  out.sessions.reserve(sessions_.size());
  for (const auto& entry : sessions_) out.sessions.push_back(entry.second);
  for (const auto& perClient : subscriptions_) {
    for (const auto& entry : perClient.second) out.subscriptions.push_back(entry.second);
  }
  for (const auto& entry : messages_) {
    if (entry.second.saved) out.messages.push_back(entry.second.record);
  }
  // Same order as the SQLite store, so a snapshot does not depend on which store made it.
  std::sort(out.messages.begin(), out.messages.end(),
            [](const MessageRecord& a, const MessageRecord& b) { return a.id < b.id; });
  for (const auto& perClient : deliveries_) {
    for (const auto& entry : perClient.second) out.deliveries.push_back(entry.second);
  }
  for (const auto& perClient : inboundQos2_) {
    for (std::uint16_t packetId : perClient.second) {
      out.inboundQos2.push_back(InboundQos2Record{perClient.first, packetId});
    }
  }
  out.retained.reserve(retained_.size());
  for (const auto& entry : retained_) {
    out.retained.push_back(RetainedRecord{entry.first, entry.second});
  }
  return Status::success();
}

void MemoryStore::saveSession(const SessionRecord& session) { staged_.emplace_back(session); }

void MemoryStore::deleteSession(std::string_view clientId) {
  staged_.emplace_back(DeleteSession{std::string(clientId)});
}

void MemoryStore::saveSubscription(const SubscriptionRecord& subscription) {
  staged_.emplace_back(subscription);
}

void MemoryStore::deleteSubscription(std::string_view clientId, std::string_view filter) {
  staged_.emplace_back(DeleteSubscription{std::string(clientId), std::string(filter)});
}

void MemoryStore::saveMessage(const MessageRecord& message) { staged_.emplace_back(message); }

void MemoryStore::saveDelivery(const DeliveryRecord& delivery) {
  staged_.emplace_back(delivery);
}

void MemoryStore::deleteDelivery(std::string_view clientId, std::uint64_t sequence) {
  staged_.emplace_back(DeleteDelivery{std::string(clientId), sequence});
}

void MemoryStore::saveInboundQos2(std::string_view clientId, std::uint16_t packetId) {
  staged_.emplace_back(SaveInboundQos2{InboundQos2Record{std::string(clientId), packetId}});
}

void MemoryStore::deleteInboundQos2(std::string_view clientId, std::uint16_t packetId) {
  staged_.emplace_back(DeleteInboundQos2{InboundQos2Record{std::string(clientId), packetId}});
}

void MemoryStore::saveRetained(const RetainedRecord& retained) {
  staged_.emplace_back(retained);
}

void MemoryStore::deleteRetained(std::string_view topic) {
  staged_.emplace_back(DeleteRetained{std::string(topic)});
}

Status MemoryStore::commit() {
  if (failNextCommit_) {
    failNextCommit_ = false;
    staged_.clear();
    lastError_ = "memory store: commit failed (injected by failNextCommit); turn rolled back";
    return Error{ErrorKind::StorageFailure, "store commit failed"};
  }
  std::vector<std::uint64_t> candidates;
  Applier applier(*this, candidates);
  for (Write& write : staged_) std::visit(applier, write);
  // clear() keeps the capacity: a busy broker stages about as much every turn.
  staged_.clear();
  for (std::uint64_t id : candidates) {
    auto message = messages_.find(id);
    if (message != messages_.end() && message->second.references == 0) {
      messages_.erase(message);
    }
  }
  lastError_.clear();
  return Status::success();
}

}  // namespace midge::store
