// SPDX-License-Identifier: Apache-2.0
// Driver for ARM's CMSDK APB UART (Cortex-M System Design Kit, DDI 0479), the UART of the
// MPS2 FPGA images and of many Cortex-M SoCs built from the CMSDK. The hardware holds one
// received byte, so reception is interrupt-driven into a ring buffer: a CPU asleep in WFI
// wakes for each byte instead of losing the next one. Transmission is polled and never
// waits: write() takes what the one-byte transmit register accepts right now.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace cmsdk {

class Uart {
 public:
  // All zero until start(), so a UART object at namespace scope costs .bss, not flash.
  constexpr Uart() = default;

  // Enables the UART at `base`, transmitter and receiver at `baud` from the APB clock,
  // with the receive interrupt on. The board enables that interrupt in the NVIC and calls
  // onReceiveInterrupt() from its handler.
  void start(std::uintptr_t base, std::uint32_t pclkHz, std::uint32_t baud);

  // Bytes the transmit register took, possibly 0 (never blocks).
  std::size_t write(const std::uint8_t* data, std::size_t size);
  // Like write(), but waits up to `spins` polls per byte for the transmitter, then drops
  // the rest: for a debug console that must not stall the firmware.
  void writeDropping(const std::uint8_t* data, std::size_t size, std::uint32_t spins);
  // Bytes received so far, up to `size`; 0 when none are waiting.
  std::size_t read(std::uint8_t* buffer, std::size_t size);
  // Forgets received bytes, e.g. before a new session on the line.
  void discardInput();

  void onReceiveInterrupt();

  // Received bytes are kept up to this count. When the ring is full the byte stays in the
  // UART, which holds back the sender where the line has flow control (QEMU's character
  // devices do) and overruns where it has not.
  static constexpr std::size_t kReceiveCapacity = 512;
  static_assert((kReceiveCapacity & (kReceiveCapacity - 1)) == 0,
                "the free-running counts wrap correctly only for a power of two");

 private:
  volatile std::uint32_t& reg(std::uintptr_t offset) const {
    return *reinterpret_cast<volatile std::uint32_t*>(base_ + offset);
  }
  // Moves bytes from the receive register into the ring while both allow. Runs in the
  // interrupt handler, or with interrupts off.
  void pullReceived();

  std::uintptr_t base_ = 0;
  std::uint8_t ring_[kReceiveCapacity] = {};
  // Free-running counts: head_ is advanced by pullReceived(), tail_ by read().
  std::atomic<std::uint32_t> head_{0};
  std::atomic<std::uint32_t> tail_{0};
};

}  // namespace cmsdk
