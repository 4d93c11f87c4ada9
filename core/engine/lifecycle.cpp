// SPDX-License-Identifier: Apache-2.0
// Sessions over time: creation and end, expiry, wills with their delay, keep-alive and the
// CONNECT deadline.
#include <algorithm>

#include "core/engine/broker.hpp"

namespace midge {

namespace {

constexpr std::uint64_t kHousekeepingPeriodMs = 1000;

}  // namespace

Session& Broker::createSession(std::string_view clientId) {
  auto session = std::make_unique<Session>();
  session->clientId = std::string(clientId);
  if (!freeSessionIndexes_.empty()) {
    session->index = freeSessionIndexes_.back();
    freeSessionIndexes_.pop_back();
    sessionsByIndex_[session->index] = session.get();
  } else {
    session->index = static_cast<SessionIndex>(sessionsByIndex_.size());
    sessionsByIndex_.push_back(session.get());
  }
  Session& result = *session;
  sessions_.emplace(session->clientId, std::move(session));
  return result;
}

void Broker::destroySession(Session& session) {
  // A will still waiting for its delay is published when the session ends (MQTT 5 3.1.3.2.2).
  if (session.will && session.willDueMs != 0) publishWill(session);
  removeAllSubscriptions(session);
  dropQueued(session);
  if (session.inStore) store_.deleteSession(session.clientId);
  sessionsByIndex_[session.index] = nullptr;
  freeSessionIndexes_.push_back(session.index);
  auto it = sessions_.find(session.clientId);
  if (it != sessions_.end()) sessions_.erase(it);
}

void Broker::persistSession(const Session& session) {
  if (!session.durable()) return;
  store::SessionRecord record;
  record.clientId = session.clientId;
  record.protocolVersion = static_cast<std::uint8_t>(session.version);
  record.expirySeconds = session.expirySeconds;
  record.disconnectedAt = session.disconnectedAtWall;
  record.identityKnown = session.identityKnown;
  record.username = session.username;
  record.certIdentity = session.certIdentity;
  record.listenerIndex = session.listenerIndex;
  if (session.will) {
    store::WillRecord will;
    will.topic = session.will->topic;
    will.payload = session.will->payload;
    will.properties = willPropertiesForStore(*session.will);
    will.qos = session.will->qos;
    will.retain = session.will->retain;
    will.delaySeconds = session.will->delaySeconds;
    record.will = std::move(will);
  }
  store_.saveSession(record);
  const_cast<Session&>(session).inStore = true;
}

void Broker::scheduleWill(Session& session) {
  if (!session.will) return;
  if (session.will->delaySeconds == 0) {
    publishWill(session);
    return;
  }
  session.willDueMs = clock_.monotonicMs() + std::uint64_t{session.will->delaySeconds} * 1000;
}

void Broker::publishWill(Session& session) {
  if (!session.will) return;
  WillMessage will = std::move(*session.will);
  session.will.reset();
  session.willDueMs = 0;
  ClientIdentity identity{session.clientId, session.username, session.listenerIndex};
  if (will.topic.rfind("$SYS", 0) == 0 || !authenticator_.allowPublish(identity, will.topic)) {
    ++stats_.publishDenied;
    log(LogLevel::Notice, "will of " + session.clientId + " not authorized for " + will.topic);
    return;
  }
  const std::int64_t expiresAt =
      will.expirySeconds != 0 ? clock_.wallSeconds() + will.expirySeconds : 0;
  MessagePtr message =
      makeMessage(will.topic, Bytes(will.payload.data(), will.payload.size()),
                  std::move(will.properties), will.qos, will.retain, expiresAt, session.index);
  if (message->retain) updateRetained(message, true);
  routeMessage(message);
  ++stats_.willsPublished;
}

std::uint32_t Broker::effectiveExpiry(codec::ProtocolVersion version, bool cleanStart,
                                      std::optional<std::uint32_t> requested) const {
  std::uint32_t expiry = 0;
  if (version == codec::ProtocolVersion::V5) {
    expiry = requested.value_or(0);
  } else if (!cleanStart) {
    // 3.x sessions never expire by the protocol; a device that never returns would keep
    // its queue forever, so they get a default unless the operator chose a bound.
    expiry = config_.persistentClientExpiration || config_.defaultV3SessionExpiry == 0
                 ? kSessionNeverExpires
                 : config_.defaultV3SessionExpiry;
  }
  // persistent_client_expiration 0 ("never") lifts every bound.
  if (expiry != 0 && config_.persistentClientExpiration.value_or(0) != 0) {
    expiry = std::min(expiry, *config_.persistentClientExpiration);
  }
  return expiry;
}

void Broker::onTick() {
  const std::uint64_t now = clock_.monotonicMs();
  if (now >= nextHousekeepingMs_) {
    nextHousekeepingMs_ = now + kHousekeepingPeriodMs;
    checkKeepAlive(now);
    // Entries only matter within their second; dropping them bounds the map.
    connectRates_.clear();
    fireDueWills(now);
    expireSessions(now);
  }
  if (config_.sysIntervalSeconds != 0 && now >= nextSysMs_) {
    nextSysMs_ = now + std::uint64_t{config_.sysIntervalSeconds} * 1000;
    publishSysTopics(now);
  }
}

void Broker::checkKeepAlive(std::uint64_t nowMs) {
  for (auto& entry : connections_) {
    Connection& connection = *entry.second;
    if (connection.state == ConnectionState::Closing) continue;
    if (connection.state != ConnectionState::Connected) {
      if (nowMs - connection.openedAtMs > config_.connectTimeoutMs) {
        ++stats_.connectTimeouts;
        log(LogLevel::Notice, "closing " + connection.peer.address +
                                  ": no CONNECT completed within connect_timeout");
        closeConnection(connection);
      }
      continue;
    }
    if (connection.keepAliveSeconds == 0) continue;
    // The spec allows one and a half keep-alive periods of silence (3.1.2.10).
    const std::uint64_t allowedMs = std::uint64_t{connection.keepAliveSeconds} * 1500;
    if (nowMs - connection.lastReceiveMs > allowedMs) {
      ++stats_.keepaliveTimeouts;
      disconnectWith(connection, ReasonCode::KeepAliveTimeout, "keep alive timeout");
    }
  }
}

void Broker::fireDueWills(std::uint64_t nowMs) {
  for (auto& entry : sessions_) {
    Session& session = *entry.second;
    if (session.willDueMs != 0 && nowMs >= session.willDueMs && !session.online()) {
      publishWill(session);
      persistSession(session);
    }
  }
}

void Broker::expireSessions(std::uint64_t nowMs) {
  std::vector<Session*> expired;
  for (auto& entry : sessions_) {
    Session& session = *entry.second;
    if (session.online() || session.expirySeconds == kSessionNeverExpires) continue;
    if (nowMs - session.disconnectedAtMs >= std::uint64_t{session.expirySeconds} * 1000) {
      expired.push_back(&session);
    }
  }
  for (Session* session : expired) {
    log(LogLevel::Info, "session " + session->clientId + " expired");
    ++stats_.sessionsExpired;
    destroySession(*session);
  }
}

}  // namespace midge
