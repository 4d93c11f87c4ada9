// SPDX-License-Identifier: Apache-2.0
// Connection events, framing and dispatch; what TurnOutput asks at the end of a turn.
#include "core/engine/broker.hpp"

#include <algorithm>
#include <utility>

namespace midge {

Broker::Broker(const EngineConfig& config, store::Store& store, Output& output,
               const Clock& clock, Authenticator& authenticator)
    : config_(config),
      store_(store),
      output_(output),
      clock_(clock),
      authenticator_(authenticator),
      sessions_(config_, store_),
      turn_(output, store_, stats_, *this) {
  startedAtMs_ = clock_.monotonicMs();
  nextHousekeepingMs_ = startedAtMs_ + 1000;
  nextSysMs_ = startedAtMs_;
}

Broker::~Broker() = default;

EngineConfig::ListenerLimits Broker::listenerLimits(int listenerIndex) const {
  if (listenerIndex >= 0 && static_cast<std::size_t>(listenerIndex) < config_.listeners.size()) {
    return config_.listeners[static_cast<std::size_t>(listenerIndex)];
  }
  EngineConfig::ListenerLimits limits;
  limits.maxQos = config_.maxQos;
  limits.maxTopicAlias = config_.maxTopicAlias;
  return limits;
}

Connection* Broker::findConnection(ConnectionId id) {
  auto it = connections_.find(id);
  return it == connections_.end() ? nullptr : it->second.get();
}

void Broker::onOpen(ConnectionId id, const PeerInfo& peer) {
  auto connection = std::make_unique<Connection>();
  connection->id = id;
  connection->peer = peer;
  connection->framer.setMaxPacketSize(config_.preConnectPacketLimit());
  const EngineConfig::ListenerLimits limits = listenerLimits(peer.listenerIndex);
  connection->maxQos = limits.maxQos;
  connection->maxTopicAlias = limits.maxTopicAlias;
  connection->openedAtMs = clock_.monotonicMs();
  connection->lastReceiveMs = connection->openedAtMs;
  connections_[id] = std::move(connection);
  ++stats_.connectionsAccepted;
}

void Broker::onBytes(ConnectionId id, Bytes bytes) {
  Connection* connection = findConnection(id);
  if (connection == nullptr || connection->state == ConnectionState::Closing) return;
  stats_.bytesReceived += bytes.size();
  connection->lastReceiveMs = clock_.monotonicMs();
  // Store writes made while this connection's packets are handled are its own: if the
  // commit fails, its output of this turn is withheld (see commitAndFlush).
  turn_.beginWriter(id, connection->turn);
  Status status = connection->framer.feed(
      bytes, [&](const codec::Frame& frame) { return handleFrame(*connection, frame); });
  if (!status.ok()) refuse(*connection, Refusal::connection(status.error()));
  turn_.endWriter();
}

void Broker::onWritable(ConnectionId id) {
  Connection* connection = findConnection(id);
  if (connection == nullptr || connection->session == nullptr) return;
  if (connection->state != ConnectionState::Connected) return;
  pumpQueue(*connection->session);
}

void Broker::onClose(ConnectionId id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  connectionLost(*it->second);
  connections_.erase(it);
}

bool Broker::handleFrame(Connection& connection, const codec::Frame& frame) {
  if (connection.state == ConnectionState::Closing) return false;
  const codec::PacketType type = frame.type();
  if (connection.state == ConnectionState::AwaitingConnect && type != codec::PacketType::Connect) {
    refuse(connection, Refusal::connection(protocolError("the first packet must be CONNECT")));
    return false;
  }
  if (connection.state != ConnectionState::AwaitingConnect && type == codec::PacketType::Connect) {
    // Whatever it contains (even a protocol level we do not know, whose decoding would
    // fail with a reason only CONNACK may carry), a second CONNECT is a protocol error.
    // Checked before decoding, which would also overwrite the CONNECT held for an
    // enhanced authentication in progress.
    refuse(connection,
           Refusal::connection(protocolError("a second CONNECT on the same connection")));
    return false;
  }
  codec::Frame held = frame;
  if (type == codec::PacketType::Connect) {
    // Keep CONNECT's bytes: its decoded views must outlive this frame while an enhanced
    // authentication exchange runs over later AUTH packets.
    ConnectionExtras& extras = connection.extra();
    extras.heldConnect.assign(frame.body.begin(), frame.body.end());
    extras.heldConnectHeader = frame.header;
    held.body = Bytes(extras.heldConnect.data(), extras.heldConnect.size());
  }
  Result<codec::Packet> decoded = codec::decodePacket(held, connection.version);
  if (!decoded.ok()) {
    refuse(connection, Refusal::connection(decoded.error()));
    return false;
  }
  dispatch(connection, decoded.value());
  return connection.state != ConnectionState::Closing;
}

void Broker::dispatch(Connection& connection, codec::Packet& packet) {
  if (Refused refused = handlePacket(connection, packet)) refuse(connection, *refused);
}

// Forced inline into its one caller: the split from dispatch must not cost a call per packet.
[[gnu::always_inline]] inline
Refused Broker::handlePacket(Connection& connection, codec::Packet& packet) {
  if (auto* connect = std::get_if<codec::Connect>(&packet)) {
    return handleConnect(connection, *connect);
  }
  if (auto* auth = std::get_if<codec::Auth>(&packet)) return handleAuth(connection, *auth);
  if (auto* disconnect = std::get_if<codec::Disconnect>(&packet)) {
    return handleDisconnect(connection, *disconnect);
  }
  if (connection.state != ConnectionState::Connected) {
    return Refusal::connection(protocolError("packet before the connection was accepted"));
  }
  if (auto* publish = std::get_if<codec::Publish>(&packet)) {
    return handlePublish(connection, *publish);
  } else if (auto* ack = std::get_if<codec::Ack>(&packet)) {
    switch (ack->type) {
      case codec::PacketType::Puback: handlePuback(connection, *ack); break;
      case codec::PacketType::Pubrec: handlePubrec(connection, *ack); break;
      case codec::PacketType::Pubrel: handlePubrel(connection, *ack); break;
      default: handlePubcomp(connection, *ack); break;
    }
  } else if (auto* subscribe = std::get_if<codec::Subscribe>(&packet)) {
    return handleSubscribe(connection, *subscribe);
  } else if (auto* unsubscribe = std::get_if<codec::Unsubscribe>(&packet)) {
    handleUnsubscribe(connection, *unsubscribe);
  } else if (std::holds_alternative<codec::Pingreq>(packet)) {
    queuePacket(connection, codec::Pingresp{});
  } else {
    // CONNACK, SUBACK, UNSUBACK, PINGRESP: only a server sends these.
    return Refusal::connection(protocolError("a packet only a server may send"));
  }
  return std::nullopt;
}

Refused Broker::handleDisconnect(Connection& connection, const codec::Disconnect& disconnect) {
  Session* session = connection.session;
  if (connection.state == ConnectionState::Connected && session != nullptr &&
      disconnect.properties.sessionExpiryInterval.has_value()) {
    if (session->expirySeconds == 0 && *disconnect.properties.sessionExpiryInterval != 0) {
      return Refusal::connection(ReasonCode::ProtocolError,
                                 "DISCONNECT sets a session expiry after CONNECT set none");
    }
    session->expirySeconds = sessions_.effectiveExpiry(
        connection.version, false, disconnect.properties.sessionExpiryInterval);
  }
  // Only reason 0x00 removes the will (MQTT 5 section 3.14.4); 3.x DISCONNECT always does.
  connection.publishWillOnClose = disconnect.reason != ReasonCode::Success;
  closeConnection(connection);
  return std::nullopt;
}

void Broker::closeConnection(Connection& connection) {
  if (connection.state == ConnectionState::Closing) return;
  connection.state = ConnectionState::Closing;
  turn_.closeAfterFlush(connection.id, connection.turn);
}

void Broker::connectionLost(Connection& connection) {
  Session* session = connection.session;
  connection.session = nullptr;
  if (session == nullptr || session->connection != connection.id) return;
  --connectedClients_;
  session->connection = 0;
  session->disconnectedAtMs = clock_.monotonicMs();
  session->disconnectedAtWall = clock_.wallSeconds();
  if (config_.connectionMessages) {
    log(LogLevel::Info, "client " + session->clientId + " disconnected");
  }
  if (connection.publishWillOnClose && session->will) {
    scheduleWill(*session);
  } else {
    session->will.reset();
  }
  if (!session->durable()) {
    destroySession(*session);
    return;
  }
  sessions_.persist(*session);
}

void Broker::queuePacketAs(Connection& connection, const codec::Packet& packet,
                           codec::ProtocolVersion version) {
  flushEarlyIfLarge(connection);
  Status status = codec::encodePacket(packet, version, turn_.buffer(connection.id, connection.turn));
  if (!status.ok()) {
    log(LogLevel::Error, describe(connection) + ": cannot encode a packet: " +
                             status.error().detail);
  }
}

TurnBuffer* Broker::turnBuffer(ConnectionId id) {
  Connection* connection = findConnection(id);
  return connection == nullptr ? nullptr : &connection->turn;
}

bool Broker::lagsBehind(ConnectionId id) const {
  auto it = connections_.find(id);
  return it != connections_.end() && storeLagsBehind(*it->second);
}

void Broker::withheld(ConnectionId id) {
  if (Connection* connection = findConnection(id)) connection->state = ConnectionState::Closing;
}

bool Broker::storeLagsBehind(const Connection& connection) const {
  return connection.session != nullptr && connection.session->durable() &&
         store_.touched(connection.session->clientId);
}

void Broker::endOfTurn() {
  turn_.commitAndFlush();
  if (pumpAfterFlush_.empty()) return;
  pumpAfterFlush();
  if (turn_.hasDirty()) turn_.commitAndFlush();
}

void Broker::shutdown() {
  for (auto& entry : connections_) {
    Connection& connection = *entry.second;
    connection.publishWillOnClose = false;
    if (connection.state == ConnectionState::Connected &&
        connection.version == codec::ProtocolVersion::V5) {
      codec::Disconnect disconnect;
      disconnect.reason = ReasonCode::ServerShuttingDown;
      queuePacket(connection, disconnect);
    }
    closeConnection(connection);
  }
  endOfTurn();
}

void Broker::log(LogLevel level, const std::string& message) { output_.log(level, message); }

std::string Broker::describe(const Connection& connection) const {
  std::string text = "client ";
  text += connection.session != nullptr ? connection.session->clientId : std::string("<unknown>");
  text += " (";
  text += connection.peer.address;
  text += ")";
  return text;
}

}  // namespace midge
