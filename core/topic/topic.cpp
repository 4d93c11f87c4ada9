// SPDX-License-Identifier: Apache-2.0
#include "core/topic/topic.hpp"

namespace midge::topic {
namespace {

constexpr std::string_view kSharePrefix = "$share/";

Error nameError(const char* detail) { return Error{ErrorKind::TopicNameInvalid, detail}; }
Error filterError(const char* detail) { return Error{ErrorKind::TopicFilterInvalid, detail}; }

bool startsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// The level rules of a plain (non-shared) filter; the caller has checked it is non-empty.
Status validatePlainFilter(std::string_view filter, const Limits& limits) {
  std::size_t levelCount = 0;
  LevelReader levels(filter);
  while (!levels.done()) {
    const std::string_view level = levels.next();
    ++levelCount;
    if (level.find('#') != std::string_view::npos) {
      if (level.size() != 1) return filterError("'#' is not alone in its topic level");
      if (!levels.done()) return filterError("'#' is not the last topic level");
    }
    if (level.find('+') != std::string_view::npos && level.size() != 1) {
      return filterError("'+' is not alone in its topic level");
    }
  }
  if (limits.maxLevels != 0 && levelCount > limits.maxLevels) {
    return filterError("topic filter has more levels than the configured maximum");
  }
  return Status::success();
}

}  // namespace

Status validateTopicName(std::string_view name, const Limits& limits) {
  if (name.empty()) return nameError("topic name is empty");
  if (name.size() > limits.maxLength) {
    return nameError("topic name is longer than the configured maximum");
  }
  std::size_t levelCount = 1;
  for (const char c : name) {
    if (c == '+' || c == '#') return nameError("topic name contains a wildcard");
    if (c == '\0') return nameError("topic name contains U+0000");
    if (c == '/') ++levelCount;
  }
  if (limits.maxLevels != 0 && levelCount > limits.maxLevels) {
    return nameError("topic name has more levels than the configured maximum");
  }
  return Status::success();
}

Status validateTopicFilter(std::string_view filter, const Limits& limits) {
  if (filter.empty()) return filterError("topic filter is empty");
  if (filter.size() > limits.maxLength) {
    return filterError("topic filter is longer than the configured maximum");
  }
  if (filter.find('\0') != std::string_view::npos) {
    return filterError("topic filter contains U+0000");
  }
  if (!startsWith(filter, kSharePrefix)) return validatePlainFilter(filter, limits);

  const std::string_view rest = filter.substr(kSharePrefix.size());
  const std::size_t slash = rest.find('/');
  const std::string_view group = rest.substr(0, slash);
  if (group.empty()) return filterError("shared subscription has an empty share name");
  if (group.find_first_of("+#") != std::string_view::npos) {
    return filterError("shared subscription share name contains a wildcard");
  }
  if (slash == std::string_view::npos) {
    return filterError("shared subscription has no topic filter after the share name");
  }
  const std::string_view inner = rest.substr(slash + 1);
  if (inner.empty()) return filterError("shared subscription topic filter is empty");
  return validatePlainFilter(inner, limits);
}

std::optional<SharedFilter> parseShared(std::string_view filter) {
  if (!startsWith(filter, kSharePrefix)) return std::nullopt;
  const std::string_view rest = filter.substr(kSharePrefix.size());
  const std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  return SharedFilter{rest.substr(0, slash), rest.substr(slash + 1)};
}

bool matches(std::string_view filter, std::string_view topicName) {
  if (const auto shared = parseShared(filter)) filter = shared->filter;
  LevelReader filterLevels(filter);
  LevelReader topicLevels(topicName);
  bool firstLevel = true;
  while (!filterLevels.done() && !topicLevels.done()) {
    const std::string_view wanted = filterLevels.next();
    const std::string_view level = topicLevels.next();
    const bool wildcard = wanted == "#" || wanted == "+";
    if (wildcard && firstLevel && !topicName.empty() && topicName.front() == '$') return false;
    if (wanted == "#") return true;
    if (wanted != "+" && wanted != level) return false;
    firstLevel = false;
  }
  if (filterLevels.done()) return topicLevels.done();
  // The topic ran out first: only a final '#' also matches the parent level.
  return filterLevels.next() == "#" && filterLevels.done();
}

bool hasWildcard(std::string_view filter) {
  return filter.find_first_of("+#") != std::string_view::npos;
}

}  // namespace midge::topic
