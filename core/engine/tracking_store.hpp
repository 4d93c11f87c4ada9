// SPDX-License-Identifier: Apache-2.0
// The engine's view of the store: every call goes to the real store, and the sessions and
// retained topics written since the last successful commit are remembered. A failed commit
// rolls the store back but not the engine's memory; with this list the engine can write
// the current state of exactly those sessions and topics again (Broker::resyncStore), so
// that the two agree once a commit succeeds.
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "core/store/store.hpp"

namespace midge {

// Told of every write as it happens, so that the engine knows which connection's turn wrote
// (and must have its output withheld if the commit fails) without guessing afterwards.
class StoreWriteListener {
 public:
  virtual ~StoreWriteListener() = default;
  virtual void onStoreWrite() = 0;
};

class TrackingStore final : public store::Store {
 public:
  explicit TrackingStore(store::Store& inner) : inner_(inner) {}

  void setWriteListener(StoreWriteListener* listener) { listener_ = listener; }

  Status load(store::Snapshot& out) override { return inner_.load(out); }

  void saveSession(const store::SessionRecord& session) override {
    touchSession(session.clientId);
    inner_.saveSession(session);
  }
  void deleteSession(std::string_view clientId) override {
    touchSession(clientId);
    inner_.deleteSession(clientId);
  }
  void saveSubscription(const store::SubscriptionRecord& subscription) override {
    touchSession(subscription.clientId);
    inner_.saveSubscription(subscription);
  }
  void deleteSubscription(std::string_view clientId, std::string_view filter) override {
    touchSession(clientId);
    inner_.deleteSubscription(clientId, filter);
  }
  // A message row on its own is harmless: it is swept at commit unless a delivery or a
  // retained record, both tracked, refers to it.
  void saveMessage(const store::MessageRecord& message) override {
    wrote();
    inner_.saveMessage(message);
  }
  void saveDelivery(const store::DeliveryRecord& delivery) override {
    touchSession(delivery.clientId);
    inner_.saveDelivery(delivery);
  }
  void deleteDelivery(std::string_view clientId, std::uint64_t sequence) override {
    touchSession(clientId);
    inner_.deleteDelivery(clientId, sequence);
  }
  void saveInboundQos2(std::string_view clientId, std::uint16_t packetId) override {
    touchSession(clientId);
    inner_.saveInboundQos2(clientId, packetId);
  }
  void deleteInboundQos2(std::string_view clientId, std::uint16_t packetId) override {
    touchSession(clientId);
    inner_.deleteInboundQos2(clientId, packetId);
  }
  void saveRetained(const store::RetainedRecord& retained) override {
    touchRetained(retained.topic);
    inner_.saveRetained(retained);
  }
  void deleteRetained(std::string_view topic) override {
    touchRetained(topic);
    inner_.deleteRetained(topic);
  }

  bool hasPendingWrites() const override { return inner_.hasPendingWrites(); }
  Status commit() override {
    Status status = inner_.commit();
    if (status.ok()) {
      touchedSessions_.clear();
      touchedRetained_.clear();
    }
    return status;
  }
  std::string lastError() const override { return inner_.lastError(); }

  // Written since the last successful commit.
  bool touched(std::string_view clientId) const {
    return touchedSessions_.find(clientId) != touchedSessions_.end();
  }
  const std::set<std::string, std::less<>>& touchedSessions() const { return touchedSessions_; }
  const std::set<std::string, std::less<>>& touchedRetained() const { return touchedRetained_; }

 private:
  void wrote() {
    if (listener_ != nullptr) listener_->onStoreWrite();
  }
  void touchSession(std::string_view clientId) {
    wrote();
    if (touchedSessions_.find(clientId) == touchedSessions_.end()) {
      touchedSessions_.emplace(clientId);
    }
  }
  void touchRetained(std::string_view topic) {
    wrote();
    if (touchedRetained_.find(topic) == touchedRetained_.end()) touchedRetained_.emplace(topic);
  }

  store::Store& inner_;
  StoreWriteListener* listener_ = nullptr;
  std::set<std::string, std::less<>> touchedSessions_;
  std::set<std::string, std::less<>> touchedRetained_;
};

}  // namespace midge
