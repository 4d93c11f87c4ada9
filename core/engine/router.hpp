// SPDX-License-Identifier: Apache-2.0
// Where messages go: the subscription tree, the retained messages, matching a topic to
// subscriptions and the per-client merge of overlapping ones. The router knows sessions
// only by their index; what a session is, whether it may receive and how a delivery is
// sent or queued is the broker's business, asked through Recipients. It never touches the
// store or the memory budget: it reports what changed and the broker accounts for it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/engine/message.hpp"
#include "core/topic/subscription_tree.hpp"
#include "core/topic/topic_index.hpp"

namespace midge {

class Router {
 public:
  // The broker's side of routing, asked per matching session of every routed message.
  class Recipients {
   public:
    virtual ~Recipients() = default;
    // A shared group's turn goes to the first member that can take the message now.
    virtual bool canTakeNow(SessionIndex session) = 0;
    // false: the session is gone, or not authorized to receive the message's topic.
    virtual bool mayReceive(SessionIndex session, const Message& message) = 0;
    virtual void deliverTo(SessionIndex session, const MessagePtr& message, std::uint8_t qos,
                           bool retain, std::vector<std::uint32_t> subscriptionIds) = 0;
  };

  // upgradeOutgoingQos: deliver at the subscription's QoS even when the message's is
  // lower (Mosquitto's upgrade_outgoing_qos).
  Router(Recipients& recipients, bool upgradeOutgoingQos)
      : recipients_(recipients), upgradeOutgoingQos_(upgradeOutgoingQos) {}
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Subscriptions. filter has passed validateTopicFilter and may be "$share/group/f";
  // options is the v5 options byte (QoS, No Local, Retain As Published, Retain Handling).
  // Returns true if it replaced the session's subscription to the same filter.
  bool subscribe(std::string_view filter, SessionIndex session, std::uint8_t options,
                 std::uint32_t identifier);
  // Returns false if the session had no such subscription.
  bool unsubscribe(std::string_view filter, SessionIndex session);
  std::size_t subscriptionCount() const { return tree_.subscriptionCount(); }

  // Hands the message to every session with a matching subscription: one delivery per
  // client for its ordinary subscriptions (highest granted QoS, every subscription
  // identifier, No Local and Retain As Published applied), one per matching shared group.
  // Returns the number of deliveries. Allocates nothing once warm, besides the identifier
  // lists handed over.
  std::size_t route(const MessagePtr& message);

  // Retained messages: at most one per topic name.
  struct RetainChange {
    std::size_t releasedBytes = 0;  // footprint of the message replaced or cleared
    std::size_t addedBytes = 0;     // footprint of the message now retained
    bool stored = false;            // message is now the topic's retained message
    bool cleared = false;           // an empty payload removed the topic's retained message
  };
  // Sets or replaces the topic's retained message; an empty payload clears it.
  RetainChange retain(const MessagePtr& message);
  // From the store at start: no change to report, the caller accounts for the footprint.
  void restoreRetained(std::string_view topicName, const MessagePtr& message);
  const MessagePtr* retained(std::string_view topicName) const {
    return retained_.find(topicName);
  }
  std::size_t retainedCount() const { return retained_.size(); }
  std::size_t retainedBytes() const { return retainedBytes_; }

  // What a new subscription to filter (not shared) receives: the live retained messages
  // whose topic it matches, appended to live. Those expired at nowWallSeconds are removed
  // on the way; their topic names are appended to expired (for the store) and their
  // footprint returned.
  std::size_t retainedFor(std::string_view filter, std::int64_t nowWallSeconds,
                          std::vector<MessagePtr>& live, std::vector<std::string>& expired);

 private:
  void mergeAndDeliver(const MessagePtr& message, std::size_t begin, std::size_t end,
                       std::size_t& deliveries);
  std::size_t release(std::string_view topicName);
  std::size_t replace(std::string_view topicName, const MessagePtr& message);

  Recipients& recipients_;
  const bool upgradeOutgoingQos_;
  topic::SubscriptionTree tree_;
  topic::TopicIndex<MessagePtr> retained_;
  std::size_t retainedBytes_ = 0;
  std::vector<topic::Subscription> matches_;  // reused by route()
};

}  // namespace midge
