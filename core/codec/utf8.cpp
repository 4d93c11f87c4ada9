// SPDX-License-Identifier: Apache-2.0
#include "core/codec/utf8.hpp"

namespace midge::codec::detail {

namespace {
bool isContinuation(unsigned char c) noexcept { return (c & 0xC0) == 0x80; }
}  // namespace

// Follows the well-formed byte sequences of Unicode table 3-7: the narrowed second-byte
// ranges after E0, ED, F0 and F4 are what exclude overlongs, surrogates and code points
// above U+10FFFF.
Utf8Status validateUtf8Slow(const unsigned char* data, std::size_t size) noexcept {
  std::size_t i = 0;
  while (i < size) {
    const unsigned char lead = data[i];
    if (lead < 0x80) {
      if (lead == 0) return Utf8Status::ContainsNull;
      ++i;
      continue;
    }
    std::size_t length = 0;
    unsigned char secondLow = 0x80;
    unsigned char secondHigh = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) secondLow = 0xA0;
      if (lead == 0xED) secondHigh = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) secondLow = 0x90;
      if (lead == 0xF4) secondHigh = 0x8F;
    } else {
      return Utf8Status::IllFormed;  // 80..C1 and F5..FF never start a sequence
    }
    if (size - i < length) return Utf8Status::IllFormed;
    const unsigned char second = data[i + 1];
    if (second < secondLow || second > secondHigh) return Utf8Status::IllFormed;
    for (std::size_t k = 2; k < length; ++k) {
      if (!isContinuation(data[i + k])) return Utf8Status::IllFormed;
    }
    i += length;
  }
  return Utf8Status::Valid;
}

}  // namespace midge::codec::detail
