// SPDX-License-Identifier: Apache-2.0
#include "persistence/sqlite/sqlite_store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "persistence/sqlite/sqlite_open.hpp"
#include "persistence/sqlite/sqlite_rows.hpp"
#include "persistence/sqlite/sqlite_schema.hpp"

namespace midge::store {

using sqlite_detail::Binder;
using sqlite_detail::queryInteger;
using sqlite_detail::queryText;
using sqlite_detail::sqliteProblem;

enum class SqliteStore::Statement : std::size_t {
  BeginWrite,
  BeginRead,
  Commit,
  Rollback,
  SaveSession,
  DeleteSession,
  DeleteSessionSubscriptions,
  DeleteSessionDeliveries,
  DeleteSessionInboundQos2,
  SaveSubscription,
  DeleteSubscription,
  SaveMessage,
  SaveDelivery,
  DeleteDelivery,
  SaveInboundQos2,
  DeleteInboundQos2,
  SaveRetained,
  DeleteRetained,
  CollectGarbage,
  ClearGarbageCandidates,
  LoadSessions,
  LoadSubscriptions,
  LoadMessages,
  LoadDeliveries,
  LoadInboundQos2,
  LoadRetained,
  Count,
};

namespace {

// In the order of SqliteStore::Statement.
constexpr const char* kStatementSql[] = {
    // IMMEDIATE takes the write lock at the start of the turn, so a second process on the
    // same file is reported by the first write, not half-way through a commit.
    "BEGIN IMMEDIATE",
    "BEGIN DEFERRED",
    "COMMIT",
    "ROLLBACK",
    "INSERT INTO sessions(client_id, protocol_version, expiry_seconds, disconnected_at,"
    " will_topic, will_payload, will_properties, will_qos, will_retain, will_delay,"
    " identity_known, username, cert_identity, listener_index)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
    " ON CONFLICT(client_id) DO UPDATE SET protocol_version = excluded.protocol_version,"
    " expiry_seconds = excluded.expiry_seconds, disconnected_at = excluded.disconnected_at,"
    " will_topic = excluded.will_topic, will_payload = excluded.will_payload,"
    " will_properties = excluded.will_properties, will_qos = excluded.will_qos,"
    " will_retain = excluded.will_retain, will_delay = excluded.will_delay,"
    " identity_known = excluded.identity_known, username = excluded.username,"
    " cert_identity = excluded.cert_identity, listener_index = excluded.listener_index",
    "DELETE FROM sessions WHERE client_id = ?1",
    "DELETE FROM subscriptions WHERE client_id = ?1",
    "DELETE FROM deliveries WHERE client_id = ?1",
    "DELETE FROM inbound_qos2 WHERE client_id = ?1",
    "INSERT INTO subscriptions(client_id, filter, options, identifier) VALUES(?1, ?2, ?3, ?4)"
    " ON CONFLICT(client_id, filter) DO UPDATE SET options = excluded.options,"
    " identifier = excluded.identifier",
    "DELETE FROM subscriptions WHERE client_id = ?1 AND filter = ?2",
    "INSERT OR IGNORE INTO messages(id, topic, payload, properties, qos, retain, expires_at)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    "INSERT INTO deliveries(client_id, sequence, message_id, packet_id, qos, retain, state,"
    " subscription_ids) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    " ON CONFLICT(client_id, sequence) DO UPDATE SET message_id = excluded.message_id,"
    " packet_id = excluded.packet_id, qos = excluded.qos, retain = excluded.retain,"
    " state = excluded.state, subscription_ids = excluded.subscription_ids",
    "DELETE FROM deliveries WHERE client_id = ?1 AND sequence = ?2",
    "INSERT OR IGNORE INTO inbound_qos2(client_id, packet_id) VALUES(?1, ?2)",
    "DELETE FROM inbound_qos2 WHERE client_id = ?1 AND packet_id = ?2",
    "INSERT INTO retained(topic, message_id) VALUES(?1, ?2)"
    " ON CONFLICT(topic) DO UPDATE SET message_id = excluded.message_id",
    "DELETE FROM retained WHERE topic = ?1",
    "DELETE FROM messages WHERE id IN (SELECT id FROM temp.gc_candidates)"
    " AND NOT EXISTS (SELECT 1 FROM deliveries WHERE message_id = messages.id)"
    " AND NOT EXISTS (SELECT 1 FROM retained WHERE message_id = messages.id)",
    "DELETE FROM temp.gc_candidates",
    "SELECT client_id, protocol_version, expiry_seconds, disconnected_at, will_topic,"
    " will_payload, will_properties, will_qos, will_retain, will_delay, identity_known,"
    " username, cert_identity, listener_index FROM sessions ORDER BY client_id",
    "SELECT client_id, filter, options, identifier FROM subscriptions"
    " ORDER BY client_id, filter",
    // Sorted as unsigned ids in load(), like the memory store; SQLite would sort them signed.
    "SELECT id, topic, payload, properties, qos, retain, expires_at FROM messages",
    "SELECT client_id, sequence, message_id, packet_id, qos, retain, state, subscription_ids"
    " FROM deliveries ORDER BY client_id, sequence",
    "SELECT client_id, packet_id FROM inbound_qos2 ORDER BY client_id, packet_id",
    "SELECT topic, message_id FROM retained ORDER BY topic",
};

// Candidate messages for the sweep at commit: every id that lost a reference, or was saved,
// in this transaction. Temp objects live in this connection only, never in the file, and
// roll back with the turn. Triggers catch every path (cascades, upserts that move a
// delivery to another message) without a read before each write.
constexpr const char* kGarbageTracking = R"sql(
CREATE TEMP TABLE gc_candidates(id INTEGER PRIMARY KEY);
CREATE TEMP TRIGGER gc_message_saved AFTER INSERT ON main.messages
BEGIN INSERT OR IGNORE INTO gc_candidates(id) VALUES(new.id); END;
CREATE TEMP TRIGGER gc_delivery_deleted AFTER DELETE ON main.deliveries
BEGIN INSERT OR IGNORE INTO gc_candidates(id) VALUES(old.message_id); END;
CREATE TEMP TRIGGER gc_delivery_moved AFTER UPDATE OF message_id ON main.deliveries
WHEN old.message_id IS NOT new.message_id
BEGIN INSERT OR IGNORE INTO gc_candidates(id) VALUES(old.message_id); END;
CREATE TEMP TRIGGER gc_retained_deleted AFTER DELETE ON main.retained
BEGIN INSERT OR IGNORE INTO gc_candidates(id) VALUES(old.message_id); END;
CREATE TEMP TRIGGER gc_retained_moved AFTER UPDATE OF message_id ON main.retained
WHEN old.message_id IS NOT new.message_id
BEGIN INSERT OR IGNORE INTO gc_candidates(id) VALUES(old.message_id); END;
)sql";

// Long enough to ride out an operator's `sqlite3 .backup` taking its read snapshot, short
// enough not to stall the event loop noticeably.
constexpr int kBusyTimeoutMs = 250;

struct DatabaseCloser {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using Database = std::unique_ptr<sqlite3, DatabaseCloser>;

}  // namespace

std::unique_ptr<SqliteStore> SqliteStore::open(const SqliteOptions& options,
                                               std::string& error) {
  error.clear();
  const std::string& path = options.path;
  if (path.empty()) {
    error = "store path is empty";
    return nullptr;
  }
  if (!sqlite_detail::checkPath(path, error)) return nullptr;

  sqlite3* raw = nullptr;
  // NOMUTEX: one engine thread owns the store, so SQLite's per-call locking is wasted.
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  Database db(raw);
  if (rc != SQLITE_OK) {
    error = path + ": cannot open: " + sqliteProblem(raw, rc);
    return nullptr;
  }
  sqlite3_extended_result_codes(raw, 1);
  // SQLite silently opens a write-protected file read-only; the first commit would fail.
  if (sqlite3_db_readonly(raw, "main") == 1) {
    error = path + ": opened read-only (the file or its file system is write-protected); "
                   "the store needs write access";
    return nullptr;
  }
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);

