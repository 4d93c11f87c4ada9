// SPDX-License-Identifier: Apache-2.0
// A build without SQLite: a bridge runs with persistence off only.
#include "broker/bridge/bridge_journal.hpp"

namespace midge::bridge {

std::unique_ptr<BridgeJournal> openSqliteJournal(const std::string& path, bool, std::string& error) {
  error = "cannot keep the bridge journal " + path + ": this build has no SQLite";
  return nullptr;
}

}  // namespace midge::bridge
