// SPDX-License-Identifier: Apache-2.0
// The on-disk schema of the SQLite store and the migrations that build it. Internal to
// persistence/sqlite; the layout is documented in docs/persistence.md.
#pragma once

#include <cstdint>
#include <string>

struct sqlite3;

namespace midge::store::sqlite_schema {

// Stored in PRAGMA application_id ("MDGE") so a Midge store is recognisable, and another
// program's database is never mistaken for an empty Midge store and migrated.
constexpr std::int32_t kApplicationId = 0x4D444745;

// The highest PRAGMA user_version this build understands.
int latestVersion() noexcept;

// Brings a database at `fromVersion` (0: new, empty) up to latestVersion(), one migration
// per transaction so a crash between steps leaves a consistent, resumable version. On
// failure `error` says which step failed and why; the failed step is rolled back.
bool migrate(sqlite3* db, int fromVersion, std::string& error);

// Runs SQL that returns no rows; `error` gets SQLite's message on failure.
bool execute(sqlite3* db, const char* sql, std::string& error);

}  // namespace midge::store::sqlite_schema
