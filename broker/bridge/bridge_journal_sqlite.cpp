// SPDX-License-Identifier: Apache-2.0
// The bridge journal in SQLite: one row per in-flight record of either leg, one
// transaction per commit, WAL, synchronous as persistence_sync says.
#include <sqlite3.h>

#include <utility>

#include "broker/bridge/bridge_journal_base.hpp"

namespace midge::bridge {
namespace {

using client::JournalRecord;
using detail::Change;
using detail::JournalBase;
using detail::keyOf;

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS bridge_inflight ("
    " leg INTEGER NOT NULL, inbound INTEGER NOT NULL, packet_id INTEGER NOT NULL,"
    " state INTEGER NOT NULL, tag INTEGER NOT NULL, sequence INTEGER NOT NULL,"
    " topic TEXT NOT NULL, payload BLOB, qos INTEGER NOT NULL, retain INTEGER NOT NULL,"
    " properties BLOB, PRIMARY KEY (leg, inbound, packet_id));";

class SqliteBridgeJournal final : public JournalBase {
 public:
  SqliteBridgeJournal(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  ~SqliteBridgeJournal() override { sqlite3_close(db_); }

  bool load(std::string& error);
  bool commit(std::string& error) override;

 private:
  bool exec(const char* sql, std::string& error);
  bool write(const Change& change, std::string& error);

  sqlite3* db_;
  std::string path_;
};

bool SqliteBridgeJournal::exec(const char* sql, std::string& error) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) == SQLITE_OK) return true;
  error = path_ + ": " + (message != nullptr ? message : sqlite3_errmsg(db_));
  sqlite3_free(message);
  return false;
}

bool SqliteBridgeJournal::load(std::string& error) {
  sqlite3_stmt* statement = nullptr;
  const char* sql =
      "SELECT leg, state, packet_id, tag, sequence, topic, payload, qos, retain, properties"
      " FROM bridge_inflight";
  if (sqlite3_prepare_v2(db_, sql, -1, &statement, nullptr) != SQLITE_OK) {
    error = path_ + ": not a bridge journal (" + sqlite3_errmsg(db_) + ")";
    return false;
  }
  while (sqlite3_step(statement) == SQLITE_ROW) {
    Change change{static_cast<Leg>(sqlite3_column_int(statement, 0)), {}, false};
    JournalRecord& record = change.record;
    record.state = static_cast<client::JournalState>(sqlite3_column_int(statement, 1));
    record.packetId = static_cast<std::uint16_t>(sqlite3_column_int(statement, 2));
    record.tag = static_cast<std::uint64_t>(sqlite3_column_int64(statement, 3));
    record.sequence = static_cast<std::uint64_t>(sqlite3_column_int64(statement, 4));
    record.message.topic = reinterpret_cast<const char*>(sqlite3_column_text(statement, 5));
    const auto* payload = static_cast<const std::uint8_t*>(sqlite3_column_blob(statement, 6));
    record.message.payload.assign(payload, payload + sqlite3_column_bytes(statement, 6));
    record.message.qos = static_cast<std::uint8_t>(sqlite3_column_int(statement, 7));
    record.message.retain = sqlite3_column_int(statement, 8) != 0;
    const auto* props = static_cast<const std::uint8_t*>(sqlite3_column_blob(statement, 9));
    record.message.properties.assign(props, props + sqlite3_column_bytes(statement, 9));
    committed_[keyOf(change)] = record;
  }
  sqlite3_finalize(statement);
  return true;
}

bool SqliteBridgeJournal::write(const Change& change, std::string& error) {
  const JournalRecord& r = change.record;
  const char* sql = change.erased
      ? "DELETE FROM bridge_inflight WHERE leg=?1 AND inbound=?2 AND packet_id=?3"
      : "INSERT OR REPLACE INTO bridge_inflight VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)";
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) {
    error = path_ + ": " + sqlite3_errmsg(db_);
    return false;
  }
  sqlite3_bind_int(s, 1, static_cast<int>(change.leg));
  sqlite3_bind_int(s, 2, client::isInbound(r.state) ? 1 : 0);
  sqlite3_bind_int(s, 3, r.packetId);
  if (!change.erased) {
    sqlite3_bind_int(s, 4, static_cast<int>(r.state));
    sqlite3_bind_int64(s, 5, static_cast<sqlite3_int64>(r.tag));
    sqlite3_bind_int64(s, 6, static_cast<sqlite3_int64>(r.sequence));
    sqlite3_bind_text(s, 7, r.message.topic.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(s, 8, r.message.payload.data(), static_cast<int>(r.message.payload.size()),
                      SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 9, r.message.qos);
    sqlite3_bind_int(s, 10, r.message.retain ? 1 : 0);
    sqlite3_bind_blob(s, 11, r.message.properties.data(),
                      static_cast<int>(r.message.properties.size()), SQLITE_TRANSIENT);
  }
  const bool ok = sqlite3_step(s) == SQLITE_DONE;
  if (!ok) error = path_ + ": " + sqlite3_errmsg(db_);
  sqlite3_finalize(s);
  return ok;
}

bool SqliteBridgeJournal::commit(std::string& error) {
  if (pending_.empty()) return true;
  if (!exec("BEGIN IMMEDIATE", error)) return false;
  for (const Change& change : pending_) {
    if (!write(change, error)) {
      std::string ignored;
      exec("ROLLBACK", ignored);
      return false;
    }
  }
  if (!exec("COMMIT", error)) return false;
  applyPending();
  return true;
}

}  // namespace

std::unique_ptr<BridgeJournal> openSqliteJournal(const std::string& path, bool fullSync,
                                                 std::string& error) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                      nullptr) != SQLITE_OK) {
    error = "cannot open the bridge journal " + path + ": " +
            (db != nullptr ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return nullptr;
  }
  auto journal = std::make_unique<SqliteBridgeJournal>(db, path);
  std::string problem;
  const char* sync = fullSync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL";
  char* message = nullptr;
  for (const char* sql : {"PRAGMA journal_mode=WAL", sync, kSchema}) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
      error = "cannot use " + path + " as a bridge journal: " +
              (message != nullptr ? message : "unknown error");
      sqlite3_free(message);
      return nullptr;
    }
  }
  if (!journal->load(error)) return nullptr;
  return journal;
}

}  // namespace midge::bridge
