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

void Broker::handleConnect(Connection& connection, const codec::Connect& connect) {
  connection.version = connect.version;
  const bool v5 = connect.version == codec::ProtocolVersion::V5;

  connection.keepAliveSeconds = connect.keepAlive;
  if (config_.maxKeepalive != 65535 &&
      (connect.keepAlive > config_.maxKeepalive || connect.keepAlive == 0)) {
    if (!v5) {
      // 3.x has no way to tell the client another keep-alive; mosquitto refuses it the
      // same way so clients see a familiar answer.
      refuseConnect(connection, ReasonCode::ClientIdentifierNotValid,
                    "keep alive above max_keepalive");
      return;
    }
    connection.keepAliveSeconds = config_.maxKeepalive;
  }

  if (connect.clientId.empty()) {
    if (!config_.allowZeroLengthClientId) {
      refuseConnect(connection, ReasonCode::ClientIdentifierNotValid,
                    "empty client identifier and allow_zero_length_clientid false");
      return;
    }
    if (connect.version == codec::ProtocolVersion::V31) {
      refuseConnect(connection, ReasonCode::ClientIdentifierNotValid,
                    "MQTT 3.1 requires a client identifier");
      return;
    }
    if (connect.version == codec::ProtocolVersion::V311 && !connect.cleanStart) {
      refuseConnect(connection, ReasonCode::ClientIdentifierNotValid,
                    "empty client identifier with clean session 0");
      return;
    }
  }
  if (connect.clientId.find('/') != std::string_view::npos ||
      connect.clientId.find('+') != std::string_view::npos ||
      connect.clientId.find('#') != std::string_view::npos) {
    // Such ids would break %c substitution in ACL patterns; mosquitto refuses them too.
    refuseConnect(connection, ReasonCode::ClientIdentifierNotValid,
                  "client identifier contains '/', '+' or '#'");
    return;
  }

  if (connect.will) {
    // The will is published like any PUBLISH later, so its topic obeys the same rules now.
    const topic::Limits limits = topicLimits();
    Status valid = topic::validateTopicName(connect.will->topic, limits);
    if (valid.ok() && topic::isSharePrefixed(connect.will->topic)) {
      valid = Error{ErrorKind::TopicNameInvalid, "will topic begins with $share/"};
    }
    if (!valid.ok()) {
      if (v5) {
        refuseConnect(connection, ReasonCode::TopicNameInvalid,
                      std::string("will topic: ") + valid.error().detail);
      } else {
        // 3.x has no return code for it: a malformed CONNECT, closed without CONNACK.
        failConnection(connection, valid.error());
      }
      return;
    }
  }
  if (connect.will && connect.will->qos > connection.maxQos) {
    refuseConnect(connection, ReasonCode::QoSNotSupported, "will QoS above max_qos");
    return;
  }
  if (connect.will && connect.will->retain && !config_.retainAvailable) {
    refuseConnect(connection, ReasonCode::RetainNotSupported,
                  "retained will while retain_available is false");
    return;
  }
  if (!admitConnectRate(connection)) {
    refuseConnect(connection, ReasonCode::ConnectionRateExceeded,
                  "too many CONNECTs from this address (max_connect_rate)");
    return;
  }

  const codec::Properties& properties = connect.properties;
  if (properties.receiveMaximum) connection.clientReceiveMaximum = *properties.receiveMaximum;
  if (properties.maximumPacketSize) connection.clientMaxPacketSize = *properties.maximumPacketSize;
  if (properties.topicAliasMaximum) {
    connection.clientTopicAliasMaximum = *properties.topicAliasMaximum;
  }
  if (properties.requestProblemInformation) {
    connection.requestProblemInformation = *properties.requestProblemInformation != 0;
  }

  AuthRequest request;
  request.identity.clientId = connect.clientId;
  request.identity.username = connect.username;
  request.identity.listenerIndex = connection.peer.listenerIndex;
  request.password = connect.password;
  request.peer = &connection.peer;
  if (v5) {
    request.method = properties.authenticationMethod;
    request.data = properties.authenticationData;
  }
  AuthDecision decision = authenticator_.authenticate(request);
  if (decision.reason == ReasonCode::ContinueAuthentication && v5 && request.method) {
    connection.state = ConnectionState::Authenticating;
    connection.extra().authMethod = std::string(*request.method);
    codec::Auth auth;
    auth.reason = ReasonCode::ContinueAuthentication;
    auth.properties.authenticationMethod = connection.extra().authMethod;
    auth.properties.authenticationData = asBytes(decision.responseData);
    queuePacket(connection, auth);
    return;
  }
  if (decision.reason != ReasonCode::Success) {
    refuseConnect(connection, decision.reason,
                  "authentication failed for client id '" + std::string(connect.clientId) +
                      "', user " +
                      (connect.username ? "'" + std::string(*connect.username) + "'"
                                        : std::string("<anonymous>")));
    return;
  }
  finishConnect(connection, connect, decision);
}

