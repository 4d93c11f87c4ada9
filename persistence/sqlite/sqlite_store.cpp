#include "persistence/sqlite/sqlite_store.hpp"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "persistence/sqlite/sqlite_schema.hpp"

namespace midge::store {

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
    " will_topic, will_payload, will_properties, will_qos, will_retain, will_delay)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
    " ON CONFLICT(client_id) DO UPDATE SET protocol_version = excluded.protocol_version,"
    " expiry_seconds = excluded.expiry_seconds, disconnected_at = excluded.disconnected_at,"
    " will_topic = excluded.will_topic, will_payload = excluded.will_payload,"
    " will_properties = excluded.will_properties, will_qos = excluded.will_qos,"
    " will_retain = excluded.will_retain, will_delay = excluded.will_delay",
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
    " will_payload, will_properties, will_qos, will_retain, will_delay"
    " FROM sessions ORDER BY client_id",
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

// The WAL is truncated back to this after a checkpoint, so one large turn does not leave
// a large file behind on a small flash partition.
constexpr const char* kJournalSizeLimit = "PRAGMA journal_size_limit = 4194304";
// Long enough to ride out an operator's `sqlite3 .backup` taking its read snapshot, short
// enough not to stall the event loop noticeably.
constexpr int kBusyTimeoutMs = 250;

struct DatabaseCloser {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using Database = std::unique_ptr<sqlite3, DatabaseCloser>;

struct StatementFinalizer {
  void operator()(sqlite3_stmt* statement) const noexcept { sqlite3_finalize(statement); }
};
using OwnedStatement = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

std::string sqliteProblem(sqlite3* db, int rc) {
  std::string problem = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  int primary = rc & 0xff;
  int systemError = db != nullptr ? sqlite3_system_errno(db) : 0;
  if ((primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN) && systemError != 0) {
    problem += " (";
    problem += std::strerror(systemError);
    problem += ")";
  }
  return problem;
}

std::string refusal(const std::string& path, const std::string& problem) {
  return path + ": " + problem + "; refusing to open (the file was left as it is)";
}

// What SQLite's answer to the first read means for an operator.
std::string readProblem(sqlite3* db, int rc) {
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
      return "file is not a database (its header is not SQLite's: garbage, encrypted, or "
             "another kind of file)";
    case SQLITE_CORRUPT:
      return "the file is truncated or damaged (" + sqliteProblem(db, rc) +
             "); restore it from a backup";
    default:
      return "cannot read the file: " + sqliteProblem(db, rc);
  }
}

std::string parentDirectory(const std::string& path) {
  std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// SQLite reports most of these as "unable to open database file"; checking first lets the
// message say which of them it is.
bool checkPath(const std::string& path, std::string& error) {
  std::string directory = parentDirectory(path);
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0) {
    if (S_ISDIR(info.st_mode)) {
      error = path + ": is a directory, not a store file";
      return false;
    }
    if (!S_ISREG(info.st_mode)) {
      error = path + ": is not a regular file";
      return false;
    }
    if (::access(path.c_str(), R_OK | W_OK) != 0) {
      int cause = errno;
      error = path + (cause == EROFS ? ": the file system is read-only"
                                     : ": no read and write access to the file (" +
                                           std::string(std::strerror(cause)) + ")");
      return false;
    }
  } else {
    int cause = errno;
    if (cause == ENOTDIR) {
      error = path + ": a component of the path is not a directory";
      return false;
    }
    if (cause != ENOENT) {
      error = path + ": cannot access the file (" + std::string(std::strerror(cause)) + ")";
      return false;
    }
    struct stat directoryInfo {};
    if (::stat(directory.c_str(), &directoryInfo) != 0) {
      int directoryCause = errno;
      error = path + (directoryCause == ENOENT
                          ? ": directory " + directory + " does not exist"
                          : ": cannot access directory " + directory + " (" +
                                std::string(std::strerror(directoryCause)) + ")");
      return false;
    }
    if (!S_ISDIR(directoryInfo.st_mode)) {
      error = path + ": " + directory + " is not a directory";
      return false;
    }
  }
  // WAL mode keeps two files beside the store (-wal, -shm) and creates them as needed.
  if (::access(directory.c_str(), W_OK | X_OK) != 0) {
    int cause = errno;
    error = path + (cause == EROFS ? ": the file system is read-only"
                                   : ": directory " + directory + " is not writable (" +
                                         std::string(std::strerror(cause)) + ")");
    return false;
  }
  return true;
}

// Runs a statement that returns one row and takes its first column as text.
int queryText(sqlite3* db, const char* sql, std::string& out) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
  OwnedStatement statement(raw);
  if (rc != SQLITE_OK) return rc;
  rc = sqlite3_step(raw);
  if (rc != SQLITE_ROW) return rc == SQLITE_DONE ? SQLITE_MISMATCH : rc;
  const unsigned char* text = sqlite3_column_text(raw, 0);
  out = text != nullptr ? reinterpret_cast<const char*>(text) : "";
  return SQLITE_OK;
}

