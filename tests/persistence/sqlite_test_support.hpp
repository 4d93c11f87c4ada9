// SPDX-License-Identifier: Apache-2.0
// Direct SQLite access for tests: what an operator's sqlite3 shell or a second process does.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "persistence/sqlite/sqlite_store.hpp"
#include "tests/persistence/store_test_support.hpp"

namespace midge::store::testing {

class RawDatabase {
 public:
  enum class Mode { OpenExisting, Create };
  explicit RawDatabase(const std::string& path, Mode mode = Mode::OpenExisting) {
    const int flags = SQLITE_OPEN_READWRITE | (mode == Mode::Create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      std::string problem = sqlite3_errmsg(db_);
      sqlite3_close(db_);
      throw std::runtime_error("cannot open " + path + ": " + problem);
    }
  }
  ~RawDatabase() { sqlite3_close(db_); }
  RawDatabase(const RawDatabase&) = delete;
  RawDatabase& operator=(const RawDatabase&) = delete;

  void exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      std::string problem = message != nullptr ? message : "?";
      sqlite3_free(message);
      throw std::runtime_error(sql + ": " + problem);
    }
  }

  std::int64_t integer(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
      throw std::runtime_error(sql + ": " + sqlite3_errmsg(db_));
    }
    int rc = sqlite3_step(statement);
    std::int64_t value = rc == SQLITE_ROW ? sqlite3_column_int64(statement, 0) : -1;
    sqlite3_finalize(statement);
    if (rc != SQLITE_ROW) throw std::runtime_error(sql + ": no row");
    return value;
  }

 private:
  sqlite3* db_ = nullptr;
};

inline std::unique_ptr<SqliteStore> openStore(const SqliteOptions& options) {
  std::string error;
  std::unique_ptr<SqliteStore> store = SqliteStore::open(options, error);
  if (!store) throw std::runtime_error("open failed: " + error);
  if (!error.empty()) throw std::runtime_error("open succeeded but reported: " + error);
  return store;
}

inline std::unique_ptr<SqliteStore> openStore(const std::string& path) {
  SqliteOptions options;
  options.path = path;
  return openStore(options);
}

}  // namespace midge::store::testing
