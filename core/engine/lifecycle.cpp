// SPDX-License-Identifier: Apache-2.0
// Sessions over time: creation and end, expiry, wills with their delay, keep-alive and the
// CONNECT deadline.
#include <algorithm>

#include "core/engine/broker.hpp"

namespace midge {

namespace {

constexpr std::uint64_t kHousekeepingPeriodMs = 1000;

}  // namespace

void Broker::destroySession(Session& session) {
  // A will still waiting for its delay is published when the session ends (MQTT 5 3.1.3.2.2).
  if (session.will && session.willDueMs != 0) publishWill(session);
  removeAllSubscriptions(session);
  dropQueued(session);
  sessions_.erase(session);
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
        // Nothing may carry the reason: no CONNECT was understood, or its AUTH exchange
        // has not reached a CONNACK (whose codes do not include a timeout).
        refuse(connection, Refusal::silently(Refusal::Scope::Connection,
                                             ReasonCode::MaximumConnectTime,
                                             "no CONNECT completed within connect_timeout"));
      }
      continue;
    }
    if (connection.keepAliveSeconds == 0) continue;
    // The spec allows one and a half keep-alive periods of silence (3.1.2.10).
    const std::uint64_t allowedMs = std::uint64_t{connection.keepAliveSeconds} * 1500;
    if (nowMs - connection.lastReceiveMs > allowedMs) {
      refuse(connection, Refusal::connection(ReasonCode::KeepAliveTimeout, "keep alive timeout"));
    }
  }
}

void Broker::fireDueWills(std::uint64_t nowMs) {
  sessions_.forEach([&](Session& session) {
    if (session.willDueMs != 0 && nowMs >= session.willDueMs && !session.online()) {
      publishWill(session);
      sessions_.persist(session);
    }
  });
}

void Broker::expireSessions(std::uint64_t nowMs) {
  for (Session* session : sessions_.expired(nowMs)) {
    log(LogLevel::Info, "session " + session->clientId + " expired");
    ++stats_.sessionsExpired;
    destroySession(*session);
  }
}

}  // namespace midge
