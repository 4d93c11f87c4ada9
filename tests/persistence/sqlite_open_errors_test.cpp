// SPDX-License-Identifier: Apache-2.0
// Every way the store file can be unusable at start-up: open() must fail with a message
// that names the file and the problem, and must leave an existing file exactly as it was.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "persistence/sqlite/sqlite_store.hpp"
#include "tests/persistence/sqlite_test_support.hpp"
#include "tests/persistence/store_test_support.hpp"

namespace midge::store::testing {
namespace {

class SqliteOpenErrors : public ::testing::Test {
 protected:
  // A valid store with a few pages of data, closed cleanly (WAL folded back in).
  std::string makeValidStore(const std::string& name) {
    std::string path = directory_.file(name);
    auto store = openStore(path);
    for (std::uint64_t id = 1; id <= 20; ++id) {
      MessageRecord bulky = message(id);
      bulky.payload.assign(1000, static_cast<std::uint8_t>(id));
      store->saveSession(session("client-" + std::to_string(id)));
      store->saveMessage(bulky);
      store->saveDelivery(delivery("client-" + std::to_string(id), 1, id));
    }
    EXPECT_TRUE(store->commit().ok()) << store->lastError();
    return path;
  }

  // Opens `path`, expects failure, and returns the message.
  std::string expectOpenFails(const std::string& path) {
    SqliteOptions options;
    options.path = path;
    std::string error;
    std::unique_ptr<SqliteStore> store = SqliteStore::open(options, error);
    EXPECT_EQ(store, nullptr);
    EXPECT_NE(error.find(path), std::string::npos) << "the message names the file: " << error;
    return error;
  }

  // The refused file, and no leftovers beside it, are exactly as before.
  void expectUnchanged(const std::string& path, const std::vector<char>& before) {
    EXPECT_EQ(readFile(path), before) << path << " was modified";
    EXPECT_FALSE(std::filesystem::exists(path + "-wal")) << "a WAL was left beside it";
  }

  static bool runningAsRoot() { return ::geteuid() == 0; }

