// SPDX-License-Identifier: Apache-2.0
// The matching examples of MQTT 3.1.1 / 5.0 section 4.7, checked against matches(), the
// subscription tree and the retained index, so the three can never disagree on them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/topic/subscription_tree.hpp"
#include "core/topic/topic.hpp"
#include "core/topic/topic_index.hpp"

namespace midge::topic {
namespace {

struct MatchRow {
  const char* filter;
  const char* topic;
  bool matches;
};

const MatchRow kSpecExamples[] = {
    // 4.7.1.2 multi-level wildcard
    {"sport/tennis/player1/#", "sport/tennis/player1", true},
    {"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
    {"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
    {"sport/#", "sport", true},
    {"sport/#", "sports", false},
    {"sport/#", "sport/", true},
    {"#", "sport/tennis", true},
    {"#", "/", true},
    // 4.7.1.3 single-level wildcard
    {"sport/tennis/+", "sport/tennis/player1", true},
    {"sport/tennis/+", "sport/tennis/player2", true},
    {"sport/tennis/+", "sport/tennis/player1/ranking", false},
    {"sport/tennis/+", "sport/tennis", false},
    {"sport/+", "sport", false},
    {"sport/+", "sport/", true},
    {"+/+", "/finance", true},
    {"/+", "/finance", true},
    {"+", "/finance", false},
    {"+", "finance", true},
    {"+/tennis/#", "sport/tennis/player1/ranking", true},
    {"+/tennis/#", "sport/tennis", true},
    {"+/tennis/#", "sport/golf", false},
    {"+/+/+", "a//c", true},
    {"a/+/c", "a//c", true},
    {"+/#", "a", true},
    // 4.7.2 topics beginning with $
    {"#", "$SYS/monitor/Clients", false},
    {"+/monitor/Clients", "$SYS/monitor/Clients", false},
    {"+", "$SYS", false},
    {"+/#", "$SYS/x", false},
    {"$SYS/#", "$SYS/monitor/Clients", true},
    {"$SYS/#", "$SYS", true},
    {"$SYS/monitor/+", "$SYS/monitor/Clients", true},
    {"a/+", "a/$b", true},
    {"a/#", "a/$b/c", true},
    {"$share/g/#", "$SYS/x", false},
    {"$share/g/#", "sport/tennis", true},
    {"$share/g/sport/+", "sport/tennis", true},
    {"$share/g/sport/+", "sport", false},
    // 4.7.3 case and leading separators
    {"ACCOUNTS", "Accounts", false},
    {"ACCOUNTS", "ACCOUNTS", true},
    {"/finance", "finance", false},
    {"finance", "/finance", false},
    {"/finance", "/finance", true},
    {"a/b", "a/b/", false},
    {"a/b/", "a/b", false},
};

TEST(Matches, SpecExamples) {
  for (const MatchRow& row : kSpecExamples) {
    EXPECT_EQ(matches(row.filter, row.topic), row.matches)
        << "filter '" << row.filter << "' topic '" << row.topic << "'";
  }
}

TEST(Matches, SubscriptionTreeAgreesOnSpecExamples) {
  for (const MatchRow& row : kSpecExamples) {
    SubscriptionTree tree;
    tree.subscribe(row.filter, Subscription{7, 1, false, 0});
    int calls = 0;
    tree.match(
        row.topic, [&](const Subscription& s) {
          ++calls;
          EXPECT_EQ(s.subscriber, 7u);
        },
        [](SubscriberId) { return true; });
    EXPECT_EQ(calls, row.matches ? 1 : 0)
        << "filter '" << row.filter << "' topic '" << row.topic << "'";
  }
}

TEST(Matches, TopicIndexAgreesOnSpecExamples) {
  for (const MatchRow& row : kSpecExamples) {
    const auto shared = parseShared(row.filter);
    const std::string filter(shared ? shared->filter : row.filter);
    TopicIndex<int> index;
    index.insertOrAssign(row.topic, 5);
    std::vector<std::string> seen;
    index.forEachMatching(filter, [&](std::string_view name, int& value) {
      seen.emplace_back(name);
      EXPECT_EQ(value, 5);
    });
    const std::vector<std::string> expected =
        row.matches ? std::vector<std::string>{row.topic} : std::vector<std::string>{};
    EXPECT_EQ(seen, expected) << "filter '" << filter << "' topic '" << row.topic << "'";
  }
}

TEST(ParseShared, SplitsGroupAndFilter) {
  const auto shared = parseShared("$share/consumers/sensors/+/temp");
  ASSERT_TRUE(shared.has_value());
  EXPECT_EQ(shared->group, "consumers");
  EXPECT_EQ(shared->filter, "sensors/+/temp");

  const auto emptyLevels = parseShared("$share/g//");
  ASSERT_TRUE(emptyLevels.has_value());
  EXPECT_EQ(emptyLevels->group, "g");
  EXPECT_EQ(emptyLevels->filter, "/");
}

TEST(ParseShared, NotShared) {
  EXPECT_FALSE(parseShared("sensors/#").has_value());
  EXPECT_FALSE(parseShared("$share").has_value());
  EXPECT_FALSE(parseShared("$SHARE/g/a").has_value()) << "the prefix is case-sensitive";
  EXPECT_FALSE(parseShared("$share/g").has_value()) << "no filter part";
  EXPECT_FALSE(parseShared("x$share/g/a").has_value());
}

TEST(HasWildcard, FindsEitherWildcard) {
  EXPECT_TRUE(hasWildcard("#"));
  EXPECT_TRUE(hasWildcard("a/+/b"));
  EXPECT_TRUE(hasWildcard("$share/g/a/#"));
  EXPECT_FALSE(hasWildcard("a/b"));
  EXPECT_FALSE(hasWildcard("$share/g/a"));
  EXPECT_FALSE(hasWildcard(""));
}

TEST(LevelReader, SplitsEmptyLevels) {
  const auto split = [](std::string_view text) {
    std::vector<std::string> levels;
    LevelReader reader(text);
    while (!reader.done()) levels.emplace_back(reader.next());
    return levels;
  };
  EXPECT_EQ(split(""), (std::vector<std::string>{""}));
  EXPECT_EQ(split("/"), (std::vector<std::string>{"", ""}));
  EXPECT_EQ(split("a/"), (std::vector<std::string>{"a", ""}));
  EXPECT_EQ(split("a//b"), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(split("sport/tennis"), (std::vector<std::string>{"sport", "tennis"}));
}

}  // namespace
}  // namespace midge::topic
