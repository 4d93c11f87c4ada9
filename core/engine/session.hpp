// SPDX-License-Identifier: Apache-2.0
// Session state: survives the network connection for as long as the session expiry allows.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <algorithm>
#include <memory>
#include <vector>

#include "core/codec/codec.hpp"
#include "core/engine/io.hpp"
#include "core/engine/message.hpp"
#include "core/store/store.hpp"
#include "core/util/fifo.hpp"

namespace midge {

struct Delivery {
  MessagePtr message;
  std::uint64_t sequence = 0;
  std::uint16_t packetId = 0;
  std::uint8_t qos = 0;
  bool retain = false;
  store::DeliveryState state = store::DeliveryState::Queued;
  // In flight from an earlier connection, not yet resent on this one because the client's
  // Receive Maximum is now smaller (see Broker::resumeSession).
  bool resendPending = false;
  std::vector<std::uint32_t> subscriptionIds;
};

struct SubscriptionEntry {
  std::uint8_t options = 0;
  std::uint32_t identifier = 0;
};

struct WillMessage {
  std::string topic;
  std::vector<std::uint8_t> payload;
  std::vector<std::uint8_t> properties;  // encoded pass-through properties
  std::uint8_t qos = 0;
  bool retain = false;
  std::uint32_t delaySeconds = 0;
  std::uint32_t expirySeconds = 0;  // Message Expiry Interval, 0: none
};

// Packet identifiers of inbound QoS 2 messages between PUBREC and PUBREL. Bounded by our
// Receive Maximum, so a small vector beats a hash set in memory and in speed.
class PacketIdSet {
 public:
  std::size_t count(std::uint16_t id) const {
    return std::find(ids_.begin(), ids_.end(), id) != ids_.end() ? 1 : 0;
  }
  void insert(std::uint16_t id) {
    if (count(id) == 0) ids_.push_back(id);
  }
  std::size_t erase(std::uint16_t id) {
    auto it = std::find(ids_.begin(), ids_.end(), id);
    if (it == ids_.end()) return 0;
    *it = ids_.back();
    ids_.pop_back();
    if (ids_.empty()) std::vector<std::uint16_t>().swap(ids_);
    return 1;
  }
  std::size_t size() const { return ids_.size(); }
  auto begin() const { return ids_.begin(); }
  auto end() const { return ids_.end(); }

 private:
  std::vector<std::uint16_t> ids_;
};

constexpr std::uint32_t kSessionNeverExpires = 0xFFFFFFFFu;

struct Session {
  std::string clientId;
  SessionIndex index = kNoSession;
  ConnectionId connection = 0;  // 0: offline
  codec::ProtocolVersion version = codec::ProtocolVersion::V311;
  std::uint32_t expirySeconds = 0;
  std::uint64_t disconnectedAtMs = 0;
  std::int64_t disconnectedAtWall = 0;
  // The owner's identity: ACL checks on delivery and of its will, and the owner check on
  // resumption. Kept in the store. A session restored from a store that predates identity
  // has none until the first client resumes it.
  std::optional<std::string> username;
  int listenerIndex = 0;
  std::string certIdentity;
  bool identityKnown = true;

  std::map<std::string, SubscriptionEntry, std::less<>> subscriptions;
  std::vector<Delivery> inflight;  // in send order, at most the window
  Fifo<Delivery> queue;            // waiting for the window, the socket or a reconnect
  std::size_t queuedBytes = 0;
  std::size_t inflightBytes = 0;  // counted against memory_limit like queued bytes
  PacketIdSet inboundQos2;  // PUBREC sent, waiting for PUBREL
  std::uint16_t lastPacketId = 0;
  std::uint64_t nextSequence = 1;

  std::unique_ptr<WillMessage> will;  // a pointer: most sessions have none
  std::uint64_t willDueMs = 0;  // non-zero: a delayed will is pending
  bool inStore = false;         // a session record exists in the store
  std::uint32_t resendsPending = 0;  // in-flight deliveries marked resendPending

  bool durable() const { return expirySeconds != 0; }
  bool online() const { return connection != 0; }
};

}  // namespace midge
