// SPDX-License-Identifier: Apache-2.0
// SUBSCRIBE (3.1.1 section 3.8, 5.0 section 3.8).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/codec/framer.hpp"
#include "core/codec/properties.hpp"
#include "core/util/result.hpp"

namespace midge::codec {

// v5 options byte: QoS bits 0-1, No Local bit 2, Retain As Published bit 3, Retain
// Handling bits 4-5 (v3/v4: QoS only).
struct SubscribeEntry {
  std::string_view filter;
  std::uint8_t options = 0;
};

constexpr std::uint8_t subscriptionQos(std::uint8_t options) noexcept {
  return static_cast<std::uint8_t>(options & 0x03);
}
constexpr bool subscriptionNoLocal(std::uint8_t options) noexcept { return (options & 0x04) != 0; }
constexpr bool subscriptionRetainAsPublished(std::uint8_t options) noexcept {
  return (options & 0x08) != 0;
}
constexpr std::uint8_t subscriptionRetainHandling(std::uint8_t options) noexcept {
  return static_cast<std::uint8_t>((options >> 4) & 0x03);
}
// The options byte with its QoS replaced by the one granted.
constexpr std::uint8_t withSubscriptionQos(std::uint8_t options, std::uint8_t qos) noexcept {
  return static_cast<std::uint8_t>((options & 0x3C) | (qos & 0x03));
}

struct Subscribe {
  std::uint16_t packetId = 0;
  Properties properties;
  std::vector<SubscribeEntry> entries;
};

// Errors: flags not 0010, reserved option bits and (before v5) QoS 3 are Malformed;
// packet identifier 0, no entries, and in v5 QoS 3 or Retain Handling 3 are
// ProtocolError. Filter syntax (wildcards, empty filters, $share) is the topic module's:
// a v5 broker answers a bad filter with a SUBACK reason, not a disconnect.
Result<Subscribe> decodeSubscribe(const Frame& frame, ProtocolVersion version);
Status encodeSubscribe(const Subscribe& subscribe, ProtocolVersion version,
                       std::vector<std::uint8_t>& out);

}  // namespace midge::codec
