// SPDX-License-Identifier: Apache-2.0
// midge-gateway-bridge against the real midge binary: a pseudo-terminal plays the serial
// device, an Eclipse Paho client plays the application that reads the readings and sends
// commands. Everything waits on events (log lines, messages, bytes on the pty) with
// deadlines.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/paho_support.hpp"
#include "tests/integration/subprocess.hpp"

namespace midge::test {
namespace {

// The device end: a pty pair in raw mode. The bridge opens the slave by its path, as it
// would /dev/ttyUSB0; the test keeps the slave open too, so the master never reads EIO
// while the bridge reopens it.
class FakeDevice {
 public:
  FakeDevice() {
    termios raw{};
    ::cfmakeraw(&raw);
    char name[256] = {};
    if (::openpty(&master_, &slave_, name, &raw, nullptr) != 0) {
      throw std::runtime_error("openpty failed");
    }
    // Not inherited by the bridge: it must open the slave itself, by path.
    ::fcntl(master_, F_SETFD, FD_CLOEXEC);
    ::fcntl(slave_, F_SETFD, FD_CLOEXEC);
    path_ = name;
  }
  ~FakeDevice() {
    ::close(master_);
    ::close(slave_);
  }
  FakeDevice(const FakeDevice&) = delete;
  FakeDevice& operator=(const FakeDevice&) = delete;

  const std::string& path() const { return path_; }

  void send(const std::string& bytes) {
    if (::write(master_, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) {
      throw std::runtime_error("write to the pty failed");
    }
  }

  // Reads from the device side until `needle` has arrived or the timeout passes; returns
  // everything read so far.
  std::string readUntil(const std::string& needle, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (received_.find(needle) == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now())
                            .count();
      if (left <= 0) break;
      pollfd entry{master_, POLLIN, 0};
      if (::poll(&entry, 1, static_cast<int>(left)) <= 0) continue;
      char buffer[512];
      const ssize_t got = ::read(master_, buffer, sizeof buffer);
      if (got > 0) received_.append(buffer, static_cast<std::size_t>(got));
    }
    return received_;
  }

 private:
  int master_ = -1;
  int slave_ = -1;
  std::string path_;
  std::string received_;
};

std::size_t occurrences(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

class GatewayBridgeTest : public PahoTest {
 protected:
  void TearDown() override {
    if (HasFailure() && bridge_) std::cerr << "---- bridge log ----\n" << bridge_->output() << "----\n";
    bridge_.reset();
    PahoTest::TearDown();
  }

  void startBridge(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {GATEWAY_BRIDGE_PATH,   "--serial", device_.path(),
                                     "--device",            "dev1",     "--prefix",
                                     "test",                "--port",   std::to_string(broker_.port()),
                                     "--backoff-min",       "50",       "--backoff-max",
                                     "200",                 "--verbose"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    bridge_ = std::make_unique<Subprocess>(argv);
  }

  // Polls the bridge's log until `needle` has appeared `count` times.
  bool waitForLog(const std::string& needle, std::size_t count = 1,
                  std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (occurrences(bridge_->output(), needle) < count) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      // Blocks on the bridge's output pipe for up to 50 ms; the needle never matches.
      bridge_->waitForOutput("\x01", 50ms);
    }
    return true;
  }

  // Subscribes to everything the bridge publishes for dev1.
  mqtt::async_client& watcher(const std::string& clientId = "watcher", bool clean = true) {
    mqtt::async_client& client = connected(clientId, MQTTVERSION_3_1_1, clean);
    subscribe(client, "test/dev1/#", 1);
    return client;
  }

  // The next message on `topic`, skipping others; nullptr after the timeout.
  static mqtt::const_message_ptr next(mqtt::async_client& client, const std::string& topic,
                                      std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return nullptr;
      mqtt::const_message_ptr message = receive(client, left);
      if (!message || message->get_topic() == topic) return message;
    }
  }

  // "topic payload" of the next `count` messages whose topic starts with `prefix`, in
  // arrival order; fewer if the timeout passes first.
  static std::vector<std::string> collect(mqtt::async_client& client, const std::string& prefix,
                                          std::size_t count, std::chrono::milliseconds timeout = 10s) {
    std::vector<std::string> seen;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (seen.size() < count) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      mqtt::const_message_ptr message = receive(client, left);
      if (!message) break;
      if (message->get_topic().rfind(prefix, 0) == 0) {
        seen.push_back(message->get_topic() + " " + message->to_string());
      }
    }
    return seen;
  }

