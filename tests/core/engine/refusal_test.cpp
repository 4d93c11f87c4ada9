// SPDX-License-Identifier: Apache-2.0
// The one mapping from a refusal to the wire, the counters and the log: every MQTT 5
// failure reason, for v5 and for 3.1.1 / 3.1 clients.
#include <map>

#include "core/engine/refusal.hpp"
#include "tests/core/engine/harness.hpp"

namespace midge::testing {
namespace {

using codec::ProtocolVersion;
using Packet = RefusalAnswer::Packet;
using Scope = Refusal::Scope;

// Every failure reason MQTT 5 names (spec 2.4), 0x80..0xA2.
std::vector<ReasonCode> failureReasons() {
  std::vector<ReasonCode> reasons;
  for (unsigned code = 0x80; code <= 0xA2; ++code) {
    const auto reason = static_cast<ReasonCode>(code);
    if (std::string(reasonCodeName(reason)) != "unknown reason code") reasons.push_back(reason);
  }
  return reasons;
}

const ProtocolVersion kLegacy[] = {ProtocolVersion::V311, ProtocolVersion::V31};

TEST(EngineRefusal, ConnectIsAnsweredByConnackWithTheReasonInV5) {
  for (ReasonCode reason : failureReasons()) {
    const RefusalAnswer answer = answerFor(Refusal::connect(reason, "why"), ProtocolVersion::V5,
                                           ConnectionState::AwaitingConnect);
    EXPECT_EQ(answer.packet, Packet::Connack) << reasonCodeName(reason);
    EXPECT_EQ(answer.code, static_cast<std::uint8_t>(reason));
    EXPECT_EQ(answer.encodeAs, ProtocolVersion::V5);
    EXPECT_TRUE(answer.close);
  }
}

TEST(EngineRefusal, ConnectIsAnsweredByTheClosestReturnCodeIn3x) {
  for (ProtocolVersion version : kLegacy) {
    for (ReasonCode reason : failureReasons()) {
      const RefusalAnswer answer =
          answerFor(Refusal::connect(reason, "why"), version, ConnectionState::AwaitingConnect);
      EXPECT_EQ(answer.packet, Packet::Connack) << reasonCodeName(reason);
      EXPECT_EQ(answer.code, static_cast<std::uint8_t>(legacyConnackCode(reason)));
      EXPECT_GE(answer.code, 1);
      EXPECT_LE(answer.code, 5);
      EXPECT_EQ(answer.encodeAs, version);
      EXPECT_TRUE(answer.close);
    }
  }
  const auto code = [](ReasonCode reason) {
    return answerFor(Refusal::connect(reason, ""), ProtocolVersion::V311,
                     ConnectionState::AwaitingConnect)
        .code;
  };
  EXPECT_EQ(code(ReasonCode::ClientIdentifierNotValid), 2);
  EXPECT_EQ(code(ReasonCode::BadUserNameOrPassword), 4);
  EXPECT_EQ(code(ReasonCode::NotAuthorized), 5);
  EXPECT_EQ(code(ReasonCode::QuotaExceeded), 3);
}

TEST(EngineRefusal, ConnectionIsEndedByDisconnectInV5AndACloseIn3x) {
  for (ReasonCode reason : failureReasons()) {
    const Refusal refusal = Refusal::connection(reason, "why");
    const RefusalAnswer v5 = answerFor(refusal, ProtocolVersion::V5, ConnectionState::Connected);
    EXPECT_EQ(v5.packet, Packet::Disconnect) << reasonCodeName(reason);
    EXPECT_EQ(v5.code, static_cast<std::uint8_t>(reason));
    EXPECT_TRUE(v5.close);
    // No CONNACK went out yet during AUTH, and a DISCONNECT may not come first.
    const RefusalAnswer authenticating =
        answerFor(refusal, ProtocolVersion::V5, ConnectionState::Authenticating);
    EXPECT_EQ(authenticating.packet, Packet::Connack);
    EXPECT_EQ(authenticating.code, static_cast<std::uint8_t>(reason));
    for (ProtocolVersion version : kLegacy) {
      const RefusalAnswer legacy = answerFor(refusal, version, ConnectionState::Connected);
      EXPECT_EQ(legacy.packet, Packet::None) << reasonCodeName(reason);
      EXPECT_TRUE(legacy.close);
    }
  }
}

TEST(EngineRefusal, BeforeConnectOnlyAnUnknownProtocolLevelIsAnswered) {
  for (ReasonCode reason : failureReasons()) {
    const RefusalAnswer answer = answerFor(Refusal::connection(reason, "why"),
                                           ProtocolVersion::V311, ConnectionState::AwaitingConnect);
    EXPECT_TRUE(answer.close);
    if (reason == ReasonCode::UnsupportedProtocolVersion) {
      EXPECT_EQ(answer.packet, Packet::Connack);
      EXPECT_EQ(answer.code, 1);  // 3.1.1's "unacceptable protocol version"
      EXPECT_EQ(answer.encodeAs, ProtocolVersion::V311);
    } else {
      EXPECT_EQ(answer.packet, Packet::None) << reasonCodeName(reason);
    }
  }
}

TEST(EngineRefusal, PublishIsRefusedInItsAckAndTheConnectionStays) {
  for (ReasonCode reason : failureReasons()) {
    const Refusal refusal = Refusal::publish(codec::PacketType::Pubrec, 7, reason, "why");
    const RefusalAnswer v5 = answerFor(refusal, ProtocolVersion::V5, ConnectionState::Connected);
    EXPECT_EQ(v5.packet, Packet::Ack) << reasonCodeName(reason);
    EXPECT_EQ(v5.code, static_cast<std::uint8_t>(reason));
    EXPECT_FALSE(v5.close);
    for (ProtocolVersion version : kLegacy) {
      const RefusalAnswer legacy = answerFor(refusal, version, ConnectionState::Connected);
      EXPECT_EQ(legacy.packet, Packet::Ack) << reasonCodeName(reason);
      EXPECT_EQ(legacy.code, 0) << "3.x acks cannot say no";
      EXPECT_FALSE(legacy.close);
    }
    const Refusal qos0 = Refusal::publish(codec::PacketType::Puback, 0, reason, "why");
    EXPECT_EQ(answerFor(qos0, ProtocolVersion::V5, ConnectionState::Connected).packet,
              Packet::None);
  }
}

TEST(EngineRefusal, SilentRefusalsCloseWithoutAPacket) {
  for (ProtocolVersion version : {ProtocolVersion::V5, ProtocolVersion::V311}) {
    const RefusalAnswer answer =
        answerFor(Refusal::silently(Scope::Connect, ReasonCode::PacketTooLarge, "why"), version,
                  ConnectionState::AwaitingConnect);
    EXPECT_EQ(answer.packet, Packet::None);
    EXPECT_TRUE(answer.close);
  }
}

TEST(EngineRefusal, ASuccessCodeNeverReachesTheWireAsARefusal) {
  // A client reads 0x00..0x7F as success; an authenticator answering "continue" without a
  // method must not look like an accepted CONNECT.
  const Refusal refusal = Refusal::connect(ReasonCode::ContinueAuthentication, "why");
  EXPECT_EQ(refusalReason(refusal), ReasonCode::UnspecifiedError);
  EXPECT_EQ(answerFor(refusal, ProtocolVersion::V5, ConnectionState::AwaitingConnect).code, 0x80);
}

TEST(EngineRefusal, CountsPerReasonAndInTheNamedCounters) {
  Stats stats;
  const auto state = ConnectionState::Connected;
  countRefusal(stats, Refusal::connect(ReasonCode::BadUserNameOrPassword, ""), state);
  countRefusal(stats, Refusal::connect(ReasonCode::NotAuthorized, ""), state);
  countRefusal(stats, Refusal::connect(ReasonCode::QuotaExceeded, ""), state);
  countRefusal(stats, Refusal::connection(ReasonCode::ProtocolError, ""), state);
  countRefusal(stats, Refusal::connection(ReasonCode::KeepAliveTimeout, ""), state);
  countRefusal(stats, Refusal::connection(ReasonCode::SessionTakenOver, ""), state);
  countRefusal(stats,
               Refusal::silently(Scope::Connection, ReasonCode::MaximumConnectTime, ""),
               ConnectionState::AwaitingConnect);
  countRefusal(stats, Refusal::publish(codec::PacketType::Puback, 1, ReasonCode::NotAuthorized, ""),
               state);
  EXPECT_EQ(stats.connectsRefused, 3u);
  EXPECT_EQ(stats.connectsRefusedBadCredentials, 1u);
  EXPECT_EQ(stats.connectsRefusedNotAuthorized, 1u);
  EXPECT_EQ(stats.protocolViolations, 1u);
  EXPECT_EQ(stats.keepaliveTimeouts, 1u);
  EXPECT_EQ(stats.connectTimeouts, 1u);
  EXPECT_EQ(refusalCount(stats, ReasonCode::NotAuthorized), 2u);
  EXPECT_EQ(refusalCount(stats, ReasonCode::QuotaExceeded), 1u);
  EXPECT_EQ(refusalCount(stats, ReasonCode::SessionTakenOver), 1u);
  EXPECT_EQ(refusalCount(stats, ReasonCode::MalformedPacket), 0u);
  EXPECT_EQ(refusalCount(stats, ReasonCode::Success), 0u);
}

TEST(EngineRefusal, SlugsNameTheReason) {
  EXPECT_EQ(refusalSlug(ReasonCode::NotAuthorized, '-'), "not-authorized");
  EXPECT_EQ(refusalSlug(ReasonCode::QoSNotSupported, '_'), "qos_not_supported");
  EXPECT_EQ(refusalSlug(ReasonCode::ReAuthenticate, '_'), "re_authenticate");
}

class RefuseEveryone final : public Authenticator {
 public:
  AuthDecision authenticate(const AuthRequest&) override {
    AuthDecision decision;
    decision.reason = ReasonCode::BadUserNameOrPassword;
    return decision;
  }
  bool allowPublish(const ClientIdentity&, std::string_view) override { return true; }
  bool allowSubscribe(const ClientIdentity&, std::string_view) override { return true; }
  bool allowReceive(const ClientIdentity&, std::string_view) override { return true; }
};

TEST(EngineRefusal, TheBrokerAnswersLogsAndCountsARefusedConnect) {
  EngineConfig config;
  RefuseEveryone authenticator;
  Harness harness(config, &authenticator);
  auto v5 = harness.open();
  EXPECT_EQ(v5->connect("sensor-7").reasonCode, 0x86);
  EXPECT_TRUE(v5->closeRequested());
  auto v311 = harness.open(ProtocolVersion::V311);
  EXPECT_EQ(v311->connect("sensor-8").reasonCode, 4);
  EXPECT_TRUE(v311->closeRequested());
  EXPECT_TRUE(harness.output.logged("refused connection from 127.0.0.1:"));
  EXPECT_TRUE(harness.output.logged("(client id 'sensor-7')"));
  EXPECT_TRUE(harness.output.logged("(bad user name or password)"));
  const Stats& stats = harness.broker().stats();
  EXPECT_EQ(refusalCount(stats, ReasonCode::BadUserNameOrPassword), 2u);
  EXPECT_EQ(stats.connectsRefused, 2u);
  EXPECT_EQ(stats.connectsRefusedBadCredentials, 2u);
}

TEST(EngineRefusal, SysPublishesACounterPerReasonRefused) {
  EngineConfig config;
  config.sysIntervalSeconds = 1;
  Harness harness(config);

  auto v5 = harness.open();
  v5->connect("wildcard");
  v5->publish("a/+", "x", 0);
  EXPECT_EQ(v5->nextAs<codec::Disconnect>().reason, ReasonCode::TopicNameInvalid);
  auto v311 = harness.open(ProtocolVersion::V311);
  v311->connect("legacy");
  v311->publish("b/#", "x", 0);
  EXPECT_TRUE(v311->closeRequested());
  EXPECT_FALSE(v311->hasPacket()) << "3.1.1 has no DISCONNECT from the server";
  EXPECT_TRUE(harness.output.logged("client legacy (127.0.0.1:"));

  auto watcher = harness.open();
  watcher->connect("watcher");
  watcher->subscribe("$SYS/broker/midge/refusals/+", 0);
  harness.tick(2);
  const std::map<std::string, std::string> counters = latestPayloadsSeenBy(*watcher);
  EXPECT_EQ(counters.at("$SYS/broker/midge/refusals/topic-name-invalid"), "2");
  EXPECT_EQ(counters.count("$SYS/broker/midge/refusals/not-authorized"), 0u)
      << "no topic for a reason never refused";
}

}  // namespace
}  // namespace midge::testing
