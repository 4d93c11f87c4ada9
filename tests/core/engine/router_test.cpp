// SPDX-License-Identifier: Apache-2.0
// The router on its own: which sessions a topic reaches (wildcards, $-topics, shared
// groups), how one client's overlapping subscriptions merge into one delivery, and the
// retained messages a topic keeps and a new subscription receives.
#include "core/engine/router.hpp"

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace midge {
namespace {

constexpr std::uint8_t kNoLocal = 0x04;
constexpr std::uint8_t kRetainAsPublished = 0x08;

struct Handed {
  SessionIndex session;
  std::uint8_t qos;
  bool retain;
  std::vector<std::uint32_t> identifiers;
};

class Sessions final : public Router::Recipients {
 public:
  bool canTakeNow(SessionIndex session) override { return busy.count(session) == 0; }
  bool mayReceive(SessionIndex session, const Message&) override {
    return denied.count(session) == 0;
  }
  void deliverTo(SessionIndex session, const MessagePtr&, std::uint8_t qos, bool retain,
                 std::vector<std::uint32_t> identifiers) override {
    std::sort(identifiers.begin(), identifiers.end());
    handed.push_back(Handed{session, qos, retain, std::move(identifiers)});
  }

  std::set<SessionIndex> receivers() const {
    std::set<SessionIndex> out;
    for (const Handed& delivery : handed) out.insert(delivery.session);
    return out;
  }

  std::set<SessionIndex> busy;
  std::set<SessionIndex> denied;
  std::vector<Handed> handed;
};

MessagePtr message(std::string topic, std::uint8_t qos = 0, std::string payload = "x",
                   bool retain = false, SessionIndex publisher = kNoSession,
                   std::int64_t expiresAt = 0) {
  auto made = std::make_shared<Message>();
  made->topic = std::move(topic);
  made->payload.assign(payload.begin(), payload.end());
  made->qos = qos;
  made->retain = retain;
  made->publisher = publisher;
  made->expiresAt = expiresAt;
  return made;
}

class EngineRouter : public ::testing::Test {
 protected:
  std::set<SessionIndex> receiversOf(const std::string& topic) {
    sessions.handed.clear();
    router.route(message(topic));
    return sessions.receivers();
  }

  Sessions sessions;
  Router router{sessions, false};
};

TEST_F(EngineRouter, WildcardsMatchByLevel) {
  router.subscribe("home/+/temperature", 1, 0, 0);
  router.subscribe("home/#", 2, 0, 0);
  router.subscribe("home/kitchen", 3, 0, 0);
  router.subscribe("#", 4, 0, 0);
  EXPECT_EQ(receiversOf("home/kitchen/temperature"), (std::set<SessionIndex>{1, 2, 4}));
  EXPECT_EQ(receiversOf("home/kitchen"), (std::set<SessionIndex>{2, 3, 4}));
  EXPECT_EQ(receiversOf("home"), (std::set<SessionIndex>{2, 4})) << "'#' includes its parent";
  EXPECT_EQ(receiversOf("garden/kitchen/temperature"), (std::set<SessionIndex>{4}));
  EXPECT_EQ(router.subscriptionCount(), 4u);
}

TEST_F(EngineRouter, LeadingWildcardsDoNotMatchDollarTopics) {
  router.subscribe("#", 1, 0, 0);
  router.subscribe("+/broker/uptime", 2, 0, 0);
  router.subscribe("$SYS/#", 3, 0, 0);
  router.subscribe("$SYS/+/uptime", 4, 0, 0);
  EXPECT_EQ(receiversOf("$SYS/broker/uptime"), (std::set<SessionIndex>{3, 4}));
  EXPECT_EQ(receiversOf("plain/broker/uptime"), (std::set<SessionIndex>{1, 2}));
}

TEST_F(EngineRouter, UnsubscribeStopsDeliveryAndSaysWhetherThereWasOne) {
  router.subscribe("a/b", 1, 0, 0);
  EXPECT_TRUE(router.unsubscribe("a/b", 1));
  EXPECT_FALSE(router.unsubscribe("a/b", 1));
  EXPECT_FALSE(router.unsubscribe("a/c", 2));
  EXPECT_TRUE(receiversOf("a/b").empty());
  EXPECT_EQ(router.subscriptionCount(), 0u);
}

TEST_F(EngineRouter, ResubscribingReportsTheReplacement) {
  EXPECT_FALSE(router.subscribe("a/b", 1, 0, 0));
  EXPECT_TRUE(router.subscribe("a/b", 1, 1, 0));
  EXPECT_FALSE(router.subscribe("a/b", 2, 0, 0)) << "another session's subscription";
  EXPECT_EQ(router.subscriptionCount(), 2u);
}

TEST_F(EngineRouter, ASharedGroupTakesTurnsAndPrefersAMemberThatCanTakeIt) {
  router.subscribe("$share/workers/jobs", 1, 0, 0);
  router.subscribe("$share/workers/jobs", 2, 0, 0);
  EXPECT_EQ(receiversOf("jobs"), (std::set<SessionIndex>{1}));
  EXPECT_EQ(receiversOf("jobs"), (std::set<SessionIndex>{2}));
  EXPECT_EQ(receiversOf("jobs"), (std::set<SessionIndex>{1}));
  sessions.busy.insert(2);
  EXPECT_EQ(receiversOf("jobs"), (std::set<SessionIndex>{1})) << "2's turn, but it is busy";
  sessions.busy.insert(1);
  EXPECT_EQ(receiversOf("jobs").size(), 1u) << "all busy: one member still gets it (queued)";
}

TEST_F(EngineRouter, EachSharedMatchIsADeliveryOfItsOwn) {
  router.subscribe("$share/g1/jobs", 1, 1, 11);
  router.subscribe("$share/g2/#", 1, 0, 0);
  router.subscribe("jobs", 1, 2, 12);
  router.route(message("jobs", 2));
  ASSERT_EQ(sessions.handed.size(), 3u);
  std::vector<std::vector<std::uint32_t>> identifiers;
  for (const Handed& delivery : sessions.handed) identifiers.push_back(delivery.identifiers);
  std::sort(identifiers.begin(), identifiers.end());
  EXPECT_EQ(identifiers, (std::vector<std::vector<std::uint32_t>>{{}, {11}, {12}}));
}

TEST_F(EngineRouter, OverlappingSubscriptionsOfOneClientMergeIntoOneDelivery) {
  router.subscribe("sensors/#", 1, 1, 5);
  router.subscribe("sensors/+/temp", 1, 2, 7);
  router.subscribe("sensors/a/temp", 1, 0, 0);
  router.subscribe("sensors/a/temp", 2, 0, 0);
  EXPECT_EQ(router.route(message("sensors/a/temp", 2)), 2u);
  ASSERT_EQ(sessions.handed.size(), 2u);
  const Handed& merged =
      sessions.handed[0].session == 1 ? sessions.handed[0] : sessions.handed[1];
  EXPECT_EQ(merged.qos, 2) << "the highest granted QoS";
  EXPECT_EQ(merged.identifiers, (std::vector<std::uint32_t>{5, 7})) << "every identifier";

  sessions.handed.clear();
  router.route(message("sensors/a/temp", 1));
  for (const Handed& delivery : sessions.handed) {
    EXPECT_LE(delivery.qos, 1) << "never above the message's QoS";
  }
}

TEST(EngineRouterUpgrade, UpgradeOutgoingQosDeliversAtTheGrantedQos) {
  Sessions sessions;
  Router router(sessions, true);
  router.subscribe("a", 1, 2, 0);
  router.route(message("a", 0));
  ASSERT_EQ(sessions.handed.size(), 1u);
  EXPECT_EQ(sessions.handed[0].qos, 2);
}

TEST_F(EngineRouter, NoLocalSkipsThePublishersOwnSubscriptionOnly) {
  router.subscribe("chat/#", 1, kNoLocal | 1, 3);
  router.route(message("chat/room", 1, "hi", false, 1));
  EXPECT_TRUE(sessions.handed.empty());

  router.subscribe("chat/room", 1, 0, 4);
  router.route(message("chat/room", 1, "hi", false, 1));
  ASSERT_EQ(sessions.handed.size(), 1u);
  EXPECT_EQ(sessions.handed[0].qos, 0) << "only the subscription without No Local counts";
  EXPECT_EQ(sessions.handed[0].identifiers, (std::vector<std::uint32_t>{4}));
}

TEST_F(EngineRouter, RetainAsPublishedKeepsTheRetainFlagIfAnyMergedSubscriptionAsks) {
  router.subscribe("a/#", 1, 0, 0);
  router.subscribe("a/b", 2, 0, 0);
  router.subscribe("a/b", 1, kRetainAsPublished, 0);
  router.route(message("a/b", 0, "x", true));
  ASSERT_EQ(sessions.handed.size(), 2u);
  for (const Handed& delivery : sessions.handed) {
    EXPECT_EQ(delivery.retain, delivery.session == 1) << "session " << delivery.session;
  }
}

TEST_F(EngineRouter, ASessionThatMayNotReceiveGetsNothingAndIsNotCounted) {
  router.subscribe("a", 1, 0, 0);
  router.subscribe("a", 2, 0, 0);
  sessions.denied.insert(1);
  EXPECT_EQ(router.route(message("a")), 1u);
  EXPECT_EQ(sessions.receivers(), (std::set<SessionIndex>{2}));
}

TEST_F(EngineRouter, RetainedMessagesAreSetReplacedAndCleared) {
  const MessagePtr first = message("status", 0, "on", true);
  Router::RetainChange change = router.retain(first);
  EXPECT_TRUE(change.stored);
  EXPECT_EQ(change.addedBytes, first->footprint());
  EXPECT_EQ(change.releasedBytes, 0u);
  ASSERT_NE(router.retained("status"), nullptr);
  EXPECT_EQ(*router.retained("status"), first);

  const MessagePtr second = message("status", 0, "off again", true);
  change = router.retain(second);
  EXPECT_TRUE(change.stored);
  EXPECT_EQ(change.releasedBytes, first->footprint());
  EXPECT_EQ(*router.retained("status"), second);
  EXPECT_EQ(router.retainedCount(), 1u);
  EXPECT_EQ(router.retainedBytes(), second->footprint());

  change = router.retain(message("status", 0, "", true));
  EXPECT_TRUE(change.cleared);
  EXPECT_FALSE(change.stored);
  EXPECT_EQ(change.releasedBytes, second->footprint());
  EXPECT_EQ(router.retained("status"), nullptr);
  EXPECT_EQ(router.retainedCount(), 0u);
  EXPECT_EQ(router.retainedBytes(), 0u);

  change = router.retain(message("never/set", 0, "", true));
  EXPECT_FALSE(change.cleared) << "clearing nothing changes nothing";
  EXPECT_EQ(change.releasedBytes, 0u);
}

TEST_F(EngineRouter, ANewFilterReceivesTheLiveRetainedMessagesItMatches) {
  router.retain(message("home/kitchen/temp", 1, "21", true));
  router.retain(message("home/hall/temp", 0, "19", true));
  router.retain(message("home/hall/humidity", 0, "40", true));
  router.retain(message("home/cellar/temp", 0, "9", true, kNoSession, 100));
  router.retain(message("$SYS/broker/uptime", 0, "5", true));
  std::vector<MessagePtr> live;
  std::vector<std::string> expired;
  const std::size_t released = router.retainedFor("home/+/temp", 100, live, expired);

  std::set<std::string> topics;
  for (const MessagePtr& retained : live) topics.insert(retained->topic);
  EXPECT_EQ(topics, (std::set<std::string>{"home/kitchen/temp", "home/hall/temp"}));
  EXPECT_EQ(expired, (std::vector<std::string>{"home/cellar/temp"}));
  EXPECT_GT(released, 0u);
  EXPECT_EQ(router.retained("home/cellar/temp"), nullptr) << "expired ones are removed";
  EXPECT_EQ(router.retainedCount(), 4u);

  live.clear();
  router.retainedFor("#", 100, live, expired);
  EXPECT_EQ(live.size(), 3u) << "'#' does not reach $SYS";
}

}  // namespace
}  // namespace midge