int queryInteger(sqlite3* db, const char* sql, std::int64_t& out) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
  OwnedStatement statement(raw);
  if (rc != SQLITE_OK) return rc;
  rc = sqlite3_step(raw);
  if (rc != SQLITE_ROW) return rc == SQLITE_DONE ? SQLITE_MISMATCH : rc;
  out = sqlite3_column_int64(raw, 0);
  return SQLITE_OK;
}

struct FileIdentity {
  std::int64_t applicationId = 0;
  std::int64_t userVersion = 0;
  std::int64_t schemaObjects = 0;
};

// The first read of the file: this is where garbage, truncation and foreign files show.
int readIdentity(sqlite3* db, FileIdentity& identity) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db,
                              "SELECT (SELECT application_id FROM pragma_application_id),"
                              " (SELECT user_version FROM pragma_user_version),"
                              " (SELECT count(*) FROM sqlite_schema)",
                              -1, &raw, nullptr);
  OwnedStatement statement(raw);
  if (rc != SQLITE_OK) return rc;
  rc = sqlite3_step(raw);
  if (rc != SQLITE_ROW) return rc;
  identity.applicationId = sqlite3_column_int64(raw, 0);
  identity.userVersion = sqlite3_column_int64(raw, 1);
  identity.schemaObjects = sqlite3_column_int64(raw, 2);
  return SQLITE_OK;
}

// quick_check verifies page structure and constraints without the full index cross-check
// of integrity_check: linear in the file size, fast enough for every start.
bool quickCheck(sqlite3* db, const std::string& path, std::string& error) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(5)", -1, &raw, nullptr);
  OwnedStatement statement(raw);
  std::string findings;
  while (rc == SQLITE_OK || rc == SQLITE_ROW) {
    rc = sqlite3_step(raw);
    if (rc != SQLITE_ROW) break;
    const unsigned char* text = sqlite3_column_text(raw, 0);
    std::string line = text != nullptr ? reinterpret_cast<const char*>(text) : "";
    if (line == "ok") continue;
    if (!findings.empty()) findings += "; ";
    findings += line;
  }
  if (rc != SQLITE_DONE) {
    error = refusal(path, readProblem(db, rc));
    return false;
  }
  if (!findings.empty()) {
    error = refusal(path, "the database is damaged (quick_check: " + findings +
                              "); restore it from a backup");
    return false;
  }
  return true;
}

bool identityAcceptable(const FileIdentity& identity, const std::string& path,
                        std::string& error) {
  if (identity.applicationId != 0 && identity.applicationId != sqlite_schema::kApplicationId) {
    error = refusal(path, "the database belongs to another application (application_id " +
                              std::to_string(identity.applicationId) + ")");
    return false;
  }
  if (identity.userVersion > sqlite_schema::latestVersion()) {
    error = refusal(path, "created by a newer Midge (schema " +
                              std::to_string(identity.userVersion) + ", this build reads up to " +
                              std::to_string(sqlite_schema::latestVersion()) + ")");
    return false;
  }
  if (identity.userVersion < 0 || (identity.userVersion == 0 && identity.schemaObjects > 0)) {
    error = refusal(path, "an SQLite database, but not a Midge store (it has tables and no "
                          "Midge schema version)");
    return false;
  }
  return true;
}

bool configure(sqlite3* db, const SqliteOptions& options, std::string& error) {
  std::string mode;
  int rc = queryText(db, "PRAGMA journal_mode = WAL", mode);
  if (rc != SQLITE_OK) {
    error = options.path + ": cannot switch to WAL mode: " + sqliteProblem(db, rc);
    return false;
  }
  if (mode != "wal") {
    error = options.path + ": the file system does not support WAL mode (journal mode is " +
            mode + "); put the store on a local file system";
    return false;
  }
  const char* sync = options.sync == SqliteOptions::Sync::Full ? "PRAGMA synchronous = FULL"
                                                               : "PRAGMA synchronous = NORMAL";
  std::string problem;
  if (!sqlite_schema::execute(db, sync, problem) ||
      !sqlite_schema::execute(db, "PRAGMA temp_store = MEMORY", problem) ||
      !sqlite_schema::execute(db, kJournalSizeLimit, problem)) {
    error = options.path + ": cannot configure the connection: " + problem;
    return false;
  }
  if (options.maxSizeBytes > 0) {
    std::int64_t pageSize = 0;
    rc = queryInteger(db, "PRAGMA page_size", pageSize);
    if (rc != SQLITE_OK || pageSize <= 0) {
      error = options.path + ": cannot read the page size: " + sqliteProblem(db, rc);
      return false;
    }
    std::uint64_t pages = options.maxSizeBytes / static_cast<std::uint64_t>(pageSize);
    std::string cap = "PRAGMA max_page_count = " + std::to_string(pages > 0 ? pages : 1);
    if (!sqlite_schema::execute(db, cap.c_str(), problem)) {
      error = options.path + ": cannot set the size cap: " + problem;
      return false;
    }
  }
  return true;
}

