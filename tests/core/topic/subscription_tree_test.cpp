// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/topic/subscription_tree.hpp"
#include "tests/core/topic/allocation_counter.hpp"

namespace midge::topic {
namespace {

struct Delivery {
  SubscriberId subscriber;
  std::uint8_t options;
  std::uint32_t identifier;
  bool operator==(const Delivery& other) const {
    return subscriber == other.subscriber && options == other.options &&
           identifier == other.identifier;
  }
};

std::ostream& operator<<(std::ostream& os, const Delivery& d) {
  return os << "{" << d.subscriber << "," << int(d.options) << "," << d.identifier << "}";
}

std::vector<Delivery> deliveries(SubscriptionTree& tree, std::string_view topic) {
  std::vector<Delivery> out;
  tree.match(
      topic,
      [&](const Subscription& s) { out.push_back({s.subscriber, s.options, s.identifier}); },
      [](SubscriberId) { return true; });
  return out;
}

std::vector<SubscriberId> pickedSubscribers(SubscriptionTree& tree, std::string_view topic,
                                            int rounds,
                                            const std::vector<SubscriberId>& offline = {}) {
  std::vector<SubscriberId> out;
  for (int i = 0; i < rounds; ++i) {
    tree.match(
        topic, [&](const Subscription& s) { out.push_back(s.subscriber); },
        [&](SubscriberId id) {
          for (const SubscriberId o : offline) {
            if (o == id) return false;
          }
          return true;
        });
  }
  return out;
}

TEST(SubscriptionTree, EmptyTreeMatchesNothing) {
  SubscriptionTree tree;
  EXPECT_TRUE(deliveries(tree, "a/b").empty());
  EXPECT_EQ(tree.subscriptionCount(), 0u);
  EXPECT_EQ(tree.nodeCount(), 0u);
}

TEST(SubscriptionTree, ReportsEverySubscriberOfEveryMatchingFilter) {
  SubscriptionTree tree;
  EXPECT_FALSE(tree.subscribe("sport/tennis", Subscription{1, 0, false, 10}));
  EXPECT_FALSE(tree.subscribe("sport/+", Subscription{1, 1, false, 11}));
  EXPECT_FALSE(tree.subscribe("sport/#", Subscription{2, 2, false, 12}));
  EXPECT_FALSE(tree.subscribe("golf/#", Subscription{3, 0, false, 13}));
  EXPECT_EQ(tree.subscriptionCount(), 4u);

  auto got = deliveries(tree, "sport/tennis");
  std::sort(got.begin(), got.end(),
            [](const Delivery& a, const Delivery& b) { return a.identifier < b.identifier; });
  EXPECT_EQ(got, (std::vector<Delivery>{{1, 0, 10}, {1, 1, 11}, {2, 2, 12}}))
      << "overlapping subscriptions of one client are each reported";
  EXPECT_EQ(deliveries(tree, "sport"), (std::vector<Delivery>{{2, 2, 12}}));
  EXPECT_TRUE(deliveries(tree, "cricket").empty());
}

TEST(SubscriptionTree, ResubscribeReplacesOptionsAndSaysSo) {
  SubscriptionTree tree;
  EXPECT_FALSE(tree.subscribe("a/b", Subscription{4, 0, false, 0}));
  EXPECT_TRUE(tree.subscribe("a/b", Subscription{4, 2, false, 99}));
  EXPECT_EQ(tree.subscriptionCount(), 1u);
  EXPECT_EQ(deliveries(tree, "a/b"), (std::vector<Delivery>{{4, 2, 99}}));
  EXPECT_FALSE(tree.subscribe("a/+", Subscription{4, 0, false, 0})) << "another filter is new";
  EXPECT_FALSE(tree.subscribe("$share/g/a/b", Subscription{4, 0, false, 0}))
      << "the shared form of the same filter is a different subscription";
  EXPECT_TRUE(tree.subscribe("$share/g/a/b", Subscription{4, 1, false, 0}));
  EXPECT_EQ(tree.subscriptionCount(), 3u);
}

TEST(SubscriptionTree, UnsubscribeReportsWhetherThereWasOne) {
  SubscriptionTree tree;
  tree.subscribe("a/b", Subscription{1, 0, false, 0});
  tree.subscribe("$share/g/a/b", Subscription{2, 0, false, 0});
  EXPECT_FALSE(tree.unsubscribe("a/c", 1)) << "no such filter";
  EXPECT_FALSE(tree.unsubscribe("a", 1)) << "a prefix node is not a subscription";
  EXPECT_FALSE(tree.unsubscribe("a/b", 9)) << "no such subscriber";
  EXPECT_FALSE(tree.unsubscribe("a/b", 2)) << "2 only holds the shared form";
  EXPECT_FALSE(tree.unsubscribe("$share/h/a/b", 2)) << "wrong group";
  EXPECT_FALSE(tree.unsubscribe("$share/g/a/b", 1)) << "1 is not a member";
  EXPECT_FALSE(tree.unsubscribe("a/+", 1));
  EXPECT_FALSE(tree.unsubscribe("a/#", 1));
  EXPECT_EQ(tree.subscriptionCount(), 2u);

  EXPECT_TRUE(tree.unsubscribe("a/b", 1));
  EXPECT_FALSE(tree.unsubscribe("a/b", 1)) << "already gone";
  EXPECT_TRUE(tree.unsubscribe("$share/g/a/b", 2));
  EXPECT_EQ(tree.subscriptionCount(), 0u);
  EXPECT_TRUE(deliveries(tree, "a/b").empty());
}

TEST(SubscriptionTree, UnsubscribePrunesOnlyEmptyBranches) {
  SubscriptionTree tree;
  tree.subscribe("a/b/c", Subscription{1, 0, false, 0});
  tree.subscribe("a/b/d", Subscription{1, 0, false, 0});
  tree.subscribe("a/+/#", Subscription{2, 0, false, 0});
  tree.subscribe("$share/g/a/b/c", Subscription{3, 0, false, 0});
  EXPECT_EQ(tree.nodeCount(), 6u);  // a, b, c, d, +, #

  EXPECT_TRUE(tree.unsubscribe("a/b/c", 1));
  EXPECT_EQ(tree.nodeCount(), 6u) << "c still holds the shared group";
  EXPECT_TRUE(tree.unsubscribe("$share/g/a/b/c", 3));
  EXPECT_EQ(tree.nodeCount(), 5u);
  EXPECT_TRUE(tree.unsubscribe("a/+/#", 2));
  EXPECT_EQ(tree.nodeCount(), 3u);
  EXPECT_EQ(deliveries(tree, "a/b/d"), (std::vector<Delivery>{{1, 0, 0}}));
  EXPECT_TRUE(tree.unsubscribe("a/b/d", 1));
  EXPECT_EQ(tree.nodeCount(), 0u);
  EXPECT_EQ(tree.subscriptionCount(), 0u);
}

TEST(SubscriptionTree, ChurnReusesNodes) {
  SubscriptionTree tree;
  for (int round = 0; round < 200; ++round) {
    const std::string filter = "device/" + std::to_string(round) + "/+/status";
    tree.subscribe(filter, Subscription{static_cast<SubscriberId>(round), 0, false, 0});
    tree.subscribe("$share/g/" + filter, Subscription{1, 0, false, 0});
    EXPECT_EQ(tree.nodeCount(), 4u);
    EXPECT_TRUE(tree.unsubscribe(filter, static_cast<SubscriberId>(round)));
    EXPECT_TRUE(tree.unsubscribe("$share/g/" + filter, 1));
    EXPECT_EQ(tree.nodeCount(), 0u);
  }
}

TEST(SubscriptionTree, SharedGroupDeliversToOneMemberInTurn) {
  SubscriptionTree tree;
  for (SubscriberId id : {1u, 2u, 3u}) tree.subscribe("$share/g/jobs/+", Subscription{id, 1, false, 0});
  EXPECT_EQ(tree.subscriptionCount(), 3u);
  EXPECT_EQ(pickedSubscribers(tree, "jobs/x", 7),
            (std::vector<SubscriberId>{1, 2, 3, 1, 2, 3, 1}));
  EXPECT_TRUE(pickedSubscribers(tree, "other/x", 3).empty());
}

TEST(SharedSubscription, SkipsMembersThatCannotTakeAMessage) {
  SubscriptionTree tree;
  for (SubscriberId id : {1u, 2u, 3u}) tree.subscribe("$share/g/jobs", Subscription{id, 1, false, 0});
  EXPECT_EQ(pickedSubscribers(tree, "jobs", 4, {2}), (std::vector<SubscriberId>{1, 3, 1, 3}));
  // The turn continues after the member picked last (3), not after the skipped one.
  EXPECT_EQ(pickedSubscribers(tree, "jobs", 3), (std::vector<SubscriberId>{1, 2, 3}));
  EXPECT_EQ(pickedSubscribers(tree, "jobs", 2, {1}), (std::vector<SubscriberId>{2, 3}));
}

TEST(SharedSubscription, NobodyCanTakeItSoTheNextInTurnQueuesIt) {
  SubscriptionTree tree;
  for (SubscriberId id : {1u, 2u, 3u}) tree.subscribe("$share/g/jobs", Subscription{id, 1, false, 0});
  EXPECT_EQ(pickedSubscribers(tree, "jobs", 4, {1, 2, 3}),
            (std::vector<SubscriberId>{1, 2, 3, 1}));
}

TEST(SharedSubscription, ResubscribeKeepsThePlaceAndReplacesOptions) {
  SubscriptionTree tree;
  for (SubscriberId id : {1u, 2u, 3u}) tree.subscribe("$share/g/jobs", Subscription{id, 0, false, 0});
  EXPECT_EQ(pickedSubscribers(tree, "jobs", 1), (std::vector<SubscriberId>{1}));
  EXPECT_TRUE(tree.subscribe("$share/g/jobs", Subscription{1, 2, false, 42}));
  EXPECT_EQ(tree.subscriptionCount(), 3u);
  std::vector<Delivery> got;
  for (int i = 0; i < 3; ++i) {
    const auto one = deliveries(tree, "jobs");
    got.insert(got.end(), one.begin(), one.end());
  }
  EXPECT_EQ(got, (std::vector<Delivery>{{2, 0, 0}, {3, 0, 0}, {1, 2, 42}}));
}

TEST(SharedSubscription, LeavingMembersDoNotDisturbTheTurn) {
  SubscriptionTree tree;
  for (SubscriberId id : {1u, 2u, 3u, 4u}) {
    tree.subscribe("$share/g/jobs", Subscription{id, 0, false, 0});
  }
  EXPECT_EQ(pickedSubscribers(tree, "jobs", 2), (std::vector<SubscriberId>{1, 2}));
  EXPECT_TRUE(tree.unsubscribe("$share/g/jobs", 1));  // before the one due (3)
  EXPECT_EQ(pickedSubscribers(tree, "jobs", 1), (std::vector<SubscriberId>{3}));
  EXPECT_TRUE(tree.unsubscribe("$share/g/jobs", 4));  // the one due: wraps to the start
  EXPECT_EQ(pickedSubscribers(tree, "jobs", 3), (std::vector<SubscriberId>{2, 3, 2}));
  EXPECT_TRUE(tree.subscribe("$share/g/jobs", Subscription{9, 0, false, 0}) == false);
  EXPECT_EQ(pickedSubscribers(tree, "jobs", 3), (std::vector<SubscriberId>{3, 9, 2}));
}

TEST(SharedSubscription, EachGroupAndFilterHasItsOwnTurn) {
  SubscriptionTree tree;
  tree.subscribe("$share/a/jobs", Subscription{1, 0, false, 0});
  tree.subscribe("$share/a/jobs", Subscription{2, 0, false, 0});
  tree.subscribe("$share/b/jobs", Subscription{3, 0, false, 0});
  tree.subscribe("$share/b/jobs", Subscription{4, 0, false, 0});
  tree.subscribe("$share/a/+", Subscription{5, 0, false, 0});
  tree.subscribe("$share/a/+", Subscription{6, 0, false, 0});
  tree.subscribe("jobs", Subscription{7, 0, false, 0});
  // Within one match the order of reports is unspecified; across matches each turn moves.
  auto first = pickedSubscribers(tree, "jobs", 1);
  auto second = pickedSubscribers(tree, "jobs", 1);
  std::sort(first.begin(), first.end());
  std::sort(second.begin(), second.end());
  EXPECT_EQ(first, (std::vector<SubscriberId>{1, 3, 5, 7}));
  EXPECT_EQ(second, (std::vector<SubscriberId>{2, 4, 6, 7}));
}

TEST(SharedSubscription, SharedHashDoesNotMatchDollarTopics) {
  SubscriptionTree tree;
  tree.subscribe("$share/g/#", Subscription{1, 0, false, 0});
  tree.subscribe("$share/g/+/x", Subscription{2, 0, false, 0});
  tree.subscribe("$share/g/$SYS/#", Subscription{3, 0, false, 0});
  EXPECT_EQ(pickedSubscribers(tree, "$SYS/x", 1), (std::vector<SubscriberId>{3}));
  auto picked = pickedSubscribers(tree, "a/x", 1);
  std::sort(picked.begin(), picked.end());
  EXPECT_EQ(picked, (std::vector<SubscriberId>{1, 2}));
}

TEST(SubscriptionTree, MatchDoesNotAllocate) {
  SubscriptionTree tree;
  tree.subscribe("sensors/+/temperature", Subscription{1, 0, false, 0});
  tree.subscribe("sensors/#", Subscription{2, 0, false, 0});
  tree.subscribe("+/+/+/+/+/+/+/+", Subscription{3, 0, false, 0});
  tree.subscribe("$share/g/sensors/+/+", Subscription{4, 0, false, 0});
  tree.subscribe("$share/g/sensors/+/+", Subscription{5, 0, false, 0});
  int matched = 0;
  const long before = testing::allocationCount();
  for (const char* topic : {"sensors/kitchen/temperature", "a/b/c/d/e/f/g/h", "x"}) {
    tree.match(
        topic, [&](const Subscription&) { ++matched; }, [](SubscriberId) { return true; });
  }
  EXPECT_EQ(testing::allocationCount() - before, 0);
  EXPECT_EQ(matched, 4);
}

TEST(SubscriptionTree, DeepFiltersNeitherRecurseNorLeak) {
  // A hostile client may send a 64 KiB filter of 32k levels; nothing may walk it
  // recursively (stack overflow) and unsubscribing must free it all.
  std::string deepFilter;
  std::string deepTopic;
  for (int i = 0; i < 32000; ++i) {
    deepFilter += i == 0 ? "+" : "/+";
    deepTopic += i == 0 ? "a" : "/a";
  }
  SubscriptionTree tree;
  tree.subscribe(deepFilter, Subscription{1, 0, false, 0});
  tree.subscribe(deepTopic, Subscription{2, 0, false, 0});
  tree.subscribe(deepTopic + "/#", Subscription{3, 0, false, 0});
  EXPECT_EQ(deliveries(tree, deepTopic).size(), 3u);
  EXPECT_TRUE(tree.unsubscribe(deepFilter, 1));
  EXPECT_TRUE(tree.unsubscribe(deepTopic, 2));
  EXPECT_TRUE(tree.unsubscribe(deepTopic + "/#", 3));
  EXPECT_EQ(tree.nodeCount(), 0u);

  SubscriptionTree dropped;  // destroyed while holding the deep branch
  dropped.subscribe(deepTopic, Subscription{1, 0, false, 0});
  EXPECT_EQ(dropped.nodeCount(), 32000u);
}

TEST(SubscriptionTree, ClearForgetsEverything) {
  SubscriptionTree tree;
  tree.subscribe("a/b", Subscription{1, 0, false, 0});
  tree.subscribe("$share/g/a/#", Subscription{2, 0, false, 0});
  tree.clear();
  EXPECT_EQ(tree.subscriptionCount(), 0u);
  EXPECT_EQ(tree.nodeCount(), 0u);
  EXPECT_TRUE(deliveries(tree, "a/b").empty());
  EXPECT_FALSE(tree.subscribe("a/b", Subscription{1, 0, false, 0}));
  EXPECT_EQ(deliveries(tree, "a/b").size(), 1u);
}

}  // namespace
}  // namespace midge::topic