  void expectNext(mqtt::async_client& client, const std::string& topic, const std::string& payload) {
    mqtt::const_message_ptr message = next(client, topic);
    ASSERT_TRUE(message) << "nothing on " << topic;
    EXPECT_EQ(message->to_string(), payload) << "on " << topic;
  }

  FakeDevice device_;
  std::unique_ptr<Subprocess> bridge_;
};

TEST_F(GatewayBridgeTest, ReadingsFromTheDeviceArriveAtQos1) {
  mqtt::async_client& app = watcher();
  startBridge();
  expectNext(app, "test/dev1/status", "online");

  device_.send("T 21.5\r\nhumidity=40\n# firmware 1.2\nnot a reading!\ncmd reboot\n");
  mqtt::const_message_ptr temperature = next(app, "test/dev1/T");
  ASSERT_TRUE(temperature);
  EXPECT_EQ(temperature->to_string(), "21.5");
  EXPECT_EQ(temperature->get_qos(), 1);
  expectNext(app, "test/dev1/humidity", "40");
  // "not a reading!" is key "not" with value "a reading!"; "cmd" is refused.
  expectNext(app, "test/dev1/not", "a reading!");
  EXPECT_TRUE(waitForLog("ignored line (key is reserved"));
  EXPECT_TRUE(waitForLog("device says: # firmware 1.2"));
}

TEST_F(GatewayBridgeTest, CommandsAreWrittenToTheDeviceOneLineEach) {
  mqtt::async_client& app = watcher();
  startBridge();
  expectNext(app, "test/dev1/status", "online");  // subscribed to cmd before this

  publish(app, "test/dev1/cmd", "LED ON");
  EXPECT_NE(device_.readUntil("LED ON\n", 10s).find("LED ON\n"), std::string::npos);

  // A payload with a line break would become two commands: it is not forwarded.
  publish(app, "test/dev1/cmd", "first\nsecond");
  publish(app, "test/dev1/cmd", "LED OFF");
  const std::string seen = device_.readUntil("LED OFF\n", 10s);
  EXPECT_NE(seen.find("LED OFF\n"), std::string::npos);
  EXPECT_EQ(seen.find("first"), std::string::npos);
  EXPECT_TRUE(waitForLog("command not forwarded: command contains CR, LF or NUL"));
}

TEST_F(GatewayBridgeTest, WillAnnouncesOfflineWhenTheBridgeIsKilled) {
  mqtt::async_client& app = watcher();
  startBridge();
  expectNext(app, "test/dev1/status", "online");

  EXPECT_EQ(bridge_->terminate(/*crash=*/true), 128 + SIGKILL);
  expectNext(app, "test/dev1/status", "offline");

  // Retained: an application that starts later still learns the device is gone.
  mqtt::async_client& late = connected("late", MQTTVERSION_3_1_1);
  subscribe(late, "test/dev1/status", 1);
  mqtt::const_message_ptr status = next(late, "test/dev1/status");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->to_string(), "offline");
  EXPECT_TRUE(status->is_retained());
}

TEST_F(GatewayBridgeTest, SigtermPublishesOfflineAndExitsCleanly) {
  mqtt::async_client& app = watcher();
  startBridge();
  expectNext(app, "test/dev1/status", "online");

  EXPECT_EQ(bridge_->terminate(/*crash=*/false), 0);
  expectNext(app, "test/dev1/status", "offline");
  EXPECT_NE(bridge_->output().find("stopped: "), std::string::npos);
}

class GatewayBridgeRestartTest : public GatewayBridgeTest {
 protected:
  // The application's session must outlive the restart, so the readings the bridge
  // flushes before the application is back are kept for it.
  void configure(BrokerProcess& broker) override {
    broker.addConfigLine("persistence true");
    broker.addConfigLine("persistence_location {DIR}");
  }
};

