// SPDX-License-Identifier: Apache-2.0
// Other clients against the real broker, run as subprocesses: mosquitto_pub/mosquitto_sub
// (MQTT 3.1, 3.1.1 and 5.0) and python paho (tests/integration/python).
#include <gtest/gtest.h>

#include <iostream>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "tests/integration/broker_process.hpp"
#include "tests/integration/raw_client.hpp"
#include "tests/integration/subprocess.hpp"

namespace midge::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class Interop : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string(MOSQUITTO_PUB).find("NOTFOUND") != std::string::npos ||
        std::string(MOSQUITTO_SUB).find("NOTFOUND") != std::string::npos) {
      GTEST_SKIP() << "mosquitto-clients are not installed";
    }
    broker_.start();
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << "---- broker log ----\n" << broker_.log() << "----\n";
  }

  std::vector<std::string> command(const char* tool, std::vector<std::string> arguments) {
    std::vector<std::string> argv{tool, "-h", "127.0.0.1", "-p", std::to_string(broker_.port())};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    return argv;
  }

  int pub(std::vector<std::string> arguments, std::string* output = nullptr) {
    return runToCompletion(command(MOSQUITTO_PUB, std::move(arguments)), 10s, output);
  }

  std::unique_ptr<Subprocess> sub(std::vector<std::string> arguments) {
    return std::make_unique<Subprocess>(command(MOSQUITTO_SUB, std::move(arguments)));
  }

  // mosquitto_sub prints nothing when its subscription is in place, so publish probes until
  // one comes out: after that, every message on the topic reaches it.
  void waitSubscribed(Subprocess& subscriber, const std::string& topic) {
    RawClient prober(broker_.port());
    wire::ConnectSpec spec;
    spec.clientId = "prober";
    handshake(prober, spec);
    const auto deadline = Clock::now() + 5s;
    while (Clock::now() < deadline) {
      prober.send(wire::publish(topic, "probe"));
      if (subscriber.waitForOutput("probe", 50ms)) return;
    }
    FAIL() << "mosquitto_sub never received a probe; its output:\n" << subscriber.output();
  }

  BrokerProcess broker_;
};

// ---- mosquitto_pub -> mosquitto_sub at every version and QoS ------------------------------

class InteropVersions
    : public Interop,
      public ::testing::WithParamInterface<std::tuple<std::string, int>> {};

TEST_P(InteropVersions, MosquittoPubReachesMosquittoSub) {
  const std::string version = std::get<0>(GetParam());
  const std::string qos = std::to_string(std::get<1>(GetParam()));
  const std::string topic = "interop/" + version + "/" + qos;
  const std::string payload = "hello-" + version + "-q" + qos;
  auto subscriber = sub({"-V", version, "-q", qos, "-t", topic, "-i", "sub-" + version + qos,
                         "-F", "%t|%q|%r|%p"});
  waitSubscribed(*subscriber, topic);
  std::string output;
  ASSERT_EQ(pub({"-V", version, "-q", qos, "-t", topic, "-m", payload}, &output), 0) << output;
  EXPECT_TRUE(subscriber->waitForOutput(topic + "|" + qos + "|0|" + payload, 5s))
      << subscriber->output();
  EXPECT_TRUE(broker_.waitForLog("(p" + std::string(version == "mqttv31"    ? "3"
                                                    : version == "mqttv311" ? "4"
                                                                            : "5"),
                                 3s));
}

INSTANTIATE_TEST_SUITE_P(
    Mosquitto, InteropVersions,
    ::testing::Combine(::testing::Values("mqttv31", "mqttv311", "mqttv5"),
                       ::testing::Values(0, 1, 2)),
    [](const ::testing::TestParamInfo<std::tuple<std::string, int>>& param) {
      return std::get<0>(param.param) + "_qos" + std::to_string(std::get<1>(param.param));
    });

// ---- retained, sessions, wills, v5 properties ---------------------------------------------

class InteropRetained : public Interop, public ::testing::WithParamInterface<std::string> {};

TEST_P(InteropRetained, RetainedMessageIsStoredAndDeletedWithANullMessage) {
  const std::string version = GetParam();
  const std::string topic = "retained/" + version;
  ASSERT_EQ(pub({"-V", version, "-q", "1", "-r", "-t", topic, "-m", "state-1"}), 0);
  ASSERT_EQ(pub({"-V", version, "-q", "1", "-r", "-t", topic, "-m", "state-2"}), 0);
  std::string output;
  ASSERT_EQ(runToCompletion(command(MOSQUITTO_SUB, {"-V", version, "-t", topic, "-C", "1",
                                                    "-W", "5", "-F", "%r|%p"}),
                            10s, &output),
            0)
      << output;
  EXPECT_EQ(output, "1|state-2\n");

  ASSERT_EQ(pub({"-V", version, "-q", "1", "-r", "-t", topic, "-n"}), 0);
  auto subscriber = sub({"-V", version, "-t", topic, "-F", "%r|%p"});
  waitSubscribed(*subscriber, topic);
  EXPECT_EQ(subscriber->output().find("state"), std::string::npos)
      << "a deleted retained message was delivered: " << subscriber->output();
}

INSTANTIATE_TEST_SUITE_P(Mosquitto, InteropRetained,
                         ::testing::Values("mqttv31", "mqttv311", "mqttv5"));

