// SPDX-License-Identifier: Apache-2.0
#include "core/engine/session_registry.hpp"

#include <algorithm>

#include "core/codec/codec.hpp"

namespace midge {

namespace {

// The store keeps a will's properties as the CONNECT carried them, Message Expiry
// Interval included; in memory the interval is a field of its own (see WillMessage).
std::vector<std::uint8_t> willPropertiesForStore(const WillMessage& will) {
  if (will.expirySeconds == 0) return will.properties;
  codec::Properties properties;
  if (!codec::decodeWillPropertiesBody(Bytes(will.properties.data(), will.properties.size()),
                                       properties)
           .ok()) {
    return will.properties;  // written by encodePassThroughProperties: cannot happen
  }
  properties.messageExpiryInterval = will.expirySeconds;
  std::vector<std::uint8_t> encoded;
  codec::encodePropertiesBody(properties, encoded);
  return encoded;
}

}  // namespace

Session& SessionRegistry::create(std::string_view clientId) {
  auto session = std::make_unique<Session>();
  session->clientId = std::string(clientId);
  if (!freeIndexes_.empty()) {
    session->index = freeIndexes_.back();
    freeIndexes_.pop_back();
    byIndex_[session->index] = session.get();
  } else {
    session->index = static_cast<SessionIndex>(byIndex_.size());
    byIndex_.push_back(session.get());
  }
  Session& result = *session;
  sessions_.emplace(session->clientId, std::move(session));
  return result;
}

void SessionRegistry::erase(Session& session) {
  if (session.inStore) store_.deleteSession(session.clientId);
  byIndex_[session.index] = nullptr;
  freeIndexes_.push_back(session.index);
  auto it = sessions_.find(session.clientId);
  if (it != sessions_.end()) sessions_.erase(it);
}

store::SessionRecord SessionRegistry::recordOf(const Session& session) {
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
  return record;
}

void SessionRegistry::persist(Session& session) {
  if (!session.durable()) return;
  store_.saveSession(recordOf(session));
  session.inStore = true;
}

std::uint32_t SessionRegistry::effectiveExpiry(codec::ProtocolVersion version, bool cleanStart,
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

std::vector<Session*> SessionRegistry::expired(std::uint64_t nowMs) const {
  std::vector<Session*> result;
  for (const auto& entry : sessions_) {
    Session& session = *entry.second;
    if (session.online() || session.expirySeconds == kSessionNeverExpires) continue;
    if (nowMs - session.disconnectedAtMs >= std::uint64_t{session.expirySeconds} * 1000) {
      result.push_back(&session);
    }
  }
  return result;
}

}  // namespace midge
