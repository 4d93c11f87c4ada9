// SPDX-License-Identifier: Apache-2.0
// Building blocks shared by SubscriptionTree and TopicIndex: a node pool addressed by
// 32-bit ids and a sorted child list searchable by string_view.
//
// Nodes live in a pool rather than owning each other through unique_ptr so that neither
// destruction nor any traversal recurses: a client may create a topic 32k levels deep, and
// a recursive walk of that would overflow the stack. std::deque keeps references stable
// while the pool grows, and freed slots are reused, so churn does not grow memory.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace midge::topic::detail {

using NodeId = std::uint32_t;
inline constexpr NodeId kNoNode = std::numeric_limits<NodeId>::max();
inline constexpr NodeId kRootNode = 0;

// One literal child. The key is owned by the edge; lookups compare against string_view, so
// matching a PUBLISH never builds a std::string (C++17 unordered_map cannot do that).
struct Edge {
  std::string level;
  NodeId node = kNoNode;
};

class Edges {
 public:
  NodeId find(std::string_view level) const noexcept {
    const auto it = lowerBound(level);
    return (it != edges_.end() && it->level == level) ? it->node : kNoNode;
  }
  void insert(std::string_view level, NodeId node) {
    edges_.insert(lowerBound(level), Edge{std::string(level), node});
  }
  void erase(std::string_view level) noexcept {
    const auto it = lowerBound(level);
    if (it != edges_.end() && it->level == level) edges_.erase(it);
  }
  bool empty() const noexcept { return edges_.empty(); }
  std::size_t size() const noexcept { return edges_.size(); }
  std::vector<Edge>::const_iterator begin() const noexcept { return edges_.begin(); }
  std::vector<Edge>::const_iterator end() const noexcept { return edges_.end(); }

 private:
  std::vector<Edge>::const_iterator lowerBound(std::string_view level) const noexcept {
    return std::lower_bound(
        edges_.begin(), edges_.end(), level,
        [](const Edge& edge, std::string_view key) { return std::string_view(edge.level) < key; });
  }

  std::vector<Edge> edges_;
};

// The root is allocated at construction and never released, so it is always kRootNode.
template <typename Node>
class NodePool {
 public:
  NodePool() { nodes_.emplace_back(); }

  Node& operator[](NodeId id) noexcept { return nodes_[id]; }
  const Node& operator[](NodeId id) const noexcept { return nodes_[id]; }

  NodeId allocate() {
    if (!free_.empty()) {
      const NodeId id = free_.back();
      free_.pop_back();
      return id;
    }
    nodes_.emplace_back();
    return static_cast<NodeId>(nodes_.size() - 1);
  }

  // Resetting to a fresh Node returns the node's own vectors to the allocator.
  void release(NodeId id) {
    nodes_[id] = Node{};
    free_.push_back(id);
  }

  // Live nodes besides the root.
  std::size_t liveCount() const noexcept { return nodes_.size() - 1 - free_.size(); }

  void clear() {
    nodes_.clear();
    free_.clear();
    nodes_.emplace_back();
  }

 private:
  std::deque<Node> nodes_;
  std::vector<NodeId> free_;
};

}  // namespace midge::topic::detail
