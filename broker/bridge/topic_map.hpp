// SPDX-License-Identifier: Apache-2.0
// The bridge's `topic` lines as two mappings: which filters each side subscribes to, and
// how a topic received on one side is named on the other (Mosquitto's prefixes).
//
// `topic sensors/# out 1 edge/ site1/`: the local side subscribes to "edge/sensors/#";
// a message on "edge/sensors/t" goes upstream as "site1/sensors/t". An empty pattern
// with prefixes names one topic: the prefix itself on each side.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "broker/config/bridge.hpp"

namespace midge::bridge {

enum class Side : std::uint8_t { Local, Remote };

struct MappedFilter {
  std::string filter;
  std::uint8_t qos = 0;
};

class TopicMap {
 public:
  explicit TopicMap(const std::vector<config::BridgeTopic>& topics);

  // The filters to subscribe to on `side`: those of the out/both lines for the local side,
  // of the in/both lines for the remote side. Duplicates are merged at the highest QoS.
  std::vector<MappedFilter> subscriptions(Side side) const;

  // The remote filters of out-only lines that no in/both line subscribes to upstream
  // (bridge_attempt_unsubscribe).
  std::vector<std::string> outOnlyRemoteFilters() const;

  // The topic on the other side for a message received on `from`, or nullopt when no line
  // of that direction matches. The first matching line wins, as in Mosquitto.
  std::optional<std::string> translate(Side from, const std::string& topic) const;

 private:
  struct Line {
    std::string pattern, localPrefix, remotePrefix;
    config::BridgeDirection direction;
    std::uint8_t qos;
    std::string filterOn(Side side) const;
  };
  static bool carries(const Line& line, Side from);

  std::vector<Line> lines_;
};

}  // namespace midge::bridge
