// SPDX-License-Identifier: Apache-2.0
// Sensor firmware for a Cortex-M4F: publishes the temperature every 10 s at QoS 1, keeps a
// retained online/offline status (the offline one as the MQTT will), and switches an LED
// from commands on devices/<id>/cmd. A bare-metal super-loop; everything lives in one
// statically allocated object, and nothing is allocated from a heap.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "examples/cortex-m/client/tiny_client.hpp"
#include "examples/cortex-m/firmware/board.hpp"

#ifndef MIDGE_BROKER_HOST
#define MIDGE_BROKER_HOST "192.168.1.10"
#endif
#ifndef MIDGE_BROKER_PORT
#define MIDGE_BROKER_PORT 1883
#endif

namespace {

using midge::tiny::Client;
using midge::tiny::ClientStatus;
using midge::tiny::DisconnectReason;
using midge::tiny::State;

constexpr std::uint32_t kReadingPeriodMs = 10000;
// Reconnect back-off: doubles from 1 s to 60 s so a fleet that lost its broker does not
// hammer it the moment it returns.
constexpr std::uint32_t kBackoffFirstMs = 1000;
constexpr std::uint32_t kBackoffMaxMs = 60000;
constexpr std::size_t kTopicCapacity = 64;

constexpr bool due(std::uint32_t nowMs, std::uint32_t atMs) {
  return static_cast<std::int32_t>(nowMs - atMs) >= 0;
}

// "devices/" + id + "/" + leaf, truncated to the buffer (device ids are short by contract).
void buildTopic(char (&out)[kTopicCapacity], const char* id, const char* leaf) {
  std::size_t length = 0;
  for (const char* part : {"devices/", id, "/", leaf}) {
    for (; *part != '\0' && length + 1 < kTopicCapacity; ++part) out[length++] = *part;
  }
  out[length] = '\0';
}

// 2150 -> "21.50"; -5 -> "-0.05". printf with floats would pull in newlib's malloc.
std::size_t formatCentis(std::int32_t value, char (&out)[16]) {
  char digits[12];
  std::size_t count = 0;
  const bool negative = value < 0;
  std::uint32_t magnitude =
      negative ? 0u - static_cast<std::uint32_t>(value) : static_cast<std::uint32_t>(value);
  do {
    digits[count++] = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude != 0 || count < 3);
  std::size_t length = 0;
  if (negative) out[length++] = '-';
  while (count > 2) out[length++] = digits[--count];
  out[length++] = '.';
  out[length++] = digits[1];
  out[length++] = digits[0];
  return length;
}

class Firmware {
 public:
  Firmware() : client_(board::netTransport(), {tx_, rx_, inflight_}, callbacks()) {
    buildTopic(statusTopic_, board::deviceId(), "status");
    buildTopic(commandTopic_, board::deviceId(), "cmd");
    buildTopic(temperatureTopic_, board::deviceId(), "temperature");
  }

  [[noreturn]] void run() {
    for (;;) {
      step(board::millis());
      board::waitForInterrupt();
    }
  }

 private:
  enum class Link : std::uint8_t { Down, Opening, Mqtt };

  midge::tiny::Callbacks callbacks() {
    midge::tiny::Callbacks c;
    c.context = this;
    c.onConnected = [](void* self, bool) { static_cast<Firmware*>(self)->onConnected(); };
    c.onDisconnected = [](void* self, DisconnectReason) {
      static_cast<Firmware*>(self)->onDisconnected();
    };
    c.onMessage = [](void* self, const midge::tiny::IncomingMessage& message) {
      static_cast<Firmware*>(self)->onMessage(message);
    };
    return c;
  }