void Broker::handleAuth(Connection& connection, const codec::Auth& auth) {
  if (connection.state != ConnectionState::Authenticating) {
    // Re-authentication needs a method that supports it; none is configured.
    failConnection(connection, protocolError("AUTH without an authentication in progress"));
    return;
  }
  ConnectionExtras& extras = connection.extra();
  if (!auth.properties.authenticationMethod ||
      *auth.properties.authenticationMethod != extras.authMethod) {
    failConnection(connection, protocolError("AUTH with a different authentication method"));
    return;
  }
  codec::Frame frame;
  frame.header = extras.heldConnectHeader;
  frame.body = Bytes(extras.heldConnect.data(), extras.heldConnect.size());
  Result<codec::Packet> packet = codec::decodePacket(frame, connection.version);
  if (!packet.ok()) {
    failConnection(connection, packet.error());
    return;
  }
  const auto& connect = std::get<codec::Connect>(packet.value());
  AuthRequest request;
  request.identity.clientId = connect.clientId;
  request.identity.username = connect.username;
  request.identity.listenerIndex = connection.peer.listenerIndex;
  request.password = connect.password;
  request.peer = &connection.peer;
  request.method = auth.properties.authenticationMethod;
  request.data = auth.properties.authenticationData;
  AuthDecision decision = authenticator_.continueAuthentication(request);
  if (decision.reason == ReasonCode::ContinueAuthentication) {
    codec::Auth reply;
    reply.reason = ReasonCode::ContinueAuthentication;
    reply.properties.authenticationMethod = extras.authMethod;
    reply.properties.authenticationData = asBytes(decision.responseData);
    queuePacket(connection, reply);
    return;
  }
  if (decision.reason != ReasonCode::Success) {
    refuseConnect(connection, decision.reason, "enhanced authentication failed");
    return;
  }
  connection.state = ConnectionState::AwaitingConnect;
  finishConnect(connection, connect, decision);
}

void Broker::refuseConnect(Connection& connection, ReasonCode reason, std::string_view why) {
  ++stats_.connectsRefused;
  if (reason == ReasonCode::BadUserNameOrPassword) ++stats_.connectsRefusedBadCredentials;
  if (reason == ReasonCode::NotAuthorized) ++stats_.connectsRefusedNotAuthorized;
  log(LogLevel::Notice, "refused connection from " + connection.peer.address + ": " +
                            std::string(why) + " (" + reasonCodeName(reason) + ")");
  codec::Connack connack;
  connack.reasonCode = isV5(connection) ? static_cast<std::uint8_t>(reason)
                                        : static_cast<std::uint8_t>(legacyConnackCode(reason));
  queuePacket(connection, connack);
  closeConnection(connection);
}

