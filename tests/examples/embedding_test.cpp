// SPDX-License-Identifier: Apache-2.0
// midge-embedded-app, the broker hosted inside an application: network clients (Eclipse
// Paho) see a normal broker, plus the application's own in-process client publishing its
// status and answering commands.
#include <signal.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/paho_support.hpp"
#include "tests/integration/subprocess.hpp"

namespace midge::test {
namespace {

class EmbeddedAppTest : public PahoTest {
 protected:
  // No midge process: the application under test is the broker.
  void SetUp() override {
    app_ = std::make_unique<Subprocess>(std::vector<std::string>{
        EMBEDDED_APP_PATH, "--port", "0", "--prefix", "plant", "--status-interval", "1"});
    const std::string marker = "broker listening on 127.0.0.1 port ";
    ASSERT_TRUE(app_->waitForOutput(marker, 10s)) << app_->output();
    const std::string& output = app_->output();
    uri_ = "tcp://127.0.0.1:" + std::to_string(std::stoi(output.substr(output.find(marker) + marker.size())));
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << "---- application output ----\n" << app_->output() << "----\n";
    PahoTest::TearDown();
    app_.reset();
  }

  mqtt::async_client& client(const std::string& clientId) {
    clients_.push_back(std::make_unique<mqtt::async_client>(uri_, clientId,
                                                            mqtt::create_options(MQTTVERSION_3_1_1),
                                                            nullptr));
    clients_.back()->start_consuming();
    connect(*clients_.back(), optionsFor(MQTTVERSION_3_1_1));
    return *clients_.back();
  }

  // The next message on `topic` whose payload contains `part`; nullptr after the timeout.
  static mqtt::const_message_ptr awaitOn(mqtt::async_client& client, const std::string& topic,
                                         const std::string& part,
                                         std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return nullptr;
      mqtt::const_message_ptr message = receive(client, left);
      if (!message) return nullptr;
      if (message->get_topic() == topic && message->to_string().find(part) != std::string::npos) {
        return message;
      }
    }
  }

  std::unique_ptr<Subprocess> app_;
  std::string uri_;
};

TEST_F(EmbeddedAppTest, StatusIsRetainedAndCountsNetworkClients) {
  mqtt::async_client& watcher = client("watcher");
  subscribe(watcher, "plant/status", 1);
  ASSERT_TRUE(awaitOn(watcher, "plant/status", "\"state\":\"running\""));
  // The in-process client is not a network client: only the watcher counts.
  EXPECT_TRUE(awaitOn(watcher, "plant/status", "\"clients\":1,"));

  mqtt::async_client& late = client("late");
  subscribe(late, "plant/status", 1);
  mqtt::const_message_ptr retained = awaitOn(late, "plant/status", "running");
  ASSERT_TRUE(retained);
  EXPECT_TRUE(retained->is_retained());
}

TEST_F(EmbeddedAppTest, AnswersCommandsThroughTheBroker) {
  mqtt::async_client& operatorClient = client("operator");
  subscribe(operatorClient, "plant/echo", 1);
  subscribe(operatorClient, "plant/status", 0);
  // The first status means the application's client has subscribed to its commands.
  ASSERT_TRUE(awaitOn(operatorClient, "plant/status", "running"));
  publish(operatorClient, "plant/cmd", "echo hello from the network");
  mqtt::const_message_ptr echo = awaitOn(operatorClient, "plant/echo", "hello");
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->to_string(), "hello from the network");
  EXPECT_EQ(echo->get_qos(), 1);

  publish(operatorClient, "plant/cmd", "reboot now");
  EXPECT_TRUE(awaitOn(operatorClient, "plant/echo", "unknown command: reboot now"));
}

TEST_F(EmbeddedAppTest, NetworkClientsUseItAsAnOrdinaryBroker) {
  mqtt::async_client& sensor = client("sensor");
  mqtt::async_client& dashboard = client("dashboard");
  subscribe(dashboard, "site/+/temperature", 1);
  publish(sensor, "site/boiler/temperature", "71.5", 1, true);
  mqtt::const_message_ptr reading = awaitOn(dashboard, "site/boiler/temperature", "71.5");
  ASSERT_TRUE(reading);
  EXPECT_EQ(reading->get_qos(), 1);

  mqtt::async_client& late = client("late");
  subscribe(late, "site/#", 0);
  mqtt::const_message_ptr retained = awaitOn(late, "site/boiler/temperature", "71.5");
  ASSERT_TRUE(retained);
  EXPECT_TRUE(retained->is_retained());
}

TEST_F(EmbeddedAppTest, SigtermPublishesAFinalStatusAndExitsCleanly) {
  mqtt::async_client& watcher = client("watcher");
  subscribe(watcher, "plant/status", 1);
  ASSERT_TRUE(awaitOn(watcher, "plant/status", "running"));
  EXPECT_EQ(app_->terminate(/*crash=*/false), 0);
  EXPECT_TRUE(awaitOn(watcher, "plant/status", "\"state\":\"stopped\""));
  EXPECT_NE(app_->output().find("midge-embedded-app: stopped"), std::string::npos);
}

TEST(EmbeddedAppCommandLine, RefusesBadArgumentsAndABusyPort) {
  std::string output;
  EXPECT_EQ(runToCompletion({EMBEDDED_APP_PATH, "--port", "65536"}, 10s, &output), 2);
  EXPECT_NE(output.find("bad option or value: --port 65536"), std::string::npos) << output;
  EXPECT_EQ(runToCompletion({EMBEDDED_APP_PATH, "--prefix", "a/#"}, 10s, &output), 2);
  EXPECT_EQ(runToCompletion({EMBEDDED_APP_PATH, "--status-interval"}, 10s, &output), 2);
  EXPECT_NE(output.find("--status-interval needs a value"), std::string::npos) << output;

  Subprocess first({EMBEDDED_APP_PATH, "--port", "0"});
  const std::string marker = "port ";
  ASSERT_TRUE(first.waitForOutput("broker listening", 10s)) << first.output();
  const std::string port =
      std::to_string(std::stoi(first.output().substr(first.output().rfind(marker) + marker.size())));
  EXPECT_EQ(runToCompletion({EMBEDDED_APP_PATH, "--port", port}, 10s, &output), 1);
  EXPECT_NE(output.find("cannot bind"), std::string::npos) << output;
  EXPECT_EQ(first.terminate(false), 0);
}

}  // namespace
}  // namespace midge::test
