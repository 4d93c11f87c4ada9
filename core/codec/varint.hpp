// SPDX-License-Identifier: Apache-2.0
// MQTT Variable Byte Integer (3.1.1 section 2.2.3, 5.0 section 1.5.5): seven bits per
// byte, least significant group first, at most four bytes, and minimally encoded.
#pragma once

#include <cstddef>
#include <cstdint>

namespace midge::codec {

constexpr std::uint32_t kMaxVarint = 268435455;  // 0x0FFFFFFF, four bytes of seven bits
constexpr std::size_t kMaxVarintLength = 4;

enum class VarintStatus : std::uint8_t {
  Ok,
  NeedMore,    // input ended inside the integer
  TooLong,     // a fifth byte would be needed
  NotMinimal,  // e.g. 0x80 0x00 for zero; the spec requires the shortest form
};

struct VarintDecode {
  VarintStatus status = VarintStatus::NeedMore;
  std::uint32_t value = 0;
  std::uint8_t length = 0;  // bytes consumed when status is Ok
};

inline VarintDecode decodeVarint(const std::uint8_t* data, std::size_t size) noexcept {
  VarintDecode result;
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < kMaxVarintLength; ++i) {
    if (i == size) return result;  // NeedMore
    const std::uint8_t byte = data[i];
    value |= static_cast<std::uint32_t>(byte & 0x7F) << (7 * i);
    if ((byte & 0x80) == 0) {
      // A zero final group after the first byte means a shorter encoding existed.
      if (i > 0 && byte == 0) {
        result.status = VarintStatus::NotMinimal;
        return result;
      }
      result.status = VarintStatus::Ok;
      result.value = value;
      result.length = static_cast<std::uint8_t>(i + 1);
      return result;
    }
  }
  result.status = VarintStatus::TooLong;
  return result;
}

constexpr std::size_t varintSize(std::uint32_t value) noexcept {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : 4;
}

// Writes the encoding to out (room for four bytes) and returns its length. value must be
// at most kMaxVarint.
inline std::size_t encodeVarint(std::uint32_t value, std::uint8_t* out) noexcept {
  std::size_t length = 0;
  do {
    auto byte = static_cast<std::uint8_t>(value & 0x7F);
    value >>= 7;
    if (value != 0) byte = static_cast<std::uint8_t>(byte | 0x80);
    out[length++] = byte;
  } while (value != 0 && length < kMaxVarintLength);
  return length;
}

}  // namespace midge::codec