  // Everything up to the migration only reads, so a file refused here is left untouched.
  int userVersion = 0;
  if (!sqlite_detail::inspectFile(raw, path, userVersion, error)) return nullptr;

  if (!sqlite_detail::configure(raw, options, error)) return nullptr;
  std::string problem;
  if (!sqlite_schema::migrate(raw, userVersion, problem)) {
    error = path + ": " + problem;
    return nullptr;
  }
  if (!sqlite_schema::execute(raw, kGarbageTracking, problem)) {
    error = path + ": cannot set up message tracking: " + problem;
    return nullptr;
  }

  std::unique_ptr<SqliteStore> store(new SqliteStore(path, db.release()));
  if (!store->prepareStatements(error)) return nullptr;
  return store;
}

SqliteStore::SqliteStore(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}

SqliteStore::~SqliteStore() {
  if (inTransaction_ || sqlite3_get_autocommit(db_) == 0) rollback();
  for (sqlite3_stmt* prepared : statements_) sqlite3_finalize(prepared);
  // The last connection to close checkpoints the WAL into the file and removes it.
  sqlite3_close_v2(db_);
}

bool SqliteStore::prepareStatements(std::string& error) {
  static_assert(kStatementCount == static_cast<std::size_t>(Statement::Count));
  static_assert(sizeof(kStatementSql) / sizeof(kStatementSql[0]) == kStatementCount);
  for (std::size_t i = 0; i < kStatementCount; ++i) {
    int rc = sqlite3_prepare_v3(db_, kStatementSql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                &statements_[i], nullptr);
    if (rc != SQLITE_OK) {
      error = path_ + ": cannot prepare \"" + kStatementSql[i] + "\": " + sqliteProblem(db_, rc);
      return false;
    }
  }
  return true;
}

sqlite3_stmt* SqliteStore::statement(Statement which) const noexcept {
  return statements_[static_cast<std::size_t>(which)];
}

bool SqliteStore::stepOnce(Statement which, std::string& error) {
  sqlite3_stmt* prepared = statement(which);
  int rc = sqlite3_step(prepared);
  bool ok = rc == SQLITE_DONE || rc == SQLITE_ROW;
  if (!ok) error = sqliteProblem(db_, rc);
  sqlite3_reset(prepared);
  return ok;
}

void SqliteStore::rollback() {
  inTransaction_ = false;
  // A full disk or an I/O error may already have rolled SQLite's transaction back.
  if (sqlite3_get_autocommit(db_) != 0) return;
  std::string error;
  if (!stepOnce(Statement::Rollback, error)) {
    // The next write retries the rollback before it begins (see beginWrite).
    lastError_ += "; rollback failed too: " + error;
  }
}

sqlite3_stmt* SqliteStore::beginWrite(Statement which) {
  if (writeFailed_) return nullptr;  // this turn is lost already; commit() reports it
  if (!inTransaction_) {
    if (sqlite3_get_autocommit(db_) == 0) rollback();
    std::string error;
    if (!stepOnce(Statement::BeginWrite, error)) {
      writeFailed_ = true;
      writeError_ = path_ + ": cannot begin a transaction: " + error;
      return nullptr;
    }
    inTransaction_ = true;
  }
  return statement(which);
}

void SqliteStore::failWrite(const char* what, int rc) {
  writeFailed_ = true;
  writeError_ = path_ + ": " + what + " failed: " + sqliteProblem(db_, rc);
}

void SqliteStore::finishWrite(sqlite3_stmt* prepared, int bindStatus, const char* what) {
  if (bindStatus != SQLITE_OK) {
    failWrite(what, bindStatus);
  } else {
    int rc = sqlite3_step(prepared);
    if (rc != SQLITE_DONE) failWrite(what, rc);
  }
  sqlite3_reset(prepared);
}

void SqliteStore::saveSession(const SessionRecord& session) {
  sqlite3_stmt* prepared = beginWrite(Statement::SaveSession);
  if (prepared == nullptr) return;
  Binder bind(prepared);
  bind.text(session.clientId)
      .integer(session.protocolVersion)
      .integer(session.expirySeconds)
      .integer(session.disconnectedAt);
  if (session.will) {
    const WillRecord& will = *session.will;
    bind.text(will.topic)
        .blob(will.payload)
        .blob(will.properties)
        .integer(will.qos)
        .integer(will.retain ? 1 : 0)
        .integer(will.delaySeconds);
  } else {
    bind.null().null().null().null().null().null();
  }
  bind.integer(session.identityKnown ? 1 : 0);
  if (session.username) {
    bind.text(*session.username);
  } else {
    bind.null();
  }
  bind.text(session.certIdentity).integer(session.listenerIndex);
  finishWrite(prepared, bind.status(), "saving session");
}

void SqliteStore::deleteSession(std::string_view clientId) {
  // Children first; each DELETE is one indexed range on the primary key.
  constexpr Statement kCascade[] = {Statement::DeleteSessionSubscriptions,
                                    Statement::DeleteSessionDeliveries,
                                    Statement::DeleteSessionInboundQos2,
                                    Statement::DeleteSession};
  for (Statement which : kCascade) {
    sqlite3_stmt* prepared = beginWrite(which);
    if (prepared == nullptr) return;
    Binder bind(prepared);
    bind.text(clientId);
    finishWrite(prepared, bind.status(), "deleting session");
  }
}

void SqliteStore::saveSubscription(const SubscriptionRecord& subscription) {
  sqlite3_stmt* prepared = beginWrite(Statement::SaveSubscription);
  if (prepared == nullptr) return;
  Binder bind(prepared);
  bind.text(subscription.clientId)
      .text(subscription.filter)
      .integer(subscription.options)
      .integer(subscription.identifier);
  finishWrite(prepared, bind.status(), "saving subscription");
}

void SqliteStore::deleteSubscription(std::string_view clientId, std::string_view filter) {
  sqlite3_stmt* prepared = beginWrite(Statement::DeleteSubscription);
  if (prepared == nullptr) return;
  Binder bind(prepared);
  bind.text(clientId).text(filter);
  finishWrite(prepared, bind.status(), "deleting subscription");
}

void SqliteStore::saveMessage(const MessageRecord& message) {
  sqlite3_stmt* prepared = beginWrite(Statement::SaveMessage);
  if (prepared == nullptr) return;
  Binder bind(prepared);
  bind.id(message.id)
      .text(message.topic)
      .blob(message.payload)
      .blob(message.properties)
      .integer(message.qos)
      .integer(message.retain ? 1 : 0)
      .integer(message.expiresAt);
  finishWrite(prepared, bind.status(), "saving message");
}

void SqliteStore::saveDelivery(const DeliveryRecord& delivery) {
  sqlite3_stmt* prepared = beginWrite(Statement::SaveDelivery);
  if (prepared == nullptr) return;
  sqlite_detail::encodeSubscriptionIds(delivery.subscriptionIds, subscriptionIdBytes_);
  Binder bind(prepared);
  bind.text(delivery.clientId)
      .id(delivery.sequence)
      .id(delivery.messageId)
      .integer(delivery.packetId)
      .integer(delivery.qos)
      .integer(delivery.retain ? 1 : 0)
      .integer(static_cast<std::int64_t>(delivery.state))
      .blob(subscriptionIdBytes_);
  finishWrite(prepared, bind.status(), "saving delivery");
}

void SqliteStore::deleteDelivery(std::string_view clientId, std::uint64_t sequence) {
  sqlite3_stmt* prepared = beginWrite(Statement::DeleteDelivery);
  if (prepared == nullptr) return;
  Binder bind(prepared);
  bind.text(clientId).id(sequence);
  finishWrite(prepared, bind.status(), "deleting delivery");
}

void SqliteStore::saveInboundQos2(std::string_view clientId, std::uint16_t packetId) {
  sqlite3_stmt* prepared = beginWrite(Statement::SaveInboundQos2);
  if (prepared == nullptr) return;
  Binder bind(prepared);
  bind.text(clientId).integer(packetId);
  finishWrite(prepared, bind.status(), "saving inbound QoS 2 packet id");
}

void SqliteStore::deleteInboundQos2(std::string_view clientId, std::uint16_t packetId) {
  sqlite3_stmt* prepared = beginWrite(Statement::DeleteInboundQos2);
  if (prepared == nullptr) return;
  Binder bind(prepared);
  bind.text(clientId).integer(packetId);
  finishWrite(prepared, bind.status(), "deleting inbound QoS 2 packet id");
}

void SqliteStore::saveRetained(const RetainedRecord& retained) {
  sqlite3_stmt* prepared = beginWrite(Statement::SaveRetained);
  if (prepared == nullptr) return;
  Binder bind(prepared);
  bind.text(retained.topic).id(retained.messageId);
  finishWrite(prepared, bind.status(), "saving retained message");
}

void SqliteStore::deleteRetained(std::string_view topic) {
  sqlite3_stmt* prepared = beginWrite(Statement::DeleteRetained);
  if (prepared == nullptr) return;
  Binder bind(prepared);
  bind.text(topic);
  finishWrite(prepared, bind.status(), "deleting retained message");
}

Status SqliteStore::commit() {
  const Error failure{ErrorKind::StorageFailure, "store commit failed"};
  if (writeFailed_) {
    lastError_ = writeError_ + "; the turn was rolled back";
    writeFailed_ = false;
    rollback();
    return failure;
  }
  if (!inTransaction_) {
    lastError_.clear();
    return Status::success();
  }
  std::string error;
  bool committed = stepOnce(Statement::CollectGarbage, error) &&
                   stepOnce(Statement::ClearGarbageCandidates, error) &&
                   stepOnce(Statement::Commit, error);
  if (!committed) {
    lastError_ = path_ + ": commit failed: " + error + "; the turn was rolled back";
    rollback();
    return failure;
  }
  inTransaction_ = false;
  lastError_.clear();
  return Status::success();
}

Status SqliteStore::loadFailed(const std::string& problem) {
  lastError_ = path_ + ": " + problem;
  return Error{ErrorKind::StorageFailure, "store load failed"};
}

Status SqliteStore::load(Snapshot& out) {
  out = Snapshot{};
  struct Table {
    Statement statement;
    const char* name;
    bool (*read)(sqlite3_stmt*, Snapshot&);
  };
  constexpr Table kTables[] = {
      {Statement::LoadSessions, "sessions", sqlite_detail::readSession},
      {Statement::LoadSubscriptions, "subscriptions", sqlite_detail::readSubscription},
      {Statement::LoadMessages, "messages", sqlite_detail::readMessage},
      {Statement::LoadDeliveries, "deliveries", sqlite_detail::readDelivery},
      {Statement::LoadInboundQos2, "inbound_qos2", sqlite_detail::readInboundQos2},
      {Statement::LoadRetained, "retained", sqlite_detail::readRetained},
  };
  // One read transaction, so the tables are read from the same committed state.
  bool ownTransaction = !inTransaction_;
  std::string error;
  if (ownTransaction && !stepOnce(Statement::BeginRead, error)) {
    return loadFailed("cannot begin reading: " + error);
  }
  std::string problem;
  for (const Table& table : kTables) {
    sqlite3_stmt* prepared = statement(table.statement);
    int rc = SQLITE_ROW;
    std::size_t rowNumber = 0;
    while ((rc = sqlite3_step(prepared)) == SQLITE_ROW) {
      ++rowNumber;
      if (!table.read(prepared, out)) {
        problem = std::string("row ") + std::to_string(rowNumber) + " of table " + table.name +
                  " holds a value no Midge writes; the store is damaged, restore it from a "
                  "backup";
        break;
      }
    }
    if (problem.empty() && rc != SQLITE_DONE) {
      problem = std::string("reading table ") + table.name + " failed: " +
                sqliteProblem(db_, rc);
    }
    sqlite3_reset(prepared);
    if (!problem.empty()) break;
  }
  if (ownTransaction) {
    // A read transaction commits without touching the file.
    if (!stepOnce(Statement::Commit, error) && problem.empty()) {
      problem = "ending the read failed: " + error;
    }
    if (sqlite3_get_autocommit(db_) == 0) rollback();
  }
  if (!problem.empty()) {
    out = Snapshot{};
    return loadFailed(problem);
  }
  std::sort(out.messages.begin(), out.messages.end(),
            [](const MessageRecord& a, const MessageRecord& b) { return a.id < b.id; });
  return Status::success();
}

SqliteStore::Settings SqliteStore::effectiveSettings() const {
  Settings settings;
  std::int64_t value = 0;
  if (queryText(db_, "PRAGMA journal_mode", settings.journalMode) != SQLITE_OK) {
    settings.journalMode.clear();
  }
  if (queryInteger(db_, "PRAGMA synchronous", value) == SQLITE_OK) {
    settings.synchronous = value == 2 ? SqliteOptions::Sync::Full : SqliteOptions::Sync::Normal;
    settings.synchronousLevel = static_cast<int>(value);
  }
  if (queryInteger(db_, "PRAGMA user_version", value) == SQLITE_OK) {
    settings.schemaVersion = static_cast<int>(value);
  }
  std::int64_t pageSize = 0;
  std::int64_t maxPages = 0;
  if (queryInteger(db_, "PRAGMA page_size", pageSize) == SQLITE_OK &&
      queryInteger(db_, "PRAGMA max_page_count", maxPages) == SQLITE_OK && pageSize > 0 &&
      maxPages > 0) {
    settings.maxSizeBytes = static_cast<std::uint64_t>(pageSize) *
                            static_cast<std::uint64_t>(maxPages);
  }
  return settings;
}

}  // namespace midge::store
