// SPDX-License-Identifier: Apache-2.0
#include "persistence/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>

#include "tests/persistence/sqlite_test_support.hpp"
#include "tests/persistence/store_contract.hpp"
#include "tests/persistence/store_test_support.hpp"

namespace midge::store::testing {
namespace {

// Small enough that breakTurn can overflow it quickly, large enough for every contract test.
constexpr std::uint64_t kContractCapBytes = 2u << 20;

struct SqliteStoreFactory {
  TempDir directory;

  std::unique_ptr<Store> open() {
    SqliteOptions options;
    options.path = directory.file("contract.db");
    options.maxSizeBytes = kContractCapBytes;
    return openStore(options);
  }
  // The real failure path: the turn's writes no longer fit and SQLite answers SQLITE_FULL.
  void breakTurn(Store& store) {
    MessageRecord huge = message(0xFFFF0000, "huge");
    huge.payload.assign(2 * kContractCapBytes, 0x42);
    store.saveMessage(huge);
  }
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, StoreContract, SqliteStoreFactory);

namespace {

Snapshot loadOrFail(Store& store) {
  Snapshot snapshot;
  Status status = store.load(snapshot);
  EXPECT_TRUE(status.ok()) << store.lastError();
  return snapshot;
}

TEST(SqliteStore, ReopenedFileLoadsEverythingThatWasCommitted) {
  TempDir directory;
  std::string path = directory.file("midge.db");

  SessionRecord durable = session("sensor-1");
  durable.will = WillRecord{"sensors/1/state", bytes({'o', 'f', 'f'}), bytes({0x18, 0, 0, 0, 5}),
                            1, true, 30};
  MessageRecord reading = message(10, "sensors/1/t");
  DeliveryRecord inFlight = delivery("dashboard", 3, 10);
  inFlight.state = DeliveryState::PublishSent;
  inFlight.packetId = 7;
  inFlight.subscriptionIds = {4};
  {
    auto store = openStore(path);
    store->saveSession(durable);
    store->saveSession(session("dashboard"));
    store->saveSubscription(SubscriptionRecord{"dashboard", "sensors/#", 1, 4});
    store->saveMessage(reading);
    store->saveDelivery(inFlight);
    store->saveInboundQos2("sensor-1", 99);
    store->saveRetained(RetainedRecord{"sensors/1/t", 10});
    ASSERT_TRUE(store->commit().ok()) << store->lastError();
    // Written but never committed: a crash here must lose exactly this.
    store->saveSession(session("uncommitted"));
  }

  auto reopened = openStore(path);
  Snapshot snapshot = loadOrFail(*reopened);
  ASSERT_EQ(snapshot.sessions.size(), 2u);
  EXPECT_EQ(snapshot.sessions[0], session("dashboard"));
  EXPECT_EQ(snapshot.sessions[1], durable);
  ASSERT_EQ(snapshot.subscriptions.size(), 1u);
  EXPECT_EQ(snapshot.subscriptions[0], (SubscriptionRecord{"dashboard", "sensors/#", 1, 4}));
  ASSERT_EQ(snapshot.messages.size(), 1u);
  EXPECT_EQ(snapshot.messages[0], reading);
  ASSERT_EQ(snapshot.deliveries.size(), 1u);
  EXPECT_EQ(snapshot.deliveries[0], inFlight);
  ASSERT_EQ(snapshot.inboundQos2.size(), 1u);
  EXPECT_EQ(snapshot.inboundQos2[0], (InboundQos2Record{"sensor-1", 99}));
  ASSERT_EQ(snapshot.retained.size(), 1u);
  EXPECT_EQ(snapshot.retained[0], (RetainedRecord{"sensors/1/t", 10}));
}

TEST(SqliteStore, NewFileIsStampedWalWithTheSchemaVersion) {
  TempDir directory;
  std::string path = directory.file("fresh.db");
  {
    auto store = openStore(path);
    SqliteStore::Settings settings = store->effectiveSettings();
    EXPECT_EQ(settings.journalMode, "wal");
    EXPECT_EQ(settings.schemaVersion, 2);
  }
  RawDatabase raw(path);
  EXPECT_EQ(raw.integer("PRAGMA user_version"), 2);
  EXPECT_EQ(raw.integer("PRAGMA application_id"), 0x4D444745);
  // WAL is a property of the file: it stays on after the store closes.
  EXPECT_EQ(raw.integer("SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
}

TEST(SqliteStore, SyncOptionIsApplied) {
  TempDir directory;
  SqliteOptions options;
  options.path = directory.file("sync.db");
  {
    options.sync = SqliteOptions::Sync::Full;
    auto store = openStore(options);
    EXPECT_EQ(store->effectiveSettings().synchronousLevel, 2);
    EXPECT_EQ(store->effectiveSettings().synchronous, SqliteOptions::Sync::Full);
  }
  {
    options.sync = SqliteOptions::Sync::Normal;
    auto store = openStore(options);
    EXPECT_EQ(store->effectiveSettings().synchronousLevel, 1);
    EXPECT_EQ(store->effectiveSettings().synchronous, SqliteOptions::Sync::Normal);
  }
}

TEST(SqliteStore, FullDiskFailsTheCommitAndALaterSmallTurnSucceeds) {
  TempDir directory;
  SqliteOptions options;
  options.path = directory.file("full.db");
  options.maxSizeBytes = 256u << 10;
  auto store = openStore(options);
  EXPECT_GT(store->effectiveSettings().maxSizeBytes, 0u);
  EXPECT_LE(store->effectiveSettings().maxSizeBytes, options.maxSizeBytes);

  store->saveSession(session("before"));
  ASSERT_TRUE(store->commit().ok()) << store->lastError();

  // Many ordinary writes, the way a burst of fan-out fills a disk, until SQLite gives up.
  store->saveSession(session("lost"));
  for (std::uint64_t id = 1; id <= 64; ++id) {
    MessageRecord bulky = message(id);
    bulky.payload.assign(16u << 10, static_cast<std::uint8_t>(id));
    store->saveMessage(bulky);
    store->saveDelivery(delivery("before", id, id));
  }
  ASSERT_TRUE(store->hasPendingWrites());
  Status failed = store->commit();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().kind, ErrorKind::StorageFailure);
  EXPECT_NE(store->lastError().find("full"), std::string::npos) << store->lastError();
  EXPECT_NE(store->lastError().find(options.path), std::string::npos) << store->lastError();
  EXPECT_FALSE(store->hasPendingWrites());

  Snapshot snapshot = loadOrFail(*store);
  ASSERT_EQ(snapshot.sessions.size(), 1u);
  EXPECT_EQ(snapshot.sessions[0].clientId, "before");
  EXPECT_TRUE(snapshot.messages.empty());
  EXPECT_TRUE(snapshot.deliveries.empty());

  store->saveSession(session("after"));
  store->saveMessage(message(1000));
  store->saveDelivery(delivery("after", 1, 1000));
  ASSERT_TRUE(store->commit().ok()) << store->lastError();
  snapshot = loadOrFail(*store);
  EXPECT_EQ(snapshot.sessions.size(), 2u);
  EXPECT_EQ(snapshot.deliveries.size(), 1u);
}

// The broker's promise under kill -9: every turn whose commit() returned is on disk, the
// turn being written when the process died is not there at all, and the file opens.
TEST(SqliteStore, CommittedTurnsSurviveKill9InTheMiddleOfATurn) {
  TempDir directory;
  std::string path = directory.file("killed.db");
  constexpr std::uint64_t kCommittedTurns = 20;
  constexpr std::uint64_t kDeliveriesPerTurn = 50;
  int acks[2];
  int hold[2];
  ASSERT_EQ(::pipe(acks), 0);
  ASSERT_EQ(::pipe(hold), 0);

  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(acks[0]);
    ::close(hold[1]);
    std::string error;
    SqliteOptions options;
    options.path = path;
    std::unique_ptr<SqliteStore> store = SqliteStore::open(options, error);
    if (!store) ::_exit(2);
    for (std::uint64_t turn = 1; turn <= kCommittedTurns + 1; ++turn) {
      store->saveMessage(message(turn));
      for (std::uint64_t i = 0; i < kDeliveriesPerTurn; ++i) {
        store->saveDelivery(delivery("c" + std::to_string(i), turn, turn));
      }
      char mark = 'w';  // 'w': in the middle of an uncommitted turn
      if (turn <= kCommittedTurns) {
        if (!store->commit().ok()) ::_exit(3);
        mark = 'c';  // like an ack: sent only after commit() returned
      }
      if (::write(acks[1], &mark, 1) != 1) ::_exit(4);
    }
    char never;
    (void)!::read(hold[0], &never, 1);  // wait here for SIGKILL, mid-turn
    ::_exit(5);
  }
  ::close(acks[1]);
  ::close(hold[0]);
  std::string marks;
  char mark;
  while (marks.size() < kCommittedTurns + 1 && ::read(acks[0], &mark, 1) == 1) marks += mark;
  ASSERT_EQ(marks, std::string(kCommittedTurns, 'c') + "w");
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status));
  ::close(acks[0]);
  ::close(hold[1]);

