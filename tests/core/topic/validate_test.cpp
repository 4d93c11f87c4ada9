// SPDX-License-Identifier: Apache-2.0
// One row per rule of MQTT 3.1.1/5.0 section 4.7 and 4.8.2, accepted and rejected.
#include <gtest/gtest.h>

#include <string>

#include "core/topic/topic.hpp"

namespace midge::topic {
namespace {

struct Row {
  std::string text;
  bool valid;
  const char* why;
};

std::string withNull(std::string before, std::string after) {
  return before + std::string(1, '\0') + after;
}

TEST(ValidateTopicName, RulesTable) {
  const Row rows[] = {
      {"a", true, "single level"},
      {"sport/tennis/player1", true, "several levels"},
      {"/", true, "two empty levels"},
      {"/finance", true, "leading empty level"},
      {"a//b", true, "empty middle level"},
      {"a/", true, "trailing empty level"},
      {"$SYS/broker/uptime", true, "$-topic"},
      {"$share/g/x", true, "$share is an ordinary name in PUBLISH"},
      {"ACCOUNTS", true, "case kept"},
      {" ", true, "space is a character"},
      {"caf\xc3\xa9", true, "UTF-8 is not checked here"},
      {"", false, "empty"},
      {"+", false, "single-level wildcard"},
      {"a/+/b", false, "'+' level"},
      {"a+", false, "'+' inside a level"},
      {"#", false, "multi-level wildcard"},
      {"a/#", false, "'#' level"},
      {"a#b", false, "'#' inside a level"},
      {withNull("a", "b"), false, "U+0000"},
  };
  for (const Row& row : rows) {
    const Status status = validateTopicName(row.text);
    EXPECT_EQ(status.ok(), row.valid) << row.why << ": '" << row.text << "'";
    if (!status.ok()) {
      EXPECT_EQ(status.error().kind, ErrorKind::TopicNameInvalid) << row.why;
      EXPECT_NE(std::string(status.error().detail), "") << row.why;
    }
  }
}

TEST(ValidateTopicFilter, RulesTable) {
  const Row rows[] = {
      {"a", true, "single level"},
      {"sport/tennis/player1", true, "several levels"},
      {"#", true, "'#' alone"},
      {"sport/#", true, "'#' last"},
      {"+", true, "'+' alone"},
      {"+/+", true, "'+' in every level"},
      {"sport/+/player1", true, "'+' in the middle"},
      {"+/tennis/#", true, "'+' and '#'"},
      {"/", true, "empty levels"},
      {"/+", true, "empty then '+'"},
      {"$SYS/#", true, "$-filter"},
      {"$share", true, "no slash: an ordinary filter"},
      {"$sharex/g/a", true, "other prefix: an ordinary filter"},
      {"$share/group/a/b", true, "shared filter"},
      {"$share/group/#", true, "shared '#'"},
      {"$share/group/+/x", true, "shared '+'"},
      {"$share/g/a/", true, "shared filter ending in an empty level"},
      {"$share/g//", true, "shared filter of empty levels"},
      {"", false, "empty"},
      {"sport/tennis#", false, "'#' not alone in its level"},
      {"sport/tennis/#/ranking", false, "'#' not last"},
      {"#/a", false, "'#' first of several"},
      {"##", false, "'##'"},
      {"sport+", false, "'+' not alone in its level"},
      {"+a/b", false, "'+' prefixing a level"},
      {"a/b+/c", false, "'+' suffixing a level"},
      {"++", false, "'++'"},
      {withNull("a/", "b"), false, "U+0000"},
      {"$share/", false, "shared without a group"},
      {"$share//a", false, "shared with an empty group"},
      {"$share/g", false, "shared without a filter"},
      {"$share/g/", false, "shared with an empty filter"},
      {"$share/g+/a", false, "'+' in the group"},
      {"$share/+/a", false, "group is '+'"},
      {"$share/#/a", false, "group is '#'"},
      {"$share/g#/a", false, "'#' in the group"},
      {"$share/g/a/#/b", false, "shared filter with '#' not last"},
      {"$share/g/a+", false, "shared filter with '+' inside a level"},
      {withNull("$share/g", "/a"), false, "U+0000 in the group"},
  };
  for (const Row& row : rows) {
    const Status status = validateTopicFilter(row.text);
    EXPECT_EQ(status.ok(), row.valid) << row.why << ": '" << row.text << "'";
    if (!status.ok()) {
      EXPECT_EQ(status.error().kind, ErrorKind::TopicFilterInvalid) << row.why;
      EXPECT_NE(std::string(status.error().detail), "") << row.why;
    }
  }
}

TEST(ValidateTopicName, LengthLimit) {
  Limits limits;
  limits.maxLength = 5;
  EXPECT_TRUE(validateTopicName("abcde", limits).ok());
  const Status tooLong = validateTopicName("abcdef", limits);
  ASSERT_FALSE(tooLong.ok());
  EXPECT_EQ(tooLong.error().kind, ErrorKind::TopicNameInvalid);

  EXPECT_TRUE(validateTopicName(std::string(65535, 'x')).ok());
  EXPECT_FALSE(validateTopicName(std::string(65536, 'x')).ok());
}

TEST(ValidateTopicName, LevelLimit) {
  Limits limits;
  limits.maxLevels = 3;
  EXPECT_TRUE(validateTopicName("a/b/c", limits).ok());
  EXPECT_TRUE(validateTopicName("//", limits).ok());
  EXPECT_FALSE(validateTopicName("a/b/c/d", limits).ok());
  EXPECT_FALSE(validateTopicName("///", limits).ok());
  EXPECT_TRUE(validateTopicName("a/b/c/d/e/f/g").ok()) << "0 means unlimited";
}

TEST(ValidateTopicFilter, LengthLimitCountsTheWholeSharedFilter) {
  Limits limits;
  limits.maxLength = 12;
  EXPECT_TRUE(validateTopicFilter("$share/g/abc", limits).ok());
  const Status tooLong = validateTopicFilter("$share/g/abcd", limits);
  ASSERT_FALSE(tooLong.ok());
  EXPECT_EQ(tooLong.error().kind, ErrorKind::TopicFilterInvalid);
}

TEST(ValidateTopicFilter, LevelLimitCountsTheInnerFilter) {
  Limits limits;
  limits.maxLevels = 2;
  EXPECT_TRUE(validateTopicFilter("a/#", limits).ok());
  EXPECT_FALSE(validateTopicFilter("a/+/#", limits).ok());
  EXPECT_TRUE(validateTopicFilter("$share/group/a/b", limits).ok());
  const Status deep = validateTopicFilter("$share/group/a/b/c", limits);
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.error().kind, ErrorKind::TopicFilterInvalid);
}

TEST(ValidateTopicFilter, ErrorDetailNamesTheRule) {
  EXPECT_EQ(std::string(validateTopicFilter("a/#/b").error().detail),
            "'#' is not the last topic level");
  EXPECT_EQ(std::string(validateTopicFilter("a+").error().detail),
            "'+' is not alone in its topic level");
  EXPECT_EQ(std::string(validateTopicFilter("$share//a").error().detail),
            "shared subscription has an empty share name");
}

}  // namespace
}  // namespace midge::topic
