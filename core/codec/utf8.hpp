// SPDX-License-Identifier: Apache-2.0
// UTF-8 validation for MQTT strings (3.1.1 section 1.5.3, 5.0 section 1.5.4).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace midge::codec {

enum class Utf8Status : std::uint8_t {
  Valid,
  ContainsNull,  // U+0000 is forbidden in MQTT strings even though it is valid UTF-8
  IllFormed,     // overlong, surrogate, above U+10FFFF, stray or missing continuation
};

namespace detail {
Utf8Status validateUtf8Slow(const unsigned char* data, std::size_t size) noexcept;
}

// Topic names are nearly always ASCII, so eight bytes are checked per step for "no high
// bit and no zero byte" before falling back to the full decoder. This is on the PUBLISH
// hot path.
inline Utf8Status validateUtf8(std::string_view text) noexcept {
  const auto* data = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t size = text.size();
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  std::size_t i = 0;
  while (size - i >= 8) {
    std::uint64_t word;
    std::memcpy(&word, data + i, 8);
    // (word - ones) & ~word & high is non-zero exactly when some byte is zero.
    if (((word | ((word - kOnes) & ~word)) & kHigh) != 0) break;
    i += 8;
  }
  for (; i < size; ++i) {
    const unsigned char c = data[i];
    if (c == 0 || c >= 0x80) return detail::validateUtf8Slow(data + i, size - i);
  }
  return Utf8Status::Valid;
}

inline bool isValidMqttUtf8(std::string_view text) noexcept {
  return validateUtf8(text) == Utf8Status::Valid;
}

}  // namespace midge::codec