  auto store = openStore(path);
  Snapshot snapshot = loadOrFail(*store);
  EXPECT_EQ(snapshot.messages.size(), kCommittedTurns);
  EXPECT_EQ(snapshot.deliveries.size(), kCommittedTurns * kDeliveriesPerTurn);
  for (const DeliveryRecord& record : snapshot.deliveries) {
    EXPECT_LE(record.sequence, kCommittedTurns) << "a write of the unfinished turn survived";
  }
}

// SQLite rolls back only the failing statement here and keeps the transaction open;
// commit() must still throw away the whole turn, including the writes before the failure.
TEST(SqliteStore, StatementFailureMidTurnDiscardsTheWholeTurn) {
  TempDir directory;
  std::string path = directory.file("poison.db");
  auto store = openStore(path);
  store->saveSession(session("kept"));
  ASSERT_TRUE(store->commit().ok()) << store->lastError();
  {
    RawDatabase raw(path);
    raw.exec("CREATE TRIGGER poison BEFORE INSERT ON retained WHEN new.topic = 'poison' "
             "BEGIN SELECT RAISE(ABORT, 'poisoned write'); END");
  }

  store->saveSession(session("before-failure"));
  store->saveMessage(message(1));
  store->saveRetained(RetainedRecord{"poison", 1});
  store->saveSession(session("after-failure"));
  Status failed = store->commit();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().kind, ErrorKind::StorageFailure);
  EXPECT_NE(store->lastError().find("poisoned write"), std::string::npos) << store->lastError();

