// SPDX-License-Identifier: Apache-2.0
#include "broker/config/values.hpp"

#include <limits>

#include "core/codec/utf8.hpp"

namespace midge::config::detail {

namespace {

std::string quoted(std::string_view text) {
  std::string out = "'";
  out.append(text);
  out += "'";
  return out;
}

}  // namespace

std::optional<std::int64_t> parseInteger(std::string_view text) {
  std::size_t pos = 0;
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    pos = 1;
  }
  if (pos == text.size()) return std::nullopt;
  // Accumulate as a negative number so INT64_MIN is representable.
  std::int64_t value = 0;
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  for (; pos < text.size(); ++pos) {
    const char c = text[pos];
    if (c < '0' || c > '9') return std::nullopt;
    const std::int64_t digit = c - '0';
    if (value < (kMin + digit) / 10) return std::nullopt;
    value = value * 10 - digit;
  }
  if (negative) return value;
  if (value == kMin) return std::nullopt;
  return -value;
}

std::optional<std::uint32_t> parseDuration(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  std::uint64_t unitSeconds = 0;
  switch (text.back()) {
    case 'h': unitSeconds = 3600; break;
    case 'd': unitSeconds = 86400; break;
    case 'w': unitSeconds = 86400ULL * 7; break;
    case 'm': unitSeconds = 86400ULL * 30; break;
    case 'y': unitSeconds = 86400ULL * 365; break;
    default: return std::nullopt;
  }
  const std::string_view digits = text.substr(0, text.size() - 1);
  if (digits[0] == '+' || digits[0] == '-') return std::nullopt;
  const auto count = parseInteger(digits);
  if (!count || *count <= 0) return std::nullopt;
  const auto amount = static_cast<std::uint64_t>(*count);
  if (amount > std::numeric_limits<std::uint32_t>::max() / unitSeconds) return std::nullopt;
  return static_cast<std::uint32_t>(amount * unitSeconds);
}

bool isValidUtf8(std::string_view text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    // NUL and other C0 controls other than tab never belong in a configuration value.
    if (byte < 0x20 && byte != '\t') return false;
  }
  // The codec's check: the same rules (RFC 3629) the broker applies to MQTT strings.
  return codec::isValidMqttUtf8(text);
}

std::optional<std::string> takeString(ParseSession& session, const Line& line) {
  if (line.rest.empty()) {
    session.error(std::string(line.keyword) + ": missing value");
    return std::nullopt;
  }
  if (!isValidUtf8(line.rest)) {
    session.error(std::string(line.keyword) + ": value is not valid UTF-8 text");
    return std::nullopt;
  }
  if (line.rest.find(" #") != std::string_view::npos) {
    // Mosquitto takes the whole rest of the line as a string value, comment included;
    // so does Midge, but such a value is almost always a mistake.
    session.warning(std::string(line.keyword) + ": value " + quoted(line.rest) +
                    " contains ' #'; trailing comments are part of string values");
  }
  return std::string(line.rest);
}

std::optional<std::string_view> takeWord(ParseSession& session, const Line& line) {
  if (line.words.empty()) {
    session.error(std::string(line.keyword) + ": missing value");
    return std::nullopt;
  }
  if (line.words.size() > 1) {
    session.error(std::string(line.keyword) + ": unexpected extra argument " +
                  quoted(line.words[1]) + " (start a trailing comment with '#')");
    return std::nullopt;
  }
  return line.words[0];
}

std::optional<bool> takeBool(ParseSession& session, const Line& line) {
  const auto word = takeWord(session, line);
  if (!word) return std::nullopt;
  if (*word == "true" || *word == "1") return true;
  if (*word == "false" || *word == "0") return false;
  session.error(std::string(line.keyword) + ": " + quoted(*word) +
                " is not a boolean (use true or false)");
  return std::nullopt;
}

std::optional<std::int64_t> takeInteger(ParseSession& session, const Line& line,
                                        std::int64_t min, std::int64_t max) {
  const auto word = takeWord(session, line);
  if (!word) return std::nullopt;
  const auto value = parseInteger(*word);
  if (!value) {
    session.error(std::string(line.keyword) + ": " + quoted(*word) +
                  " is not a whole number");
    return std::nullopt;
  }
  if (*value < min || *value > max) {
    session.error(std::string(line.keyword) + ": " + std::string(*word) +
                  " is out of range (" + std::to_string(min) + ".." + std::to_string(max) +
                  ")");
    return std::nullopt;
  }
  return value;
}

}  // namespace midge::config::detail
