// SPDX-License-Identifier: Apache-2.0
// Configuration read from disk: the main file, include_dir, unreadable files, and a
// complete Mosquitto 2 deployment file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/broker/config_test_support.hpp"

namespace midge::config::test {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "midge-config-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string write(const std::string& relative, const std::string& text) const {
    const fs::path file = path_ / relative;
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
    return file.string();
  }
  std::string path(const std::string& relative = "") const { return (path_ / relative).string(); }

 private:
  fs::path path_;
};

struct FileParse {
  bool ok = false;
  Config config;
  std::vector<Diagnostic> diags;
};

FileParse parsePath(const std::string& path) {
  FileParse result;
  result.ok = parseFile(path, result.config, result.diags);
  return result;
}

TEST(ConfigFile, ValuesAreReadFromDisk) {
  TempDir dir;
  const std::string main = dir.write("midge.conf", "listener 1999\nmax_queued_messages 77\n");
  const FileParse parsed = parsePath(main);
  ASSERT_TRUE(parsed.ok);
  EXPECT_EQ(parsed.config.listeners.at(0).port, 1999);
  EXPECT_EQ(parsed.config.maxQueuedMessages, 77u);
  EXPECT_EQ(parsed.config.filesRead, std::vector<std::string>{main});
}

TEST(ConfigFile, UnknownKeywordNamesFileAndLine) {
  TempDir dir;
  const std::string main =
      dir.write("midge.conf", "# header\nlistener 1883\n\nmax_inflight_msgs 10\n");
  const FileParse parsed = parsePath(main);
  ASSERT_FALSE(parsed.ok);
  ASSERT_EQ(parsed.diags.size(), 1u);
  EXPECT_EQ(parsed.diags[0].file, main);
  EXPECT_EQ(parsed.diags[0].line, 4);
  EXPECT_EQ(toString(parsed.diags[0]),
            main + ":4: error: unknown configuration keyword 'max_inflight_msgs'");
}

// Mosquitto's rule: a bridge section ends with its file. An included file starts outside
// any section, and the main file's section goes on after include_dir.
TEST(ConfigFile, BridgeSectionsDoNotCrossFileBoundaries) {
  TempDir dir;
  dir.write("conf.d/a.conf", "connection inner\naddress inner.example\ntopic a/# out\n");
  const std::string main = dir.write(
      "midge.conf", "listener 1883\nconnection outer\naddress outer.example\ninclude_dir " +
                        dir.path("conf.d") + "\ntopic b/# in\n");
  const FileParse parsed = parsePath(main);
  ASSERT_TRUE(parsed.ok) << (parsed.diags.empty() ? "" : toString(parsed.diags[0]));
  ASSERT_EQ(parsed.config.bridges.size(), 2u);
  EXPECT_EQ(parsed.config.bridges[0].name, "outer");
  EXPECT_EQ(parsed.config.bridges[0].topics.at(0).pattern, "b/#");
  EXPECT_EQ(parsed.config.bridges[1].name, "inner");
  EXPECT_EQ(parsed.config.bridges[1].topics.size(), 1u);

  const std::string stray = dir.write("stray.d/b.conf", "topic c/# out\n");
  const std::string second = dir.write(
      "second.conf", "listener 1883\n" "connection outer\naddress outer.example\n"
                     "topic b/# in\ninclude_dir " + dir.path("stray.d") + "\n");
  const FileParse refused = parsePath(second);
  ASSERT_FALSE(refused.ok);
  EXPECT_EQ(refused.diags.at(0).file, stray);
  EXPECT_EQ(refused.diags.at(0).line, 1);
  EXPECT_NE(refused.diags.at(0).message.find("outside a bridge section"), std::string::npos);
}

TEST(ConfigFile, MissingFileIsFatal) {
  TempDir dir;
  const FileParse parsed = parsePath(dir.path("absent.conf"));
  ASSERT_FALSE(parsed.ok);
  ASSERT_EQ(parsed.diags.size(), 1u);
  EXPECT_TRUE(parsed.diags[0].fatal);
  EXPECT_EQ(parsed.diags[0].line, 0);
  EXPECT_NE(parsed.diags[0].message.find("No such file"), std::string::npos);
}