  Snapshot snapshot = loadOrFail(*store);
  ASSERT_EQ(snapshot.sessions.size(), 1u);
  EXPECT_EQ(snapshot.sessions[0].clientId, "kept");
  EXPECT_TRUE(snapshot.messages.empty());

  store->saveSession(session("next-turn"));
  ASSERT_TRUE(store->commit().ok()) << store->lastError();
  RawDatabase reader(path);
  EXPECT_EQ(reader.integer("SELECT count(*) FROM sessions"), 2);
}

// A turn is one transaction: another reader (a backup, a second process) sees none of it
// before commit() and all of it after.
TEST(SqliteStore, TurnIsInvisibleToOtherReadersUntilCommit) {
  TempDir directory;
  std::string path = directory.file("turn.db");
  auto store = openStore(path);
  RawDatabase reader(path);

  store->saveMessage(message(1));
  for (std::uint64_t sequence = 1; sequence <= 1000; ++sequence) {
    store->saveDelivery(delivery("bulk", sequence, 1));
  }
  EXPECT_EQ(reader.integer("SELECT count(*) FROM deliveries"), 0);
  EXPECT_EQ(reader.integer("SELECT count(*) FROM messages"), 0);
  ASSERT_TRUE(store->commit().ok()) << store->lastError();
  EXPECT_EQ(reader.integer("SELECT count(*) FROM deliveries"), 1000);
  EXPECT_EQ(reader.integer("SELECT count(*) FROM messages"), 1);
}

