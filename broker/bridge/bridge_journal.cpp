// SPDX-License-Identifier: Apache-2.0
#include "broker/bridge/bridge_journal_base.hpp"

namespace midge::bridge {
namespace {

class MemoryBridgeJournal final : public detail::JournalBase {
 public:
  bool commit(std::string&) override {
    applyPending();
    return true;
  }
};

}  // namespace

std::unique_ptr<BridgeJournal> makeMemoryJournal() {
  return std::make_unique<MemoryBridgeJournal>();
}

}  // namespace midge::bridge