TEST_F(GatewayBridgeRestartTest, ReadingsTakenWhileTheBrokerIsDownArriveAfterItReturns) {
  {
    mqtt::async_client& app = watcher("durable-app", /*clean=*/false);
    startBridge();
    expectNext(app, "test/dev1/status", "online");
  }
  broker_.stop();
  ASSERT_TRUE(waitForLog("connection lost"));

  device_.send("T 1\nT 2\nT 3\n");
  ASSERT_TRUE(waitForLog("queued, 3 waiting"));
  EXPECT_EQ(occurrences(bridge_->output(), "published test/dev1/T"), 0u);

  broker_.start();
  ASSERT_TRUE(waitForLog("online: ", 2));
  clients_.clear();  // the client from before the restart; its session lives on in the broker
  mqtt::async_client& app = connected("durable-app", MQTTVERSION_3_1_1, /*clean=*/false);
  expectNext(app, "test/dev1/T", "1");
  expectNext(app, "test/dev1/T", "2");
  expectNext(app, "test/dev1/T", "3");
}

TEST_F(GatewayBridgeRestartTest, AFullBufferDropsTheOldestAndReportsTheCount) {
  {
    mqtt::async_client& app = watcher("durable-app", /*clean=*/false);
    startBridge({"--buffer", "2"});
    expectNext(app, "test/dev1/status", "online");
  }
  broker_.stop();
  ASSERT_TRUE(waitForLog("connection lost"));

  device_.send("T 1\nT 2\nT 3\nT 4\nT 5\n");
  ASSERT_TRUE(waitForLog("dropped the oldest, 3 so far"));

  broker_.start();
  ASSERT_TRUE(waitForLog("online: ", 2));
  clients_.clear();
  mqtt::async_client& app = connected("durable-app", MQTTVERSION_3_1_1, /*clean=*/false);
  // The drop report travels with the status, ahead of the two newest readings.
  EXPECT_EQ(collect(app, "test/dev1/bridge/", 1), std::vector<std::string>{"test/dev1/bridge/dropped 3"});
  EXPECT_EQ(collect(app, "test/dev1/T", 2),
            (std::vector<std::string>{"test/dev1/T 4", "test/dev1/T 5"}));
}

TEST(GatewayBridgeCommandLine, RefusesBadArgumentsAndMissingDevices) {
  std::string output;
  EXPECT_EQ(runToCompletion({GATEWAY_BRIDGE_PATH, "--port", "1883"}, 10s, &output), 2);
  EXPECT_NE(output.find("--device NAME is required"), std::string::npos) << output;

  EXPECT_EQ(runToCompletion({GATEWAY_BRIDGE_PATH, "--device", "a/b"}, 10s, &output), 2);
  EXPECT_NE(output.find("--device: one non-empty topic level"), std::string::npos) << output;

  EXPECT_EQ(runToCompletion({GATEWAY_BRIDGE_PATH, "--device", "d", "--port", "70000"}, 10s, &output), 2);
  EXPECT_NE(output.find("--port: expected 1-65535"), std::string::npos) << output;

  EXPECT_EQ(runToCompletion({GATEWAY_BRIDGE_PATH, "--device", "d", "--bogus", "1"}, 10s, &output), 2);
  EXPECT_NE(output.find("unknown option --bogus"), std::string::npos) << output;

  EXPECT_EQ(runToCompletion({GATEWAY_BRIDGE_PATH, "--device", "d", "--serial",
                             "/nonexistent/ttyUSB9"},
                            10s, &output),
            1);
  EXPECT_NE(output.find("cannot open /nonexistent/ttyUSB9"), std::string::npos) << output;

  EXPECT_EQ(runToCompletion({GATEWAY_BRIDGE_PATH, "--device", "d", "--serial", "/dev/null",
                             "--baud", "12345"},
                            10s, &output),
            1);
  EXPECT_NE(output.find("unsupported baud rate 12345"), std::string::npos) << output;

  EXPECT_EQ(runToCompletion({GATEWAY_BRIDGE_PATH, "--help"}, 10s, &output), 0);
  EXPECT_NE(output.find("usage: midge-gateway-bridge"), std::string::npos) << output;
}

}  // namespace
}  // namespace midge::test
