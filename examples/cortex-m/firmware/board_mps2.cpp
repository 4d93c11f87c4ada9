// SPDX-License-Identifier: Apache-2.0
// The ARM MPS2 FPGA board with the AN386 image (Cortex-M4 at 25 MHz), as QEMU emulates it
// (`qemu-system-arm -M mps2-an386`). The firmware's link to the outside is UART0, and QEMU
// decides what is at the other end of that wire:
//
//   -serial tcp:127.0.0.1:1883   the broker's TCP port: the MQTT bytes cross the UART as
//                                they would through a transparent serial-to-TCP modem
//   -serial pty                  a pseudo-terminal, the serial device of a gateway bridge
//
// UART1 (QEMU's second -serial) is the debug console for board::log(). Time is SysTick;
// the LED is LED0 of the FPGA's I/O block; the temperature is simulated.
#include <cstdint>

#include "examples/cortex-m/firmware/board.hpp"
#include "examples/cortex-m/firmware/cmsdk_uart.hpp"
#include "examples/cortex-m/firmware/cortex_m_core.hpp"

namespace {

// SYSCLK of the MPS2 FPGA images; it also clocks the APB UARTs.
constexpr std::uint32_t kCoreClockHz = 25000000;
constexpr std::uint32_t kBaud = 115200;
// AN386 memory map: UART0 and UART1 of the CMSDK APB subsystem, the FPGA I/O block.
constexpr std::uintptr_t kUart0Base = 0x40004000u;
constexpr std::uintptr_t kUart1Base = 0x40005000u;
constexpr std::uintptr_t kFpgaIoLeds = 0x40028000u;
// External interrupt 0 is UART0's receive interrupt (its transmit interrupt is 1).
constexpr unsigned kUart0RxIrq = 0;
// A debug byte waits this many polls for the console, then the rest of the text is
// dropped: a console nobody reads must not stop the firmware.
constexpr std::uint32_t kConsoleSpins = 10000;

// Interrupt handlers get no context, so the UARTs they serve live at namespace scope.
cmsdk::Uart linkUart;
cmsdk::Uart consoleUart;

// UART0 carries whatever the application speaks; there is no carrier signal, so the link
// is "up" whenever the firmware wants it, and a dead far end shows only as silence (the
// MQTT keep-alive notices it).
std::int32_t linkSend(void*, const std::uint8_t* data, std::size_t size) {
  return static_cast<std::int32_t>(linkUart.write(data, size));
}
std::int32_t linkRecv(void*, std::uint8_t* buffer, std::size_t size) {
  return static_cast<std::int32_t>(linkUart.read(buffer, size));
}

}  // namespace

extern "C" void Uart0Rx_Handler() { linkUart.onReceiveInterrupt(); }

namespace {
using Vector = void (*)();
// The external interrupts this board uses, placed after the 16 system entries of
// startup.cpp by the linker script: entry 16 + n serves interrupt n. Only IRQ 0 is enabled.
__attribute__((section(".isr_vector.irq"), used)) const Vector kExternalVectors[] = {
    Uart0Rx_Handler,  // IRQ 0: UART0 receive
};
}  // namespace

namespace board {

void init() {
  cortex_m::startSysTick(kCoreClockHz);
  consoleUart.start(kUart1Base, kCoreClockHz, kBaud);
  linkUart.start(kUart0Base, kCoreClockHz, kBaud);
  cortex_m::enableIrq(kUart0RxIrq);
}

const char* deviceId() { return "mps2-an386"; }

// A sensor that drifts: 21.50 °C plus 0.05 °C per second, back to 21.50 every 20 s.
std::int32_t temperatureCentidegrees() {
  return 2150 + static_cast<std::int32_t>((millis() / 1000u) % 20u) * 5;
}

void setLed(bool on) { *reinterpret_cast<volatile std::uint32_t*>(kFpgaIoLeds) = on ? 1u : 0u; }

void log(std::string_view text) {
  consoleUart.writeDropping(reinterpret_cast<const std::uint8_t*>(text.data()), text.size(),
                        kConsoleSpins);
}

// A new session on the line starts clean: bytes left from the last one (a late PINGRESP)
// would be read as the answer to the next CONNECT.
bool netOpen(const char*, std::uint16_t) {
  linkUart.discardInput();
  return true;
}
NetState netState() { return NetState::Up; }
void netClose() { linkUart.discardInput(); }
midge::tiny::Transport netTransport() { return {nullptr, &linkSend, &linkRecv}; }

}  // namespace board
