// SPDX-License-Identifier: Apache-2.0
#include "persistence/sqlite/sqlite_schema.hpp"

#include <sqlite3.h>

#include <string>

namespace midge::store::sqlite_schema {
namespace {

// Version 1. Integers hold the record fields unchanged; 64-bit ids and sequences are
// stored as their two's-complement int64 bit pattern. Session children carry no foreign
// keys: cascades are explicit in deleteSession(), so the engine may write a session's
// records in any order within a turn.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE sessions(
  client_id        TEXT PRIMARY KEY NOT NULL,
  protocol_version INTEGER NOT NULL,
  expiry_seconds   INTEGER NOT NULL,
  disconnected_at  INTEGER NOT NULL,
  will_topic       TEXT,             -- NULL: no will
  will_payload     BLOB,
  will_properties  BLOB,
  will_qos         INTEGER,
  will_retain      INTEGER,
  will_delay       INTEGER
) WITHOUT ROWID;

CREATE TABLE subscriptions(
  client_id  TEXT NOT NULL,
  filter     TEXT NOT NULL,
  options    INTEGER NOT NULL,
  identifier INTEGER NOT NULL,
  PRIMARY KEY(client_id, filter)
) WITHOUT ROWID;

-- One row per message however many sessions it is queued for.
CREATE TABLE messages(
  id         INTEGER PRIMARY KEY,
  topic      TEXT NOT NULL,
  payload    BLOB NOT NULL,
  properties BLOB NOT NULL,
  qos        INTEGER NOT NULL,
  retain     INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);

CREATE TABLE deliveries(
  client_id        TEXT NOT NULL,
  sequence         INTEGER NOT NULL,
  message_id       INTEGER NOT NULL,
  packet_id        INTEGER NOT NULL,
  qos              INTEGER NOT NULL,
  retain           INTEGER NOT NULL,
  state            INTEGER NOT NULL,
  subscription_ids BLOB NOT NULL,   -- uint32 little-endian, 4 bytes each
  PRIMARY KEY(client_id, sequence)
) WITHOUT ROWID;
-- The garbage sweep asks "does any delivery still name this message?".
CREATE INDEX deliveries_by_message ON deliveries(message_id);

CREATE TABLE inbound_qos2(
  client_id TEXT NOT NULL,
  packet_id INTEGER NOT NULL,
  PRIMARY KEY(client_id, packet_id)
) WITHOUT ROWID;

CREATE TABLE retained(
  topic      TEXT PRIMARY KEY NOT NULL,
  message_id INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX retained_by_message ON retained(message_id);
)sql";

// Version 2: the identity a session's authorisation depends on (Store::SessionRecord).
// Sessions written by version 1 have none; identity_known = 0 marks them so that the
// first client to resume one gives it its identity (docs/persistence.md).
constexpr const char* kSchemaV2 = R"sql(
ALTER TABLE sessions ADD COLUMN identity_known INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN username       TEXT;  -- NULL: connected without one
ALTER TABLE sessions ADD COLUMN cert_identity  TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN listener_index INTEGER NOT NULL DEFAULT 0;
)sql";

// Migration N takes user_version N-1 to N. To change the schema, append a step (ALTER
// TABLE, a new table, a data copy); never edit a released one, since stores in the field
// have already run it.
constexpr const char* kMigrations[] = {
    kSchemaV1,
    kSchemaV2,
};

}  // namespace

int latestVersion() noexcept {
  return static_cast<int>(sizeof(kMigrations) / sizeof(kMigrations[0]));
}

bool execute(sqlite3* db, const char* sql, std::string& error) {
  char* message = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return true;
  error = message != nullptr ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  return false;
}

bool migrate(sqlite3* db, int fromVersion, std::string& error) {
  for (int version = fromVersion + 1; version <= latestVersion(); ++version) {
    std::string stepError;
    // PRAGMA cannot take a bound parameter; the values are our own integers.
    std::string stamp = "PRAGMA application_id = " + std::to_string(kApplicationId) +
                        "; PRAGMA user_version = " + std::to_string(version) + ";";
    bool ok = execute(db, "BEGIN IMMEDIATE", stepError) &&
              execute(db, kMigrations[version - 1], stepError) &&
              execute(db, stamp.c_str(), stepError) && execute(db, "COMMIT", stepError);
    if (!ok) {
      if (sqlite3_get_autocommit(db) == 0) {
        std::string ignored;
        execute(db, "ROLLBACK", ignored);
      }
      error = "migration to schema " + std::to_string(version) + " failed: " + stepError;
      return false;
    }
  }
  return true;
}

}  // namespace midge::store::sqlite_schema
