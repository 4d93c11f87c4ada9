// SPDX-License-Identifier: Apache-2.0
#include "broker/auth/password_file.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/broker/auth/test_support.hpp"

namespace midge::auth {
namespace {

using test::findProgram;
using test::runProcess;
using test::TempDir;
using test::writeFile;

// Written by Debian's mosquitto_passwd 2.0.11: "mosquitto_passwd -c -b F alice secret" and
// "mosquitto_passwd -H sha512 -b F bob hunter2". Known answers from an independent
// implementation, so these run even where mosquitto is not installed.
const std::string kAliceLine =
    "alice:$7$101$pyaR5MZ850EX2poR$FUU1U7FDilZxpBiPf6G9yQzxktoUWaJNo8b1NwgNsJK1Vh/"
    "sDuy6BvANobUgFBnxgFfNr7zSu3q27TyfFqek0A==";
const std::string kBobLine =
    "bob:$6$rv52uVHAUIBEBmGN$VvxVMLnlhLrllNIhlepUEmNKWaINrK5lkfLd0hSTeIzMCD8jQnkFuhFmGoSW8PFu1FY9"
    "k9D18tOVjKab8FiI2Q==";
const std::string kValidSalt = "pyaR5MZ850EX2poR";
const std::string kValidHash =
    "FUU1U7FDilZxpBiPf6G9yQzxktoUWaJNo8b1NwgNsJK1Vh/sDuy6BvANobUgFBnxgFfNr7zSu3q27TyfFqek0A==";

PasswordFile parseOrFail(const std::string& text) {
  PasswordFile file;
  std::string error;
  if (!PasswordFile::parse(text, "test", file, error)) throw std::runtime_error(error);
  return file;
}

TEST(PasswordFile, AcceptsMosquittoPbkdf2AndLegacySha512Hashes) {
  PasswordFile file = parseOrFail(kAliceLine + "\n" + kBobLine + "\n");
  EXPECT_EQ(file.size(), 2u);
  EXPECT_TRUE(file.check("alice", asBytes("secret")));
  EXPECT_TRUE(file.check("bob", asBytes("hunter2")));
}

TEST(PasswordFile, RejectsWrongPasswordsAndUnknownUsers) {
  PasswordFile file = parseOrFail(kAliceLine + "\n" + kBobLine + "\n");
  EXPECT_FALSE(file.check("alice", asBytes("Secret")));
  EXPECT_FALSE(file.check("alice", asBytes("secret ")));
  EXPECT_FALSE(file.check("alice", asBytes("")));
  EXPECT_FALSE(file.check("alice", asBytes("hunter2")));  // bob's password
  EXPECT_FALSE(file.check("bob", asBytes("secret")));
  EXPECT_FALSE(file.check("carol", asBytes("secret")));
  EXPECT_FALSE(file.check("Alice", asBytes("secret")));  // names are case-sensitive
  EXPECT_TRUE(file.hasUser("alice"));
  EXPECT_FALSE(file.hasUser("carol"));
}

TEST(PasswordFile, SkipsCommentsAndBlankLinesAndToleratesBlanksAndCrLf) {
  std::string text = "# users of the plant\n\n   \n" + kAliceLine + "\r\n  # indented comment\n" +
                     "\t bob : " + kBobLine.substr(4) + "  \r\n";
  PasswordFile file = parseOrFail(text);
  EXPECT_EQ(file.size(), 2u);
  EXPECT_TRUE(file.check("alice", asBytes("secret")));
  EXPECT_TRUE(file.check("bob", asBytes("hunter2")));
  EXPECT_FALSE(file.hasUser("# users of the plant"));
}

TEST(PasswordFile, EmptyFileHasNoUsers) {
  PasswordFile file = parseOrFail("");
  EXPECT_EQ(file.size(), 0u);
  EXPECT_FALSE(file.check("alice", asBytes("secret")));
}

struct BadLine {
  const char* name;
  std::string line;
  const char* expected;
};

class PasswordFileBadLine : public ::testing::TestWithParam<BadLine> {};

TEST_P(PasswordFileBadLine, FailsNamingFileLineAndProblem) {
  const BadLine& row = GetParam();
  // The bad line is line 3, after a comment and a good entry.
  std::string text = "# header\n" + kAliceLine + "\n" + row.line + "\n" + kBobLine + "\n";
  PasswordFile file;
  std::string error;
  EXPECT_FALSE(PasswordFile::parse(text, "/etc/midge/passwd", file, error));
  EXPECT_EQ(error.rfind("/etc/midge/passwd:3: ", 0), 0u) << error;
  EXPECT_NE(error.find(row.expected), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(
    Rows, PasswordFileBadLine,
    ::testing::Values(
        BadLine{"NoColon", "carol", "no ':'"},
        BadLine{"EmptyUser", ":$7$101$" + kValidSalt + "$" + kValidHash, "empty user name"},
        BadLine{"EmptyHash", "carol:", "empty password hash"},
        BadLine{"PlainText", "carol:letmein", "unknown hash type"},
        BadLine{"UnknownType", "carol:$5$abcd$" + kValidHash, "unknown hash type '$5$'"},
        BadLine{"SaltNotBase64", "carol:$7$101$pyaR5MZ8!0EX2poR$" + kValidHash,
                "salt is not valid base64"},
        BadLine{"HashNotBase64", "carol:$7$101$" + kValidSalt + "$abc", "hash is not valid base64"},
        BadLine{"HashTooShort", "carol:$7$101$" + kValidSalt + "$QUJD", "hash is 3 bytes"},
        BadLine{"ZeroIterations", "carol:$7$0$" + kValidSalt + "$" + kValidHash,
                "iteration count '0'"},
        BadLine{"IterationsNotANumber", "carol:$7$1x1$" + kValidSalt + "$" + kValidHash,
                "iteration count '1x1'"},
        // Each login would run them all on the event loop: minutes per CONNECT.
        BadLine{"IterationsAboveTheCap", "carol:$7$1000001$" + kValidSalt + "$" + kValidHash,
                "iteration count 1000001 is above the limit of 1000000"},
        BadLine{"IterationsOverflow", "carol:$7$99999999999$" + kValidSalt + "$" + kValidHash,
                "iteration count"},
        BadLine{"Pbkdf2MissingHash", "carol:$7$101$" + kValidSalt, "$7$ITERATIONS$SALT$HASH"},
        BadLine{"Sha512ExtraField", "carol:$6$" + kValidSalt + "$" + kValidHash + "$x",
                "$6$SALT$HASH"},
        BadLine{"DuplicateUser", kAliceLine, "user 'alice' is listed twice"}),
    [](const ::testing::TestParamInfo<BadLine>& row) { return std::string(row.param.name); });

TEST(PasswordFile, AcceptsIterationCountsUpToTheCap) {
  PasswordFile file =
      parseOrFail("carol:$7$1000000$" + kValidSalt + "$" + kValidHash + "\n" + kAliceLine);
  EXPECT_EQ(file.size(), 2u);
}

// An unknown user is checked against a stand-in hash; a stand-in cheaper than the users'
// own hashes would make "no such user" answer faster than "wrong password".
TEST(PasswordFile, UnknownUserCostsAsMuchAsTheUsersOfTheFile) {
  const std::string dear = "$7$50000$" + kValidSalt + "$" + kValidHash;
  PasswordFile file = parseOrFail("carol:" + dear + "\ndave:" + dear + "\n" + kAliceLine);
  EXPECT_EQ(file.unknownUserStandIn().kind, HashKind::Sha512Pbkdf2);
  EXPECT_EQ(file.unknownUserStandIn().iterations, 50000u);
  EXPECT_FALSE(file.check("mallory", asBytes("secret")));

  PasswordFile legacy = parseOrFail(kBobLine + "\n");
  EXPECT_EQ(legacy.unknownUserStandIn().kind, HashKind::Sha512);

  PasswordFile empty = parseOrFail("# nobody yet\n");
  EXPECT_EQ(empty.unknownUserStandIn().iterations, kDefaultIterations);
  EXPECT_FALSE(empty.check("mallory", asBytes("secret")));
}

TEST(PasswordFile, LoadReportsUnreadableFile) {
  TempDir dir;
  PasswordFile file;
  std::string error;
  EXPECT_FALSE(PasswordFile::load(dir.file("missing"), file, error));
  EXPECT_NE(error.find(dir.file("missing")), std::string::npos) << error;
  EXPECT_NE(error.find("cannot open"), std::string::npos) << error;

  error.clear();
  EXPECT_FALSE(PasswordFile::load(dir.path(), file, error));  // a directory
  EXPECT_NE(error.find(dir.path()), std::string::npos) << error;
}

TEST(PasswordFile, LoadReadsFileAndNamesItInErrors) {
  TempDir dir;
  writeFile(dir.file("passwd"), kAliceLine + "\n");
  PasswordFile file;
  std::string error;
  ASSERT_TRUE(PasswordFile::load(dir.file("passwd"), file, error)) << error;
  EXPECT_TRUE(file.check("alice", asBytes("secret")));

  writeFile(dir.file("broken"), "\n\nalice\n");
  EXPECT_FALSE(PasswordFile::load(dir.file("broken"), file, error));
  EXPECT_EQ(error.rfind(dir.file("broken") + ":3: ", 0), 0u) << error;
}

TEST(PasswordFile, FailedReloadLeavesPreviousUsersInPlace) {
  TempDir dir;
  writeFile(dir.file("passwd"), kAliceLine + "\n");
  PasswordFile live;
  std::string error;
  ASSERT_TRUE(PasswordFile::load(dir.file("passwd"), live, error)) << error;

  writeFile(dir.file("passwd"), kBobLine + "\nbroken line\n");
  EXPECT_FALSE(PasswordFile::load(dir.file("passwd"), live, error));
  EXPECT_TRUE(live.check("alice", asBytes("secret")));
  EXPECT_FALSE(live.hasUser("bob"));

  writeFile(dir.file("passwd"), kBobLine + "\n");
  ASSERT_TRUE(PasswordFile::load(dir.file("passwd"), live, error)) << error;
  EXPECT_FALSE(live.hasUser("alice"));
  EXPECT_TRUE(live.check("bob", asBytes("hunter2")));
}

// The brief's compatibility promise: a file from today's mosquitto_passwd loads unchanged.
TEST(PasswordFile, AcceptsFileWrittenByMosquittoPasswdNow) {
  std::string tool = findProgram("mosquitto_passwd");
  if (tool.empty()) GTEST_SKIP() << "mosquitto_passwd not installed";
  TempDir dir;
  std::string path = dir.file("passwd");
  struct User {
    std::string name, password;
    std::vector<std::string> options;
  };
  std::vector<User> users = {
      {"sensor-1", "s3cret!", {"-c"}},
      {"legacy", "old style", {"-H", "sha512"}},
      {"slow", "many rounds", {"-I", "2000"}},
      {"unicode user", "p\xc3\xa4ss w\xc3\xb6rd", {}},
  };
  for (const User& user : users) {
    std::vector<std::string> argv = {tool};
    argv.insert(argv.end(), user.options.begin(), user.options.end());
    argv.insert(argv.end(), {"-b", path, user.name, user.password});
    test::ProcessResult result = runProcess(argv);
    ASSERT_EQ(result.exitCode, 0) << result.err;
  }
  std::string text = test::readFile(path);
  ASSERT_NE(text.find("legacy:$6$"), std::string::npos) << text;
  ASSERT_NE(text.find("slow:$7$2000$"), std::string::npos) << text;

  PasswordFile file;
  std::string error;
  ASSERT_TRUE(PasswordFile::load(path, file, error)) << error;
  EXPECT_EQ(file.size(), users.size());
  for (const User& user : users) {
    EXPECT_TRUE(file.check(user.name, asBytes(user.password))) << user.name;
    EXPECT_FALSE(file.check(user.name, asBytes(user.password + "x"))) << user.name;
  }
}

}  // namespace
}  // namespace midge::auth
