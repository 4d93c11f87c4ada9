// SPDX-License-Identifier: Apache-2.0
#include "examples/gateway-bridge/line_protocol.hpp"

namespace midge::bridge {
namespace {

bool isBlank(char c) { return c == ' ' || c == '\t'; }

bool isKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '-';
}

// Control characters would corrupt a log line or a dashboard; UTF-8 above 0x7F passes
// (the broker checks that it is well formed).
bool hasControlCharacter(std::string_view text) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F) return true;
  }
  return false;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && isBlank(text.front())) text.remove_prefix(1);
  while (!text.empty() && isBlank(text.back())) text.remove_suffix(1);
  return text;
}

ParsedLine invalid(const char* why) {
  ParsedLine parsed;
  parsed.kind = LineKind::Invalid;
  parsed.error = why;
  return parsed;
}

}  // namespace

ParsedLine parseLine(std::string_view line) {
  line = trim(line);
  ParsedLine parsed;
  if (line.empty()) return parsed;
  if (line.front() == '#') {
    parsed.kind = LineKind::Comment;
    return parsed;
  }
  std::size_t keyEnd = 0;
  while (keyEnd < line.size() && isKeyChar(line[keyEnd])) ++keyEnd;
  if (keyEnd == 0) return invalid("a line must start with a key of [A-Za-z0-9_-]");
  if (keyEnd > kMaxKeyLength) return invalid("key longer than 32 characters");
  const std::string_view key = line.substr(0, keyEnd);
  std::string_view rest = line.substr(keyEnd);
  if (rest.empty()) return invalid("key without a value");
  if (rest.front() != '=' && !isBlank(rest.front())) {
    return invalid("key must be followed by '=' or a blank");
  }
  // "T 21.5", "T=21.5" and "T = 21.5" all mean the same reading.
  rest = trim(rest);
  if (!rest.empty() && rest.front() == '=') rest.remove_prefix(1);
  const std::string_view value = trim(rest);
  if (value.empty()) return invalid("key without a value");
  if (value.size() > kMaxValueLength) return invalid("value longer than 200 bytes");
  if (hasControlCharacter(value)) return invalid("value contains a control character");
  if (key == "status" || key == "cmd" || key == "bridge") {
    return invalid("key is reserved for the bridge's own topics");
  }
  parsed.kind = LineKind::Reading;
  parsed.key = key;
  parsed.value = value;
  return parsed;
}

bool isValidCommand(std::string_view payload, const char** error) {
  const char* why = nullptr;
  if (payload.empty()) {
    why = "empty command";
  } else if (payload.size() > kMaxCommandLength) {
    why = "command longer than 200 bytes";
  } else if (payload.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
    why = "command contains CR, LF or NUL";
  }
  if (error != nullptr) *error = why;
  return why == nullptr;
}

}  // namespace midge::bridge
