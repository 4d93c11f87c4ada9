// SPDX-License-Identifier: Apache-2.0
// What the firmware needs from a board. board_generic.cpp implements it for any Cortex-M
// (SysTick for time, no network); a real port replaces the network and sensor functions
// with the vendor SDK's (lwIP sockets, a Wi-Fi or cellular modem's AT socket, a W5500...).
#pragma once

#include <cstddef>
#include <cstdint>

#include "examples/cortex-m/client/transport.hpp"

namespace board {

// Clocks, SysTick at 1 kHz, GPIO for the LED. Called once from main().
void init();

// Milliseconds since init(); wraps after 49 days (the client copes).
std::uint32_t millis();

// Sleeps until the next interrupt (SysTick at the latest): the super-loop's idle.
void waitForInterrupt();

// A stable, unique device name for the MQTT client identifier and the topics, e.g. the
// hex of the chip's unique-ID registers. At most 32 characters, NUL-terminated.
const char* deviceId();

// Temperature in hundredths of a degree Celsius, from the board's sensor.
std::int32_t temperatureCentidegrees();

void setLed(bool on);

// Starts a TCP (or TLS) connection to the broker. Returns false when it cannot even be
// started; the firmware retries after a back-off. Non-blocking boards report progress
// through netState().
bool netOpen(const char* host, std::uint16_t port);
enum class NetState : std::uint8_t { Closed, Connecting, Up, Failed };
NetState netState();
void netClose();

// send/recv for the MQTT client, with the contract of examples/cortex-m/client/transport.hpp.
midge::tiny::Transport netTransport();

// Something went wrong that only a reset cures (heap use, a failed assertion).
[[noreturn]] void fatal(const char* why);

}  // namespace board
