// SPDX-License-Identifier: Apache-2.0
// Reconnect delays: exponential from a first delay up to a ceiling, with +-20 % jitter so a
// fleet of gateways that lost the same broker does not return in lockstep.
#pragma once

#include <cstdint>
#include <random>

namespace midge::bridge {

class Backoff {
 public:
  Backoff(std::uint32_t firstMs, std::uint32_t maxMs, std::uint32_t seed)
      : firstMs_(firstMs), maxMs_(maxMs < firstMs ? firstMs : maxMs), nextMs_(firstMs_),
        random_(mix(seed)) {}

  // The delay before the next attempt; each call doubles the base for the following one.
  std::uint32_t next() {
    const std::uint32_t base = nextMs_;
    nextMs_ = base >= maxMs_ / 2 ? maxMs_ : base * 2;
    std::uniform_int_distribution<std::uint32_t> jitter(0, base / 5 * 2);
    const std::uint32_t delay = base - base / 5 + jitter(random_);
    return delay > maxMs_ ? maxMs_ : delay;
  }

  // After a successful connection the next failure starts again from the first delay.
  void reset() { nextMs_ = firstMs_; }

 private:
  // minstd_rand's first outputs for nearby seeds are nearly equal; a finalizer (from
  // MurmurHash3) spreads seeds that differ in a few bits over the whole range.
  static std::uint32_t mix(std::uint32_t value) {
    value ^= value >> 16;
    value *= 0x85EBCA6Bu;
    value ^= value >> 13;
    value *= 0xC2B2AE35u;
    value ^= value >> 16;
    return value % 0x7FFFFFFEu + 1u;  // minstd_rand needs a non-zero seed below its modulus
  }

  std::uint32_t firstMs_;
  std::uint32_t maxMs_;
  std::uint32_t nextMs_;
  std::minstd_rand random_;
};

}  // namespace midge::bridge
