// SPDX-License-Identifier: Apache-2.0
// Real WebSocket clients against the real broker, run as subprocesses: MQTT.js (Node) over
// ws:// and wss://, MQTT.js's browser bundle in headless Chromium, and Eclipse Paho
// Python with transport="websockets". One broker per test, with a plain TCP listener
// (for the test's own raw client), a ws and a wss listener.
#include <gtest/gtest.h>

#include <iostream>
#include <string>
#include <sys/stat.h>
#include <tuple>
#include <vector>

#include "tests/integration/broker_process.hpp"
#include "tests/integration/raw_client.hpp"
#include "tests/integration/subprocess.hpp"
#include "tests/security/security_support.hpp"

namespace midge::test::websocket {
namespace {

using namespace std::chrono_literals;

bool exists(const std::string& path) {
  struct stat info {};
  return !path.empty() && ::stat(path.c_str(), &info) == 0;
}

std::string modulesDir() { return std::string(MIDGE_TEST_NODE_DIR) + "/node_modules"; }

class WebSocketClients : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new security::TestPki(); }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }

  void SetUp() override {
    // Missing tools fail the test: a WebSockets build must be tested with real clients.
    ASSERT_TRUE(exists(MIDGE_TEST_NODE)) << "node not found (.ci/install-deps installs nodejs)";
    ASSERT_TRUE(exists(modulesDir() + "/mqtt/dist/mqtt.min.js"))
        << "MQTT.js is not installed in " << modulesDir()
        << "; the websockets.NodeModules test installs it (npm ci) and must pass first";
    wsPort_ = pickFreeLoopbackPort();
    wssPort_ = pickFreeLoopbackPort();
    broker_.addConfigLine("listener " + std::to_string(wsPort_) + " 127.0.0.1");
    broker_.addConfigLine("protocol websockets");
    broker_.addConfigLine("listener " + std::to_string(wssPort_) + " 127.0.0.1");
    broker_.addConfigLine("protocol websockets");
    broker_.addConfigLine("certfile " + pki_->path("server.crt"));
    broker_.addConfigLine("keyfile " + pki_->path("server.key"));
    broker_.start();
    ASSERT_TRUE(waitForTcpPort(wsPort_, 5s));
    ASSERT_TRUE(waitForTcpPort(wssPort_, 5s));
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << "---- broker log ----\n" << broker_.log() << "----\n";
  }

  std::string wsUrl() const { return "ws://127.0.0.1:" + std::to_string(wsPort_) + "/mqtt"; }
  std::string wssUrl() const { return "wss://127.0.0.1:" + std::to_string(wssPort_) + "/mqtt"; }
  static std::string caFile() { return pki_->path("ca.crt"); }

  static security::TestPki* pki_;
  BrokerProcess broker_;
  std::uint16_t wsPort_ = 0;
  std::uint16_t wssPort_ = 0;
};

security::TestPki* WebSocketClients::pki_ = nullptr;

// ---- MQTT.js (Node) ----------------------------------------------------------------------

class MqttJs : public WebSocketClients,
               public ::testing::WithParamInterface<std::tuple<bool, int>> {};

TEST_P(MqttJs, QosRetainedAndPersistentSession) {
  const bool tls = std::get<0>(GetParam());
  const int version = std::get<1>(GetParam());
  std::vector<std::string> argv{MIDGE_TEST_NODE, MIDGE_TEST_SCRIPTS "/node/mqttjs_clients.cjs",
                                modulesDir(), tls ? wssUrl() : wsUrl(), std::to_string(version)};
  if (tls) argv.push_back(caFile());
  std::string output;
  const int status = runToCompletion(argv, 90s, &output);
  EXPECT_EQ(status, 0) << output;
  for (const char* scenario : {"qos0", "qos1", "qos2", "retained", "persistent-session"}) {
    EXPECT_NE(output.find(std::string("PASS ") + scenario), std::string::npos)
        << scenario << " did not pass:\n" << output;
  }
}

INSTANTIATE_TEST_SUITE_P(WsAndWss, MqttJs,
                         ::testing::Combine(::testing::Bool(), ::testing::Values(4, 5)),
                         [](const auto& param) {
                           return std::string(std::get<0>(param.param) ? "wss" : "ws") + "_v" +
                                  std::to_string(std::get<1>(param.param));
                         });

// ---- a real browser ----------------------------------------------------------------------

TEST_F(WebSocketClients, ChromiumPageSubscribesPublishesAndReceives) {
  ASSERT_TRUE(exists(MIDGE_TEST_CHROMIUM)) << "chromium not found (.ci/install-deps installs it)";
  RawClient tcp(broker_.port());
  wire::ConnectSpec spec;
  spec.clientId = "tcp-side";
  handshake(tcp, spec);
  tcp.send(wire::subscribe(1, "browser/from-page", 1));
  tcp.expect(kSuback);

  Subprocess browser({MIDGE_TEST_NODE, MIDGE_TEST_SCRIPTS "/browser/browser_test.cjs",
                      modulesDir(), wsUrl(), MIDGE_TEST_CHROMIUM});
  ASSERT_TRUE(browser.waitForOutput("SUBSCRIBED", 60s)) << browser.output();
  // What the page published reached a plain MQTT client...
  const wire::PublishView fromPage = wire::parsePublish(tcp.expect(kPublish, 10s));
  EXPECT_EQ(fromPage.topic, "browser/from-page");
  EXPECT_EQ(fromPage.payload, "hello from chromium");
  tcp.send(wire::ack(kPuback, fromPage.packetId));
  // ...and what a plain MQTT client publishes reaches the page.
  tcp.send(wire::publish("browser/to-page", "hello from tcp", 1, 2));
  ASSERT_TRUE(browser.waitForOutput("RESULT", 30s)) << browser.output();
  EXPECT_EQ(browser.wait(30s), 0) << browser.output();
  const std::string& output = browser.output();
  EXPECT_NE(output.find(R"({"topic":"browser/echo","payload":"from the page"})"), std::string::npos)
      << output;
  EXPECT_NE(output.find(R"({"topic":"browser/to-page","payload":"hello from tcp"})"),
            std::string::npos)
      << output;
}

// ---- Eclipse Paho Python -----------------------------------------------------------------

TEST_F(WebSocketClients, PahoPythonOverWs) {
  std::string output;
  const int status = runToCompletion(
      {MIDGE_TEST_PYTHON3, MIDGE_TEST_SCRIPTS "/paho_websockets.py", std::to_string(wsPort_)}, 90s,
      &output);
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("PASS v5-qos2"), std::string::npos) << output;
}

TEST_F(WebSocketClients, PahoPythonOverWss) {
  std::string output;
  const int status = runToCompletion({MIDGE_TEST_PYTHON3, MIDGE_TEST_SCRIPTS "/paho_websockets.py",
                                      std::to_string(wssPort_), "--ca", caFile()},
                                     90s, &output);
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("PASS v5-qos2"), std::string::npos) << output;
}

}  // namespace
}  // namespace midge::test::websocket