TEST(SqliteStore, FannedOutPayloadIsOneRowOnDisk) {
  TempDir directory;
  std::string path = directory.file("fanout.db");
  auto store = openStore(path);
  MessageRecord alert = message(5, "alerts/all");
  alert.payload.assign(4096, 0x11);
  store->saveMessage(alert);
  for (int i = 0; i < 200; ++i) store->saveDelivery(delivery("c" + std::to_string(i), 1, 5));
  ASSERT_TRUE(store->commit().ok()) << store->lastError();

  RawDatabase raw(path);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM messages"), 1);
  EXPECT_EQ(raw.integer("SELECT count(*) FROM deliveries WHERE message_id = 5"), 200);
}

// docs/persistence.md tells operators to back up a running broker with VACUUM INTO.
TEST(SqliteStore, VacuumIntoWhileOpenMakesALoadableBackup) {
  TempDir directory;
  std::string path = directory.file("live.db");
  std::string backup = directory.file("backup.db");
  auto store = openStore(path);
  store->saveSession(session("a"));
  store->saveMessage(message(1));
  store->saveDelivery(delivery("a", 1, 1));
  ASSERT_TRUE(store->commit().ok()) << store->lastError();
  store->saveSession(session("not-yet-committed"));

  {
    RawDatabase raw(path);
    raw.exec("VACUUM INTO '" + backup + "'");
  }
  ASSERT_TRUE(store->commit().ok()) << store->lastError();

  auto restored = openStore(backup);
  Snapshot snapshot = loadOrFail(*restored);
  ASSERT_EQ(snapshot.sessions.size(), 1u);
  EXPECT_EQ(snapshot.sessions[0].clientId, "a");
  EXPECT_EQ(snapshot.deliveries.size(), 1u);
}

TEST(SqliteStore, LoadRejectsARowNoMidgeWrites) {
  TempDir directory;
  std::string path = directory.file("odd.db");
  {
    auto store = openStore(path);
    store->saveMessage(message(1));
    store->saveDelivery(delivery("a", 1, 1));
    ASSERT_TRUE(store->commit().ok()) << store->lastError();
  }
  {
    RawDatabase raw(path);
    raw.exec("UPDATE deliveries SET state = 7");
  }
  auto store = openStore(path);
  Snapshot snapshot;
  snapshot.sessions.push_back(session("stale"));
  Status status = store->load(snapshot);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::StorageFailure);
  EXPECT_NE(store->lastError().find("deliveries"), std::string::npos) << store->lastError();
  EXPECT_NE(store->lastError().find(path), std::string::npos) << store->lastError();
  EXPECT_TRUE(snapshot.sessions.empty()) << "a failed load hands back nothing half-read";
}

TEST(SqliteStore, CommitWithoutWritesTouchesNothing) {
  TempDir directory;
  std::string path = directory.file("idle.db");
  auto store = openStore(path);
  RawDatabase raw(path);
  std::int64_t before = raw.integer("PRAGMA data_version");
  ASSERT_TRUE(store->commit().ok());
  EXPECT_EQ(raw.integer("PRAGMA data_version"), before);
  store->saveSession(session("a"));
  ASSERT_TRUE(store->commit().ok());
  EXPECT_NE(raw.integer("PRAGMA data_version"), before);
}

}  // namespace
}  // namespace midge::store::testing
