// SPDX-License-Identifier: Apache-2.0
#include "core/topic/subscription_tree.hpp"

#include <algorithm>

namespace midge::topic {
namespace {

auto bySubscriber(std::vector<Subscription>& subscriptions, SubscriberId subscriber) {
  return std::lower_bound(
      subscriptions.begin(), subscriptions.end(), subscriber,
      [](const Subscription& entry, SubscriberId id) { return entry.subscriber < id; });
}

}  // namespace

SubscriptionTree::NodeId SubscriptionTree::findOrCreateChild(NodeId parent,
                                                             std::string_view level) {
  if (level == "+") {
    if (nodes_[parent].plus == detail::kNoNode) nodes_[parent].plus = nodes_.allocate();
    return nodes_[parent].plus;
  }
  if (level == "#") {
    if (nodes_[parent].hash == detail::kNoNode) nodes_[parent].hash = nodes_.allocate();
    return nodes_[parent].hash;
  }
  NodeId child = nodes_[parent].children.find(level);
  if (child == detail::kNoNode) {
    child = nodes_.allocate();
    nodes_[parent].children.insert(level, child);
  }
  return child;
}

bool SubscriptionTree::subscribe(std::string_view filter, const Subscription& subscription) {
  const std::optional<SharedFilter> shared = parseShared(filter);
  NodeId id = detail::kRootNode;
  std::size_t depth = 0;
  LevelReader levels(shared ? shared->filter : filter);
  while (!levels.done()) {
    id = findOrCreateChild(id, levels.next());
    ++depth;
  }
  // match() keeps at most one pending sibling per level plus the two children just pushed;
  // reserving here is what keeps match() free of allocations.
  if (stack_.capacity() < depth + 2) stack_.reserve(depth + 2);

  Node& node = nodes_[id];
  if (!shared) {
    const auto it = bySubscriber(node.subscriptions, subscription.subscriber);
    if (it != node.subscriptions.end() && it->subscriber == subscription.subscriber) {
      *it = subscription;
      return true;
    }
    node.subscriptions.insert(it, subscription);
    ++subscriptionCount_;
    return false;
  }

  auto group = std::find_if(node.groups.begin(), node.groups.end(),
                            [&](const SharedGroup& g) { return g.name == shared->group; });
  if (group == node.groups.end()) {
    node.groups.push_back(SharedGroup{std::string(shared->group), {subscription}, 0});
    ++subscriptionCount_;
    return false;
  }
  auto member = std::find_if(group->members.begin(), group->members.end(),
                             [&](const Subscription& m) {
                               return m.subscriber == subscription.subscriber;
                             });
  if (member != group->members.end()) {
    *member = subscription;
    return true;
  }
  group->members.push_back(subscription);
  ++subscriptionCount_;
  return false;
}

bool SubscriptionTree::removeFromNode(Node& node, const std::optional<SharedFilter>& shared,
                                      SubscriberId subscriber) {
  if (!shared) {
    const auto it = bySubscriber(node.subscriptions, subscriber);
    if (it == node.subscriptions.end() || it->subscriber != subscriber) return false;
    node.subscriptions.erase(it);
    return true;
  }
  const auto group = std::find_if(node.groups.begin(), node.groups.end(),
                                  [&](const SharedGroup& g) { return g.name == shared->group; });
  if (group == node.groups.end()) return false;
  const auto member = std::find_if(group->members.begin(), group->members.end(),
                                   [&](const Subscription& m) { return m.subscriber == subscriber; });
  if (member == group->members.end()) return false;
  // Keep the turn with the member that was due: removing an earlier member shifts it left.
  const auto index = static_cast<std::size_t>(member - group->members.begin());
  group->members.erase(member);
  if (group->members.empty()) {
    node.groups.erase(group);
    return true;
  }
  if (index < group->next) --group->next;
  if (group->next >= group->members.size()) group->next = 0;
  return true;
}

bool SubscriptionTree::unsubscribe(std::string_view filter, SubscriberId subscriber) {
  const std::optional<SharedFilter> shared = parseShared(filter);
  path_.clear();
  NodeId id = detail::kRootNode;
  LevelReader levels(shared ? shared->filter : filter);
  while (!levels.done()) {
    const std::string_view level = levels.next();
    const Node& parent = nodes_[id];
    const NodeId child = level == "+"   ? parent.plus
                         : level == "#" ? parent.hash
                                        : parent.children.find(level);
    if (child == detail::kNoNode) return false;
    path_.push_back(PathStep{id, child, level});
    id = child;
  }
  if (!removeFromNode(nodes_[id], shared, subscriber)) return false;
  --subscriptionCount_;
  prune(path_);
  return true;
}

void SubscriptionTree::prune(const std::vector<PathStep>& path) {
  for (auto step = path.rbegin(); step != path.rend(); ++step) {
    if (!nodes_[step->child].unused()) return;
    Node& parent = nodes_[step->parent];
    if (parent.plus == step->child) {
      parent.plus = detail::kNoNode;
    } else if (parent.hash == step->child) {
      parent.hash = detail::kNoNode;
    } else {
      parent.children.erase(step->level);
    }
    nodes_.release(step->child);
  }
}

void SubscriptionTree::clear() {
  nodes_.clear();
  subscriptionCount_ = 0;
}

}  // namespace midge::topic
