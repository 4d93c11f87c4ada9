// SPDX-License-Identifier: Apache-2.0
// What the engine persists, and the contract a store must keep. Implementations live in
// persistence/ (SQLite, memory). See docs/persistence.md for the durability contract.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/result.hpp"

namespace midge::store {

struct WillRecord {
  std::string topic;
  std::vector<std::uint8_t> payload;
  std::vector<std::uint8_t> properties;  // encoded MQTT 5 will properties, no length prefix
  std::uint8_t qos = 0;
  bool retain = false;
  std::uint32_t delaySeconds = 0;
};

struct SessionRecord {
  std::string clientId;
  std::uint8_t protocolVersion = 4;  // 3, 4 or 5
  std::uint32_t expirySeconds = 0;   // 0xFFFFFFFF: never expires
  std::int64_t disconnectedAt = 0;   // wall seconds; 0 while connected
  std::optional<WillRecord> will;
  // Who owns the session: what its authorisation (ACL checks on delivery, its will) and the
  // owner check on resumption depend on. Stores from before schema 2 have no identity;
  // such a session takes the identity of the first client that resumes it.
  bool identityKnown = true;
  std::optional<std::string> username;
  std::string certIdentity;  // from the client certificate; empty: none
  int listenerIndex = 0;     // the configured listener that accepted it, in file order
};

struct SubscriptionRecord {
  std::string clientId;
  std::string filter;             // as subscribed, including a $share/group/ prefix
  std::uint8_t options = 0;       // the v5 subscription options byte (QoS, NL, RAP, RH)
  std::uint32_t identifier = 0;   // 0: none
};

// A message is stored once, however many sessions it is queued for.
struct MessageRecord {
  std::uint64_t id = 0;
  std::string topic;
  std::vector<std::uint8_t> payload;
  std::vector<std::uint8_t> properties;  // encoded MQTT 5 properties, no length prefix
  std::uint8_t qos = 0;
  bool retain = false;
  std::int64_t expiresAt = 0;  // wall seconds; 0: never
};

enum class DeliveryState : std::uint8_t {
  Queued = 0,          // not sent yet, no packet identifier
  PublishSent = 1,     // QoS 1/2 PUBLISH sent, waiting for PUBACK / PUBREC
  PubrelSent = 2,      // QoS 2 PUBREC received, PUBREL sent, waiting for PUBCOMP
};

// One message on its way to one session, in session order (sequence).
struct DeliveryRecord {
  std::string clientId;
  std::uint64_t sequence = 0;
  std::uint64_t messageId = 0;
  std::uint16_t packetId = 0;  // 0 while Queued
  std::uint8_t qos = 0;        // granted QoS for this delivery
  bool retain = false;         // retain flag as delivered
  DeliveryState state = DeliveryState::Queued;
  std::vector<std::uint32_t> subscriptionIds;
};

struct InboundQos2Record {
  std::string clientId;
  std::uint16_t packetId = 0;
};

struct RetainedRecord {
  std::string topic;
  std::uint64_t messageId = 0;
};

struct Snapshot {
  std::vector<SessionRecord> sessions;
  std::vector<SubscriptionRecord> subscriptions;
  std::vector<MessageRecord> messages;
  std::vector<DeliveryRecord> deliveries;  // ordered by clientId, then sequence
  std::vector<InboundQos2Record> inboundQos2;
  std::vector<RetainedRecord> retained;
};

// Writes are collected into one transaction and made durable together by commit(), which
// the engine calls once per event-loop turn before that turn's acks leave. A write that
// fails is remembered and reported by the next commit(), which then rolls the whole
// transaction back: the engine must not acknowledge anything from that turn.
// Deleting a session removes its subscriptions, deliveries and inbound QoS 2 records.
// A message no delivery and no retained record refers to any more is deleted at commit.
class Store {
 public:
  virtual ~Store() = default;

  virtual Status load(Snapshot& out) = 0;

  virtual void saveSession(const SessionRecord& session) = 0;  // insert or replace
  virtual void deleteSession(std::string_view clientId) = 0;
  virtual void saveSubscription(const SubscriptionRecord& subscription) = 0;
  virtual void deleteSubscription(std::string_view clientId, std::string_view filter) = 0;
  virtual void saveMessage(const MessageRecord& message) = 0;  // no-op if the id exists
  virtual void saveDelivery(const DeliveryRecord& delivery) = 0;  // by (clientId, sequence)
  virtual void deleteDelivery(std::string_view clientId, std::uint64_t sequence) = 0;
  virtual void saveInboundQos2(std::string_view clientId, std::uint16_t packetId) = 0;
  virtual void deleteInboundQos2(std::string_view clientId, std::uint16_t packetId) = 0;
  virtual void saveRetained(const RetainedRecord& retained) = 0;  // replaces by topic
  virtual void deleteRetained(std::string_view topic) = 0;

  virtual bool hasPendingWrites() const = 0;
  virtual Status commit() = 0;
  // Why the last load() or commit() failed, naming the file and the problem.
  virtual std::string lastError() const = 0;
};

}  // namespace midge::store
