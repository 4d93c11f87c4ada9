// SPDX-License-Identifier: Apache-2.0
// The bridge's topic lines: subscriptions per side and names across, with prefixes.
#include <gtest/gtest.h>

#include "broker/bridge/topic_map.hpp"

namespace midge::bridge {
namespace {

using config::BridgeDirection;

config::BridgeTopic line(std::string pattern, BridgeDirection direction, std::uint8_t qos,
                         std::string localPrefix = "", std::string remotePrefix = "") {
  config::BridgeTopic topic;
  topic.pattern = std::move(pattern);
  topic.direction = direction;
  topic.qos = qos;
  topic.localPrefix = std::move(localPrefix);
  topic.remotePrefix = std::move(remotePrefix);
  return topic;
}

TEST(TopicMap, OutLinesAreLocalSubscriptionsWithTheLocalPrefix) {
  TopicMap map({line("sensors/#", BridgeDirection::Out, 1, "edge/", "site1/"),
                line("cmd/#", BridgeDirection::In, 2, "dev/", "site1/cmd-")});
  const auto local = map.subscriptions(Side::Local);
  ASSERT_EQ(local.size(), 1u);
  EXPECT_EQ(local[0].filter, "edge/sensors/#");
  EXPECT_EQ(local[0].qos, 1);
  const auto remote = map.subscriptions(Side::Remote);
  ASSERT_EQ(remote.size(), 1u);
  EXPECT_EQ(remote[0].filter, "site1/cmd-cmd/#");
}

TEST(TopicMap, TranslatesByReplacingThePrefix) {
  TopicMap map({line("sensors/#", BridgeDirection::Out, 1, "edge/", "site1/"),
                line("cmd/#", BridgeDirection::In, 2, "", "site1/")});
  EXPECT_EQ(map.translate(Side::Local, "edge/sensors/t1"), "site1/sensors/t1");
  EXPECT_EQ(map.translate(Side::Remote, "site1/cmd/open"), "cmd/open");
  EXPECT_FALSE(map.translate(Side::Remote, "site1/sensors/t1")) << "an out line carries nothing in";
  EXPECT_FALSE(map.translate(Side::Local, "cmd/open")) << "an in line carries nothing out";
  EXPECT_FALSE(map.translate(Side::Local, "other/t"));
}

TEST(TopicMap, BothLinesGoBothWays) {
  TopicMap map({line("chat/#", BridgeDirection::Both, 2, "l/", "r/")});
  EXPECT_EQ(map.subscriptions(Side::Local)[0].filter, "l/chat/#");
  EXPECT_EQ(map.subscriptions(Side::Remote)[0].filter, "r/chat/#");
  EXPECT_EQ(map.translate(Side::Local, "l/chat/a"), "r/chat/a");
  EXPECT_EQ(map.translate(Side::Remote, "r/chat/a"), "l/chat/a");
}

TEST(TopicMap, EmptyPatternNamesThePrefixItself) {
  TopicMap map({line("", BridgeDirection::Out, 0, "local/exact", "remote/exact")});
  EXPECT_EQ(map.subscriptions(Side::Local)[0].filter, "local/exact");
  EXPECT_EQ(map.translate(Side::Local, "local/exact"), "remote/exact");
  EXPECT_FALSE(map.translate(Side::Local, "local/exact/more"));
}

TEST(TopicMap, SameFilterTwiceIsOneSubscriptionAtTheHigherQos) {
  TopicMap map({line("a/#", BridgeDirection::Out, 0), line("a/#", BridgeDirection::Both, 2)});
  const auto local = map.subscriptions(Side::Local);
  ASSERT_EQ(local.size(), 1u);
  EXPECT_EQ(local[0].qos, 2);
}

TEST(TopicMap, OutOnlyRemoteFiltersAreThoseNoInLineSubscribes) {
  TopicMap map({line("a/#", BridgeDirection::Out, 1, "", "up/"),
                line("b/#", BridgeDirection::Out, 1), line("b/#", BridgeDirection::In, 1)});
  EXPECT_EQ(map.outOnlyRemoteFilters(), std::vector<std::string>{"up/a/#"});
}

TEST(TopicMap, FirstMatchingLineWins) {
  TopicMap map({line("a/b", BridgeDirection::Out, 1, "", "first/"),
                line("a/#", BridgeDirection::Out, 1, "", "second/")});
  EXPECT_EQ(map.translate(Side::Local, "a/b"), "first/a/b");
  EXPECT_EQ(map.translate(Side::Local, "a/c"), "second/a/c");
}

}  // namespace
}  // namespace midge::bridge
