// SPDX-License-Identifier: Apache-2.0
// The Cortex-M firmware (examples/cortex-m) booted in QEMU's mps2-an386 board against the
// real midge: its UART0 is wired by QEMU either straight to the broker's TCP port, so the
// firmware speaks MQTT over its serial line, or to a pseudo-terminal that
// midge-gateway-bridge opens as its serial device. A Paho client plays the application
// that reads the readings and sends commands. Everything waits on events with deadlines.
#include <csignal>
#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "tests/integration/paho_support.hpp"
#include "tests/integration/subprocess.hpp"

namespace midge::test {
namespace {

// Generous: QEMU boots the image in milliseconds, but a loaded CI machine shares its two
// cores among a broker, an emulator, a bridge and the test.
constexpr auto kEventTimeout = 30s;

const std::regex kReading(R"(-?[0-9]+\.[0-9]{2})");

class CortexMQemuTest : public PahoTest {
 protected:
  void TearDown() override {
    if (HasFailure()) {
      if (bridge_) std::cerr << "---- bridge log ----\n" << bridge_->output() << "----\n";
      if (board_) std::cerr << "---- qemu and firmware console ----\n" << board_->output() << "----\n";
    }
    bridge_.reset();
    board_.reset();
    PahoTest::TearDown();
  }

  // Boots `image` with UART0 on the character device `link` (QEMU's -serial syntax) and
  // UART1, the firmware's debug console, on QEMU's own output, which the test captures.
  void bootFirmware(const std::string& image, const std::string& link) {
    board_ = std::make_unique<Subprocess>(std::vector<std::string>{
        QEMU_SYSTEM_ARM, "-M", "mps2-an386", "-nodefaults", "-net", "none", "-display", "none",
        "-serial", link, "-serial", "file:/dev/stdout", "-kernel", image});
  }

  // The next message on `topic`, skipping others; nullptr after the timeout.
  static mqtt::const_message_ptr next(mqtt::async_client& client, const std::string& topic,
                                      std::chrono::milliseconds timeout = kEventTimeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return nullptr;
      mqtt::const_message_ptr message = receive(client, left);
      if (!message || message->get_topic() == topic) return message;
    }
  }

  void expectNext(mqtt::async_client& client, const std::string& topic,
                  const std::string& payload) {
    mqtt::const_message_ptr message = next(client, topic);
    ASSERT_TRUE(message) << "nothing on " << topic;
    EXPECT_EQ(message->to_string(), payload) << "on " << topic;
  }

  void expectReading(mqtt::async_client& client, const std::string& topic) {
    mqtt::const_message_ptr message = next(client, topic);
    ASSERT_TRUE(message) << "no reading on " << topic;
    EXPECT_TRUE(std::regex_match(message->to_string(), kReading)) << message->to_string();
    EXPECT_EQ(message->get_qos(), 1);
  }

  // After "interval 200" the readings come five times a second. At the default period of
  // 10 s, five readings would need 40 s and more: their arrival within the deadline shows
  // the firmware acted on the command, without measuring its speed.
  void expectFasterReadings(mqtt::async_client& client, const std::string& topic) {
    for (int count = 0; count < 5; ++count) {
      ASSERT_TRUE(next(client, topic, 25s)) << "reading " << count + 1 << " after interval 200";
    }
  }

  std::unique_ptr<Subprocess> board_;
  std::unique_ptr<Subprocess> bridge_;
};

TEST_F(CortexMQemuTest, FirmwareSpeaksMqttOverItsUartAndObeysCommands) {
  mqtt::async_client& app = connected("app", MQTTVERSION_3_1_1);
  subscribe(app, "devices/mps2-an386/#", 1);
  bootFirmware(FIRMWARE_MQTT_IMAGE, "tcp:127.0.0.1:" + std::to_string(broker_.port()));

  expectNext(app, "devices/mps2-an386/status", "online");
  expectReading(app, "devices/mps2-an386/temperature");
  EXPECT_TRUE(board_->waitForOutput("mqtt: connected", 5s));

  publish(app, "devices/mps2-an386/cmd", "interval 200");
  expectNext(app, "devices/mps2-an386/ack", "interval 200");
  expectFasterReadings(app, "devices/mps2-an386/temperature");

  publish(app, "devices/mps2-an386/cmd", "led on");
  expectNext(app, "devices/mps2-an386/ack", "led on");
  publish(app, "devices/mps2-an386/cmd", "interval 5");
  expectNext(app, "devices/mps2-an386/ack", "error: interval takes 100..3600000 ms");

  // The board loses power: QEMU ends, its TCP connection closes without DISCONNECT, and
  // the broker publishes the firmware's will.
  EXPECT_EQ(board_->terminate(/*crash=*/true), 128 + SIGKILL);
  expectNext(app, "devices/mps2-an386/status", "offline");
}

TEST_F(CortexMQemuTest, ReadingTravelsFromTheFirmwareThroughTheGatewayBridge) {
  bootFirmware(FIRMWARE_LINES_IMAGE, "pty");
  // QEMU names the pseudo-terminal it created for UART0 on its output.
  ASSERT_TRUE(board_->waitForOutput("(label serial0)", kEventTimeout)) << board_->output();
  std::smatch match;
  const std::string output = board_->output();
  ASSERT_TRUE(std::regex_search(output, match, std::regex(R"(redirected to (/dev/pts/[0-9]+))")))
      << output;
  const std::string pty = match[1];

  mqtt::async_client& app = connected("app", MQTTVERSION_3_1_1);
  subscribe(app, "plant/m4/#", 1);
  bridge_ = std::make_unique<Subprocess>(std::vector<std::string>{
      GATEWAY_BRIDGE_PATH, "--serial", pty, "--device", "m4", "--prefix", "plant", "--port",
      std::to_string(broker_.port()), "--backoff-min", "50", "--backoff-max", "200",
      "--verbose"});

  expectNext(app, "plant/m4/status", "online");
  expectReading(app, "plant/m4/temperature");

  // Back down the same path: Midge -> bridge -> pty -> UART0 -> firmware, and its answer up.
  publish(app, "plant/m4/cmd", "interval 200");
  expectNext(app, "plant/m4/ack", "interval 200");
  expectFasterReadings(app, "plant/m4/temperature");

  EXPECT_EQ(bridge_->terminate(/*crash=*/false), 0);
  expectNext(app, "plant/m4/status", "offline");
}

}  // namespace
}  // namespace midge::test
