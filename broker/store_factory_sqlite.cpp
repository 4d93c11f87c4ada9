// SPDX-License-Identifier: Apache-2.0
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "broker/store_factory.hpp"
#include "persistence/memory/memory_store.hpp"
#include "persistence/sqlite/sqlite_store.hpp"

namespace midge::app {

namespace {

// persistence_location may name a directory that does not exist yet (a fresh install);
// Mosquitto creates it too. Every missing level is created with mode 0700: it holds
// client messages.
bool makeDirectories(const std::string& path, std::string& error) {
  if (path.empty()) return true;
  std::string partial;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t slash = path.find('/', start);
    const std::size_t end = slash == std::string::npos ? path.size() : slash;
    partial = path.substr(0, end);
    if (!partial.empty() && mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) {
      error = "cannot create persistence_location " + partial + ": " + std::strerror(errno);
      return false;
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return true;
}

}  // namespace

std::unique_ptr<store::Store> openStore(const config::Config& config, Logger& logger,
                                        std::string& error) {
  if (!config.persistence) return std::make_unique<store::MemoryStore>();
  if (!makeDirectories(config.persistenceLocation, error)) return nullptr;
  store::SqliteOptions options;
  options.path = config::persistenceFilePath(config);
  options.sync = config.persistenceSync == config::PersistenceSync::Full
                     ? store::SqliteOptions::Sync::Full
                     : store::SqliteOptions::Sync::Normal;
  std::unique_ptr<store::SqliteStore> sqlite = store::SqliteStore::open(options, error);
  if (!sqlite) return nullptr;
  const bool full = options.sync == store::SqliteOptions::Sync::Full;
  logger.write(LogLevel::Notice,
               "persistence: " + options.path +
                   (full ? " (synchronous full: an acknowledgement means the message is on disk)"
                         : " (synchronous normal: a crash of midge loses nothing acknowledged, "
                           "a power cut may lose the last commits)"));
  return sqlite;
}

}  // namespace midge::app
