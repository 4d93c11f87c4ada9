// SPDX-License-Identifier: Apache-2.0
// Runs the built midge-passwd the way an operator would and checks the files it leaves.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "broker/auth/password_file.hpp"
#include "tests/broker/auth/test_support.hpp"

namespace midge::auth {
namespace {

using test::ProcessResult;
using test::readFile;
using test::runProcess;
using test::TempDir;
using test::writeFile;

ProcessResult passwd(const std::vector<std::string>& args, const std::string& input = "") {
  std::vector<std::string> argv = {MIDGE_PASSWD_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  return runProcess(argv, input);
}

PasswordFile loadOrFail(const std::string& path) {
  PasswordFile file;
  std::string error;
  if (!PasswordFile::load(path, file, error)) throw std::runtime_error(error);
  return file;
}

std::string lineOf(const std::string& text, const std::string& user) {
  std::size_t start = text.find(user + ":");
  if (start == std::string::npos) return "";
  return text.substr(start, text.find('\n', start) - start);
}

TEST(MidgePasswd, CreatesFileReadableOnlyByOwner) {
  TempDir dir;
  std::string path = dir.file("passwd");
  ProcessResult result = passwd({"-c", "-b", path, "alice", "secret"});
  ASSERT_EQ(result.exitCode, 0) << result.err;
  EXPECT_EQ(test::fileMode(path), 0600u);
  std::string text = readFile(path);
  EXPECT_EQ(text.rfind("alice:$7$101$", 0), 0u) << text;
  PasswordFile file = loadOrFail(path);
  EXPECT_TRUE(file.check("alice", asBytes("secret")));
  EXPECT_FALSE(file.check("alice", asBytes("wrong")));
}

TEST(MidgePasswd, SaltIsRandomForEachHash) {
  TempDir dir;
  ASSERT_EQ(passwd({"-c", "-b", dir.file("a"), "alice", "same"}).exitCode, 0);
  ASSERT_EQ(passwd({"-c", "-b", dir.file("b"), "alice", "same"}).exitCode, 0);
  EXPECT_NE(readFile(dir.file("a")), readFile(dir.file("b")));
}

TEST(MidgePasswd, AddsChangesAndDeletesUsersKeepingOtherLines) {
  TempDir dir;
  std::string path = dir.file("passwd");
  ASSERT_EQ(passwd({"-c", "-b", path, "alice", "secret"}).exitCode, 0);
  // An operator's comment and a blank line must survive every edit.
  writeFile(path, "# plant users\n\n" + readFile(path));

  ProcessResult added = passwd({path, "bob"}, "from stdin\n");  // stdin is a pipe here
  ASSERT_EQ(added.exitCode, 0) << added.err;
  std::string afterAdd = readFile(path);
  ASSERT_EQ(afterAdd.rfind("# plant users\n\nalice:", 0), 0u) << afterAdd;
  PasswordFile file = loadOrFail(path);
  EXPECT_TRUE(file.check("bob", asBytes("from stdin")));
  EXPECT_TRUE(file.check("alice", asBytes("secret")));

  ProcessResult changed = passwd({"-b", path, "alice", "rotated"});
  ASSERT_EQ(changed.exitCode, 0) << changed.err;
  std::string afterChange = readFile(path);
  file = loadOrFail(path);
  EXPECT_TRUE(file.check("alice", asBytes("rotated")));
  EXPECT_FALSE(file.check("alice", asBytes("secret")));
  EXPECT_EQ(lineOf(afterChange, "bob"), lineOf(afterAdd, "bob"));  // untouched, byte for byte
  EXPECT_LT(afterChange.find("alice:"), afterChange.find("bob:"));  // order kept

  ProcessResult deleted = passwd({"-D", path, "alice"});
  ASSERT_EQ(deleted.exitCode, 0) << deleted.err;
  file = loadOrFail(path);
  EXPECT_FALSE(file.hasUser("alice"));
  EXPECT_TRUE(file.check("bob", asBytes("from stdin")));
  EXPECT_EQ(readFile(path).rfind("# plant users\n\nbob:", 0), 0u);
}

TEST(MidgePasswd, StdinPasswordMayEndWithCrLfOrNothing) {
  TempDir dir;
  std::string path = dir.file("passwd");
  ASSERT_EQ(passwd({"-c", path, "alice"}, "windows\r\n").exitCode, 0);
  ASSERT_EQ(passwd({path, "bob"}, "no newline").exitCode, 0);
  PasswordFile file = loadOrFail(path);
  EXPECT_TRUE(file.check("alice", asBytes("windows")));
  EXPECT_TRUE(file.check("bob", asBytes("no newline")));
}

TEST(MidgePasswd, IterationOptionIsWrittenAndHonoured) {
  TempDir dir;
  std::string path = dir.file("passwd");
  ASSERT_EQ(passwd({"-I", "5000", "-c", "-b", path, "alice", "secret"}).exitCode, 0);
  EXPECT_EQ(readFile(path).rfind("alice:$7$5000$", 0), 0u);
  EXPECT_TRUE(loadOrFail(path).check("alice", asBytes("secret")));
}

TEST(MidgePasswd, UpgradeHashesPlainTextLinesOnly) {
  TempDir dir;
  std::string path = dir.file("passwd");
  ASSERT_EQ(passwd({"-c", "-b", path, "hashed", "already"}).exitCode, 0);
  std::string hashedLine = lineOf(readFile(path), "hashed");
  writeFile(path, "# converted from plain text\nplain:open sesame\n" + hashedLine + "\n");
  ProcessResult result = passwd({"-U", path});
  ASSERT_EQ(result.exitCode, 0) << result.err;
  std::string text = readFile(path);
  EXPECT_EQ(lineOf(text, "hashed"), hashedLine);
  PasswordFile file = loadOrFail(path);
  EXPECT_TRUE(file.check("plain", asBytes("open sesame")));
  EXPECT_TRUE(file.check("hashed", asBytes("already")));
}

TEST(MidgePasswd, KeepsModeOfExistingFile) {
  TempDir dir;
  std::string path = dir.file("passwd");
  ASSERT_EQ(passwd({"-c", "-b", path, "alice", "secret"}).exitCode, 0);
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  ASSERT_EQ(passwd({"-b", path, "bob", "pw"}).exitCode, 0);
  EXPECT_EQ(test::fileMode(path), 0640u);
}

TEST(MidgePasswd, EditsTargetOfSymbolicLink) {
  TempDir dir;
  std::string real = dir.file("real");
  std::string link = dir.file("link");
  ASSERT_EQ(passwd({"-c", "-b", real, "alice", "secret"}).exitCode, 0);
  ASSERT_EQ(::symlink(real.c_str(), link.c_str()), 0);
  ASSERT_EQ(passwd({"-b", link, "bob", "pw"}).exitCode, 0);
  struct stat info {};
  ASSERT_EQ(::lstat(link.c_str(), &info), 0);
  EXPECT_TRUE(S_ISLNK(info.st_mode));
  EXPECT_TRUE(loadOrFail(real).check("bob", asBytes("pw")));
}

struct BadCall {
  const char* name;
  std::vector<std::string> args;  // "FILE" is replaced by an existing password file
  std::string input;
  const char* expected;
};

class MidgePasswdBadCall : public ::testing::TestWithParam<BadCall> {};

TEST_P(MidgePasswdBadCall, FailsWithMessageAndLeavesFileUnchanged) {
  const BadCall& row = GetParam();
  TempDir dir;
  std::string path = dir.file("passwd");
  ASSERT_EQ(passwd({"-c", "-b", path, "alice", "secret"}).exitCode, 0);
  std::string before = readFile(path);
  std::vector<std::string> args = row.args;
  for (std::string& arg : args) {
    if (arg == "FILE") arg = path;
    if (arg == "MISSING") arg = dir.file("missing");
  }
  ProcessResult result = passwd(args, row.input);
  EXPECT_NE(result.exitCode, 0);
  EXPECT_NE(result.err.find(row.expected), std::string::npos) << result.err;
  EXPECT_EQ(readFile(path), before);
  EXPECT_EQ(::access(dir.file("missing").c_str(), F_OK), -1);
}

INSTANTIATE_TEST_SUITE_P(
    Rows, MidgePasswdBadCall,
    ::testing::Values(
        BadCall{"NoArguments", {}, "", "missing"},
        BadCall{"TooManyArguments", {"-b", "FILE", "bob", "pw", "extra"}, "", "too many"},
        BadCall{"CreateAndDelete", {"-c", "-D", "FILE", "alice"}, "", "-c and -D"},
        BadCall{"BatchAndDelete", {"-b", "-D", "FILE", "alice", "x"}, "", "-b and -D"},
        BadCall{"UnknownOption", {"-x", "FILE", "bob"}, "", "Unknown option"},
        BadCall{"DeleteUnknownUser", {"-D", "FILE", "nobody"}, "", "nobody not found"},
        BadCall{"ColonInUser", {"-b", "FILE", "a:b", "pw"}, "", "':'"},
        BadCall{"ControlCharInUser", {"-b", "FILE", "a\tb", "pw"}, "", "control characters"},
        BadCall{"HashUser", {"-b", "FILE", "#root", "pw"}, "", "'#'"},
        BadCall{"EmptyPassword", {"-b", "FILE", "bob", ""}, "", "Empty password"},
        BadCall{"EmptyStdin", {"FILE", "bob"}, "", "no password"},
        BadCall{"LegacyHash", {"-H", "sha512", "-b", "FILE", "bob", "pw"}, "", "sha512-pbkdf2"},
        BadCall{"UnknownHash", {"-H", "md5", "-b", "FILE", "bob", "pw"}, "", "Unknown hash"},
        BadCall{"ZeroIterations", {"-I", "0", "-b", "FILE", "bob", "pw"}, "", "iterations"},
        // The broker would refuse the file it wrote.
        BadCall{"IterationsAboveTheCap", {"-I", "1000001", "-b", "FILE", "bob", "pw"}, "",
                "from 1 to 1000000"},
        BadCall{"MissingFileWithoutCreate", {"-b", "MISSING", "bob", "pw"}, "", "cannot open"}),
    [](const ::testing::TestParamInfo<BadCall>& row) { return std::string(row.param.name); });

TEST(MidgePasswd, RefusesToEditACorruptFile) {
  TempDir dir;
  std::string path = dir.file("passwd");
  writeFile(path, "alice:$7$101$broken\n");
  ProcessResult result = passwd({"-b", path, "bob", "pw"});
  EXPECT_NE(result.exitCode, 0);
  EXPECT_NE(result.err.find(path + ":1:"), std::string::npos) << result.err;
  EXPECT_EQ(readFile(path), "alice:$7$101$broken\n");
}

// Cross-compatibility both ways with Mosquitto's own tools and broker.
TEST(MidgePasswd, MosquittoPasswdCanEditOurFile) {
  std::string tool = test::findProgram("mosquitto_passwd");
  if (tool.empty()) GTEST_SKIP() << "mosquitto_passwd not installed";
  TempDir dir;
  std::string path = dir.file("passwd");
  ASSERT_EQ(passwd({"-c", "-b", path, "alice", "secret"}).exitCode, 0);
  ProcessResult result = runProcess({tool, "-b", path, "bob", "theirs"});
  ASSERT_EQ(result.exitCode, 0) << result.err;  // it refuses files it finds corrupt
  PasswordFile file = loadOrFail(path);
  EXPECT_TRUE(file.check("alice", asBytes("secret")));
  EXPECT_TRUE(file.check("bob", asBytes("theirs")));
}

TEST(MidgePasswd, MosquittoBrokerAcceptsOurFile) {
  std::string publisher = test::findProgram("mosquitto_pub");
  if (test::findProgram("mosquitto").empty() || publisher.empty()) {
    GTEST_SKIP() << "mosquitto or mosquitto_pub not installed";
  }
  TempDir dir;
  std::string path = dir.file("passwd");
  ASSERT_EQ(passwd({"-c", "-b", path, "alice", "secret"}).exitCode, 0);
  ASSERT_EQ(passwd({"-I", "1000", "-b", path, "bob", "two words"}).exitCode, 0);
  test::MosquittoBroker broker(dir, "allow_anonymous false\npassword_file " + path + "\n");

  auto publish = [&](const std::string& user, const std::string& password) {
    return runProcess({publisher, "-h", "127.0.0.1", "-p", std::to_string(broker.port()), "-u",
                       user, "-P", password, "-t", "check/login", "-m", "hello"});
  };
  ProcessResult alice = publish("alice", "secret");
  EXPECT_EQ(alice.exitCode, 0) << alice.err << broker.log();
  ProcessResult bob = publish("bob", "two words");
  EXPECT_EQ(bob.exitCode, 0) << bob.err << broker.log();
  // mosquitto_pub exits with the CONNACK code: 5 is "not authorised" in MQTT 3.1.1.
  EXPECT_EQ(publish("alice", "wrong").exitCode, 5);
  EXPECT_EQ(publish("carol", "secret").exitCode, 5);
}

}  // namespace
}  // namespace midge::auth
