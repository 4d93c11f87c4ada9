// SPDX-License-Identifier: Apache-2.0
// One event-loop turn's output: the group commit. Handlers queue packets into a
// connection's turn buffer; at the end of the turn the store commits once, then every
// dirty connection's bytes leave. If the commit fails, the connections whose writes it
// held (and those whose session records it rolled back) get nothing of this turn: they
// are closed and the client resends after reconnecting (see docs/persistence.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/engine/io.hpp"
#include "core/engine/stats.hpp"
#include "core/engine/tracking_store.hpp"

namespace midge {

// A connection's share of the turn. Lives in the connection: no lookup per queued packet.
struct TurnBuffer {
  std::vector<std::uint8_t> bytes;
  bool dirty = false;          // in this turn's dirty list
  bool wroteToStore = false;   // this turn's packets of the connection wrote to the store
  bool closeAfterFlush = false;
};

class TurnOutput final : private StoreWriteListener {
 public:
  // The broker's side of the commit, asked once per dirty connection per turn.
  class Participants {
   public:
    virtual ~Participants() = default;
    virtual TurnBuffer* turnBuffer(ConnectionId id) = 0;  // nullptr once the connection is gone
    // The connection's session has records a failed commit rolled back, not yet rewritten.
    virtual bool lagsBehind(ConnectionId id) const = 0;
    // Writes again, from memory, what failed commits rolled back.
    virtual void resyncStore() = 0;
    // The connection's output was withheld and it is being closed.
    virtual void withheld(ConnectionId id) = 0;
  };

  TurnOutput(Output& output, TrackingStore& store, Stats& stats, Participants& participants);
  ~TurnOutput() override;
  TurnOutput(const TurnOutput&) = delete;
  TurnOutput& operator=(const TurnOutput&) = delete;

  // Where queued packets go; the connection joins the dirty list.
  std::vector<std::uint8_t>& buffer(ConnectionId id, TurnBuffer& turn) {
    markDirty(id, turn);
    return turn.bytes;
  }
  void markDirty(ConnectionId id, TurnBuffer& turn) {
    if (turn.dirty) return;
    turn.dirty = true;
    dirty_.push_back(id);
  }
  void closeAfterFlush(ConnectionId id, TurnBuffer& turn) {
    turn.closeAfterFlush = true;
    markDirty(id, turn);
  }
  // Hands a large buffer to Output before the commit, when nothing of this turn waits for
  // one. Only for connected clients: earlier states' output must follow the commit.
  void flushEarlyIfLarge(ConnectionId id, TurnBuffer& turn);

  // Store writes made between beginWriter and endWriter belong to this connection.
  void beginWriter(ConnectionId id, TurnBuffer& turn) {
    writerId_ = id;
    writer_ = &turn;
  }
  void endWriter() { writer_ = nullptr; }

  bool hasDirty() const { return !dirty_.empty(); }
  // A commit failed and resyncStore has not caught up yet.
  bool storeLagsBehind() const { return storeLagsBehind_; }

  // Ends the turn: commit, then send (or withhold) and close.
  void commitAndFlush();

 private:
  void onStoreWrite() override;
  bool mustResync() const;  // only asked while storeLagsBehind_
  void flush(ConnectionId id, TurnBuffer& turn, bool committed);

  Output& output_;
  TrackingStore& store_;
  Stats& stats_;
  Participants& participants_;
  std::vector<ConnectionId> dirty_;
  ConnectionId writerId_ = 0;
  TurnBuffer* writer_ = nullptr;
  bool storeLagsBehind_ = false;
};

}  // namespace midge
