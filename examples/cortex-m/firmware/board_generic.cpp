// SPDX-License-Identifier: Apache-2.0
// A board that any Cortex-M has: SysTick for time, WFI for idle. It has no network, no
// sensor and no LED, so the firmware built with it links and runs (and shows its size)
// but never connects; replace the marked functions with your SDK's.
#include <cstdint>

#include "examples/cortex-m/firmware/board.hpp"

namespace {

// Core clock after reset on most parts (e.g. the STM32F4's 16 MHz HSI). Set it to what
// your clock tree configures, or SysTick runs fast or slow.
constexpr std::uint32_t kCoreClockHz = 16000000;

// Cortex-M System Timer registers (ARMv7-M Architecture Reference Manual, B3.3).
volatile std::uint32_t& systickControl() {
  return *reinterpret_cast<volatile std::uint32_t*>(0xE000E010u);
}
volatile std::uint32_t& systickReload() {
  return *reinterpret_cast<volatile std::uint32_t*>(0xE000E014u);
}
volatile std::uint32_t& systickCurrent() {
  return *reinterpret_cast<volatile std::uint32_t*>(0xE000E018u);
}

// The one piece of global state: an interrupt handler gets no context pointer, so the
// millisecond count it advances has to live at namespace scope.
volatile std::uint32_t tickCount = 0;

std::int32_t netSend(void*, const std::uint8_t*, std::size_t) { return -1; }
std::int32_t netRecv(void*, std::uint8_t*, std::size_t) { return -1; }

}  // namespace

extern "C" void SysTick_Handler() { tickCount = tickCount + 1; }

namespace board {

void init() {
  systickReload() = kCoreClockHz / 1000u - 1u;
  systickCurrent() = 0;
  systickControl() = 0x7;  // processor clock, interrupt enabled, counter enabled
}

std::uint32_t millis() { return tickCount; }

void waitForInterrupt() { __asm volatile("wfi"); }

// Replace: e.g. format the 96-bit unique ID at 0x1FFF7A10 (STM32F4) as hex.
const char* deviceId() { return "m4-demo"; }

// Replace: read the sensor (an I2C SHT3x, the MCU's internal ADC channel, ...).
std::int32_t temperatureCentidegrees() { return 2150; }

// Replace: drive the LED's GPIO pin.
void setLed(bool) {}

// Replace the four network functions with your TCP/IP stack: e.g. lwIP's
// lwip_socket/lwip_connect with O_NONBLOCK and lwip_send/lwip_recv mapped to the
// transport contract (EWOULDBLOCK -> 0, an error or a zero-byte read -> -1).
bool netOpen(const char*, std::uint16_t) { return false; }
NetState netState() { return NetState::Failed; }
void netClose() {}
midge::tiny::Transport netTransport() { return {nullptr, &netSend, &netRecv}; }

void fatal(const char*) {
  __asm volatile("cpsid i");  // a debugger attached here sees the cause in r0's caller
  for (;;) {
    __asm volatile("wfi");
  }
}

}  // namespace board