  void step(std::uint32_t nowMs) {
    switch (link_) {
      case Link::Down:
        if (!due(nowMs, retryAtMs_)) return;
        if (board::netOpen(MIDGE_BROKER_HOST, MIDGE_BROKER_PORT)) {
          link_ = Link::Opening;
        } else {
          scheduleRetry(nowMs);
        }
        return;
      case Link::Opening:
        switch (board::netState()) {
          case board::NetState::Up: startMqtt(nowMs); return;
          case board::NetState::Connecting: return;
          case board::NetState::Closed:
          case board::NetState::Failed:
            board::netClose();
            link_ = Link::Down;
            scheduleRetry(nowMs);
            return;
        }
        return;
      case Link::Mqtt:
        client_.process(nowMs);
        if (link_ != Link::Mqtt || client_.state() != State::Connected) return;
        publishDue(nowMs);
        return;
    }
  }

  void startMqtt(std::uint32_t nowMs) {
    midge::tiny::ConnectOptions options;
    options.clientId = board::deviceId();
    options.keepAliveSeconds = 60;
    options.cleanSession = true;
    options.will = midge::tiny::WillFields{statusTopic_, midge::asBytes("offline"), 1, true};
    if (client_.connect(options, nowMs) != ClientStatus::Ok) {
      board::fatal("CONNECT does not fit the transmit buffer");
    }
    link_ = Link::Mqtt;
  }

  void onConnected() {
    backoffMs_ = kBackoffFirstMs;
    announcePending_ = true;
    subscribePending_ = true;
  }

  void onDisconnected() {
    board::netClose();
    link_ = Link::Down;
    scheduleRetry(board::millis());
  }

  void onMessage(const midge::tiny::IncomingMessage& message) {
    if (message.topic != commandTopic_) return;
    const std::string_view command = midge::asStringView(message.payload);
    if (command == "led on") board::setLed(true);
    if (command == "led off") board::setLed(false);
  }

  // One QoS 1 message is in flight at a time, so the status, the subscription and the
  // readings take turns; a reading resent after a reconnect goes first.
  void publishDue(std::uint32_t nowMs) {
    if (subscribePending_ && client_.subscribe(commandTopic_, 1) == ClientStatus::Ok) {
      subscribePending_ = false;
    }
    if (client_.publishInFlight()) return;
    if (announcePending_) {
      if (client_.publish(statusTopic_, midge::asBytes("online"), 1, true, nowMs) ==
          ClientStatus::Ok) {
        announcePending_ = false;
      }
      return;
    }
    if (!due(nowMs, nextReadingMs_)) return;
    char text[16];
    const std::size_t length = formatCentis(board::temperatureCentidegrees(), text);
    const midge::Bytes payload(reinterpret_cast<const std::uint8_t*>(text), length);
    if (client_.publish(temperatureTopic_, payload, 1, false, nowMs) == ClientStatus::Ok) {
      nextReadingMs_ = nowMs + kReadingPeriodMs;
    }
  }

  void scheduleRetry(std::uint32_t nowMs) {
    retryAtMs_ = nowMs + backoffMs_;
    backoffMs_ = backoffMs_ >= kBackoffMaxMs / 2 ? kBackoffMaxMs : backoffMs_ * 2;
  }

  // Sized for this application's packets: the largest is CONNECT with the will (about
  // 60 bytes) and the largest expected command is short. Measure yours the same way.
  std::uint8_t tx_[256] = {};
  std::uint8_t rx_[256] = {};
  std::uint8_t inflight_[96] = {};
  char statusTopic_[kTopicCapacity] = {};
  char commandTopic_[kTopicCapacity] = {};
  char temperatureTopic_[kTopicCapacity] = {};
  Client client_;
  Link link_ = Link::Down;
  std::uint32_t retryAtMs_ = 0;
  std::uint32_t backoffMs_ = kBackoffFirstMs;
  std::uint32_t nextReadingMs_ = 0;
  bool announcePending_ = false;
  bool subscribePending_ = false;
};

}  // namespace

int main() {
  board::init();
  // Static storage: the buffers land in .bss, where the size report shows them, instead
  // of on the 4 KiB main stack.
  static Firmware firmware;
  firmware.run();
}
