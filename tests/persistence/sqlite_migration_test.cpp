// SPDX-License-Identifier: Apache-2.0
// A store written by an earlier Midge is migrated in place when it is opened, and its
// contents load unchanged.
#include <gtest/gtest.h>

#include <string>

#include "persistence/sqlite/sqlite_store.hpp"
#include "tests/persistence/sqlite_test_support.hpp"
#include "tests/persistence/store_test_support.hpp"

namespace midge::store::testing {
namespace {

// Schema version 1 as Midge 0.1 created it, and the rows it wrote for a durable session.
constexpr const char* kVersion1File = R"sql(
CREATE TABLE sessions(
  client_id TEXT PRIMARY KEY NOT NULL, protocol_version INTEGER NOT NULL,
  expiry_seconds INTEGER NOT NULL, disconnected_at INTEGER NOT NULL, will_topic TEXT,
  will_payload BLOB, will_properties BLOB, will_qos INTEGER, will_retain INTEGER,
  will_delay INTEGER) WITHOUT ROWID;
CREATE TABLE subscriptions(client_id TEXT NOT NULL, filter TEXT NOT NULL,
  options INTEGER NOT NULL, identifier INTEGER NOT NULL,
  PRIMARY KEY(client_id, filter)) WITHOUT ROWID;
CREATE TABLE messages(id INTEGER PRIMARY KEY, topic TEXT NOT NULL, payload BLOB NOT NULL,
  properties BLOB NOT NULL, qos INTEGER NOT NULL, retain INTEGER NOT NULL,
  expires_at INTEGER NOT NULL);
CREATE TABLE deliveries(client_id TEXT NOT NULL, sequence INTEGER NOT NULL,
  message_id INTEGER NOT NULL, packet_id INTEGER NOT NULL, qos INTEGER NOT NULL,
  retain INTEGER NOT NULL, state INTEGER NOT NULL, subscription_ids BLOB NOT NULL,
  PRIMARY KEY(client_id, sequence)) WITHOUT ROWID;
CREATE INDEX deliveries_by_message ON deliveries(message_id);
CREATE TABLE inbound_qos2(client_id TEXT NOT NULL, packet_id INTEGER NOT NULL,
  PRIMARY KEY(client_id, packet_id)) WITHOUT ROWID;
CREATE TABLE retained(topic TEXT PRIMARY KEY NOT NULL, message_id INTEGER NOT NULL)
  WITHOUT ROWID;
CREATE INDEX retained_by_message ON retained(message_id);
INSERT INTO sessions VALUES('alice-phone', 4, 4294967295, 1700000000,
  'alice/status', x'6f66666c696e65', x'', 1, 0, 0);
INSERT INTO subscriptions VALUES('alice-phone', 'alice/#', 1, 0);
INSERT INTO messages VALUES(7, 'alice/inbox', x'6869', x'', 1, 0, 0);
INSERT INTO deliveries VALUES('alice-phone', 1, 7, 0, 1, 0, 0, x'');
PRAGMA application_id = 1296320325;
PRAGMA user_version = 1;
)sql";

TEST(SqliteMigration, Version1FileIsMigratedInPlaceAndItsSessionsHaveNoIdentityYet) {
  TempDir directory;
  const std::string path = directory.file("v1.db");
  RawDatabase(path, RawDatabase::Mode::Create).exec(kVersion1File);
  {
    auto store = openStore(path);
    EXPECT_EQ(store->effectiveSettings().schemaVersion, 2);
    Snapshot snapshot;
    ASSERT_TRUE(store->load(snapshot).ok()) << store->lastError();
    ASSERT_EQ(snapshot.sessions.size(), 1u);
    const SessionRecord& session = snapshot.sessions[0];
    EXPECT_EQ(session.clientId, "alice-phone");
    EXPECT_FALSE(session.identityKnown) << "a version 1 row never stored who owned it";
    EXPECT_FALSE(session.username.has_value());
    ASSERT_TRUE(session.will.has_value());
    EXPECT_EQ(session.will->topic, "alice/status");
    ASSERT_EQ(snapshot.subscriptions.size(), 1u);
    ASSERT_EQ(snapshot.deliveries.size(), 1u);
    EXPECT_EQ(snapshot.deliveries[0].messageId, 7u);

    // The first resume gives it an identity, and the file keeps it.
    SessionRecord resumed = session;
    resumed.identityKnown = true;
    resumed.username = "alice";
    store->saveSession(resumed);
    ASSERT_TRUE(store->commit().ok()) << store->lastError();
  }
  RawDatabase raw(path);
  EXPECT_EQ(raw.integer("PRAGMA user_version"), 2);
  EXPECT_EQ(raw.integer("SELECT identity_known FROM sessions"), 1);
  EXPECT_EQ(raw.integer("SELECT username = 'alice' FROM sessions"), 1);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM deliveries"), 1) << "queued messages survive";
}

}  // namespace
}  // namespace midge::store::testing
