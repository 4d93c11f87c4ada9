// SPDX-License-Identifier: Apache-2.0
// Randomized cross-check of the trie against the brute-force matches(): thousands of
// filters and topics from a fixed seed, through subscribe, match, unsubscribe and pruning.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/topic/subscription_tree.hpp"
#include "core/topic/topic.hpp"
#include "tests/core/topic/random_topics.hpp"

namespace midge::topic {
namespace {

using Key = std::pair<std::string, SubscriberId>;

std::vector<std::uint32_t> expectedIdentifiers(const std::map<Key, std::uint32_t>& model,
                                               const std::string& topic) {
  std::vector<std::uint32_t> out;
  for (const auto& [key, identifier] : model) {
    if (matches(key.first, topic)) out.push_back(identifier);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::uint32_t> treeIdentifiers(SubscriptionTree& tree, const std::string& topic) {
  std::vector<std::uint32_t> out;
  tree.match(
      topic, [&](const Subscription& s) { out.push_back(s.identifier); },
      [](SubscriberId) { return true; });
  std::sort(out.begin(), out.end());
  return out;
}

void crossCheck(SubscriptionTree& tree, const std::map<Key, std::uint32_t>& model,
                testing::RandomTopics& random, int topics) {
  for (int i = 0; i < topics; ++i) {
    const std::string topic = random.name();
    ASSERT_EQ(treeIdentifiers(tree, topic), expectedIdentifiers(model, topic))
        << "topic '" << topic << "'";
  }
}

TEST(SubscriptionTreeRandom, AgreesWithBruteForceThroughChurn) {
  testing::RandomTopics random(20240611u);
  SubscriptionTree tree;
  std::map<Key, std::uint32_t> model;
  std::uint32_t nextIdentifier = 1;

  for (int i = 0; i < 3000; ++i) {
    Key key{random.filter(), static_cast<SubscriberId>(random.between(0, 40))};
    ASSERT_TRUE(validateTopicFilter(key.first).ok()) << key.first;
    const bool existed = model.count(key) != 0;
    const std::uint32_t identifier = nextIdentifier++;
    EXPECT_EQ(tree.subscribe(key.first, Subscription{key.second, 0, false, identifier}), existed);
    model[key] = identifier;
  }
  EXPECT_EQ(tree.subscriptionCount(), model.size());
  crossCheck(tree, model, random, 2000);

  // Remove about half, including attempts at subscriptions that do not exist.
  for (int i = 0; i < 3000; ++i) {
    const Key key{random.filter(), static_cast<SubscriberId>(random.between(0, 40))};
    EXPECT_EQ(tree.unsubscribe(key.first, key.second), model.erase(key) == 1) << key.first;
  }
  EXPECT_EQ(tree.subscriptionCount(), model.size());
  crossCheck(tree, model, random, 2000);

  const std::size_t remaining = model.size();
  ASSERT_GT(remaining, 0u) << "the second half must exercise a partly pruned tree";
  for (const auto& entry : model) EXPECT_TRUE(tree.unsubscribe(entry.first.first, entry.first.second));
  model.clear();
  EXPECT_EQ(tree.subscriptionCount(), 0u);
  EXPECT_EQ(tree.nodeCount(), 0u) << "every branch is pruned once the last subscription goes";
  crossCheck(tree, model, random, 200);
}

TEST(SubscriptionTreeRandom, SharedGroupsDeliverOncePerGroupToAMemberThatCanTakeIt) {
  testing::RandomTopics random(77u);
  SubscriptionTree tree;
  // (group, inner filter) -> members
  std::map<std::pair<std::string, std::string>, std::set<SubscriberId>> groups;
  std::map<std::pair<std::string, std::string>, std::uint32_t> groupIds;
  for (int i = 0; i < 1500; ++i) {
    const std::string group = "g" + std::to_string(random.between(1, 3));
    const std::string inner = random.filter();
    const auto subscriber = static_cast<SubscriberId>(random.between(0, 20));
    const auto key = std::make_pair(group, inner);
    const auto id = groupIds.emplace(key, static_cast<std::uint32_t>(groupIds.size())).first->second;
    const bool existed = !groups[key].insert(subscriber).second;
    EXPECT_EQ(tree.subscribe("$share/" + group + "/" + inner, Subscription{subscriber, 0, false, id}),
              existed);
  }

  for (int i = 0; i < 1500; ++i) {
    const std::string topic = random.name();
    std::set<SubscriberId> offline;
    for (SubscriberId s = 0; s <= 20; ++s) {
      if (random.between(0, 2) == 0) offline.insert(s);
    }
    std::map<std::uint32_t, std::vector<SubscriberId>> reported;
    tree.match(
        topic, [&](const Subscription& s) { reported[s.identifier].push_back(s.subscriber); },
        [&](SubscriberId s) { return offline.count(s) == 0; });

    std::size_t expectedGroups = 0;
    for (const auto& [key, members] : groups) {
      if (!matches(key.second, topic)) continue;
      ++expectedGroups;
      const auto it = reported.find(groupIds.at(key));
      ASSERT_NE(it, reported.end()) << key.first << "/" << key.second << " on " << topic;
      ASSERT_EQ(it->second.size(), 1u) << "one member per group";
      const SubscriberId picked = it->second.front();
      EXPECT_EQ(members.count(picked), 1u);
      const bool anyOnline = std::any_of(members.begin(), members.end(),
                                         [&](SubscriberId m) { return offline.count(m) == 0; });
      if (anyOnline) {
        EXPECT_EQ(offline.count(picked), 0u) << "picked an offline member";
      }
    }
    EXPECT_EQ(reported.size(), expectedGroups) << topic;
  }

  for (const auto& [key, members] : groups) {
    for (const SubscriberId m : members) {
      EXPECT_TRUE(tree.unsubscribe("$share/" + key.first + "/" + key.second, m));
    }
  }
  EXPECT_EQ(tree.nodeCount(), 0u);
}

}  // namespace
}  // namespace midge::topic