// Binds parameters left to right and remembers the first failure, so a write reads as one
// chain and is checked once.
class Binder {
 public:
  explicit Binder(sqlite3_stmt* statement) : statement_(statement) {}

  // SQLITE_STATIC is safe: every write binds, steps and resets within one call, while the
  // caller's record is alive.
  Binder& text(std::string_view value) {
    // An empty view may carry a null pointer, which SQLite would store as NULL.
    const char* data = value.data() != nullptr ? value.data() : "";
    return check(sqlite3_bind_text64(statement_, next(), data, value.size(), SQLITE_STATIC,
                                     SQLITE_UTF8));
  }
  Binder& blob(const std::vector<std::uint8_t>& value) {
    if (value.empty()) return check(sqlite3_bind_zeroblob(statement_, next(), 0));
    return check(
        sqlite3_bind_blob64(statement_, next(), value.data(), value.size(), SQLITE_STATIC));
  }
  Binder& integer(std::int64_t value) {
    return check(sqlite3_bind_int64(statement_, next(), value));
  }
  Binder& id(std::uint64_t value) { return integer(static_cast<std::int64_t>(value)); }
  Binder& null() { return check(sqlite3_bind_null(statement_, next())); }
  int status() const noexcept { return status_; }

 private:
  int next() noexcept { return ++index_; }
  Binder& check(int rc) {
    if (status_ == SQLITE_OK) status_ = rc;
    return *this;
  }

  sqlite3_stmt* statement_;
  int index_ = 0;
  int status_ = SQLITE_OK;
};