TEST_F(Interop, PersistentSessionQueuesMessagesForMosquittoSub) {
  // -E: subscribe, then exit; the session stays (clean session 0 / session expiry 60 s).
  ASSERT_EQ(runToCompletion(command(MOSQUITTO_SUB, {"-c", "-i", "queued", "-q", "1", "-t",
                                                    "queue/t", "-E"}),
                            10s),
            0);
  ASSERT_TRUE(broker_.waitForLog("client queued disconnected", 3s));
  ASSERT_EQ(pub({"-q", "1", "-t", "queue/t", "-m", "first"}), 0);
  ASSERT_EQ(pub({"-q", "2", "-t", "queue/t", "-m", "second"}), 0);
  std::string output;
  ASSERT_EQ(runToCompletion(command(MOSQUITTO_SUB, {"-c", "-i", "queued", "-q", "1", "-t",
                                                    "queue/t", "-C", "2", "-W", "5"}),
                            10s, &output),
            0)
      << output;
  EXPECT_EQ(output, "first\nsecond\n");
}

TEST_F(Interop, PersistentSessionV5WithSessionExpiry) {
  ASSERT_EQ(runToCompletion(command(MOSQUITTO_SUB, {"-V", "mqttv5", "-c", "-x", "60", "-i",
                                                    "queued5", "-q", "2", "-t", "queue5/t",
                                                    "-E"}),
                            10s),
            0);
  ASSERT_TRUE(broker_.waitForLog("client queued5 disconnected", 3s));
  ASSERT_EQ(pub({"-V", "mqttv5", "-q", "2", "-t", "queue5/t", "-m", "kept"}), 0);
  std::string output;
  ASSERT_EQ(runToCompletion(command(MOSQUITTO_SUB, {"-V", "mqttv5", "-c", "-x", "60", "-i",
                                                    "queued5", "-q", "2", "-t", "queue5/t",
                                                    "-C", "1", "-W", "5", "-F", "%q|%p"}),
                            10s, &output),
            0)
      << output;
  EXPECT_EQ(output, "2|kept\n");
}

TEST_F(Interop, WillOfAKilledMosquittoSubIsPublished) {
  RawClient watcher(broker_.port());
  wire::ConnectSpec spec;
  spec.clientId = "watcher";
  handshake(watcher, spec);
  watcher.send(wire::subscribe(1, "wills/#", 1));
  watcher.expect(kSuback);
  auto dying = sub({"-i", "doomed", "-t", "anything", "--will-topic", "wills/doomed",
                    "--will-payload", "doomed went away", "--will-qos", "1"});
  ASSERT_TRUE(broker_.waitForLog("as doomed", 5s));
  dying->terminate(true);  // SIGKILL: no DISCONNECT, the kernel closes the socket
  const wire::PublishView will = wire::parsePublish(watcher.expect(kPublish));
  EXPECT_EQ(will.topic, "wills/doomed");
  EXPECT_EQ(will.payload, "doomed went away");
  EXPECT_EQ(will.qos, 1);
}

TEST_F(Interop, V5PropertiesPassThroughBetweenMosquittoClients) {
  auto subscriber = sub({"-V", "mqttv5", "-t", "props/t", "-D", "subscribe",
                         "subscription-identifier", "42", "-F", "%P|%C|%R|%D|%S|%p"});
  waitSubscribed(*subscriber, "props/t");
  std::string output;
  ASSERT_EQ(pub({"-V", "mqttv5", "-t", "props/t", "-m", "body",                //
                 "-D", "publish", "user-property", "trace", "abc",           //
                 "-D", "publish", "content-type", "text/plain",              //
                 "-D", "publish", "response-topic", "reply/here",            //
                 "-D", "publish", "correlation-data", "req-7"},
                &output),
            0)
      << output;
  EXPECT_TRUE(subscriber->waitForOutput("trace:abc|text/plain|reply/here|req-7|42|body", 5s))
      << subscriber->output();
}

TEST_F(Interop, MosquittoSubSeesSysTopics) {
  std::string output;
  ASSERT_EQ(runToCompletion(command(MOSQUITTO_SUB, {"-t", "$SYS/broker/version", "-C", "1",
                                                    "-W", "5", "-F", "%t|%r|%p"}),
                            10s, &output),
            0)
      << output;
  // Retained (RETAIN 1) once the first $SYS round ran, live (RETAIN 0) if it runs just now.
  const std::string version = std::string("|midge version ") + MIDGE_PROJECT_VERSION;
  EXPECT_TRUE(output.rfind("$SYS/broker/version|1" + version, 0) == 0 ||
              output.rfind("$SYS/broker/version|0" + version, 0) == 0)
      << output;
}

// ---- python paho ----------------------------------------------------------------------------

class InteropPython : public Interop, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    if (std::string(SYSTEM_PYTHON3).find("NOTFOUND") != std::string::npos) {
      GTEST_SKIP() << "no system python3";
    }
    std::string output;
    if (runToCompletion({SYSTEM_PYTHON3, "-c", "import paho.mqtt.client"}, 10s, &output) != 0) {
      GTEST_SKIP() << "python3-paho-mqtt is not installed: " << output;
    }
    broker_.start();
  }
};

TEST_P(InteropPython, PahoPythonScriptPasses) {
  const std::string script = std::string(PYTHON_SCRIPTS_DIR) + "/paho_interop.py";
  std::string output;
  const int status = runToCompletion({SYSTEM_PYTHON3, script, "--port",
                                      std::to_string(broker_.port()), "--version", GetParam()},
                                     30s, &output);
  EXPECT_EQ(status, 0) << output;
}

INSTANTIATE_TEST_SUITE_P(Paho, InteropPython, ::testing::Values("311", "5"));

}  // namespace
}  // namespace midge::test
