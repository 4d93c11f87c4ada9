// SPDX-License-Identifier: Apache-2.0
// The sensor application, whatever carries its messages: the reading it formats, the
// commands it obeys and the acknowledgement it gives back. main.cpp carries them over MQTT
// (the tiny client); main_lines.cpp prints them as text lines for a gateway bridge.
//
// Commands, one per message or line:
//   led on | led off    switch the LED                       ack: "led on" / "led off"
//   interval MS         reading period in milliseconds       ack: "interval MS"
// Anything else is answered with an ack that starts with "error: ".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sensor {

constexpr std::uint32_t kDefaultPeriodMs = 10000;
// Faster than 100 ms would keep the single QoS 1 slot permanently busy with readings;
// slower than an hour makes a live sensor look dead to anyone watching its topic.
constexpr std::uint32_t kMinPeriodMs = 100;
constexpr std::uint32_t kMaxPeriodMs = 3600000;

constexpr std::size_t kAckCapacity = 40;
constexpr std::size_t kReadingCapacity = 16;

struct Settings {
  std::uint32_t periodMs = kDefaultPeriodMs;
  bool led = false;
};

// Applies `command` to `settings` and writes the acknowledgement into `ack`; returns its
// length. Settings change only for a valid command.
std::size_t applyCommand(std::string_view command, Settings& settings,
                         char (&ack)[kAckCapacity]);

// 2150 -> "21.50"; -5 -> "-0.05". printf with floats would pull in newlib's malloc.
std::size_t formatCentis(std::int32_t value, char (&out)[kReadingCapacity]);

}  // namespace sensor
