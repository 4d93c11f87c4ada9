// SPDX-License-Identifier: Apache-2.0
// A board that any Cortex-M has: SysTick for time, WFI for idle (cortex_m_core.cpp). It has
// no network, no sensor and no LED, so the firmware built with it links and runs (and
// shows its size) but never connects; replace the marked functions with your SDK's.
#include <cstdint>

#include "examples/cortex-m/firmware/board.hpp"
#include "examples/cortex-m/firmware/cortex_m_core.hpp"

namespace {

// Core clock after reset on most parts (e.g. the STM32F4's 16 MHz HSI). Set it to what
// your clock tree configures, or SysTick runs fast or slow.
constexpr std::uint32_t kCoreClockHz = 16000000;

std::int32_t netSend(void*, const std::uint8_t*, std::size_t) { return -1; }
std::int32_t netRecv(void*, std::uint8_t*, std::size_t) { return -1; }

}  // namespace

namespace board {

void init() { cortex_m::startSysTick(kCoreClockHz); }

// Replace: e.g. format the 96-bit unique ID at 0x1FFF7A10 (STM32F4) as hex.
const char* deviceId() { return "m4-demo"; }

// Replace: read the sensor (an I2C SHT3x, the MCU's internal ADC channel, ...).
std::int32_t temperatureCentidegrees() { return 2150; }

// Replace: drive the LED's GPIO pin.
void setLed(bool) {}

// Replace: write to a debug UART or the ITM stimulus port (SWO).
void log(std::string_view) {}

// Replace the four network functions with your TCP/IP stack: e.g. lwIP's
// lwip_socket/lwip_connect with O_NONBLOCK and lwip_send/lwip_recv mapped to the
// transport contract (EWOULDBLOCK -> 0, an error or a zero-byte read -> -1).
bool netOpen(const char*, std::uint16_t) { return false; }
NetState netState() { return NetState::Failed; }
void netClose() {}
midge::tiny::Transport netTransport() { return {nullptr, &netSend, &netRecv}; }

}  // namespace board
