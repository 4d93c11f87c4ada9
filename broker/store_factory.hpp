// SPDX-License-Identifier: Apache-2.0
// Chooses the session store from the configuration: SQLite with `persistence true`, the
// memory store otherwise. Built from store_factory_sqlite.cpp or, with MIDGE_WITH_SQLITE=OFF,
// store_factory_memory.cpp (feature switches swap whole files).
#pragma once

#include <memory>
#include <string>

#include "broker/config/config.hpp"
#include "broker/logger.hpp"
#include "core/store/store.hpp"

namespace midge::app {

// Null with `error` naming the file and the problem.
std::unique_ptr<store::Store> openStore(const config::Config& config, Logger& logger,
                                        std::string& error);

}  // namespace midge::app
