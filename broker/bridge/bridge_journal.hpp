// SPDX-License-Identifier: Apache-2.0
// The in-flight state of both legs of one bridge, in one SQLite file beside the store
// (<store>.bridge-NAME). Both legs write into one pending transaction, so that handing a
// message from one leg to the other (the source's acknowledgement and the sink's removal)
// is one commit: after a kill -9 either both happened or neither did.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/client/journal.hpp"

struct sqlite3;

namespace midge::bridge {

enum class Leg : std::uint8_t { Local = 0, Remote = 1 };

// What both legs' ClientJournals write into; commit() makes it durable.
class BridgeJournal {
 public:
  virtual ~BridgeJournal() = default;
  virtual client::ClientJournal& leg(Leg which) = 0;
  // False when the commit failed; the bytes of this turn must not leave.
  virtual bool commit(std::string& error) = 0;
  virtual std::vector<client::JournalRecord> records(Leg which) const = 0;
};

// Persistence off: nothing survives a restart, the order of events is the same.
std::unique_ptr<BridgeJournal> makeMemoryJournal();

// Opens (or creates) the file; nullptr with a message naming the file when it cannot be
// read as a bridge journal. fullSync: PRAGMA synchronous=FULL, else NORMAL.
std::unique_ptr<BridgeJournal> openSqliteJournal(const std::string& path, bool fullSync,
                                                 std::string& error);

}  // namespace midge::bridge
