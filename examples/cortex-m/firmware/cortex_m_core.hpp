// SPDX-License-Identifier: Apache-2.0
// Core peripherals every Cortex-M has (SysTick, NVIC), for the board files.
#pragma once

#include <cstdint>

namespace cortex_m {

// SysTick interrupt at 1 kHz from the processor clock: board::millis() counts it. A wrong
// coreClockHz makes every timeout of the firmware (keep-alive, back-off) run fast or slow.
void startSysTick(std::uint32_t coreClockHz);

// Lets external interrupt `irq` (vector table entry 16 + irq) through the NVIC.
void enableIrq(unsigned irq);

// Interrupts off and on, for the short sections that share data with a handler.
inline void disableInterrupts() { __asm volatile("cpsid i" ::: "memory"); }
inline void enableInterrupts() { __asm volatile("cpsie i" ::: "memory"); }

}  // namespace cortex_m
