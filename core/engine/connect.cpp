// SPDX-License-Identifier: Apache-2.0
// CONNECT and AUTH: versions, client identifiers, authentication, session takeover and
// resumption, and the CONNACK that tells the client our limits.
#include <cstdio>

#include "core/engine/broker.hpp"
#include "core/engine/pass_through.hpp"

namespace midge {

namespace {

bool isV5(const Connection& connection) {
  return connection.version == codec::ProtocolVersion::V5;
}

}  // namespace

// Each step returns the refusal that ends the CONNECT, if any; handleConnect names the
// client in it, and dispatch applies it (Broker::refuse).
Refused Broker::handleConnect(Connection& connection, const codec::Connect& connect) {
  connection.version = connect.version;
  connection.bridge = connect.bridge;
  Refused refused = checkConnect(connection, connect);
  if (!refused) {
    adoptClientLimits(connection, connect.properties);
    refused = authenticateConnect(connection, connect);
  }
  // Only a refused CONNECT is read here: an accepted one released the bytes it views.
  if (refused) refused->clientId = std::string(connect.clientId);
  return refused;
}

Refused Broker::checkConnect(Connection& connection, const codec::Connect& connect) {
  if (Refused refused = negotiateKeepAlive(connection, connect)) return refused;
  if (Refused refused = checkClientId(connect)) return refused;
  if (Refused refused = checkWill(connection, connect)) return refused;
  if (!admitConnectRate(connection)) {
    return Refusal::connect(ReasonCode::ConnectionRateExceeded,
                            "too many CONNECTs from this address (max_connect_rate)");
  }
  return std::nullopt;
}

Refused Broker::negotiateKeepAlive(Connection& connection, const codec::Connect& connect) const {
  connection.keepAliveSeconds = connect.keepAlive;
  if (config_.maxKeepalive == 65535 ||
      (connect.keepAlive <= config_.maxKeepalive && connect.keepAlive != 0)) {
    return std::nullopt;
  }
  if (!isV5(connection)) {
    // 3.x has no way to tell the client another keep-alive; mosquitto refuses it the
    // same way so clients see a familiar answer.
    return Refusal::connect(ReasonCode::ClientIdentifierNotValid,
                            "keep alive above max_keepalive");
  }
  connection.keepAliveSeconds = config_.maxKeepalive;  // told in the CONNACK
  return std::nullopt;
}

Refused Broker::checkClientId(const codec::Connect& connect) const {
  if (connect.clientId.empty()) {
    if (!config_.allowZeroLengthClientId) {
      return Refusal::connect(ReasonCode::ClientIdentifierNotValid,
                              "empty client identifier and allow_zero_length_clientid false");
    }
    if (connect.version == codec::ProtocolVersion::V31) {
      return Refusal::connect(ReasonCode::ClientIdentifierNotValid,
                              "MQTT 3.1 requires a client identifier");
    }
    if (connect.version == codec::ProtocolVersion::V311 && !connect.cleanStart) {
      return Refusal::connect(ReasonCode::ClientIdentifierNotValid,
                              "empty client identifier with clean session 0");
    }
  }
  if (connect.clientId.find_first_of("/+#") != std::string_view::npos) {
    // Such ids would break %c substitution in ACL patterns; mosquitto refuses them too.
    return Refusal::connect(ReasonCode::ClientIdentifierNotValid,
                            "client identifier contains '/', '+' or '#'");
  }
  return std::nullopt;
}

Refused Broker::checkWill(const Connection& connection, const codec::Connect& connect) const {
  if (!connect.will) return std::nullopt;
  // The will is published like any PUBLISH later, so its topic obeys the same rules now.
  Status valid = topic::validateTopicName(connect.will->topic, topicLimits());
  if (valid.ok() && topic::isSharePrefixed(connect.will->topic)) {
    valid = Error{ErrorKind::TopicNameInvalid, "will topic begins with $share/"};
  }
  if (!valid.ok()) {
    if (isV5(connection)) {
      return Refusal::connect(ReasonCode::TopicNameInvalid,
                              std::string("will topic: ") + valid.error().detail);
    }
    // 3.x has no return code for it: a malformed CONNECT, closed without CONNACK.
    return Refusal::connection(valid.error());
  }
  if (connect.will->qos > connection.maxQos) {
    return Refusal::connect(ReasonCode::QoSNotSupported, "will QoS above max_qos");
  }
  if (connect.will->retain && !config_.retainAvailable) {
    return Refusal::connect(ReasonCode::RetainNotSupported,
                            "retained will while retain_available is false");
  }
  return std::nullopt;
}

void Broker::adoptClientLimits(Connection& connection, const codec::Properties& properties) {
  if (properties.receiveMaximum) connection.clientReceiveMaximum = *properties.receiveMaximum;
  if (properties.maximumPacketSize) connection.clientMaxPacketSize = *properties.maximumPacketSize;
  if (properties.topicAliasMaximum) {
    connection.clientTopicAliasMaximum = *properties.topicAliasMaximum;
  }
  if (properties.requestProblemInformation) {
    connection.requestProblemInformation = *properties.requestProblemInformation != 0;
  }
}

AuthRequest Broker::authRequest(const Connection& connection, const codec::Connect& connect) {
  AuthRequest request;
  request.identity.clientId = connect.clientId;
  request.identity.username = connect.username;
  request.identity.listenerIndex = connection.peer.listenerIndex;
  request.password = connect.password;
  request.peer = &connection.peer;
  return request;
}

Refused Broker::authenticateConnect(Connection& connection, const codec::Connect& connect) {
  AuthRequest request = authRequest(connection, connect);
  if (isV5(connection)) {
    request.method = connect.properties.authenticationMethod;
    request.data = connect.properties.authenticationData;
  }
  AuthDecision decision = authenticator_.authenticate(request);
  if (decision.reason == ReasonCode::ContinueAuthentication && isV5(connection) &&
      request.method) {
    connection.state = ConnectionState::Authenticating;
    connection.extra().authMethod = std::string(*request.method);
    queueAuthContinue(connection, decision);
    return std::nullopt;
  }
  if (decision.reason != ReasonCode::Success) {
    return Refusal::connect(decision.reason,
                            "authentication failed for client id '" +
                                std::string(connect.clientId) + "', user " +
                                (connect.username ? "'" + std::string(*connect.username) + "'"
                                                  : std::string("<anonymous>")));
  }
  return finishConnect(connection, connect, decision);
}

void Broker::queueAuthContinue(Connection& connection, const AuthDecision& decision) {
  codec::Auth auth;
  auth.reason = ReasonCode::ContinueAuthentication;
  auth.properties.authenticationMethod = connection.extra().authMethod;
  auth.properties.authenticationData = asBytes(decision.responseData);
  queuePacket(connection, auth);
}

Refused Broker::handleAuth(Connection& connection, const codec::Auth& auth) {
  if (connection.state != ConnectionState::Authenticating) {
    // Re-authentication needs a method that supports it; none is configured.
    return Refusal::connection(protocolError("AUTH without an authentication in progress"));
  }
  ConnectionExtras& extras = connection.extra();
  if (!auth.properties.authenticationMethod ||
      *auth.properties.authenticationMethod != extras.authMethod) {
    return Refusal::connection(protocolError("AUTH with a different authentication method"));
  }
  codec::Frame frame;
  frame.header = extras.heldConnectHeader;
  frame.body = Bytes(extras.heldConnect.data(), extras.heldConnect.size());
  Result<codec::Packet> packet = codec::decodePacket(frame, connection.version);
  if (!packet.ok()) return Refusal::connection(packet.error());
  const auto& connect = std::get<codec::Connect>(packet.value());
  Refused refused = continueAuthentication(connection, connect, auth);
  // As in handleConnect: the CONNECT's bytes are still held when it was refused.
  if (refused) refused->clientId = std::string(connect.clientId);
  return refused;
}

Refused Broker::continueAuthentication(Connection& connection, const codec::Connect& connect,
                                       const codec::Auth& auth) {
  AuthRequest request = authRequest(connection, connect);
  request.method = auth.properties.authenticationMethod;
  request.data = auth.properties.authenticationData;
  AuthDecision decision = authenticator_.continueAuthentication(request);
  if (decision.reason == ReasonCode::ContinueAuthentication) {
    queueAuthContinue(connection, decision);
    return std::nullopt;
  }
  if (decision.reason != ReasonCode::Success) {
    return Refusal::connect(decision.reason, "enhanced authentication failed");
  }
  connection.state = ConnectionState::AwaitingConnect;
  return finishConnect(connection, connect, decision);
}

Refused Broker::finishConnect(Connection& connection, const codec::Connect& connect,
                              const AuthDecision& decision) {
  std::optional<std::string> username =
      decision.usernameOverride
          ? decision.usernameOverride
          : (connect.username ? std::optional<std::string>(*connect.username) : std::nullopt);
  std::string clientId(connect.clientId);
  bool assigned = false;
  if (Refused refused = chooseClientId(connection, username, clientId, assigned)) return refused;
  if (Refused refused = admitSession(connection, clientId, username)) return refused;
  codec::Connack connack;
  if (isV5(connection)) {
    connack.properties = connackProperties(connection, connect, decision, clientId, assigned);
    if (!fitsClientMaximum(connection, connack)) {
      return Refusal::silently(Refusal::Scope::Connect, ReasonCode::PacketTooLarge,
                               "even a CONNACK exceeds the client's Maximum Packet Size " +
                                   std::to_string(connection.clientMaxPacketSize));
    }
  }
  bool sessionPresent = false;
  Session& session = bindSession(connection, connect, clientId, std::move(username),
                                 sessionPresent);
  if (connect.will) adoptWill(session, *connect.will);
  if (session.durable()) sessions_.persist(session);
  connack.sessionPresent = sessionPresent;
  acceptConnect(connection, connect, connack);
  if (sessionPresent) resumeSession(session, connection);
  // The CONNECT bytes are no longer referenced once the session owns copies.
  connection.extras.reset();
  return std::nullopt;
}

// The id the session goes by: the client's, the user's (use_username_as_clientid), or one
// the broker assigns to an empty id.
Refused Broker::chooseClientId(const Connection& connection,
                               const std::optional<std::string>& username, std::string& clientId,
                               bool& assigned) {
  if (listenerLimits(connection.peer.listenerIndex).useUsernameAsClientId) {
    // Mosquitto's use_username_as_clientid: the id is the user's, so no other user can
    // take the session. A client without a user name has no id to use.
    if (!username) {
      return Refusal::connect(ReasonCode::NotAuthorized,
                              "use_username_as_clientid is set and the client sent no user name");
    }
    clientId = *username;
  } else if (clientId.empty()) {
    clientId = assignClientId();
    assigned = true;
  }
  return std::nullopt;
}

Session& Broker::bindSession(Connection& connection, const codec::Connect& connect,
                             const std::string& clientId, std::optional<std::string> username,
                             bool& sessionPresent) {
  Session& session = attachSession(connection, connect, clientId, sessionPresent);
  connection.session = &session;
  connection.state = ConnectionState::Connected;
  session.username = std::move(username);
  session.listenerIndex = connection.peer.listenerIndex;
  session.certIdentity = connection.peer.certIdentity;
  if (!session.identityKnown) {
    log(LogLevel::Notice, "session " + session.clientId +
                              " from a store without identities now belongs to " +
                              (session.username ? "user " + *session.username
                                                : std::string("anonymous clients")));
    session.identityKnown = true;
  }
  ++connectedClients_;
  ++stats_.connectsAccepted;
  if (connectedClients_ > stats_.clientsMaximum) stats_.clientsMaximum = connectedClients_;
  return session;
}

void Broker::adoptWill(Session& session, const codec::Will& connectWill) {
  WillMessage will;
  will.topic = std::string(connectWill.topic);
  will.payload.assign(connectWill.payload.begin(), connectWill.payload.end());
  encodePassThroughProperties(connectWill.properties, will.properties);
  will.qos = connectWill.qos;
  will.retain = connectWill.retain;
  will.delaySeconds = connectWill.properties.willDelayInterval.value_or(0);
  will.expirySeconds = connectWill.properties.messageExpiryInterval.value_or(0);
  session.will = std::make_unique<WillMessage>(std::move(will));
}

void Broker::acceptConnect(Connection& connection, const codec::Connect& connect,
                           codec::Connack& connack) {
  connection.framer.setMaxPacketSize(config_.inboundPacketLimit());
  connack.reasonCode = 0;
  queuePacket(connection, connack);
  if (config_.connectionMessages) {
    log(LogLevel::Info, "new client connected from " + connection.peer.address + " as " +
                            connection.session->clientId + " (p" +
                            std::to_string(static_cast<int>(connection.version)) + ", c" +
                            (connect.cleanStart ? "1" : "0") + ", k" +
                            std::to_string(connection.keepAliveSeconds) + ")");
  }
}

// Our limits, as a v5 CONNACK tells them (MQTT 5 3.2.2.3).
codec::Properties Broker::connackProperties(const Connection& connection,
                                            const codec::Connect& connect,
                                            const AuthDecision& decision,
                                            const std::string& clientId, bool assigned) const {
  codec::Properties properties;
  // 0 means no limit to us, but a Receive Maximum of 0 is a protocol error to the client:
  // leave the property out, which means 65,535.
  if (config_.maxInflightMessages != 0 && config_.maxInflightMessages != 65535) {
    properties.receiveMaximum = config_.maxInflightMessages;
  }
  if (config_.maxPacketSize != 0) properties.maximumPacketSize = config_.maxPacketSize;
  properties.topicAliasMaximum = connection.maxTopicAlias;
  if (!config_.retainAvailable) properties.retainAvailable = 0;
  if (connection.maxQos < 2) properties.maximumQoS = connection.maxQos;
  if (assigned) properties.assignedClientIdentifier = clientId;
  if (connection.keepAliveSeconds != connect.keepAlive) {
    properties.serverKeepAlive = connection.keepAliveSeconds;
  }
  const std::uint32_t requested = connect.properties.sessionExpiryInterval.value_or(0);
  const std::uint32_t granted =
      sessions_.effectiveExpiry(connect.version, connect.cleanStart,
                                connect.properties.sessionExpiryInterval);
  if (requested != granted) properties.sessionExpiryInterval = granted;
  if (connection.extras && !connection.extras->authMethod.empty()) {
    properties.authenticationMethod = connection.extras->authMethod;
    if (!decision.responseData.empty()) {
      properties.authenticationData = asBytes(decision.responseData);
    }
  }
  return properties;
}

// MQTT-3.1.2-24: nothing larger than the client's Maximum Packet Size, CONNACK included.
// Topic Alias Maximum is the one property the client can do without (it then sends no
// aliases, and we accept none); the others it needs to talk to us correctly.
bool Broker::fitsClientMaximum(Connection& connection, codec::Connack& connack) {
  if (connection.clientMaxPacketSize == 0) return true;
  const auto encodedSize = [&] {
    scratch_.clear();
    (void)codec::encodePacket(connack, codec::ProtocolVersion::V5, scratch_);
    return scratch_.size();
  };
  if (encodedSize() <= connection.clientMaxPacketSize) return true;
  if (connack.properties.topicAliasMaximum.value_or(0) != 0) {
    connack.properties.topicAliasMaximum.reset();
    connection.maxTopicAlias = 0;
    if (encodedSize() <= connection.clientMaxPacketSize) return true;
  }
  return false;
}

// A client may not have this session when another user owns it, nor a new one beyond
// max_sessions. The session is left untouched either way.
Refused Broker::admitSession(const Connection& connection, const std::string& clientId,
                             const std::optional<std::string>& username) const {
  const Session* found = sessions_.find(clientId);
  if (found == nullptr) {
    if (config_.maxSessions != 0 && sessions_.size() >= config_.maxSessions) {
      return Refusal::connect(ReasonCode::QuotaExceeded,
                              "max_sessions (" + std::to_string(config_.maxSessions) +
                                  ") reached");
    }
    return std::nullopt;
  }
  const Session& existing = *found;
  if (!config_.checkSessionOwner || !existing.identityKnown) return std::nullopt;
  if (existing.username == username && existing.certIdentity == connection.peer.certIdentity) {
    return std::nullopt;
  }
  return Refusal::connect(ReasonCode::NotAuthorized,
                          "client id " + clientId + " belongs to a session of another user (" +
                              (username ? "user " + *username : std::string("anonymous")) + ")");
}

Session& Broker::attachSession(Connection& connection, const codec::Connect& connect,
                               std::string_view clientId, bool& sessionPresent) {
  sessionPresent = false;
  if (Session* found = sessions_.find(clientId)) {
    Session& existing = *found;
    // A session without expiry ended with its connection [MQTT-3.1.2-6]: whoever takes
    // the client id over starts afresh, whatever its own clean session flag says.
    const bool endsWithItsConnection = existing.online() && !existing.durable();
    if (existing.online()) takeOver(existing);
    if (connect.cleanStart) {
      // A device reconnecting within its will delay is not gone: its pending will is
      // cancelled rather than published with the discarded session (as Mosquitto does).
      existing.will.reset();
      existing.willDueMs = 0;
    }
    if (connect.cleanStart || endsWithItsConnection) {
      destroySession(existing);
    } else {
      // A new connection before the will delay passed cancels the will (MQTT 5 3.1.3.2.2).
      existing.will.reset();
      existing.willDueMs = 0;
      sessionPresent = true;
    }
  }
  Session& session = sessionPresent ? *sessions_.find(clientId) : sessions_.create(clientId);
  session.version = connect.version;
  session.expirySeconds = sessions_.effectiveExpiry(connect.version, connect.cleanStart,
                                          connect.properties.sessionExpiryInterval);
  session.connection = connection.id;
  session.disconnectedAtMs = 0;
  session.disconnectedAtWall = 0;
  if (!session.durable() && sessionPresent) {
    // The session was durable and now is not: its stored copy must go.
    store_.deleteSession(session.clientId);
  }
  return session;
}

void Broker::takeOver(Session& session) {
  Connection* old = findConnection(session.connection);
  session.connection = 0;
  --connectedClients_;
  if (old == nullptr) return;
  old->session = nullptr;
  if (old->publishWillOnClose && session.will && session.will->delaySeconds == 0) {
    publishWill(session);
  }
  session.will.reset();
  old->publishWillOnClose = false;
  refuse(*old, Refusal::connection(ReasonCode::SessionTakenOver,
                                   "another connection took the session over"));
}

void Broker::resumeSession(Session& session, Connection& connection) {
  // Resend exactly what the spec requires on a resumed session: unacknowledged PUBLISH
  // with DUP, and PUBREL for messages whose PUBREC arrived. The client's Receive Maximum
  // may be smaller than on its last connection (MQTT 5 4.9): PUBLISHes beyond it wait,
  // marked, in their place and go out as acks free the window (pumpQueue). PUBRELs are
  // always sent: those messages are with the client already.
  const std::size_t window = windowFor(connection);
  std::size_t resent = 0;
  session.resendsPending = 0;
  for (auto it = session.inflight.begin(); it != session.inflight.end();) {
    it->resendPending = false;
    if (it->state == store::DeliveryState::PubrelSent) {
      queuePubrel(connection, it->packetId);
    } else if (resent >= window) {
      it->resendPending = true;
      ++session.resendsPending;
    } else if (!queuePublish(connection, *it, true)) {
      // Too large for this connection's Maximum Packet Size.
      forgetDelivery(session, *it);
      it = eraseInflight(session, it);
      continue;
    }
    ++resent;
    ++it;
  }
  pumpQueue(session);
}

bool Broker::admitConnectRate(const Connection& connection) {
  if (config_.maxConnectRatePerSecond == 0) return true;
  // The host part of "host:port" / "[v6]:port": the rate is per source address.
  std::string_view address = connection.peer.address;
  const std::size_t colon = address.rfind(':');
  if (colon != std::string_view::npos) address = address.substr(0, colon);
  const std::uint64_t second = clock_.monotonicMs() / 1000;
  auto it = connectRates_.find(address);
  if (it == connectRates_.end()) {
    it = connectRates_.emplace(std::string(address), ConnectRate{}).first;
  }
  ConnectRate& rate = it->second;
  if (rate.second != second) {
    rate.second = second;
    rate.count = 0;
  }
  return ++rate.count <= config_.maxConnectRatePerSecond;
}

std::string Broker::assignClientId() {
  char buffer[40];
  for (;;) {
    ++assignedIdCounter_;
    std::snprintf(buffer, sizeof buffer, "%.16s%llx-%llx", config_.assignedIdPrefix.c_str(),
                  static_cast<unsigned long long>(clock_.wallSeconds()),
                  static_cast<unsigned long long>(assignedIdCounter_));
    if (sessions_.find(std::string_view(buffer)) == nullptr) return buffer;
  }
}

}  // namespace midge
