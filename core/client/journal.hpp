// SPDX-License-Identifier: Apache-2.0
// What the client must remember across a crash: outbound QoS 1/2 messages not yet
// acknowledged (with the state of their exchange) and inbound QoS 2 packet identifiers
// awaiting PUBREL. The client reports every change; the caller commits the journal before
// the bytes the client produced in the same call leave (commit-before-send), so after a
// crash the committed records never lag behind what the server has seen.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace midge::client {

// A message the client publishes; owned, because it may be resent after a reconnect.
struct OutboundMessage {
  std::string topic;
  std::vector<std::uint8_t> payload;
  std::uint8_t qos = 0;
  bool retain = false;
  // v5 only: an encoded property body (no length prefix) sent as is, e.g. user properties
  // passed through a bridge. Must not hold a Topic Alias (the client never uses aliases).
  std::vector<std::uint8_t> properties;
};

enum class JournalState : std::uint8_t {
  PublishSent = 1,     // outbound: PUBLISH sent, awaiting PUBACK (QoS 1) or PUBREC (QoS 2)
  ReleaseSent = 2,     // outbound QoS 2: PUBREC received, PUBREL sent, awaiting PUBCOMP
  InboundReceived = 3, // inbound QoS 2: delivered to the caller, PUBREC sent, awaiting PUBREL
};

struct JournalRecord {
  JournalState state = JournalState::PublishSent;
  std::uint16_t packetId = 0;
  // Outbound only: the caller's own handle (a queue position, say), returned when the
  // exchange completes, and the message (kept for PublishSent, may be empty afterwards).
  std::uint64_t tag = 0;
  // Orders the outbound records: resends after a restart keep the original order.
  std::uint64_t sequence = 0;
  OutboundMessage message;
};

constexpr bool isInbound(JournalState state) noexcept {
  return state == JournalState::InboundReceived;
}

// Implemented by the caller (the bridge puts it in its store). put() inserts or replaces
// the record of (direction, packetId); erase() removes it. Neither may fail silently: a
// store that cannot write must stop the bytes of this call from leaving.
class ClientJournal {
 public:
  virtual ~ClientJournal() = default;
  virtual void put(const JournalRecord& record) = 0;
  virtual void erase(bool inbound, std::uint16_t packetId) = 0;
};

// A journal in memory with an explicit commit, for tests, fuzzing and callers without a
// store. records() returns what was committed, the only state that survives a crash.
class MemoryJournal final : public ClientJournal {
 public:
  void put(const JournalRecord& record) override {
    pending_.emplace_back(record, false);
  }
  void erase(bool inbound, std::uint16_t packetId) override {
    JournalRecord record;
    record.state = inbound ? JournalState::InboundReceived : JournalState::PublishSent;
    record.packetId = packetId;
    pending_.emplace_back(record, true);
  }
  void commit() {
    for (const auto& [record, erased] : pending_) {
      const Key key{isInbound(record.state), record.packetId};
      if (erased) {
        committed_.erase(key);
      } else {
        committed_[key] = record;
      }
    }
    pending_.clear();
  }
  void discardUncommitted() { pending_.clear(); }
  std::vector<JournalRecord> records() const {
    std::vector<JournalRecord> out;
    out.reserve(committed_.size());
    for (const auto& entry : committed_) out.push_back(entry.second);
    return out;
  }
  std::size_t size() const noexcept { return committed_.size(); }

 private:
  using Key = std::pair<bool, std::uint16_t>;
  std::map<Key, JournalRecord> committed_;
  std::vector<std::pair<JournalRecord, bool>> pending_;
};

}  // namespace midge::client
