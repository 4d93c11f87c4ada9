// SPDX-License-Identifier: Apache-2.0
// Every session the broker holds, by client id and by the small index the subscription
// tree stores; their records in the store; and when they expire. What a session's end
// means for the rest of the broker (its will, subscriptions, queue) is Broker's business:
// the registry only holds, indexes, persists and times sessions.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/engine/config.hpp"
#include "core/engine/session.hpp"
#include "core/engine/tracking_store.hpp"

namespace midge {

class SessionRegistry {
 public:
  SessionRegistry(const EngineConfig& config, TrackingStore& store)
      : config_(config), store_(store) {}
  SessionRegistry(const SessionRegistry&) = delete;
  SessionRegistry& operator=(const SessionRegistry&) = delete;

  // A new, empty session under a free index. The client id must not be held already.
  Session& create(std::string_view clientId);
  // Forgets the session and deletes its records; its index is reused.
  void erase(Session& session);

  Session* find(std::string_view clientId) const {
    auto it = sessions_.find(clientId);
    return it == sessions_.end() ? nullptr : it->second.get();
  }
  // Per delivered message: a plain vector lookup.
  Session* byIndex(SessionIndex index) const {
    return index < byIndex_.size() ? byIndex_[index] : nullptr;
  }
  std::size_t size() const { return sessions_.size(); }
  template <typename F>
  void forEach(F&& visit) const {
    for (const auto& entry : sessions_) visit(*entry.second);
  }

  // Writes the session's record (not its subscriptions or deliveries). No-op for a
  // session that ends with its connection: it has nothing to survive a restart.
  void persist(Session& session);
  static store::SessionRecord recordOf(const Session& session);

  // The expiry the broker grants for what the client asked (3.x: by the clean session
  // flag; bounded by persistent_client_expiration).
  std::uint32_t effectiveExpiry(codec::ProtocolVersion version, bool cleanStart,
                                std::optional<std::uint32_t> requested) const;
  // Offline sessions whose expiry ran out by nowMs (monotonic).
  std::vector<Session*> expired(std::uint64_t nowMs) const;

 private:
  const EngineConfig& config_;
  TrackingStore& store_;
  std::map<std::string, std::unique_ptr<Session>, std::less<>> sessions_;
  std::vector<Session*> byIndex_;
  std::vector<SessionIndex> freeIndexes_;
};

}  // namespace midge
