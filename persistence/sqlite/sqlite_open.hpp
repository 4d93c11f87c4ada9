// SPDX-License-Identifier: Apache-2.0
// Opening a store file: the checks that turn SQLite's "unable to open database file" into a
// message an operator can act on, and the connection settings. Internal to persistence/sqlite.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "persistence/sqlite/sqlite_store.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace midge::store::sqlite_detail {

struct StatementFinalizer {
  void operator()(sqlite3_stmt* statement) const noexcept;
};
using OwnedStatement = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

// SQLite's message for `rc`, with the OS error when the problem was an I/O call.
std::string sqliteProblem(sqlite3* db, int rc);

// Before SQLite touches the path: a directory, a missing or unwritable parent directory,
// no access to the file. `error` names the file.
bool checkPath(const std::string& path, std::string& error);

// Reads the file without writing to it: header, application id, schema version, and
// PRAGMA quick_check. Refuses garbage, damage, a newer schema and other programs' files.
bool inspectFile(sqlite3* db, const std::string& path, int& userVersion, std::string& error);

// WAL, synchronous, temp store, WAL size limit and the optional size cap.
bool configure(sqlite3* db, const SqliteOptions& options, std::string& error);

// One-row queries for PRAGMAs; return an SQLite result code.
int queryText(sqlite3* db, const char* sql, std::string& out);
int queryInteger(sqlite3* db, const char* sql, std::int64_t& out);

}  // namespace midge::store::sqlite_detail
