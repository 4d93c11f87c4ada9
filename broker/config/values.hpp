// SPDX-License-Identifier: Apache-2.0
// Internal to broker/config: value parsers for configuration lines. Each take* function
// reports its own diagnostic (naming the keyword) and returns nullopt on a bad value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "broker/config/parse_session.hpp"

namespace midge::config::detail {

// Whole-token decimal integer with optional sign; nullopt on anything else or overflow.
std::optional<std::int64_t> parseInteger(std::string_view text);

// Mosquitto's persistent_client_expiration form: a positive integer followed by
// h, d, w, m (30 days) or y (365 days). Result in seconds; nullopt when malformed or when
// it does not fit 32 bits.
std::optional<std::uint32_t> parseDuration(std::string_view text);

// Well-formed UTF-8 (the codec's rules) without control characters other than tab.
bool isValidUtf8(std::string_view text);

// The rest of the line as one string (paths may contain spaces), blanks trimmed.
std::optional<std::string> takeString(ParseSession& session, const Line& line);
// Exactly one word; a second word that is not a comment is an error.
std::optional<std::string_view> takeWord(ParseSession& session, const Line& line);
// true/false (and Mosquitto's 1/0).
std::optional<bool> takeBool(ParseSession& session, const Line& line);
std::optional<std::int64_t> takeInteger(ParseSession& session, const Line& line,
                                        std::int64_t min, std::int64_t max);

}  // namespace midge::config::detail
