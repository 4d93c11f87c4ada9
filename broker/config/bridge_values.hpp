// SPDX-License-Identifier: Apache-2.0
// Internal to broker/config: the values of bridge keywords that need more than a number
// or a word (addresses, topic lines, topic syntax). Each parser returns nullopt and sets
// `error` to a message without the keyword or the file position, which the caller adds.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/config/bridge.hpp"

namespace midge::config::detail {

// HOST, HOST:PORT, or [IPV6]:PORT. Without brackets the port follows the last ':'
// (Mosquitto's rule, so a bare IPv6 address needs its port). Port 1..65535, default 1883.
std::optional<BridgeAddress> parseBridgeAddress(std::string_view text, std::string& error);

// The words after `topic`: PATTERN [in|out|both] [QOS] [LOCAL_PREFIX] [REMOTE_PREFIX],
// with "" standing for an empty pattern or prefix.
std::optional<BridgeTopic> parseBridgeTopic(const std::vector<std::string_view>& words,
                                            std::string& error);

// An MQTT subscription filter: '+' and '#' only as whole levels, '#' only last.
bool isValidTopicFilter(std::string_view filter);
bool containsWildcard(std::string_view topic);

// This machine's host name, as Mosquitto uses it for the default remote client id.
std::string localHostName();

}  // namespace midge::config::detail
