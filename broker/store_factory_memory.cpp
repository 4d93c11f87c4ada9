// SPDX-License-Identifier: Apache-2.0
#include "broker/store_factory.hpp"
#include "persistence/memory/memory_store.hpp"

namespace midge::app {

std::unique_ptr<store::Store> openStore(const config::Config& config, Logger&,
                                        std::string& error) {
  if (config.persistence) {
    error = "persistence is enabled in the configuration, but this midge was built without "
            "SQLite (MIDGE_WITH_SQLITE=OFF)";
    return nullptr;
  }
  return std::make_unique<store::MemoryStore>();
}

}  // namespace midge::app
