// SPDX-License-Identifier: Apache-2.0
// What every Cortex-M board of this firmware shares: a 1 kHz SysTick as the time source,
// WFI as the idle, and the fault stop. A board file calls startSysTick() with its core
// clock from board::init().
#include <cstdint>

#include "examples/cortex-m/firmware/board.hpp"
#include "examples/cortex-m/firmware/cortex_m_core.hpp"

namespace {

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

// An interrupt handler gets no context pointer, so the millisecond count it advances has
// to live at namespace scope.
volatile std::uint32_t tickCount = 0;

}  // namespace

extern "C" void SysTick_Handler() { tickCount = tickCount + 1; }

namespace cortex_m {

void startSysTick(std::uint32_t coreClockHz) {
  systickReload() = coreClockHz / 1000u - 1u;
  systickCurrent() = 0;
  systickControl() = 0x7;  // processor clock, interrupt enabled, counter enabled
}

void enableIrq(unsigned irq) {
  // NVIC Interrupt Set-Enable Registers, one bit per external interrupt (B3.4.4).
  volatile std::uint32_t* const setEnable = reinterpret_cast<volatile std::uint32_t*>(0xE000E100u);
  setEnable[irq / 32u] = 1u << (irq % 32u);
}

}  // namespace cortex_m

namespace board {

std::uint32_t millis() { return tickCount; }

void waitForInterrupt() { __asm volatile("wfi"); }

void fatal(const char* why) {
  log("fatal: ");
  log(why);
  log("\n");
  __asm volatile("cpsid i");  // a debugger attached here sees the cause in r0's caller
  for (;;) {
    __asm volatile("wfi");
  }
}

}  // namespace board
