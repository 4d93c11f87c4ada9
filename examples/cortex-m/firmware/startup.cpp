// SPDX-License-Identifier: Apache-2.0
// Reset and exception vectors for a Cortex-M4F, and the C++ runtime start: copy .data,
// zero .bss, enable the FPU, run static constructors, call main(). The chip vendor's
// startup file replaces this one in a real product (it lists the peripheral interrupts).
#include <cstdint>

#include "examples/cortex-m/firmware/board.hpp"

extern "C" {
// Defined by cortex_m4.ld.
extern std::uint32_t _sidata;
extern std::uint32_t _sdata;
extern std::uint32_t _edata;
extern std::uint32_t _sbss;
extern std::uint32_t _ebss;
extern std::uint32_t _estack;
extern void (*__init_array_start[])();
extern void (*__init_array_end[])();

int main();
void Reset_Handler();
void SysTick_Handler();
void Default_Handler();
}

namespace {
using Vector = void (*)();
// Coprocessor Access Control Register: CP10 and CP11 (the FPU) full access.
constexpr std::uintptr_t kCpacr = 0xE000ED88u;
}  // namespace

extern "C" void Default_Handler() { board::fatal("unexpected exception"); }

extern "C" void Reset_Handler() {
  // Hard-float code may touch the FPU in the first constructor, so it is enabled first.
  *reinterpret_cast<volatile std::uint32_t*>(kCpacr) |= (0xFu << 20);
  __asm volatile("dsb\n\tisb");

  const std::uint32_t* source = &_sidata;
  for (std::uint32_t* destination = &_sdata; destination < &_edata;) *destination++ = *source++;
  for (std::uint32_t* word = &_sbss; word < &_ebss;) *word++ = 0;
  for (Vector* constructor = __init_array_start; constructor < __init_array_end; ++constructor) {
    (*constructor)();
  }
  main();
  board::fatal("main returned");
}

// Entry 0 is the initial stack pointer, then the 15 ARMv7-M system exceptions. Peripheral
// interrupts (entry 16 on) are the chip's: add them here when a driver needs one.
__attribute__((section(".isr_vector"), used)) const Vector kVectorTable[16] = {
    reinterpret_cast<Vector>(&_estack),
    Reset_Handler,
    Default_Handler,  // NMI
    Default_Handler,  // HardFault
    Default_Handler,  // MemManage
    Default_Handler,  // BusFault
    Default_Handler,  // UsageFault
    nullptr, nullptr, nullptr, nullptr,
    Default_Handler,  // SVCall
    Default_Handler,  // DebugMonitor
    nullptr,
    Default_Handler,  // PendSV
    SysTick_Handler,
};
