// SPDX-License-Identifier: Apache-2.0
// A Store that keeps its records in memory, with the same semantics as the SQLite store:
// writes are staged and only become visible to load() when commit() succeeds, a session
// delete cascades, and a message nothing refers to any more is dropped at commit.
//
// Used when persistence is off (durable sessions still live as long as the process), and
// by applications that embed the engine and want to "restart" it in-process:
//
// @code
//   midge::store::MemoryStore store;
//   // ... run an engine against &store, then destroy it ...
//   midge::store::Snapshot snapshot;
//   if (!store.load(snapshot).ok()) { /* never fails */ }
//   // ... hand snapshot to a new engine ...
// @endcode
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/store/store.hpp"

namespace midge::store {

class MemoryStore final : public Store {
 public:
  MemoryStore() = default;
  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;

  // Reads the committed state only; staged writes of an open turn are not visible.
  Status load(Snapshot& out) override;

  void saveSession(const SessionRecord& session) override;
  void deleteSession(std::string_view clientId) override;
  void saveSubscription(const SubscriptionRecord& subscription) override;
  void deleteSubscription(std::string_view clientId, std::string_view filter) override;
  void saveMessage(const MessageRecord& message) override;
  void saveDelivery(const DeliveryRecord& delivery) override;
  void deleteDelivery(std::string_view clientId, std::uint64_t sequence) override;
  void saveInboundQos2(std::string_view clientId, std::uint16_t packetId) override;
  void deleteInboundQos2(std::string_view clientId, std::uint16_t packetId) override;
  void saveRetained(const RetainedRecord& retained) override;
  void deleteRetained(std::string_view topic) override;

  bool hasPendingWrites() const override { return !staged_.empty(); }
  // Applies the staged writes in order, or, if failNextCommit() was called, discards them
  // and returns ErrorKind::StorageFailure exactly as a failed disk commit would.
  Status commit() override;
  std::string lastError() const override { return lastError_; }

  // A memory store cannot fail on its own; engines and their tests use this to exercise
  // the "commit failed, acknowledge nothing" path. Applies to the next commit() only.
  void failNextCommit() noexcept { failNextCommit_ = true; }

 private:
  struct DeleteSession { std::string clientId; };
  struct DeleteSubscription { std::string clientId; std::string filter; };
  struct DeleteDelivery { std::string clientId; std::uint64_t sequence; };
  struct SaveInboundQos2 { InboundQos2Record record; };
  struct DeleteInboundQos2 { InboundQos2Record record; };
  struct DeleteRetained { std::string topic; };
  using Write = std::variant<SessionRecord, DeleteSession, SubscriptionRecord,
                             DeleteSubscription, MessageRecord, DeliveryRecord,
                             DeleteDelivery, SaveInboundQos2, DeleteInboundQos2,
                             RetainedRecord, DeleteRetained>;

  // A delivery may name a message that was never saved (an engine bug, or a message saved
  // in a later turn); counting references separately from `saved` keeps the same answer
  // SQLite gives in that case.
  struct StoredMessage {
    MessageRecord record;
    std::uint32_t references = 0;
    bool saved = false;
  };

  class Applier;

  void reference(std::uint64_t messageId);
  void release(std::uint64_t messageId, std::vector<std::uint64_t>& candidates);

  std::vector<Write> staged_;

  std::map<std::string, SessionRecord, std::less<>> sessions_;
  std::map<std::string, std::map<std::string, SubscriptionRecord, std::less<>>, std::less<>>
      subscriptions_;
  std::unordered_map<std::uint64_t, StoredMessage> messages_;
  std::map<std::string, std::map<std::uint64_t, DeliveryRecord>, std::less<>> deliveries_;
  std::map<std::string, std::set<std::uint16_t>, std::less<>> inboundQos2_;
  std::map<std::string, std::uint64_t, std::less<>> retained_;

  std::string lastError_;
  bool failNextCommit_ = false;
};

}  // namespace midge::store
