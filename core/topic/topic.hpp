// SPDX-License-Identifier: Apache-2.0
// Topic names and topic filters: validation, shared-subscription parsing and matching
// (MQTT 3.1.1 section 4.7, MQTT 5.0 sections 4.7 and 4.8.2).
//
// UTF-8 well-formedness is the codec's job; these functions check the level structure,
// wildcards, the null character and the configured limits. Nothing here allocates.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "core/util/result.hpp"

namespace midge::topic {

// Operator-configured ceilings. A deep topic costs a trie node per level, so the level
// count is what bounds memory per subscription and per retained message.
struct Limits {
  std::size_t maxLength = 65535;  // bytes; 65535 is the wire maximum of a UTF-8 string
  std::size_t maxLevels = 0;      // 0: unlimited
};

// Accepts a PUBLISH topic name: non-empty, no '+' or '#', no U+0000, within limits.
// On failure the error kind is ErrorKind::TopicNameInvalid and the detail names the rule.
//
// @code
//   if (Status s = topic::validateTopicName(name, limits); !s) return s.error();
// @endcode
Status validateTopicName(std::string_view name, const Limits& limits = {});

// Accepts a SUBSCRIBE/UNSUBSCRIBE topic filter: non-empty; '#' only as the whole last
// level; '+' only as a whole level; no U+0000; "$share/{group}/{filter}" needs a non-empty
// group without '+', '#' or '/', and a valid non-empty filter after it. maxLength applies
// to the whole string, maxLevels to the levels of the (inner) filter.
// On failure the error kind is ErrorKind::TopicFilterInvalid.
Status validateTopicFilter(std::string_view filter, const Limits& limits = {});

struct SharedFilter {
  std::string_view group;   // the ShareName
  std::string_view filter;  // the filter the group shares
};

// Splits "$share/{group}/{filter}". Returns nullopt for a filter that is not shared, and
// also for "$share/group" with no filter part: validateTopicFilter rejects those first.
// The views point into the argument.
std::optional<SharedFilter> parseShared(std::string_view filter);

// True for a topic name that starts "$share/": valid as a name, but no filter can match it
// (a filter with that prefix is a shared subscription), so a PUBLISH there reaches nobody.
inline bool isSharePrefixed(std::string_view topicName) {
  return topicName.substr(0, 7) == "$share/";
}

// True if the (valid) filter matches the (valid) topic name. A shared filter is matched by
// its inner filter. Filters whose first level is '+' or '#' do not match names that start
// with '$' (MQTT-4.7.2-1). Case-sensitive; empty levels are levels.
bool matches(std::string_view filter, std::string_view topicName);

// True if the filter contains '+' or '#' anywhere.
bool hasWildcard(std::string_view filter);

// Walks the '/'-separated levels of a topic name or filter without allocating.
// "" is one empty level, "a/" is "a" then "", "/" is two empty levels.
class LevelReader {
 public:
  explicit LevelReader(std::string_view text) noexcept : text_(text) {}
  bool done() const noexcept { return done_; }
  // Precondition: !done().
  std::string_view next() noexcept {
    const std::size_t slash = text_.find('/', position_);
    if (slash == std::string_view::npos) {
      done_ = true;
      return text_.substr(position_);
    }
    const std::string_view level = text_.substr(position_, slash - position_);
    position_ = slash + 1;
    return level;
  }

 private:
  std::string_view text_;
  std::size_t position_ = 0;
  bool done_ = false;
};

}  // namespace midge::topic
