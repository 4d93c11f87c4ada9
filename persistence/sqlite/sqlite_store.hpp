// SPDX-License-Identifier: Apache-2.0
// The durable Store on SQLite: one file in WAL mode, one transaction per engine turn
// (group commit), every statement prepared once at open. See docs/persistence.md for the
// durability contract, the schema, backups and what happens to a damaged file.
//
// @code
//   std::string error;
//   auto store = midge::store::SqliteStore::open({"/var/lib/midge/midge.db"}, error);
//   if (!store) { log(error); return 1; }   // names the file and the problem
//   midge::store::Snapshot snapshot;
//   if (!store->load(snapshot).ok()) { log(store->lastError()); return 1; }
// @endcode
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/store/store.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace midge::store {

struct SqliteOptions {
  std::string path;
  // Full: every commit() is fsynced before it returns, so an acknowledged message survives
  // a power cut. Normal: in WAL mode a power cut may lose the last few commits (never
  // corrupts the file); a crash of the broker process alone loses nothing.
  enum class Sync { Full, Normal } sync = Sync::Full;
  // Caps the database file (not its WAL) so a store on a small flash partition fails a
  // commit with StorageFailure instead of filling the partition. 0: no cap but the disk.
  std::uint64_t maxSizeBytes = 0;
};

class SqliteStore final : public Store {
 public:
  // Opens or creates the store at options.path and brings its schema up to date. Returns
  // nullptr with `error` naming the file and the problem when the file is unreadable, not
  // a database, damaged, from a newer Midge, or its directory is missing or read-only. A
  // file that fails to open is never modified, recreated or deleted.
  static std::unique_ptr<SqliteStore> open(const SqliteOptions& options, std::string& error);

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // Call before the first write: it reads committed state. Fails with StorageFailure on an
  // I/O error or a row no Midge could have written; lastError() says which.
  Status load(Snapshot& out) override;

  void saveSession(const SessionRecord& session) override;
  void deleteSession(std::string_view clientId) override;
  void saveSubscription(const SubscriptionRecord& subscription) override;
  void deleteSubscription(std::string_view clientId, std::string_view filter) override;
  void saveMessage(const MessageRecord& message) override;
  void saveDelivery(const DeliveryRecord& delivery) override;
  void deleteDelivery(std::string_view clientId, std::uint64_t sequence) override;
  void saveInboundQos2(std::string_view clientId, std::uint16_t packetId) override;
  void deleteInboundQos2(std::string_view clientId, std::uint16_t packetId) override;
  void saveRetained(const RetainedRecord& retained) override;
  void deleteRetained(std::string_view topic) override;

  bool hasPendingWrites() const override { return inTransaction_ || writeFailed_; }
  // Commits the turn's transaction (one fsync with Sync::Full). On a failed write earlier
  // in the turn, a full disk or an I/O error, rolls back and returns StorageFailure; the
  // store stays usable and the next write starts a fresh transaction.
  Status commit() override;
  std::string lastError() const override { return lastError_; }

  const std::string& path() const noexcept { return path_; }

  // What the connection actually runs with, read back from SQLite, for the broker's
  // start-up log line and for checking that the options took effect.
  struct Settings {
    std::string journalMode;           // "wal"
    SqliteOptions::Sync synchronous = SqliteOptions::Sync::Full;
    int synchronousLevel = -1;         // PRAGMA synchronous: 2 FULL, 1 NORMAL
    int schemaVersion = 0;             // PRAGMA user_version
    std::uint64_t maxSizeBytes = 0;    // page size x max_page_count
  };
  Settings effectiveSettings() const;

 private:
  enum class Statement : std::size_t;  // one per prepared statement, see sqlite_store.cpp
  static constexpr std::size_t kStatementCount = 26;

  SqliteStore(std::string path, sqlite3* db);
  bool prepareStatements(std::string& error);
  sqlite3_stmt* statement(Statement which) const noexcept;

  sqlite3_stmt* beginWrite(Statement which);
  void finishWrite(sqlite3_stmt* statement, int bindStatus, const char* what);
  void failWrite(const char* what, int rc);
  bool stepOnce(Statement which, std::string& error);
  void rollback();
  Status loadFailed(const std::string& problem);

  std::string path_;
  sqlite3* db_;
  std::array<sqlite3_stmt*, kStatementCount> statements_{};
  std::string lastError_;
  std::string writeError_;
  std::vector<std::uint8_t> subscriptionIdBytes_;  // reused: no allocation per delivery
  bool inTransaction_ = false;
  bool writeFailed_ = false;
};

}  // namespace midge::store
