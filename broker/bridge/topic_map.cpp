// SPDX-License-Identifier: Apache-2.0
#include "broker/bridge/topic_map.hpp"

#include <algorithm>

#include "core/topic/topic.hpp"

namespace midge::bridge {

TopicMap::TopicMap(const std::vector<config::BridgeTopic>& topics) {
  for (const config::BridgeTopic& topic : topics) {
    lines_.push_back({topic.pattern, topic.localPrefix, topic.remotePrefix, topic.direction,
                      topic.qos});
  }
}

std::string TopicMap::Line::filterOn(Side side) const {
  return (side == Side::Local ? localPrefix : remotePrefix) + pattern;
}

// Messages received on the local side travel out; those from the remote side travel in.
bool TopicMap::carries(const Line& line, Side from) {
  if (line.direction == config::BridgeDirection::Both) return true;
  return from == Side::Local ? line.direction == config::BridgeDirection::Out
                             : line.direction == config::BridgeDirection::In;
}

std::vector<MappedFilter> TopicMap::subscriptions(Side side) const {
  std::vector<MappedFilter> out;
  for (const Line& line : lines_) {
    if (!carries(line, side)) continue;
    const std::string filter = line.filterOn(side);
    auto same = std::find_if(out.begin(), out.end(),
                             [&](const MappedFilter& f) { return f.filter == filter; });
    if (same == out.end()) {
      out.push_back({filter, line.qos});
    } else {
      same->qos = std::max(same->qos, line.qos);
    }
  }
  return out;
}

std::vector<std::string> TopicMap::outOnlyRemoteFilters() const {
  const std::vector<MappedFilter> subscribed = subscriptions(Side::Remote);
  std::vector<std::string> out;
  for (const Line& line : lines_) {
    if (line.direction != config::BridgeDirection::Out) continue;
    const std::string filter = line.filterOn(Side::Remote);
    const bool kept = std::any_of(subscribed.begin(), subscribed.end(),
                                  [&](const MappedFilter& f) { return f.filter == filter; });
    if (!kept && std::find(out.begin(), out.end(), filter) == out.end()) out.push_back(filter);
  }
  return out;
}

std::optional<std::string> TopicMap::translate(Side from, const std::string& topic) const {
  const Side to = from == Side::Local ? Side::Remote : Side::Local;
  for (const Line& line : lines_) {
    if (!carries(line, from) || !topic::matches(line.filterOn(from), topic)) continue;
    const std::string& fromPrefix = from == Side::Local ? line.localPrefix : line.remotePrefix;
    const std::string& toPrefix = to == Side::Local ? line.localPrefix : line.remotePrefix;
    return toPrefix + topic.substr(fromPrefix.size());
  }
  return std::nullopt;
}

}  // namespace midge::bridge