std::string textColumn(sqlite3_stmt* statement, int column) {
  const unsigned char* text = sqlite3_column_text(statement, column);
  int size = sqlite3_column_bytes(statement, column);
  if (text == nullptr || size <= 0) return {};
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

std::vector<std::uint8_t> blobColumn(sqlite3_stmt* statement, int column) {
  const void* data = sqlite3_column_blob(statement, column);
  int size = sqlite3_column_bytes(statement, column);
  if (data == nullptr || size <= 0) return {};
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  return std::vector<std::uint8_t>(bytes, bytes + size);
}

// A column that must be an integer within [low, high]; anything else is a row no Midge
// wrote, and loading it would hand the engine nonsense.
template <typename T>
bool integerColumn(sqlite3_stmt* statement, int column, std::int64_t low, std::int64_t high,
                   T& out) {
  if (sqlite3_column_type(statement, column) != SQLITE_INTEGER) return false;
  std::int64_t value = sqlite3_column_int64(statement, column);
  if (value < low || value > high) return false;
  out = static_cast<T>(value);
  return true;
}

bool idColumn(sqlite3_stmt* statement, int column, std::uint64_t& out) {
  if (sqlite3_column_type(statement, column) != SQLITE_INTEGER) return false;
  out = static_cast<std::uint64_t>(sqlite3_column_int64(statement, column));
  return true;
}

constexpr std::int64_t kUint16Max = 0xFFFF;
constexpr std::int64_t kUint32Max = 0xFFFFFFFF;
constexpr std::int64_t kInt64Min = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();

void encodeSubscriptionIds(const std::vector<std::uint32_t>& ids,
                           std::vector<std::uint8_t>& out) {
  out.clear();
  for (std::uint32_t id : ids) {
    for (int shift = 0; shift < 32; shift += 8) {
      out.push_back(static_cast<std::uint8_t>(id >> shift));
    }
  }
}

bool decodeSubscriptionIds(const std::vector<std::uint8_t>& bytes,
                           std::vector<std::uint32_t>& out) {
  if (bytes.size() % 4 != 0) return false;
  out.clear();
  for (std::size_t i = 0; i < bytes.size(); i += 4) {
    out.push_back(static_cast<std::uint32_t>(bytes[i]) |
                  static_cast<std::uint32_t>(bytes[i + 1]) << 8 |
                  static_cast<std::uint32_t>(bytes[i + 2]) << 16 |
                  static_cast<std::uint32_t>(bytes[i + 3]) << 24);
  }
  return true;
}

bool readSession(sqlite3_stmt* row, Snapshot& out) {
  SessionRecord session;
  session.clientId = textColumn(row, 0);
  if (!integerColumn(row, 1, 3, 5, session.protocolVersion) ||
      !integerColumn(row, 2, 0, kUint32Max, session.expirySeconds) ||
      !integerColumn(row, 3, kInt64Min, kInt64Max, session.disconnectedAt)) {
    return false;
  }
  if (sqlite3_column_type(row, 4) != SQLITE_NULL) {
    WillRecord will;
    will.topic = textColumn(row, 4);
    will.payload = blobColumn(row, 5);
    will.properties = blobColumn(row, 6);
    if (!integerColumn(row, 7, 0, 2, will.qos) || !integerColumn(row, 8, 0, 1, will.retain) ||
        !integerColumn(row, 9, 0, kUint32Max, will.delaySeconds)) {
      return false;
    }
    session.will = std::move(will);
  }
  out.sessions.push_back(std::move(session));
  return true;
}

bool readSubscription(sqlite3_stmt* row, Snapshot& out) {
  SubscriptionRecord subscription;
  subscription.clientId = textColumn(row, 0);
  subscription.filter = textColumn(row, 1);
  if (!integerColumn(row, 2, 0, 0xFF, subscription.options) ||
      !integerColumn(row, 3, 0, kUint32Max, subscription.identifier)) {
    return false;
  }
  out.subscriptions.push_back(std::move(subscription));
  return true;
}

bool readMessage(sqlite3_stmt* row, Snapshot& out) {
  MessageRecord message;
  message.topic = textColumn(row, 1);
  message.payload = blobColumn(row, 2);
  message.properties = blobColumn(row, 3);
  if (!idColumn(row, 0, message.id) || !integerColumn(row, 4, 0, 2, message.qos) ||
      !integerColumn(row, 5, 0, 1, message.retain) ||
      !integerColumn(row, 6, kInt64Min, kInt64Max, message.expiresAt)) {
    return false;
  }
  out.messages.push_back(std::move(message));
  return true;
}

bool readDelivery(sqlite3_stmt* row, Snapshot& out) {
  DeliveryRecord delivery;
  delivery.clientId = textColumn(row, 0);
  std::uint8_t state = 0;
  if (!idColumn(row, 1, delivery.sequence) || !idColumn(row, 2, delivery.messageId) ||
      !integerColumn(row, 3, 0, kUint16Max, delivery.packetId) ||
      !integerColumn(row, 4, 0, 2, delivery.qos) ||
      !integerColumn(row, 5, 0, 1, delivery.retain) ||
      !integerColumn(row, 6, 0, static_cast<std::int64_t>(DeliveryState::PubrelSent), state) ||
      !decodeSubscriptionIds(blobColumn(row, 7), delivery.subscriptionIds)) {
    return false;
  }
  delivery.state = static_cast<DeliveryState>(state);
  out.deliveries.push_back(std::move(delivery));
  return true;
}

bool readInboundQos2(sqlite3_stmt* row, Snapshot& out) {
  InboundQos2Record record;
  record.clientId = textColumn(row, 0);
  if (!integerColumn(row, 1, 1, kUint16Max, record.packetId)) return false;
  out.inboundQos2.push_back(std::move(record));
  return true;
}

bool readRetained(sqlite3_stmt* row, Snapshot& out) {
  RetainedRecord retained;
  retained.topic = textColumn(row, 0);
  if (!idColumn(row, 1, retained.messageId)) return false;
  out.retained.push_back(std::move(retained));
  return true;
}

}  // namespace

std::unique_ptr<SqliteStore> SqliteStore::open(const SqliteOptions& options,
                                               std::string& error) {
  error.clear();
  const std::string& path = options.path;
  if (path.empty()) {
    error = "store path is empty";
    return nullptr;
  }
  if (!checkPath(path, error)) return nullptr;

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
  FileIdentity identity;
  rc = readIdentity(raw, identity);
  if (rc != SQLITE_OK) {
    error = refusal(path, readProblem(raw, rc));
    return nullptr;
  }
  if (!identityAcceptable(identity, path, error)) return nullptr;
  if (!quickCheck(raw, path, error)) return nullptr;

  if (!configure(raw, options, error)) return nullptr;
  std::string problem;
  if (!sqlite_schema::migrate(raw, static_cast<int>(identity.userVersion), problem)) {
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
  encodeSubscriptionIds(delivery.subscriptionIds, subscriptionIdBytes_);
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
      {Statement::LoadSessions, "sessions", readSession},
      {Statement::LoadSubscriptions, "subscriptions", readSubscription},
      {Statement::LoadMessages, "messages", readMessage},
      {Statement::LoadDeliveries, "deliveries", readDelivery},
      {Statement::LoadInboundQos2, "inbound_qos2", readInboundQos2},
      {Statement::LoadRetained, "retained", readRetained},
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
