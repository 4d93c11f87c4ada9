// SPDX-License-Identifier: Apache-2.0
// The subscription tree: a trie keyed by topic level, with a '+' and a '#' child per node,
// so the cost of matching a PUBLISH depends on the depth of its topic and on the number of
// matches, not on the number of subscriptions. See docs/topics.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/topic/node_pool.hpp"
#include "core/topic/topic.hpp"

namespace midge::topic {

using SubscriberId = std::uint32_t;  // the engine's session index

struct Subscription {
  SubscriberId subscriber = 0;
  std::uint8_t options = 0;      // the v5 subscription options byte (QoS, NL, RAP, RH)
  // A $share/ subscription: each match is a delivery of its own, never merged with the
  // client's ordinary overlapping subscriptions.
  bool shared = false;
  std::uint32_t identifier = 0;  // v5 subscription identifier; 0: none
};

// Not thread-safe. Filters must have passed validateTopicFilter.
class SubscriptionTree {
 public:
  SubscriptionTree() = default;

  // Adds or replaces the subscription of subscription.subscriber to filter, which may be
  // "$share/group/f". Returns true if it REPLACED an existing subscription of that
  // subscriber to the same full filter (v5 retain handling 1 needs to know). A shared
  // member that resubscribes keeps its place in the group's round-robin order.
  bool subscribe(std::string_view filter, const Subscription& subscription);

  // Returns false if the subscriber had no such subscription (v5 reason 0x11). Nodes left
  // without subscriptions or children are released, so churn does not grow memory.
  bool unsubscribe(std::string_view filter, SubscriberId subscriber);

  // Calls onMatch(const Subscription&) for every non-shared subscription whose filter
  // matches topicName, and once per shared group with a matching filter, for one member:
  // round-robin per group, starting after the member picked last time, the first for which
  // canDeliver(SubscriberId) is true; if none can, the next in turn anyway (it will queue).
  // Every match is reported: merging overlapping subscriptions of one client is the
  // engine's job. Filters whose first level is '+' or '#' skip topics starting with '$'.
  //
  // Does not allocate once the tree has been built (the walk stack is sized by subscribe).
  // The callbacks must not modify the tree or call match() again.
  template <typename OnMatch, typename CanDeliver>
  void match(std::string_view topicName, OnMatch&& onMatch, CanDeliver&& canDeliver);

  // Subscriptions held, shared members included.
  std::size_t subscriptionCount() const noexcept { return subscriptionCount_; }
  // Trie nodes in use besides the root; 0 when the tree is empty.
  std::size_t nodeCount() const noexcept { return nodes_.liveCount(); }
  void clear();

 private:
  using NodeId = detail::NodeId;

  struct SharedGroup {
    std::string name;
    std::vector<Subscription> members;  // in subscribe order
    std::size_t next = 0;               // the member tried first on the next match
  };

  struct Node {
    detail::Edges children;
    NodeId plus = detail::kNoNode;
    NodeId hash = detail::kNoNode;
    std::vector<Subscription> subscriptions;  // sorted by subscriber, one per subscriber
    std::vector<SharedGroup> groups;          // few per filter: a linear scan is fastest

    bool unused() const noexcept {
      return children.empty() && plus == detail::kNoNode && hash == detail::kNoNode &&
             subscriptions.empty() && groups.empty();
    }
  };

  struct Frame {
    NodeId node;
    std::size_t position;  // where the next topic level starts; npos: all levels consumed
  };

  struct PathStep {
    NodeId parent;
    NodeId child;
    std::string_view level;
  };

  NodeId findOrCreateChild(NodeId parent, std::string_view level);
  bool removeFromNode(Node& node, const std::optional<SharedFilter>& shared,
                      SubscriberId subscriber);
  void prune(const std::vector<PathStep>& path);

  template <typename OnMatch, typename CanDeliver>
  void report(Node& node, OnMatch& onMatch, CanDeliver& canDeliver);

  detail::NodePool<Node> nodes_;
  std::size_t subscriptionCount_ = 0;
  std::vector<Frame> stack_;       // reused by match()
  std::vector<PathStep> path_;     // reused by unsubscribe()
};

template <typename OnMatch, typename CanDeliver>
void SubscriptionTree::report(Node& node, OnMatch& onMatch, CanDeliver& canDeliver) {
  for (const Subscription& subscription : node.subscriptions) onMatch(subscription);
  for (SharedGroup& group : node.groups) {
    const std::size_t count = group.members.size();
    std::size_t chosen = group.next % count;
    for (std::size_t step = 0; step < count; ++step) {
      const std::size_t candidate = (group.next + step) % count;
      if (canDeliver(group.members[candidate].subscriber)) {
        chosen = candidate;
        break;
      }
    }
    group.next = (chosen + 1) % count;
    onMatch(group.members[chosen]);
  }
}

template <typename OnMatch, typename CanDeliver>
void SubscriptionTree::match(std::string_view topicName, OnMatch&& onMatch,
                             CanDeliver&& canDeliver) {
  constexpr std::size_t kDone = std::string_view::npos;
  // MQTT-4.7.2-1: leading wildcards never match $-topics, so the root's '+' and '#' are
  // skipped for them; deeper wildcards are not affected.
  const bool dollarTopic = !topicName.empty() && topicName.front() == '$';
  stack_.clear();
  stack_.push_back(Frame{detail::kRootNode, 0});
  while (!stack_.empty()) {
    const Frame frame = stack_.back();
    stack_.pop_back();
    Node& node = nodes_[frame.node];
    const bool wildcardsAllowed = !(dollarTopic && frame.node == detail::kRootNode);
    // '#' matches the remaining levels, including none ("sport/#" matches "sport").
    if (node.hash != detail::kNoNode && wildcardsAllowed) {
      report(nodes_[node.hash], onMatch, canDeliver);
    }
    if (frame.position == kDone) {
      report(node, onMatch, canDeliver);
      continue;
    }
    const std::size_t slash = topicName.find('/', frame.position);
    const std::string_view level = topicName.substr(
        frame.position, slash == kDone ? kDone : slash - frame.position);
    const std::size_t next = slash == kDone ? kDone : slash + 1;
    if (node.plus != detail::kNoNode && wildcardsAllowed) {
      stack_.push_back(Frame{node.plus, next});
    }
    const NodeId literal = node.children.find(level);
    if (literal != detail::kNoNode) stack_.push_back(Frame{literal, next});
  }
}

}  // namespace midge::topic
