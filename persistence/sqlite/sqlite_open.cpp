// SPDX-License-Identifier: Apache-2.0
#include "persistence/sqlite/sqlite_open.hpp"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "persistence/sqlite/sqlite_schema.hpp"

namespace midge::store::sqlite_detail {

// The WAL is truncated back to this after a checkpoint, so one large turn does not leave
// a large file behind on a small flash partition.
constexpr const char* kJournalSizeLimit = "PRAGMA journal_size_limit = 4194304";

void StatementFinalizer::operator()(sqlite3_stmt* statement) const noexcept {
  sqlite3_finalize(statement);
}

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

namespace {

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

}  // namespace

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

bool inspectFile(sqlite3* db, const std::string& path, int& userVersion, std::string& error) {
  FileIdentity identity;
  int rc = readIdentity(db, identity);
  if (rc != SQLITE_OK) {
    error = refusal(path, readProblem(db, rc));
    return false;
  }
  if (!identityAcceptable(identity, path, error) || !quickCheck(db, path, error)) return false;
  userVersion = static_cast<int>(identity.userVersion);
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

}  // namespace midge::store::sqlite_detail
