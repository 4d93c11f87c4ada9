// SPDX-License-Identifier: Apache-2.0
// Every refusal leaves a trace an operator can watch: the $SYS/broker/midge/... counters.
#include <map>

#include "tests/core/engine/harness.hpp"

namespace midge::testing {
namespace {

using codec::ProtocolVersion;

class DenyPrivate final : public Authenticator {
 public:
  AuthDecision authenticate(const AuthRequest&) override { return {}; }
  bool allowPublish(const ClientIdentity&, std::string_view topic) override {
    return topic.rfind("private/", 0) != 0;
  }
  bool allowSubscribe(const ClientIdentity&, std::string_view filter) override {
    return filter.rfind("private/", 0) != 0;
  }
  bool allowReceive(const ClientIdentity&, std::string_view) override { return true; }
};

TEST(EngineRefusalCounters, EachRefusalIsCountedUnderSys) {
  EngineConfig config;
  config.sysIntervalSeconds = 1;
  config.connectTimeoutMs = 2000;
  config.memoryLimit = 64;
  DenyPrivate authenticator;
  Harness harness(config, &authenticator);

  auto denied = harness.open();
  denied->connect("denied");
  codec::Subscribe subscribe;
  subscribe.packetId = 1;
  subscribe.entries = {{"private/x", 1}, {"bad/#/filter", 1}};
  denied->send(subscribe);
  EXPECT_EQ(denied->nextAs<codec::Suback>().reasonCodes,
            (std::vector<std::uint8_t>{0x87, 0x8F}));
  denied->publish("private/x", "no", 1);
  EXPECT_EQ(denied->nextAs<codec::Ack>().reason, ReasonCode::NotAuthorized);
  denied->publish("big", std::string(100, 'x'), 1);  // over memory_limit
  EXPECT_EQ(denied->nextAs<codec::Ack>().reason, ReasonCode::QuotaExceeded);

  auto wildcardPublisher = harness.open();
  wildcardPublisher->connect("wildcard");
  wildcardPublisher->publish("a/+", "x", 0);  // a topic name with a wildcard: closed
  EXPECT_EQ(wildcardPublisher->nextAs<codec::Disconnect>().reason, ReasonCode::TopicNameInvalid);

  auto silent = harness.open();  // never sends CONNECT

  auto watcher = harness.open();
  watcher->connect("watcher");
  watcher->subscribe("$SYS/broker/midge/+/+", 0);
  harness.tick(3);
  EXPECT_TRUE(silent->closeRequested());
  const std::map<std::string, std::string> counters = latestPayloadsSeenBy(*watcher);
  EXPECT_EQ(counters.at("$SYS/broker/midge/subscribe/denied"), "1");
  EXPECT_EQ(counters.at("$SYS/broker/midge/subscribe/invalid"), "1");
  EXPECT_EQ(counters.at("$SYS/broker/midge/publish/denied"), "1");
  EXPECT_EQ(counters.at("$SYS/broker/midge/quota/refused"), "1");
  EXPECT_EQ(counters.at("$SYS/broker/midge/clients/protocol-errors"), "1");
  EXPECT_EQ(counters.at("$SYS/broker/midge/clients/connect-timeouts"), "1");
  EXPECT_EQ(counters.at("$SYS/broker/midge/clients/keepalive-timeouts"), "0");
}

}  // namespace
}  // namespace midge::testing
