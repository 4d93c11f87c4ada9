// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/topic/topic.hpp"
#include "core/topic/topic_index.hpp"
#include "tests/core/topic/random_topics.hpp"

namespace midge::topic {
namespace {

template <typename T>
std::map<std::string, T> collectMatching(TopicIndex<T>& index, std::string_view filter) {
  std::map<std::string, T> out;
  index.forEachMatching(filter, [&](std::string_view name, T& value) {
    EXPECT_TRUE(out.emplace(std::string(name), value).second) << "visited twice: " << name;
  });
  return out;
}

TEST(TopicIndex, FindInsertAssignErase) {
  TopicIndex<std::string> index;
  EXPECT_EQ(index.find("a/b"), nullptr);
  index.insertOrAssign("a/b", "first");
  index.insertOrAssign("a", "parent");
  EXPECT_EQ(index.size(), 2u);
  ASSERT_NE(index.find("a/b"), nullptr);
  EXPECT_EQ(*index.find("a/b"), "first");
  EXPECT_EQ(*index.find("a"), "parent");
  EXPECT_EQ(index.find("a/"), nullptr);
  EXPECT_EQ(index.find("a/b/c"), nullptr);
  EXPECT_EQ(index.find("A/b"), nullptr) << "case-sensitive";

  std::string& replaced = index.insertOrAssign("a/b", "second");
  EXPECT_EQ(replaced, "second");
  EXPECT_EQ(index.size(), 2u) << "one value per topic";
  EXPECT_EQ(*index.find("a/b"), "second");

  EXPECT_FALSE(index.erase("a/c"));
  EXPECT_FALSE(index.erase("a/b/c"));
  EXPECT_TRUE(index.erase("a"));
  EXPECT_FALSE(index.erase("a")) << "already erased";
  EXPECT_EQ(index.find("a"), nullptr);
  EXPECT_EQ(*index.find("a/b"), "second") << "erasing a parent keeps its children";
  EXPECT_EQ(index.size(), 1u);
}

TEST(TopicIndex, ValuesMayBeMoveOnly) {
  TopicIndex<std::unique_ptr<int>> index;
  index.insertOrAssign("x", std::make_unique<int>(3));
  index.insertOrAssign("x", std::make_unique<int>(4));
  ASSERT_NE(index.find("x"), nullptr);
  EXPECT_EQ(**index.find("x"), 4);
}

TEST(TopicIndex, EmptyLevelsAreDistinctTopics) {
  TopicIndex<int> index;
  index.insertOrAssign("/", 1);
  index.insertOrAssign("/a", 2);
  index.insertOrAssign("a/", 3);
  index.insertOrAssign("a", 4);
  index.insertOrAssign("a//b", 5);
  EXPECT_EQ(index.size(), 5u);
  std::map<std::string, int> all;
  index.forEach([&](std::string_view name, int& value) { all.emplace(name, value); });
  EXPECT_EQ(all, (std::map<std::string, int>{
                     {"/", 1}, {"/a", 2}, {"a/", 3}, {"a", 4}, {"a//b", 5}}));
  EXPECT_EQ(collectMatching(index, "+/+"), (std::map<std::string, int>{{"/", 1}, {"/a", 2},
                                                                       {"a/", 3}}));
  EXPECT_EQ(collectMatching(index, "a/#"),
            (std::map<std::string, int>{{"a/", 3}, {"a", 4}, {"a//b", 5}}));
}

TEST(TopicIndex, ForEachMatchingAppliesTheDollarRule) {
  TopicIndex<int> index;
  index.insertOrAssign("$SYS/uptime", 1);
  index.insertOrAssign("sensors/t", 2);
  index.insertOrAssign("a/$b", 3);
  EXPECT_EQ(collectMatching(index, "#"), (std::map<std::string, int>{{"sensors/t", 2},
                                                                     {"a/$b", 3}}));
  EXPECT_EQ(collectMatching(index, "+/uptime"), (std::map<std::string, int>{}));
  EXPECT_EQ(collectMatching(index, "$SYS/#"), (std::map<std::string, int>{{"$SYS/uptime", 1}}));
  EXPECT_EQ(collectMatching(index, "a/+"), (std::map<std::string, int>{{"a/$b", 3}}));
  int visited = 0;
  index.forEach([&](std::string_view, int&) { ++visited; });
  EXPECT_EQ(visited, 3) << "forEach includes $-topics";
}

TEST(TopicIndex, VisitorMayModifyTheValue) {
  TopicIndex<int> index;
  index.insertOrAssign("a/1", 1);
  index.insertOrAssign("a/2", 2);
  index.forEachMatching("a/+", [](std::string_view, int& value) { value *= 10; });
  EXPECT_EQ(*index.find("a/1"), 10);
  EXPECT_EQ(*index.find("a/2"), 20);
}

TEST(TopicIndex, EraseReleasesEmptyBranches) {
  TopicIndex<int> index;
  index.insertOrAssign("a/b/c", 1);
  index.insertOrAssign("a/b/d", 2);
  index.insertOrAssign("a", 3);
  EXPECT_EQ(index.nodeCount(), 4u);
  EXPECT_TRUE(index.erase("a/b/c"));
  EXPECT_EQ(index.nodeCount(), 3u);
  EXPECT_TRUE(index.erase("a/b/d"));
  EXPECT_EQ(index.nodeCount(), 1u) << "'a' still holds a value";
  EXPECT_TRUE(index.erase("a"));
  EXPECT_EQ(index.nodeCount(), 0u);
  EXPECT_TRUE(index.empty());
}

TEST(TopicIndex, DeepTopicsDoNotRecurse) {
  std::string deep(65534, '/');  // 65535 empty levels, the longest legal topic name
  TopicIndex<int> index;
  index.insertOrAssign(deep, 1);
  index.insertOrAssign("x", 2);
  std::size_t longest = 0;
  index.forEachMatching("#", [&](std::string_view name, int&) {
    longest = std::max(longest, name.size());
  });
  EXPECT_EQ(longest, deep.size());
  EXPECT_EQ(index.nodeCount(), 65536u);
  EXPECT_TRUE(index.erase(deep));
  EXPECT_EQ(index.nodeCount(), 1u);

  TopicIndex<int> dropped;  // destroyed while holding the deep branch
  dropped.insertOrAssign(deep, 1);
}

TEST(TopicIndex, ClearForgetsEverything) {
  TopicIndex<int> index;
  index.insertOrAssign("a/b", 1);
  index.clear();
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(index.nodeCount(), 0u);
  EXPECT_EQ(index.find("a/b"), nullptr);
}

TEST(TopicIndexRandom, AgreesWithBruteForce) {
  testing::RandomTopics random(4242u);
  TopicIndex<int> index;
  std::map<std::string, int> model;
  for (int i = 0; i < 2000; ++i) {
    const std::string name = random.name();
    ASSERT_TRUE(validateTopicName(name).ok()) << name;
    index.insertOrAssign(name, i);
    model[name] = i;
  }
  EXPECT_EQ(index.size(), model.size());

  const auto check = [&]() {
    for (int i = 0; i < 1000; ++i) {
      const std::string filter = random.filter();
      std::map<std::string, int> expected;
      for (const auto& [name, value] : model) {
        if (matches(filter, name)) expected.emplace(name, value);
      }
      ASSERT_EQ(collectMatching(index, filter), expected) << "filter '" << filter << "'";
    }
    std::map<std::string, int> all;
    index.forEach([&](std::string_view name, int& value) { all.emplace(name, value); });
    ASSERT_EQ(all, model);
  };
  check();

  for (int i = 0; i < 2000; ++i) {
    const std::string name = random.name();
    EXPECT_EQ(index.erase(name), model.erase(name) == 1) << name;
  }
  EXPECT_EQ(index.size(), model.size());
  ASSERT_GT(model.size(), 0u);
  check();

  for (const auto& entry : model) EXPECT_TRUE(index.erase(entry.first));
  EXPECT_EQ(index.nodeCount(), 0u);
}

}  // namespace
}  // namespace midge::topic
