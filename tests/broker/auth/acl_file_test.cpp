// SPDX-License-Identifier: Apache-2.0
#include "broker/auth/acl_file.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "tests/broker/auth/acl_fixture.hpp"
#include "tests/broker/auth/test_support.hpp"

namespace midge::auth {
namespace {

using Access = AclFile::Access;
using test::aclRows;
using test::AclRow;
using test::kAclFixture;
using test::TempDir;
using test::writeFile;

AclFile parseOrFail(const std::string& text) {
  AclFile file;
  std::string error;
  if (!AclFile::parse(text, "acl", file, error)) throw std::runtime_error(error);
  return file;
}

class AclFileRow : public ::testing::TestWithParam<AclRow> {};

TEST_P(AclFileRow, DecidesLikeMosquitto) {
  static const AclFile file = parseOrFail(kAclFixture);
  const AclRow& row = GetParam();
  std::optional<std::string_view> user;
  if (row.user) user = *row.user;
  EXPECT_EQ(file.allowed(row.clientId, user, row.topic, row.access), row.allowed);
}

INSTANTIATE_TEST_SUITE_P(Rows, AclFileRow, ::testing::ValuesIn(aclRows()),
                         [](const ::testing::TestParamInfo<AclRow>& row) {
                           return std::string(row.param.name);
                         });

TEST(AclFile, MosquittoExampleFile) {
  // /usr/share/doc/mosquitto/examples/aclfile.example
  AclFile file = parseOrFail(
      "# This affects access control for clients with no username.\n"
      "topic read $SYS/#\n\n"
      "# This only affects clients with username \"roger\".\n"
      "user roger\n"
      "topic foo/bar\n\n"
      "# This affects all clients.\n"
      "pattern write $SYS/broker/connection/%c/state\n");
  EXPECT_TRUE(file.allowed("c", std::nullopt, "$SYS/broker/load", Access::Read));
  EXPECT_FALSE(file.allowed("c", std::string_view("roger"), "$SYS/broker/load", Access::Read));
  EXPECT_TRUE(file.allowed("c", std::string_view("roger"), "foo/bar", Access::Write));
  EXPECT_FALSE(file.allowed("c", std::nullopt, "foo/bar", Access::Read));
  EXPECT_TRUE(file.allowed("bridge1", std::string_view("roger"),
                           "$SYS/broker/connection/bridge1/state", Access::Write));
  EXPECT_FALSE(file.allowed("bridge1", std::nullopt, "$SYS/broker/connection/bridge2/state",
                            Access::Write));
  EXPECT_TRUE(file.warnings().empty());
}

TEST(AclFile, DenyOverridesGrantWrittenBeforeIt) {
  AclFile file = parseOrFail("user u\ntopic readwrite a/#\ntopic deny a/b\n");
  EXPECT_FALSE(file.allowed("c", std::string_view("u"), "a/b", Access::Write));
  EXPECT_TRUE(file.allowed("c", std::string_view("u"), "a/c", Access::Write));
}

TEST(AclFile, RepeatedUserSectionsAddUp) {
  AclFile file = parseOrFail("user u\ntopic read a\nuser v\ntopic read b\nuser u\ntopic read c\n");
  EXPECT_TRUE(file.allowed("c", std::string_view("u"), "a", Access::Read));
  EXPECT_TRUE(file.allowed("c", std::string_view("u"), "c", Access::Read));
  EXPECT_FALSE(file.allowed("c", std::string_view("u"), "b", Access::Read));
}

TEST(AclFile, UserNamesMayContainBlanksAndTopicsMaySpaceOut) {
  AclFile file = parseOrFail("user  field  unit 7 \ntopic  read   plant floor/#  \n");
  EXPECT_TRUE(file.allowed("c", std::string_view("field  unit 7"), "plant floor/x", Access::Read));
  EXPECT_FALSE(file.allowed("c", std::string_view("field"), "plant floor/x", Access::Read));
}

TEST(AclFile, TabsCrLfAndIndentedCommentsAreAccepted) {
  AclFile file = parseOrFail("\t# indented comment\r\nuser\tu\r\ntopic\twrite\tx/y\r\n");
  EXPECT_TRUE(file.allowed("c", std::string_view("u"), "x/y", Access::Write));
}

TEST(AclFile, EmptyFileAllowsNothing) {
  AclFile file = parseOrFail("");
  EXPECT_FALSE(file.allowed("c", std::nullopt, "a", Access::Read));
  EXPECT_FALSE(file.allowed("c", std::string_view("u"), "a", Access::Write));
}

TEST(AclFile, PatternSubstitutionInsideALevelWorksAsInMosquitto20AndWarns) {
  AclFile file = parseOrFail("pattern read devices/dev-%c/out\n");
  EXPECT_TRUE(file.allowed("42", std::nullopt, "devices/dev-42/out", Access::Read));
  EXPECT_FALSE(file.allowed("43", std::nullopt, "devices/dev-42/out", Access::Read));
  ASSERT_EQ(file.warnings().size(), 1u);
  EXPECT_EQ(file.warnings()[0].rfind("acl:1: ", 0), 0u) << file.warnings()[0];
}

TEST(AclFile, PatternWithoutSubstitutionWarns) {
  AclFile file = parseOrFail("# first\npattern read broadcast/#\n");
  EXPECT_TRUE(file.allowed("any", std::string_view("one"), "broadcast/x", Access::Read));
  ASSERT_EQ(file.warnings().size(), 1u);
  EXPECT_EQ(file.warnings()[0].rfind("acl:2: ", 0), 0u) << file.warnings()[0];
}

TEST(AclFile, DenyPatternAppliesEvenToIdentitiesWithSlash) {
  AclFile file = parseOrFail("pattern read open/#\npattern deny open/%c/#\n");
  EXPECT_FALSE(file.allowed("a/b", std::nullopt, "open/a/b/x", Access::Read));
  EXPECT_TRUE(file.allowed("a/b", std::nullopt, "open/other", Access::Read));
}

struct BadAcl {
  const char* name;
  std::string line;
  const char* expected;
};

class AclFileBadLine : public ::testing::TestWithParam<BadAcl> {};

TEST_P(AclFileBadLine, FailsNamingFileLineAndProblem) {
  const BadAcl& row = GetParam();
  std::string text = "# header\nuser alice\n" + row.line + "\ntopic read ok\n";
  AclFile file;
  std::string error;
  EXPECT_FALSE(AclFile::parse(text, "/etc/midge/acl", file, error));
  EXPECT_EQ(error.rfind("/etc/midge/acl:3: ", 0), 0u) << error;
  EXPECT_NE(error.find(row.expected), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(
    Rows, AclFileBadLine,
    ::testing::Values(
        BadAcl{"UnknownKeyword", "topics read a", "unknown keyword 'topics'"},
        BadAcl{"UserWithoutName", "user   ", "needs a user name"},
        BadAcl{"TopicWithoutFilter", "topic", "needs a topic filter"},
        BadAcl{"AccessWithoutFilter", "topic read", "'read' is not followed"},
        BadAcl{"PatternAccessWithoutFilter", "pattern deny", "'deny' is not followed"},
        BadAcl{"UnknownAccess", "topic readonly a/b", "unknown access 'readonly'"},
        BadAcl{"PlusInsideLevel", "topic read a/b+/c", "'+' must fill a whole level"},
        BadAcl{"HashNotLast", "topic read a/#/c", "'#' must be the whole last level"},
        BadAcl{"HashInsideLevel", "pattern read a/%c#", "'#' must be the whole last level"}),
    [](const ::testing::TestParamInfo<BadAcl>& row) { return std::string(row.param.name); });

TEST(AclFile, LoadReportsUnreadableFile) {
  TempDir dir;
  AclFile file;
  std::string error;
  EXPECT_FALSE(AclFile::load(dir.file("missing"), file, error));
  EXPECT_NE(error.find(dir.file("missing")), std::string::npos) << error;
  EXPECT_NE(error.find("cannot open"), std::string::npos) << error;
}

TEST(AclFile, FailedReloadLeavesPreviousRulesInPlace) {
  TempDir dir;
  std::string path = dir.file("acl");
  writeFile(path, "user u\ntopic read a/#\n");
  AclFile live;
  std::string error;
  ASSERT_TRUE(AclFile::load(path, live, error)) << error;

  writeFile(path, "user u\ntopic read b/#\ntopic bogus b/c\n");
  EXPECT_FALSE(AclFile::load(path, live, error));
  EXPECT_EQ(error.rfind(path + ":3: ", 0), 0u) << error;
  EXPECT_TRUE(live.allowed("c", std::string_view("u"), "a/x", Access::Read));
  EXPECT_FALSE(live.allowed("c", std::string_view("u"), "b/x", Access::Read));

  writeFile(path, "user u\ntopic read b/#\n");
  ASSERT_TRUE(AclFile::load(path, live, error)) << error;
  EXPECT_FALSE(live.allowed("c", std::string_view("u"), "a/x", Access::Read));
  EXPECT_TRUE(live.allowed("c", std::string_view("u"), "b/x", Access::Read));
}

}  // namespace
}  // namespace midge::auth
