// SPDX-License-Identifier: Apache-2.0
// The part of a bridge journal every kind shares: the pending changes of both legs and
// the committed image. Internal to broker/bridge.
#pragma once

#include <map>
#include <tuple>
#include <vector>

#include "broker/bridge/bridge_journal.hpp"

namespace midge::bridge::detail {

using client::JournalRecord;

// One pending change: a record to put, or (erased) the key of one to remove.
struct Change {
  Leg leg;
  JournalRecord record;
  bool erased;
};

class LegJournal final : public client::ClientJournal {
 public:
  LegJournal(Leg leg, std::vector<Change>& pending) : leg_(leg), pending_(pending) {}
  void put(const JournalRecord& record) override { pending_.push_back({leg_, record, false}); }
  void erase(bool inbound, std::uint16_t packetId) override {
    JournalRecord record;
    record.state = inbound ? client::JournalState::InboundReceived
                           : client::JournalState::PublishSent;
    record.packetId = packetId;
    pending_.push_back({leg_, record, true});
  }

 private:
  Leg leg_;
  std::vector<Change>& pending_;
};

using Key = std::tuple<int, bool, std::uint16_t>;
inline Key keyOf(const Change& change) {
  return {static_cast<int>(change.leg), client::isInbound(change.record.state),
          change.record.packetId};
}

// Holds the pending changes and the committed image; subclasses make the image durable.
class JournalBase : public BridgeJournal {
 public:
  client::ClientJournal& leg(Leg which) override {
    return which == Leg::Local ? local_ : remote_;
  }
  std::vector<JournalRecord> records(Leg which) const override {
    std::vector<JournalRecord> out;
    for (const auto& [key, record] : committed_) {
      if (std::get<0>(key) == static_cast<int>(which)) out.push_back(record);
    }
    return out;
  }

 protected:
  void applyPending() {
    for (const Change& change : pending_) {
      if (change.erased) {
        committed_.erase(keyOf(change));
      } else {
        committed_[keyOf(change)] = change.record;
      }
    }
    pending_.clear();
  }
  std::vector<Change> pending_;
  std::map<Key, JournalRecord> committed_;

 private:
  LegJournal local_{Leg::Local, pending_};
  LegJournal remote_{Leg::Remote, pending_};
};

}  // namespace midge::bridge::detail