TEST(ConfigFile, DirectoryInsteadOfFileIsFatal) {
  TempDir dir;
  const FileParse parsed = parsePath(dir.path());
  ASSERT_FALSE(parsed.ok);
  EXPECT_NE(parsed.diags.at(0).message.find("directory"), std::string::npos);
}

TEST(ConfigFile, FileWithoutReadPermissionIsFatal) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads files regardless of permissions";
  TempDir dir;
  const std::string main = dir.write("secret.conf", "listener 1883\n");
  fs::permissions(main, fs::perms::none);
  const FileParse parsed = parsePath(main);
  ASSERT_FALSE(parsed.ok);
  EXPECT_NE(parsed.diags.at(0).message.find("Permission denied"), std::string::npos);
}

TEST(IncludeDir, FilesLoadInMosquittoOrderAndLaterOnesWin) {
  TempDir dir;
  for (const char* name : {"b.conf", "B.conf", "a.conf", "A.conf", "01.conf", "00.conf"}) {
    dir.write(std::string("conf.d/") + name, std::string("user from-") + name + "\n");
  }
  dir.write("conf.d/notes.txt", "this is not configuration\n");
  dir.write("conf.d/disabled.conf.bak", "neither is this\n");
  const std::string main = dir.write("midge.conf", "listener 1883\ninclude_dir " +
                                                       dir.path("conf.d") + "\n");
  const FileParse parsed = parsePath(main);
  ASSERT_TRUE(parsed.ok) << parsed.diags.size();
  std::vector<std::string> loaded;
  for (const auto& file : parsed.config.filesRead) loaded.push_back(fs::path(file).filename());
  EXPECT_EQ(loaded, (std::vector<std::string>{"midge.conf", "00.conf", "01.conf", "A.conf",
                                              "a.conf", "B.conf", "b.conf"}));
  EXPECT_EQ(parsed.config.user, "from-b.conf");
}

TEST(IncludeDir, ErrorInIncludedFileNamesThatFileAndLine) {
  TempDir dir;
  const std::string bad = dir.write("conf.d/limits.conf", "max_qos 1\n\nmax_keepalive -4\n");
  const std::string main =
      dir.write("midge.conf", "listener 1883\ninclude_dir " + dir.path("conf.d") + "\n");
  const FileParse parsed = parsePath(main);
  ASSERT_FALSE(parsed.ok);
  const Diagnostic* fatal = nullptr;
  for (const auto& d : parsed.diags) {
    if (d.fatal) fatal = &d;
  }
  ASSERT_NE(fatal, nullptr);
  EXPECT_EQ(fatal->file, bad);
  EXPECT_EQ(fatal->line, 3);
}

TEST(IncludeDir, PerListenerKeywordsInIncludedFileApplyToTheCurrentListener) {
  TempDir dir;
  dir.write("conf.d/tls.conf", "listener 8883\ncertfile /c\nkeyfile /k\n");
  const std::string main =
      dir.write("midge.conf", "listener 1883\ninclude_dir " + dir.path("conf.d") + "\n");
  const FileParse parsed = parsePath(main);
  ASSERT_TRUE(parsed.ok);
  ASSERT_EQ(parsed.config.listeners.size(), 2u);
  EXPECT_TRUE(parsed.config.listeners[1].tls.has_value());
  EXPECT_EQ(parsed.config.listeners[1].definedAt, dir.path("conf.d/tls.conf") + ":1");
}

TEST(IncludeDir, NestedIncludeDirIsIgnoredWithAWarning) {
  TempDir dir;
  dir.write("deeper/x.conf", "max_qos 1\n");
  dir.write("conf.d/a.conf", "include_dir " + dir.path("deeper") + "\n");
  const std::string main =
      dir.write("midge.conf", "listener 1883\ninclude_dir " + dir.path("conf.d") + "\n");
  const FileParse parsed = parsePath(main);
  ASSERT_TRUE(parsed.ok);
  EXPECT_EQ(parsed.config.filesRead.size(), 2u);
  ASSERT_EQ(parsed.diags.size(), 1u);
  EXPECT_FALSE(parsed.diags[0].fatal);
  EXPECT_EQ(parsed.diags[0].file, dir.path("conf.d/a.conf"));
}

