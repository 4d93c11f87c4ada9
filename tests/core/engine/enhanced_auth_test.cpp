// SPDX-License-Identifier: Apache-2.0
// MQTT 5 enhanced authentication through the Authenticator seam: a two-step
// challenge/response method, as a SCRAM or token method would plug in.
#include "tests/core/engine/harness.hpp"

namespace midge::testing {
namespace {

using codec::ProtocolVersion;

// Method "demo": the CONNECT carries "hello", the broker challenges with "nonce-1", the
// client must answer "nonce-1:secret". The user name comes from the method.
class ChallengeAuthenticator final : public Authenticator {
 public:
  AuthDecision authenticate(const AuthRequest& request) override {
    if (!request.method) return {};
    if (*request.method != "demo") return {ReasonCode::BadAuthenticationMethod, std::nullopt, {}};
    if (!request.data || asStringView(*request.data) != "hello") {
      return {ReasonCode::NotAuthorized, std::nullopt, {}};
    }
    return {ReasonCode::ContinueAuthentication, std::nullopt, "nonce-1"};
  }
  AuthDecision continueAuthentication(const AuthRequest& request) override {
    if (request.data && asStringView(*request.data) == "nonce-1:secret") {
      return {ReasonCode::Success, std::string("demo-user"), "welcome"};
    }
    return {ReasonCode::NotAuthorized, std::nullopt, {}};
  }
  bool allowPublish(const ClientIdentity&, std::string_view) override { return true; }
  bool allowSubscribe(const ClientIdentity&, std::string_view) override { return true; }
  bool allowReceive(const ClientIdentity&, std::string_view) override { return true; }
};

codec::Connect connectWithMethod(std::string_view clientId, std::string_view method,
                                 std::string_view data) {
  codec::Connect connect;
  connect.version = ProtocolVersion::V5;
  connect.clientId = clientId;
  connect.properties.authenticationMethod = method;
  connect.properties.authenticationData = asBytes(data);
  return connect;
}

codec::Auth authContinue(std::string_view method, std::string_view data) {
  codec::Auth auth;
  auth.reason = ReasonCode::ContinueAuthentication;
  auth.properties.authenticationMethod = method;
  auth.properties.authenticationData = asBytes(data);
  return auth;
}

TEST(EngineEnhancedAuth, ChallengeAndResponseCompleteTheConnect) {
  ChallengeAuthenticator authenticator;
  Harness harness({}, &authenticator);
  auto client = harness.open();
  client->send(connectWithMethod("device", "demo", "hello"));
  auto challenge = client->nextAs<codec::Auth>();
  EXPECT_EQ(challenge.reason, ReasonCode::ContinueAuthentication);
  EXPECT_EQ(challenge.properties.authenticationMethod.value_or(""), "demo");
  ASSERT_TRUE(challenge.properties.authenticationData.has_value());
  EXPECT_EQ(asStringView(*challenge.properties.authenticationData), "nonce-1");
  EXPECT_EQ(harness.broker().connectedClients(), 0u) << "connected before the exchange ended";

  client->send(authContinue("demo", "nonce-1:secret"));
  auto connack = client->nextAs<codec::Connack>();
  EXPECT_EQ(connack.reasonCode, 0);
  EXPECT_EQ(connack.properties.authenticationMethod.value_or(""), "demo");
  ASSERT_TRUE(connack.properties.authenticationData.has_value());
  EXPECT_EQ(asStringView(*connack.properties.authenticationData), "welcome");
  // The connection works like any other.
  client->subscribe("t", 0);
  client->publish("t", "after auth", 0);
  EXPECT_EQ(payloadOf(client->nextAs<codec::Publish>()), "after auth");
}

TEST(EngineEnhancedAuth, WrongResponseUnknownMethodAndOutOfPlaceAuthAreRefused) {
  ChallengeAuthenticator authenticator;
  Harness harness({}, &authenticator);
  auto wrong = harness.open();
  wrong->send(connectWithMethod("wrong", "demo", "hello"));
  wrong->nextAs<codec::Auth>();
  wrong->send(authContinue("demo", "nonce-1:guess"));
  EXPECT_EQ(wrong->nextAs<codec::Connack>().reasonCode,
            static_cast<std::uint8_t>(ReasonCode::NotAuthorized));
  EXPECT_TRUE(wrong->closeRequested());

  auto unknown = harness.open();
  unknown->send(connectWithMethod("unknown", "other", "hello"));
  EXPECT_EQ(unknown->nextAs<codec::Connack>().reasonCode,
            static_cast<std::uint8_t>(ReasonCode::BadAuthenticationMethod));

  // Re-authentication is not offered: an AUTH after CONNACK is a protocol error.
  auto plain = harness.open();
  plain->connect("plain");
  plain->send(authContinue("demo", "x"));
  EXPECT_EQ(plain->nextAs<codec::Disconnect>().reason, ReasonCode::ProtocolError);
  EXPECT_TRUE(plain->closeRequested());
}

}  // namespace
}  // namespace midge::testing
