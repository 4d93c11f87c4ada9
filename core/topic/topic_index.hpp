// SPDX-License-Identifier: Apache-2.0
// A topic-keyed index for retained messages: at most one value per topic name, stored in
// a trie by level so that a SUBSCRIBE with a filter visits only the branches it can match.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/topic/node_pool.hpp"
#include "core/topic/topic.hpp"

namespace midge::topic {

// Not thread-safe. Topic names must have passed validateTopicName.
template <typename T>
class TopicIndex {
 public:
  TopicIndex() = default;

  T* find(std::string_view topicName) noexcept {
    const NodeId id = lookup(topicName);
    return id == detail::kNoNode ? nullptr : nodes_[id].value.get();
  }
  const T* find(std::string_view topicName) const noexcept {
    const NodeId id = lookup(topicName);
    return id == detail::kNoNode ? nullptr : nodes_[id].value.get();
  }

  T& insertOrAssign(std::string_view topicName, T value) {
    NodeId id = detail::kRootNode;
    LevelReader levels(topicName);
    while (!levels.done()) {
      const std::string_view level = levels.next();
      NodeId child = nodes_[id].children.find(level);
      if (child == detail::kNoNode) {
        child = nodes_.allocate();
        nodes_[id].children.insert(level, child);
      }
      id = child;
    }
    Node& node = nodes_[id];
    if (node.value) {
      *node.value = std::move(value);
    } else {
      node.value = std::make_unique<T>(std::move(value));
      ++size_;
    }
    return *node.value;
  }

  // Returns false if nothing was stored under topicName. Emptied branches are released.
  bool erase(std::string_view topicName) {
    std::vector<std::pair<NodeId, std::string_view>> path;  // (parent, level) per step
    NodeId id = detail::kRootNode;
    LevelReader levels(topicName);
    while (!levels.done()) {
      const std::string_view level = levels.next();
      const NodeId child = nodes_[id].children.find(level);
      if (child == detail::kNoNode) return false;
      path.emplace_back(id, level);
      id = child;
    }
    if (!nodes_[id].value) return false;
    nodes_[id].value.reset();
    --size_;
    for (auto step = path.rbegin(); step != path.rend(); ++step) {
      const Node& node = nodes_[id];
      if (node.value || !node.children.empty()) break;
      nodes_[step->first].children.erase(step->second);
      nodes_.release(id);
      id = step->first;
    }
    return true;
  }

  // Calls fn(std::string_view topicName, T& value) for every stored topic that the
  // (non-shared, valid) filter matches; the $-rule applies. Only branches the filter can
  // match are visited. The name view is valid during the call only; fn must not insert or
  // erase (collect the names and erase afterwards).
  template <typename Fn>
  void forEachMatching(std::string_view filter, Fn&& fn) {
    walk(filter, false, fn);
  }

  // Calls fn(std::string_view topicName, T& value) for every stored topic, $-topics too.
  template <typename Fn>
  void forEach(Fn&& fn) {
    walk(std::string_view(), true, fn);
  }

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  // Trie nodes in use besides the root; 0 when the index is empty.
  std::size_t nodeCount() const noexcept { return nodes_.liveCount(); }
  void clear() {
    nodes_.clear();
    size_ = 0;
  }

 private:
  using NodeId = detail::NodeId;

  struct Node {
    detail::Edges children;
    std::unique_ptr<T> value;  // a pointer keeps the many intermediate nodes small
  };

  struct Frame {
    NodeId node;
    std::size_t parentNameLength;
    bool separator;            // false for first-level nodes, whose name is their key
    std::string_view level;    // this node's key (in the parent's edge or the filter)
    std::size_t position;      // next filter level; npos: filter consumed
    bool everything;           // under a '#': the node and all its descendants match
  };

  NodeId lookup(std::string_view topicName) const noexcept {
    NodeId id = detail::kRootNode;
    LevelReader levels(topicName);
    while (!levels.done() && id != detail::kNoNode) id = nodes_[id].children.find(levels.next());
    return id;
  }

  // Depth-first with an explicit stack (a deep topic must not overflow the call stack).
  // The name is rebuilt in one buffer: a frame's parent name is always a prefix of the
  // buffer when the frame is popped, because everything pushed after it is a descendant of
  // its parent.
  template <typename Fn>
  void walk(std::string_view filter, bool everything, Fn& fn) {
    constexpr std::size_t kDone = std::string_view::npos;
    std::vector<Frame> stack;
    std::string name;
    const auto pushChildren = [&](const Node& node, bool atRoot, std::size_t position,
                                  bool all, bool skipDollar) {
      for (const detail::Edge& edge : node.children) {
        if (skipDollar && !edge.level.empty() && edge.level.front() == '$') continue;
        stack.push_back(Frame{edge.node, name.size(), !atRoot, edge.level, position, all});
      }
    };
    const auto visit = [&](Node& node) {
      if (node.value) fn(std::string_view(name), *node.value);
    };

    stack.push_back(Frame{detail::kRootNode, 0, false, std::string_view(), 0, everything});
    while (!stack.empty()) {
      const Frame frame = stack.back();
      stack.pop_back();
      const bool atRoot = frame.node == detail::kRootNode;
      name.resize(frame.parentNameLength);
      if (frame.separator) name.push_back('/');
      name.append(frame.level);
      Node& node = nodes_[frame.node];
      if (frame.everything) {
        visit(node);
        pushChildren(node, atRoot, kDone, true, false);
        continue;
      }
      if (frame.position == kDone) {
        visit(node);
        continue;
      }
      const std::size_t slash = filter.find('/', frame.position);
      const std::string_view level =
          filter.substr(frame.position, slash == kDone ? kDone : slash - frame.position);
      const std::size_t next = slash == kDone ? kDone : slash + 1;
      if (level == "#") {
        if (!atRoot) visit(node);  // "sport/#" matches "sport"
        pushChildren(node, atRoot, kDone, true, atRoot);
      } else if (level == "+") {
        pushChildren(node, atRoot, next, false, atRoot);
      } else {
        const NodeId child = node.children.find(level);
        if (child != detail::kNoNode) {
          stack.push_back(Frame{child, name.size(), !atRoot, level, next, false});
        }
      }
    }
  }

  detail::NodePool<Node> nodes_;
  std::size_t size_ = 0;
};

}  // namespace midge::topic
