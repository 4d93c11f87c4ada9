// SPDX-License-Identifier: Apache-2.0
// persistence_failure_timeout: a store whose commits keep failing (an I/O error, a
// corrupt page, a disk that stays full) makes the broker refuse every durable client and
// withhold every acknowledgement that needs the store, for as long as it runs. After the
// timeout the broker stops with a non-zero status instead, so that the service manager
// restarts it (and the operator's monitoring sees it): a fresh start reopens the file,
// and one that cannot load it says why and stays down. See docs/persistence.md.
//
// The watch sits between the engine and the store and only looks at commit results: a
// failure starts the clock, a success stops it, and a failure at or after the deadline
// calls `onExpired` once. It never fires while nothing is written, since then nobody is
// being refused.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/engine/io.hpp"
#include "core/store/store.hpp"

namespace midge::app {

class StoreFailureWatch final : public store::Store {
 public:
  StoreFailureWatch(std::unique_ptr<store::Store> inner, const Clock& clock,
                    std::uint32_t timeoutSeconds, std::function<void(const std::string&)> onExpired);

  bool expired() const { return expired_; }

  Status load(store::Snapshot& out) override { return inner_->load(out); }
  void saveSession(const store::SessionRecord& session) override { inner_->saveSession(session); }
  void deleteSession(std::string_view clientId) override { inner_->deleteSession(clientId); }
  void saveSubscription(const store::SubscriptionRecord& subscription) override {
    inner_->saveSubscription(subscription);
  }
  void deleteSubscription(std::string_view clientId, std::string_view filter) override {
    inner_->deleteSubscription(clientId, filter);
  }
  void saveMessage(const store::MessageRecord& message) override { inner_->saveMessage(message); }
  void saveDelivery(const store::DeliveryRecord& delivery) override {
    inner_->saveDelivery(delivery);
  }
  void deleteDelivery(std::string_view clientId, std::uint64_t sequence) override {
    inner_->deleteDelivery(clientId, sequence);
  }
  void saveInboundQos2(std::string_view clientId, std::uint16_t packetId) override {
    inner_->saveInboundQos2(clientId, packetId);
  }
  void deleteInboundQos2(std::string_view clientId, std::uint16_t packetId) override {
    inner_->deleteInboundQos2(clientId, packetId);
  }
  void saveRetained(const store::RetainedRecord& retained) override {
    inner_->saveRetained(retained);
  }
  void deleteRetained(std::string_view topic) override { inner_->deleteRetained(topic); }
  bool hasPendingWrites() const override { return inner_->hasPendingWrites(); }
  Status commit() override;
  std::string lastError() const override { return inner_->lastError(); }

 private:
  std::unique_ptr<store::Store> inner_;
  const Clock& clock_;
  std::uint64_t timeoutMs_;
  std::function<void(const std::string&)> onExpired_;
  std::optional<std::uint64_t> failingSinceMs_;
  bool expired_ = false;
};

}  // namespace midge::app
