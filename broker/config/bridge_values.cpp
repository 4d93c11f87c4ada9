// SPDX-License-Identifier: Apache-2.0
#include "broker/config/bridge_values.hpp"

#include <unistd.h>

#include <cctype>

#include "broker/config/values.hpp"

namespace midge::config::detail {

namespace {

constexpr std::string_view kEmptyPlaceholder = "\"\"";

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

std::string placeholderToEmpty(std::string_view word) {
  return word == kEmptyPlaceholder ? std::string() : std::string(word);
}

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::optional<BridgeDirection> parseDirection(std::string_view word) {
  if (equalsIgnoringCase(word, "out")) return BridgeDirection::Out;
  if (equalsIgnoringCase(word, "in")) return BridgeDirection::In;
  if (equalsIgnoringCase(word, "both")) return BridgeDirection::Both;
  return std::nullopt;
}

// The topic a side sees is its prefix followed by the pattern; both must form a filter.
bool checkSide(const BridgeTopic& topic, const std::string& prefix, std::string_view side,
               std::string& error) {
  if (containsWildcard(prefix)) {
    error = std::string(side) + " prefix " + quoted(prefix) +
            " must not contain the wildcards + or #";
    return false;
  }
  const std::string full = prefix + topic.pattern;
  if (!isValidTopicFilter(full)) {
    error = std::string(side) + " prefix and pattern combination " + quoted(full) +
            " is not a valid topic filter";
    return false;
  }
  return true;
}

}  // namespace

std::optional<BridgeAddress> parseBridgeAddress(std::string_view text, std::string& error) {
  BridgeAddress address;
  std::string_view host = text;
  std::string_view port;
  if (!text.empty() && text[0] == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos ||
        (close + 1 < text.size() && text[close + 1] != ':')) {
      error = "address " + quoted(text) + " is malformed (expected [IPV6]:PORT)";
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) port = text.substr(close + 2);
  } else if (const std::size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (port.empty()) {
      error = "address " + quoted(text) + " has an empty port";
      return std::nullopt;
    }
  }
  if (host.empty()) {
    error = "address " + quoted(text) + " has no host";
    return std::nullopt;
  }
  if (!port.empty()) {
    const auto number = parseInteger(port);
    if (!number || *number < 1 || *number > 65535) {
      error = "address " + quoted(text) + ": port " + quoted(port) +
              " is not a number in 1..65535";
      return std::nullopt;
    }
    address.port = static_cast<std::uint16_t>(*number);
  }
  address.host = std::string(host);
  return address;
}

std::optional<BridgeTopic> parseBridgeTopic(const std::vector<std::string_view>& words,
                                            std::string& error) {
  if (words.empty()) {
    error = "missing value (expected PATTERN [in|out|both] [QOS] [LOCAL_PREFIX] "
            "[REMOTE_PREFIX])";
    return std::nullopt;
  }
  if (words.size() > 5) {
    error = "unexpected extra argument " + quoted(words[5]) +
            " (expected PATTERN [in|out|both] [QOS] [LOCAL_PREFIX] [REMOTE_PREFIX])";
    return std::nullopt;
  }
  BridgeTopic topic;
  topic.pattern = placeholderToEmpty(words[0]);
  if (words.size() > 1) {
    const auto direction = parseDirection(words[1]);
    if (!direction) {
      error = "direction " + quoted(words[1]) + " is not in, out or both";
      return std::nullopt;
    }
    topic.direction = *direction;
  }
  if (words.size() > 2) {
    const auto qos = parseInteger(words[2]);
    if (!qos || *qos < 0 || *qos > 2) {
      error = "QoS " + quoted(words[2]) + " is not 0, 1 or 2";
      return std::nullopt;
    }
    topic.qos = static_cast<std::uint8_t>(*qos);
  }
  if (words.size() > 3) topic.localPrefix = placeholderToEmpty(words[3]);
  if (words.size() > 4) topic.remotePrefix = placeholderToEmpty(words[4]);

  if (topic.pattern.empty() && (topic.localPrefix.empty() || topic.remotePrefix.empty())) {
    error = "an empty pattern (\"\") needs both a local and a remote prefix: the topic on "
            "each side is its prefix followed by the pattern";
    return std::nullopt;
  }
  if (!topic.pattern.empty() && !isValidTopicFilter(topic.pattern)) {
    error = "pattern " + quoted(topic.pattern) + " is not a valid topic filter";
    return std::nullopt;
  }
  if (!checkSide(topic, topic.localPrefix, "local", error) ||
      !checkSide(topic, topic.remotePrefix, "remote", error)) {
    return std::nullopt;
  }
  return topic;
}

bool isValidTopicFilter(std::string_view filter) {
  if (filter.empty()) return false;
  std::size_t levelStart = 0;
  while (true) {
    const std::size_t slash = filter.find('/', levelStart);
    const bool last = slash == std::string_view::npos;
    const std::string_view level =
        filter.substr(levelStart, last ? std::string_view::npos : slash - levelStart);
    const bool hasHash = level.find('#') != std::string_view::npos;
    const bool hasPlus = level.find('+') != std::string_view::npos;
    if ((hasHash || hasPlus) && level.size() != 1) return false;
    if (hasHash && !last) return false;
    if (last) return true;
    levelStart = slash + 1;
  }
}

bool containsWildcard(std::string_view topic) {
  return topic.find_first_of("+#") != std::string_view::npos;
}

std::string localHostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

}  // namespace midge::config::detail
