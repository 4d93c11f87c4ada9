// SPDX-License-Identifier: Apache-2.0
// The stamp at the start of every benchmark payload: what a subscriber needs to count
// loss, duplicates and order per publisher, and to measure latency. Little-endian fixed
// layout so any tool can read it: u64 sequence, u32 publisher id, u64 send time
// (CLOCK_MONOTONIC, ns). The rest of the payload is filler.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace midge::bench {

constexpr std::size_t kStampSize = 20;

struct Stamp {
  std::uint64_t sequence = 0;
  std::uint32_t publisher = 0;
  std::uint64_t sentNs = 0;
};

inline void storeLittle(std::uint8_t* out, std::uint64_t value, std::size_t bytes) noexcept {
  for (std::size_t i = 0; i < bytes; ++i) out[i] = static_cast<std::uint8_t>(value >> (8 * i));
}

inline std::uint64_t loadLittle(const std::uint8_t* in, std::size_t bytes) noexcept {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < bytes; ++i) value |= static_cast<std::uint64_t>(in[i]) << (8 * i);
  return value;
}

// out must hold kStampSize bytes.
inline void writeStamp(const Stamp& stamp, std::uint8_t* out) noexcept {
  storeLittle(out, stamp.sequence, 8);
  storeLittle(out + 8, stamp.publisher, 4);
  storeLittle(out + 12, stamp.sentNs, 8);
}

// False when the payload is too short to carry a stamp (not one of ours).
inline bool readStamp(const std::uint8_t* data, std::size_t size, Stamp& out) noexcept {
  if (size < kStampSize) return false;
  out.sequence = loadLittle(data, 8);
  out.publisher = static_cast<std::uint32_t>(loadLittle(data + 8, 4));
  out.sentNs = loadLittle(data + 12, 8);
  return true;
}

}  // namespace midge::bench