  TempDir directory_;
};

TEST_F(SqliteOpenErrors, FileTruncatedToHalf) {
  std::string path = makeValidStore("half.db");
  std::vector<char> content = readFile(path);
  ASSERT_GT(content.size(), 8192u);
  content.resize(content.size() / 2);
  writeFile(path, content);

  std::string error = expectOpenFails(path);
  EXPECT_NE(error.find("malformed"), std::string::npos) << error;
  EXPECT_NE(error.find("refusing to open"), std::string::npos) << error;
  expectUnchanged(path, content);
}

TEST_F(SqliteOpenErrors, FileTruncatedToItsHeader) {
  std::string path = makeValidStore("header-only.db");
  std::vector<char> content = readFile(path);
  content.resize(100);
  writeFile(path, content);

  std::string error = expectOpenFails(path);
  EXPECT_NE(error.find("malformed"), std::string::npos) << error;
  expectUnchanged(path, content);
}

TEST_F(SqliteOpenErrors, GarbageHeader) {
  std::string path = directory_.file("garbage.db");
  std::mt19937 random(20240611);
  std::vector<char> content(8192);
  for (char& byte : content) byte = static_cast<char>(random() & 0xFF);
  writeFile(path, content);

  std::string error = expectOpenFails(path);
  EXPECT_NE(error.find("file is not a database"), std::string::npos) << error;
  expectUnchanged(path, content);
}

TEST_F(SqliteOpenErrors, TextFileInsteadOfAStore) {
  std::string path = directory_.file("midge.conf");
  std::string text = "listener 1883\npersistence true\n";
  std::vector<char> content(text.begin(), text.end());
  writeFile(path, content);

  std::string error = expectOpenFails(path);
  EXPECT_NE(error.find("file is not a database"), std::string::npos) << error;
  expectUnchanged(path, content);
}

TEST_F(SqliteOpenErrors, DamagedPageInsideTheFile) {
  std::string path = makeValidStore("damaged.db");
  std::vector<char> content = readFile(path);
  RawDatabase probe(path);
  std::int64_t pageSize = probe.integer("PRAGMA page_size");
  ASSERT_GT(content.size(), static_cast<std::size_t>(pageSize) * 4);
  // Scribble over the b-tree header of page 3, leaving the file header intact.
  for (std::int64_t i = 0; i < 64; ++i) content[static_cast<std::size_t>(2 * pageSize + i)] = 0x7F;
  writeFile(path, content);

  std::string error = expectOpenFails(path);
  EXPECT_TRUE(error.find("malformed") != std::string::npos ||
              error.find("damaged") != std::string::npos)
      << error;
  EXPECT_NE(error.find("backup"), std::string::npos) << "it says what to do: " << error;
  expectUnchanged(path, content);
}

TEST_F(SqliteOpenErrors, SchemaFromTheFuture) {
  std::string path = makeValidStore("future.db");
  {
    RawDatabase raw(path);
    raw.exec("PRAGMA user_version = 999");
  }
  std::vector<char> content = readFile(path);

  std::string error = expectOpenFails(path);
  EXPECT_NE(error.find("created by a newer Midge (schema 999, this build reads up to 2); "
                       "refusing to open"),
            std::string::npos)
      << error;
  expectUnchanged(path, content);
}

TEST_F(SqliteOpenErrors, AnotherApplicationsDatabase) {
  std::string path = directory_.file("other.db");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE contacts(name TEXT); INSERT INTO contacts "
                               "VALUES('x')", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  std::vector<char> content = readFile(path);

  std::string error = expectOpenFails(path);
  EXPECT_NE(error.find("not a Midge store"), std::string::npos) << error;
  expectUnchanged(path, content);
}

TEST_F(SqliteOpenErrors, PathIsADirectory) {
  std::string path = directory_.file("store.d");
  ASSERT_TRUE(std::filesystem::create_directory(path));
  std::string error = expectOpenFails(path);
  EXPECT_NE(error.find("is a directory"), std::string::npos) << error;
  EXPECT_TRUE(std::filesystem::is_directory(path));
}

TEST_F(SqliteOpenErrors, DirectoryDoesNotExist) {
  std::string path = directory_.file("missing/store.db");
  std::string error = expectOpenFails(path);
  EXPECT_NE(error.find("does not exist"), std::string::npos) << error;
  EXPECT_FALSE(std::filesystem::exists(directory_.file("missing")));
}

// Reachable by anyone, root included: a file where a directory should be.
TEST_F(SqliteOpenErrors, PathThroughARegularFile) {
  std::string blocker = directory_.file("not-a-dir");
  writeFile(blocker, {'x'});
  std::string path = blocker + "/store.db";
  std::string error = expectOpenFails(path);
  EXPECT_NE(error.find("not a directory"), std::string::npos) << error;
  EXPECT_EQ(readFile(blocker), std::vector<char>{'x'});
}

TEST_F(SqliteOpenErrors, UnreadableFile) {
  if (runningAsRoot()) GTEST_SKIP() << "root ignores file modes";
  std::string path = makeValidStore("locked.db");
  std::vector<char> content = readFile(path);
  ASSERT_EQ(::chmod(path.c_str(), 0), 0);
  std::string error = expectOpenFails(path);
  EXPECT_NE(error.find("Permission denied"), std::string::npos) << error;
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  expectUnchanged(path, content);
}

TEST_F(SqliteOpenErrors, WriteProtectedFile) {
  if (runningAsRoot()) GTEST_SKIP() << "root ignores file modes";
  std::string path = makeValidStore("readonly.db");
  std::vector<char> content = readFile(path);
  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
  std::string error = expectOpenFails(path);
  EXPECT_NE(error.find("write"), std::string::npos) << error;
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  expectUnchanged(path, content);
}

TEST_F(SqliteOpenErrors, ReadOnlyDirectory) {
  if (runningAsRoot()) GTEST_SKIP() << "root ignores directory modes";
  std::string subdirectory = directory_.file("sealed");
  ASSERT_TRUE(std::filesystem::create_directory(subdirectory));
  ASSERT_EQ(::chmod(subdirectory.c_str(), 0500), 0);
  std::string error = expectOpenFails(subdirectory + "/store.db");
  EXPECT_NE(error.find("not writable"), std::string::npos) << error;
  ASSERT_EQ(::chmod(subdirectory.c_str(), 0700), 0);
}

TEST_F(SqliteOpenErrors, EmptyPath) {
  std::string error;
  EXPECT_EQ(SqliteStore::open(SqliteOptions{}, error), nullptr);
  EXPECT_NE(error.find("empty"), std::string::npos) << error;
}

// A refused file stays refused: trying again (a restart loop under systemd) changes nothing.
TEST_F(SqliteOpenErrors, RepeatedAttemptsLeaveTheFileAlone) {
  std::string path = makeValidStore("again.db");
  std::vector<char> content = readFile(path);
  content.resize(content.size() / 2);
  writeFile(path, content);
  for (int attempt = 0; attempt < 3; ++attempt) expectOpenFails(path);
  expectUnchanged(path, content);
}

}  // namespace
}  // namespace midge::store::testing