void Broker::finishConnect(Connection& connection, const codec::Connect& connect,
                           const AuthDecision& decision) {
  const bool v5 = isV5(connection);
  std::optional<std::string> username =
      decision.usernameOverride
          ? decision.usernameOverride
          : (connect.username ? std::optional<std::string>(*connect.username) : std::nullopt);
  std::string clientId(connect.clientId);
  bool assigned = false;
  if (listenerLimits(connection.peer.listenerIndex).useUsernameAsClientId) {
    // Mosquitto's use_username_as_clientid: the id is the user's, so no other user can
    // take the session. A client without a user name has no id to use.
    if (!username) {
      refuseConnect(connection, ReasonCode::NotAuthorized,
                    "use_username_as_clientid is set and the client sent no user name");
      return;
    }
    clientId = *username;
  } else if (clientId.empty()) {
    clientId = assignClientId();
    assigned = true;
  }
  if (!admitSession(connection, clientId, username)) return;
  codec::Connack connack;
  if (v5) {
    connack.properties = connackProperties(connection, connect, decision, clientId, assigned);
    if (!fitsClientMaximum(connection, connack)) {
      ++stats_.connectsRefused;
      log(LogLevel::Notice, "refused connection from " + connection.peer.address +
                                ": even a CONNACK exceeds the client's Maximum Packet Size " +
                                std::to_string(connection.clientMaxPacketSize));
      closeConnection(connection);  // no CONNACK: the client forbade one this large
      return;
    }
  }
  bool sessionPresent = false;
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

  if (connect.will) {
    WillMessage will;
    will.topic = std::string(connect.will->topic);
    will.payload.assign(connect.will->payload.begin(), connect.will->payload.end());
    encodePassThroughProperties(connect.will->properties, will.properties);
    will.qos = connect.will->qos;
    will.retain = connect.will->retain;
    will.delaySeconds = connect.will->properties.willDelayInterval.value_or(0);
    will.expirySeconds = connect.will->properties.messageExpiryInterval.value_or(0);
    session.will = std::make_unique<WillMessage>(std::move(will));
  }
  if (session.durable()) sessions_.persist(session);

  connection.framer.setMaxPacketSize(config_.inboundPacketLimit());

  connack.sessionPresent = sessionPresent;
  connack.reasonCode = 0;
  queuePacket(connection, connack);
  if (config_.connectionMessages) {
    log(LogLevel::Info, "new client connected from " + connection.peer.address + " as " +
                            session.clientId + " (p" +
                            std::to_string(static_cast<int>(connection.version)) + ", c" +
                            (connect.cleanStart ? "1" : "0") + ", k" +
                            std::to_string(connection.keepAliveSeconds) + ")");
  }
  if (sessionPresent) resumeSession(session, connection);
  // The CONNECT bytes are no longer referenced once the session owns copies.
  connection.extras.reset();
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

// Refuses (and closes) a client that may not have this session: one owned by another
// user, or a new session beyond max_sessions. The session is left untouched.
bool Broker::admitSession(Connection& connection, const std::string& clientId,
                          const std::optional<std::string>& username) {
  const Session* found = sessions_.find(clientId);
  if (found == nullptr) {
    if (config_.maxSessions != 0 && sessions_.size() >= config_.maxSessions) {
      refuseConnect(connection, ReasonCode::QuotaExceeded,
                    "max_sessions (" + std::to_string(config_.maxSessions) + ") reached");
      return false;
    }
    return true;
  }
  const Session& existing = *found;
  if (!config_.checkSessionOwner || !existing.identityKnown) return true;
  if (existing.username == username && existing.certIdentity == connection.peer.certIdentity) {
    return true;
  }
  refuseConnect(connection, ReasonCode::NotAuthorized,
                "client id " + clientId + " belongs to a session of another user (" +
                    (username ? "user " + *username : std::string("anonymous")) + ")");
  return false;
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
  disconnectWith(*old, ReasonCode::SessionTakenOver, "another connection took the session over");
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
