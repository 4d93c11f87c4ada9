// SPDX-License-Identifier: Apache-2.0
#include "examples/cortex-m/firmware/cmsdk_uart.hpp"

#include "examples/cortex-m/firmware/cortex_m_core.hpp"

namespace cmsdk {
namespace {

// Register offsets and bits (CMSDK Technical Reference Manual, APB UART).
constexpr std::uintptr_t kData = 0x000;
constexpr std::uintptr_t kState = 0x004;
constexpr std::uintptr_t kCtrl = 0x008;
constexpr std::uintptr_t kIntStatusClear = 0x00C;
constexpr std::uintptr_t kBaudDiv = 0x010;

constexpr std::uint32_t kStateTxFull = 1u << 0;
constexpr std::uint32_t kStateRxFull = 1u << 1;
constexpr std::uint32_t kCtrlTxEnable = 1u << 0;
constexpr std::uint32_t kCtrlRxEnable = 1u << 1;
constexpr std::uint32_t kCtrlRxInterruptEnable = 1u << 3;
constexpr std::uint32_t kIntRx = 1u << 1;

// The divider must be at least 16 (one bit time is 16 samples).
constexpr std::uint32_t kMinBaudDiv = 16;

}  // namespace

void Uart::start(std::uintptr_t base, std::uint32_t pclkHz, std::uint32_t baud) {
  base_ = base;
  const std::uint32_t divider = pclkHz / baud;
  reg(kBaudDiv) = divider < kMinBaudDiv ? kMinBaudDiv : divider;
  reg(kIntStatusClear) = 0xF;
  reg(kCtrl) = kCtrlTxEnable | kCtrlRxEnable | kCtrlRxInterruptEnable;
}

std::size_t Uart::write(const std::uint8_t* data, std::size_t size) {
  std::size_t written = 0;
  while (written < size && (reg(kState) & kStateTxFull) == 0) reg(kData) = data[written++];
  return written;
}

void Uart::writeDropping(const std::uint8_t* data, std::size_t size, std::uint32_t spins) {
  for (std::size_t i = 0; i < size; ++i) {
    std::uint32_t waited = 0;
    while ((reg(kState) & kStateTxFull) != 0) {
      if (++waited > spins) return;
    }
    reg(kData) = data[i];
  }
}

void Uart::pullReceived() {
  std::uint32_t head = head_.load(std::memory_order_relaxed);
  const std::uint32_t tail = tail_.load(std::memory_order_acquire);
  while (head - tail < kReceiveCapacity && (reg(kState) & kStateRxFull) != 0) {
    ring_[head % kReceiveCapacity] = static_cast<std::uint8_t>(reg(kData));
    ++head;
  }
  head_.store(head, std::memory_order_release);
}

void Uart::onReceiveInterrupt() {
  // Cleared before the data register is read: a byte that arrives after the read raises
  // the interrupt again instead of waiting unseen.
  reg(kIntStatusClear) = kIntRx;
  pullReceived();
}

std::size_t Uart::read(std::uint8_t* buffer, std::size_t size) {
  // A byte left in the UART while the ring was full raised its interrupt already: collect
  // it here, now that read() has made room.
  cortex_m::disableInterrupts();
  pullReceived();
  cortex_m::enableInterrupts();
  const std::uint32_t head = head_.load(std::memory_order_acquire);
  std::uint32_t tail = tail_.load(std::memory_order_relaxed);
  std::size_t count = 0;
  while (count < size && tail != head) buffer[count++] = ring_[tail++ % kReceiveCapacity];
  tail_.store(tail, std::memory_order_release);
  return count;
}

void Uart::discardInput() {
  cortex_m::disableInterrupts();
  pullReceived();
  tail_.store(head_.load(std::memory_order_relaxed), std::memory_order_release);
  cortex_m::enableInterrupts();
}

}  // namespace cmsdk
