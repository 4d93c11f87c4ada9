// SPDX-License-Identifier: Apache-2.0
// The fixture other integration, durability and security tests build on: starting,
// stopping, crashing and restarting the real broker, its log, arguments and environment.
#include "tests/integration/broker_process.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <stdexcept>

#include "tests/integration/raw_client.hpp"

namespace midge::test {
namespace {

using namespace std::chrono_literals;

void expectServes(const BrokerProcess& broker) {
  RawClient client(broker.port());
  wire::ConnectSpec spec;
  spec.clientId = "probe";
  handshake(client, spec);
  client.send(wire::pingreq());
  client.expect(kPingresp);
}

TEST(BrokerProcess, StartsServesAndStopsCleanlyOnSigterm) {
  BrokerProcess broker;
  broker.start();
  EXPECT_TRUE(broker.running());
  EXPECT_TRUE(broker.waitForLog("127.0.0.1:" + std::to_string(broker.port()), 2s));
  expectServes(broker);
  EXPECT_EQ(broker.stop(), 0);
  EXPECT_FALSE(broker.running());
  EXPECT_TRUE(broker.waitForLog("midge stopped", 1s)) << broker.log();
}

TEST(BrokerProcess, StopsCleanlyOnSigint) {
  BrokerProcess broker;
  broker.start();
  expectServes(broker);
  broker.signal(SIGINT);
  EXPECT_TRUE(broker.waitForLog("midge stopped", 10s)) << broker.log();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (broker.running() && std::chrono::steady_clock::now() < deadline) {
    broker.waitForLog("an exit leaves no log line", 20ms);  // a bounded pause between polls
  }
  ASSERT_FALSE(broker.running()) << "SIGINT did not stop the broker";
  EXPECT_EQ(broker.stop(), 0) << "exit status after SIGINT";  // already reaped: no SIGTERM
  EXPECT_TRUE(broker.waitForLog("shutting down", 1s)) << broker.log();
}

TEST(BrokerProcess, KillIsACrashWithoutShutdown) {
  BrokerProcess broker;
  broker.start();
  const std::size_t mark = broker.logMark();
  EXPECT_EQ(broker.kill(), 128 + SIGKILL);
  EXPECT_FALSE(broker.running());
  EXPECT_EQ(broker.countInLog("midge stopped", mark), 0u);
}

TEST(BrokerProcess, RestartKeepsPortAndDirectory) {
  BrokerProcess broker;
  broker.start();
  const std::uint16_t port = broker.port();
  broker.restart();
  EXPECT_EQ(broker.port(), port);
  expectServes(broker);
  broker.restart(true);
  EXPECT_EQ(broker.port(), port);
  expectServes(broker);
  EXPECT_EQ(broker.countInLog("starting"), 3u) << "one log across starts";
}

TEST(BrokerProcess, BadConfigurationFailsStartWithTheBrokersMessage) {
  BrokerProcess broker;
  broker.addConfigLine("no_such_keyword 1");
  try {
    broker.start();
    FAIL() << "a configuration error did not stop the broker";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("no_such_keyword"), std::string::npos)
        << error.what();
  }
  EXPECT_FALSE(broker.running());
}

TEST(BrokerProcess, ArgumentsEnvironmentAndPlaceholdersReachTheBroker) {
  BrokerProcess broker;
  broker.addArgument("-v");  // verbose: connection-level debug lines
  broker.setEnvironment("TZ", "UTC");
  broker.addConfigLine("log_timestamp_format %Z");
  broker.addConfigLine("pid_file {DIR}/midge.pid");
  broker.start();
  expectServes(broker);
  EXPECT_TRUE(broker.waitForLog("UTC: ", 2s)) << broker.log();
  EXPECT_TRUE(broker.waitForLog("accepted", 2s)) << broker.log();
  // expectServes got a CONNACK, so the loop runs and the pid file, written before it, exists.
  std::FILE* file = std::fopen((broker.dataDir() + "/midge.pid").c_str(), "r");
  ASSERT_NE(file, nullptr) << "{DIR} was not replaced";
  long pid = 0;
  EXPECT_EQ(std::fscanf(file, "%ld", &pid), 1);
  std::fclose(file);
  EXPECT_EQ(pid, static_cast<long>(broker.pid()));
}

TEST(BrokerProcess, SighupIsDelivered) {
  BrokerProcess broker;
  broker.start();
  const std::size_t mark = broker.logMark();
  broker.signal(SIGHUP);
  EXPECT_TRUE(broker.waitForLog("SIGHUP", 3s, mark)) << broker.log();
  expectServes(broker);
}

#ifdef MIDGE_TEST_WITH_PERSISTENCE
// With persistence on, a durable session and its acknowledged message survive a crash: the
// restart path durability tests use.
TEST(BrokerProcess, PersistentSessionSurvivesCrashAndRestart) {
  BrokerProcess broker;
  broker.addConfigLine("persistence true");
  broker.addConfigLine("persistence_location {DIR}");
  broker.start();
  wire::ConnectSpec spec;
  spec.clientId = "survivor";
  spec.cleanStart = false;
  {
    RawClient client(broker.port());
    handshake(client, spec);
    client.send(wire::subscribe(1, "durable/#", 1));
    client.expect(kSuback);
    client.send(wire::disconnect());
    ASSERT_TRUE(client.waitClosed(5s));
  }
  {
    RawClient publisher(broker.port());
    wire::ConnectSpec publisherSpec;
    publisherSpec.clientId = "publisher";
    handshake(publisher, publisherSpec);
    publisher.send(wire::publish("durable/t", "acknowledged", 1, 1));
    publisher.expect(kPuback);  // committed before this was sent (docs/persistence.md)
  }
  broker.restart(true);
  RawClient client(broker.port());
  client.send(wire::connect(spec));
  EXPECT_EQ(client.expect(kConnack).wire(), (ByteVector{0x20, 0x02, 0x01, 0x00}));
  const wire::PublishView view = wire::parsePublish(client.expect(kPublish));
  EXPECT_EQ(view.payload, "acknowledged");
}
#endif

}  // namespace
}  // namespace midge::test
