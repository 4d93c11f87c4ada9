// SPDX-License-Identifier: Apache-2.0
// The sensor application for a device behind a gateway: no MQTT on the microcontroller,
// only text lines on its serial link, in the line protocol of
// examples/gateway-bridge (line_protocol.hpp), which publishes them for it:
//
//   device -> gateway   "temperature 21.50"  every reading period
//                       "ack interval 500"   the answer to each command
//                       "# ..."              a comment: logged by the bridge, not published
//   gateway -> device   "interval 500"       a command (sensor_app.hpp), one per line
//
// The readings and commands are those of main.cpp; only the carrier differs. A bare-metal
// super-loop with static buffers, like main.cpp.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "examples/cortex-m/firmware/board.hpp"
#include "examples/cortex-m/firmware/sensor_app.hpp"

namespace {

constexpr bool due(std::uint32_t nowMs, std::uint32_t atMs) {
  return static_cast<std::int32_t>(nowMs - atMs) >= 0;
}

class LineFirmware {
 public:
  LineFirmware() : link_(board::netTransport()) {}

  [[noreturn]] void run() {
    board::netOpen(nullptr, 0);
    queueLine("# midge sensor firmware, line protocol, device ", board::deviceId());
    for (;;) {
      const std::uint32_t nowMs = board::millis();
      receive(nowMs);
      if (due(nowMs, nextReadingMs_)) {
        char text[sensor::kReadingCapacity];
        const std::size_t length = sensor::formatCentis(board::temperatureCentidegrees(), text);
        // A reading that finds no room is skipped, not queued: the next one is fresher.
        if (queueLine("temperature ", std::string_view(text, length))) {
          nextReadingMs_ = nowMs + settings_.periodMs;
        }
      }
      flush();
      board::waitForInterrupt();
    }
  }

 private:
  void receive(std::uint32_t nowMs) {
    std::uint8_t chunk[32];
    for (;;) {
      const std::int32_t got = link_.recv(link_.context, chunk, sizeof chunk);
      if (got <= 0) return;
      for (std::int32_t i = 0; i < got; ++i) onByte(static_cast<char>(chunk[i]), nowMs);
    }
  }

  void onByte(char c, std::uint32_t nowMs) {
    if (c == '\r') return;
    if (c != '\n') {
      // A line longer than the buffer is dropped whole, up to its LF, as the bridge does.
      if (lineLength_ < sizeof line_) {
        line_[lineLength_++] = c;
      } else {
        overlong_ = true;
      }
      return;
    }
    const std::string_view command(line_, lineLength_);
    const bool overlong = overlong_;
    lineLength_ = 0;
    overlong_ = false;
    if (overlong || command.empty()) return;

    const std::uint32_t periodMs = settings_.periodMs;
    char ack[sensor::kAckCapacity];
    const std::size_t length = sensor::applyCommand(command, settings_, ack);
    board::setLed(settings_.led);
    if (settings_.periodMs != periodMs) nextReadingMs_ = nowMs + settings_.periodMs;
    queueLine("ack ", std::string_view(ack, length));
  }

  // The whole line or nothing, so the gateway never receives half a line.
  bool queueLine(std::string_view key, std::string_view value) {
    const std::size_t size = key.size() + value.size() + 1;
    if (size > sizeof out_ - outLength_) return false;
    for (const char c : key) out_[outLength_++] = static_cast<std::uint8_t>(c);
    for (const char c : value) out_[outLength_++] = static_cast<std::uint8_t>(c);
    out_[outLength_++] = '\n';
    return true;
  }

  void flush() {
    std::size_t sent = 0;
    while (sent < outLength_) {
      const std::int32_t count = link_.send(link_.context, out_ + sent, outLength_ - sent);
      if (count <= 0) break;
      sent += static_cast<std::size_t>(count);
    }
    for (std::size_t i = sent; i < outLength_; ++i) out_[i - sent] = out_[i];
    outLength_ -= sent;
  }

  midge::tiny::Transport link_;
  sensor::Settings settings_;
  std::uint32_t nextReadingMs_ = 0;
  // A command line is short ("interval 3600000"); the gateway forwards at most 200 bytes.
  char line_[64] = {};
  std::size_t lineLength_ = 0;
  bool overlong_ = false;
  std::uint8_t out_[256] = {};
  std::size_t outLength_ = 0;
};

}  // namespace

int main() {
  board::init();
  board::log("firmware: text lines over the board's link, device ");
  board::log(board::deviceId());
  board::log("\n");
  static LineFirmware firmware;
  firmware.run();
}