TEST(IncludeDir, DirectoryHoldingTheMainFileIsRefused) {
  TempDir dir;
  const std::string main =
      dir.write("midge.conf", "listener 1883\ninclude_dir " + dir.path() + "\n");
  const FileParse parsed = parsePath(main);
  ASSERT_FALSE(parsed.ok);
  EXPECT_EQ(parsed.diags.at(0).line, 2);
  EXPECT_NE(parsed.diags.at(0).message.find("main configuration file"), std::string::npos);
}

TEST(IncludeDir, UnreadableDirectoryIsFatalAtTheIncludeLine) {
  TempDir dir;
  const std::string main =
      dir.write("midge.conf", "listener 1883\n\ninclude_dir " + dir.path("absent.d") + "\n");
  const FileParse parsed = parsePath(main);
  ASSERT_FALSE(parsed.ok);
  EXPECT_EQ(parsed.diags.at(0).file, main);
  EXPECT_EQ(parsed.diags.at(0).line, 3);
}

TEST(SampleFile, TypicalMosquitto2DeploymentLoadsUnchanged) {
  const FileParse parsed = parsePath(MIDGE_CONFIG_SAMPLES "/mosquitto2-deployment.conf");
  std::string messages;
  for (const auto& d : parsed.diags) messages += toString(d) + "\n";
  ASSERT_TRUE(parsed.ok) << messages;
  EXPECT_TRUE(parsed.diags.empty()) << messages;

  const Config& c = parsed.config;
  EXPECT_FALSE(c.localOnly);
  ASSERT_EQ(c.listeners.size(), 2u);
  EXPECT_EQ(c.listeners[0].port, 1883);
  EXPECT_EQ(c.listeners[0].bindAddress, "127.0.0.1");
  EXPECT_FALSE(c.listeners[0].tls.has_value());
  EXPECT_EQ(c.listeners[1].port, 8883);
  EXPECT_EQ(c.listeners[1].maxConnections, 5000);
  ASSERT_TRUE(c.listeners[1].tls.has_value());
  EXPECT_EQ(c.listeners[1].tls->certFile, "/etc/mosquitto/certs/server.crt");
  EXPECT_EQ(c.listeners[1].tls->keyFile, "/etc/mosquitto/certs/server.key");
  EXPECT_EQ(c.listeners[1].tls->caFile, "/etc/mosquitto/ca_certificates/ca.crt");
  EXPECT_EQ(c.listeners[1].tls->minVersion, TlsVersion::V1_2);
  for (const auto& listener : c.listeners) {
    EXPECT_FALSE(listener.security.allowAnonymous);
    EXPECT_EQ(listener.security.passwordFile, "/etc/mosquitto/passwd");
    EXPECT_EQ(listener.security.aclFile, "/etc/mosquitto/acl");
  }
  EXPECT_TRUE(c.persistence);
  EXPECT_EQ(persistenceFilePath(c), "/var/lib/mosquitto/midge.db");
  EXPECT_EQ(c.persistentClientExpirationSeconds, 14u * 86400u);
  EXPECT_EQ(c.log.file, "/var/log/mosquitto/mosquitto.log");
  EXPECT_TRUE(c.log.toSyslog);
  EXPECT_FALSE(c.log.toStderr);
  EXPECT_FALSE(c.log.types.debug);
  EXPECT_EQ(c.maxInflightMessages, 40);
  EXPECT_EQ(c.maxQueuedMessages, 5000u);
  EXPECT_EQ(c.messageSizeLimit, 1048576u);
  EXPECT_EQ(c.user, "mosquitto");
  EXPECT_EQ(c.pidFile, "/run/mosquitto/mosquitto.pid");
}

}  // namespace
}  // namespace midge::config::test
