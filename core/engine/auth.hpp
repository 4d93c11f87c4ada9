// SPDX-License-Identifier: Apache-2.0
// Authentication and authorization seam of the engine. The broker/ implements it from
// password and ACL files; an embedding application may supply its own. MQTT 5 enhanced
// authentication (AUTH packets) goes through start/continue so a SCRAM or token method can
// be added without touching the engine.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/codec/reason_code.hpp"
#include "core/engine/io.hpp"
#include "core/util/span.hpp"

namespace midge {

struct ClientIdentity {
  std::string_view clientId;
  std::optional<std::string_view> username;
  int listenerIndex = 0;
};

struct AuthRequest {
  ClientIdentity identity;
  std::optional<Bytes> password;
  const PeerInfo* peer = nullptr;
  std::optional<std::string_view> method;  // MQTT 5 Authentication Method
  std::optional<Bytes> data;               // MQTT 5 Authentication Data
};

struct AuthDecision {
  // Success, ContinueAuthentication (send AUTH with responseData), or a CONNACK failure
  // such as BadUserNameOrPassword, NotAuthorized or BadAuthenticationMethod.
  ReasonCode reason = ReasonCode::Success;
  std::optional<std::string> usernameOverride;  // e.g. use_identity_as_username
  std::string responseData;
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual AuthDecision authenticate(const AuthRequest& request) = 0;
  // Next step of an enhanced authentication exchange started by authenticate().
  virtual AuthDecision continueAuthentication(const AuthRequest& request) {
    (void)request;
    return {ReasonCode::BadAuthenticationMethod, std::nullopt, {}};
  }
  virtual bool allowPublish(const ClientIdentity& who, std::string_view topic) = 0;
  virtual bool allowSubscribe(const ClientIdentity& who, std::string_view filter) = 0;
  virtual bool allowReceive(const ClientIdentity& who, std::string_view topic) = 0;
};

// For embedding and tests: everyone may connect and do anything; no enhanced methods.
class AllowAllAuthenticator final : public Authenticator {
 public:
  AuthDecision authenticate(const AuthRequest& request) override {
    if (request.method) return {ReasonCode::BadAuthenticationMethod, std::nullopt, {}};
    return {};
  }
  bool allowPublish(const ClientIdentity&, std::string_view) override { return true; }
  bool allowSubscribe(const ClientIdentity&, std::string_view) override { return true; }
  bool allowReceive(const ClientIdentity&, std::string_view) override { return true; }
};

}  // namespace midge
