// SPDX-License-Identifier: Apache-2.0
#include "examples/cortex-m/firmware/sensor_app.hpp"

namespace sensor {
namespace {

class Text {
 public:
  explicit Text(char (&out)[kAckCapacity]) : out_(out) {}
  Text& operator<<(std::string_view part) {
    for (const char c : part) {
      if (length_ + 1 < kAckCapacity) out_[length_++] = c;
    }
    out_[length_] = '\0';
    return *this;
  }
  Text& operator<<(std::uint32_t value) {
    char digits[10];
    std::size_t count = 0;
    do {
      digits[count++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0);
    while (count > 0) *this << std::string_view(&digits[--count], 1);
    return *this;
  }
  std::size_t length() const { return length_; }

 private:
  char (&out_)[kAckCapacity];
  std::size_t length_ = 0;
};

// Decimal digits only, no sign, no blanks; false beyond `limit`, so nothing overflows.
bool parseUnsigned(std::string_view text, std::uint32_t limit, std::uint32_t& value) {
  if (text.empty()) return false;
  value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    const auto digit = static_cast<std::uint32_t>(c - '0');
    if (value > (limit - digit) / 10) return false;
    value = value * 10 + digit;
  }
  return true;
}

}  // namespace

std::size_t applyCommand(std::string_view command, Settings& settings,
                         char (&ack)[kAckCapacity]) {
  Text reply(ack);
  if (command == "led on" || command == "led off") {
    settings.led = command == "led on";
    reply << command;
    return reply.length();
  }
  constexpr std::string_view kInterval = "interval ";
  if (command.substr(0, kInterval.size()) == kInterval) {
    std::uint32_t periodMs = 0;
    if (!parseUnsigned(command.substr(kInterval.size()), kMaxPeriodMs, periodMs) ||
        periodMs < kMinPeriodMs) {
      reply << "error: interval takes " << kMinPeriodMs << ".." << kMaxPeriodMs << " ms";
      return reply.length();
    }
    settings.periodMs = periodMs;
    reply << "interval " << periodMs;
    return reply.length();
  }
  reply << "error: unknown command";
  return reply.length();
}

std::size_t formatCentis(std::int32_t value, char (&out)[kReadingCapacity]) {
  char digits[12];
  std::size_t count = 0;
  const bool negative = value < 0;
  std::uint32_t magnitude =
      negative ? 0u - static_cast<std::uint32_t>(value) : static_cast<std::uint32_t>(value);
  do {
    digits[count++] = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude != 0 || count < 3);
  std::size_t length = 0;
  if (negative) out[length++] = '-';
  while (count > 2) out[length++] = digits[--count];
  out[length++] = '.';
  out[length++] = digits[1];
  out[length++] = digits[0];
  return length;
}

}  // namespace sensor
