// SPDX-License-Identifier: Apache-2.0
#include "core/engine/turn_output.hpp"

#include <algorithm>
#include <string>

namespace midge {

namespace {

// A connection's turn buffer is kept for reuse, but not when one burst made it large: idle
// connections must stay small (memory per connection is a headline figure).
constexpr std::size_t kRetainedBufferCapacity = 16 * 1024;
// Output a turn may buffer for one connection before it leaves early (flushEarlyIfLarge).
constexpr std::size_t kEarlyFlushBytes = 64 * 1024;

}  // namespace

TurnOutput::TurnOutput(Output& output, TrackingStore& store, Stats& stats,
                       Participants& participants)
    : output_(output), store_(store), stats_(stats), participants_(participants) {
  store_.setWriteListener(this);
}

TurnOutput::~TurnOutput() { store_.setWriteListener(nullptr); }

void TurnOutput::onStoreWrite() {
  if (writer_ == nullptr) return;
  writer_->wroteToStore = true;
  markDirty(writerId_, *writer_);
}

void TurnOutput::flushEarlyIfLarge(ConnectionId id, TurnBuffer& turn) {
  if (turn.bytes.size() < kEarlyFlushBytes || storeLagsBehind_ || store_.hasPendingWrites()) {
    return;
  }
  // Nothing of this turn has touched the store yet, so nothing buffered so far waits for
  // a commit: let it go now. A turn that reads from many busy publishers would otherwise
  // build megabytes for one subscriber (fan-in) and grow and free that buffer every turn.
  stats_.bytesSent += turn.bytes.size();
  output_.send(id, Bytes(turn.bytes.data(), turn.bytes.size()));
  turn.bytes.clear();
}

// After a failed commit the store lacks what memory kept of the failed turns. Catch up
// before this turn's commit when the turn writes anyway, or when it answers a session
// whose records are missing (a PUBREC for a resent QoS 2 id known only in memory must
// not leave before that id is on disk). Other turns owe the store nothing: a disk that
// is still full then fails only the turns that need it.
bool TurnOutput::mustResync() const {
  if (store_.hasPendingWrites()) return true;
  return std::any_of(dirty_.begin(), dirty_.end(),
                     [&](ConnectionId id) { return participants_.lagsBehind(id); });
}

void TurnOutput::commitAndFlush() {
  if (storeLagsBehind_ && mustResync()) participants_.resyncStore();
  bool committed = true;
  if (store_.hasPendingWrites()) {
    Status status = store_.commit();
    if (status.ok()) {
      storeLagsBehind_ = false;
    } else {
      committed = false;
      storeLagsBehind_ = true;
      ++stats_.storeFailures;
      output_.log(LogLevel::Error,
                  "store commit failed, this turn's acknowledgements are withheld: " +
                      store_.lastError());
    }
  }
  for (ConnectionId id : dirty_) {
    TurnBuffer* turn = participants_.turnBuffer(id);
    if (turn != nullptr) flush(id, *turn, committed);
  }
  dirty_.clear();
}

void TurnOutput::flush(ConnectionId id, TurnBuffer& turn, bool committed) {
  turn.dirty = false;
  // A session that is not durable has no records to lack: its deliveries may leave. Asked
  // only after a failed commit: the question costs a lookup per connection per turn.
  const bool involved = !committed && (turn.wroteToStore || participants_.lagsBehind(id));
  turn.wroteToStore = false;
  if (involved) {
    // Nothing of this turn may leave: neither the acks of the writers (they resend after
    // reconnecting) nor the deliveries whose records were rolled back (a QoS 2 message
    // received now and again after the publisher's resend would arrive twice). The
    // session keeps them in memory and resends them when the client reconnects.
    turn.bytes.clear();
    participants_.withheld(id);
    output_.close(id);
    return;
  }
  if (!turn.bytes.empty()) {
    stats_.bytesSent += turn.bytes.size();
    output_.send(id, Bytes(turn.bytes.data(), turn.bytes.size()));
    turn.bytes.clear();
    if (turn.bytes.capacity() > kRetainedBufferCapacity) {
      std::vector<std::uint8_t>().swap(turn.bytes);
    }
  }
  if (turn.closeAfterFlush) {
    turn.closeAfterFlush = false;
    output_.close(id);
  }
}

}  // namespace midge
