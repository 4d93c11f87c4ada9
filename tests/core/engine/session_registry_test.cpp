// SPDX-License-Identifier: Apache-2.0
// The session registry on its own: lookup by client id and by index, index reuse, what
// reaches the store, and which sessions have expired.
#include "core/engine/session_registry.hpp"

#include <memory>

#include <gtest/gtest.h>

#include "persistence/memory/memory_store.hpp"

namespace midge {
namespace {

class EngineSessionRegistry : public ::testing::Test {
 protected:
  store::Snapshot committed() {
    EXPECT_TRUE(tracking.commit().ok());
    store::Snapshot snapshot;
    EXPECT_TRUE(store.load(snapshot).ok());
    return snapshot;
  }

  EngineConfig config;
  store::MemoryStore store;
  TrackingStore tracking{store};
  SessionRegistry sessions{config, tracking};
};

TEST_F(EngineSessionRegistry, FindsASessionByClientIdAndByIndex) {
  Session& a = sessions.create("a");
  Session& b = sessions.create("b");
  EXPECT_EQ(sessions.size(), 2u);
  EXPECT_EQ(sessions.find("a"), &a);
  EXPECT_EQ(sessions.find("missing"), nullptr);
  EXPECT_EQ(sessions.byIndex(b.index), &b);
  EXPECT_NE(a.index, b.index);
  EXPECT_EQ(sessions.byIndex(1000), nullptr);
}

TEST_F(EngineSessionRegistry, AnErasedSessionsIndexIsReused) {
  Session& a = sessions.create("a");
  const SessionIndex index = a.index;
  sessions.erase(a);
  EXPECT_EQ(sessions.byIndex(index), nullptr) << "the tree may still name the old index";
  EXPECT_EQ(sessions.find("a"), nullptr);
  EXPECT_EQ(sessions.create("c").index, index) << "indexes stay dense";
}

TEST_F(EngineSessionRegistry, OnlyDurableSessionsReachTheStore) {
  Session& fleeting = sessions.create("fleeting");
  sessions.persist(fleeting);
  Session& durable = sessions.create("durable");
  durable.expirySeconds = 60;
  durable.username = "alice";
  durable.identityKnown = true;
  sessions.persist(durable);
  EXPECT_TRUE(durable.inStore);
  EXPECT_FALSE(fleeting.inStore);
  store::Snapshot snapshot = committed();
  ASSERT_EQ(snapshot.sessions.size(), 1u);
  EXPECT_EQ(snapshot.sessions[0].clientId, "durable");
  EXPECT_EQ(snapshot.sessions[0].expirySeconds, 60u);
  EXPECT_EQ(snapshot.sessions[0].username, std::optional<std::string>("alice"));

  sessions.erase(durable);
  EXPECT_TRUE(committed().sessions.empty()) << "erasing deletes the record";
}

TEST_F(EngineSessionRegistry, AWillKeepsItsExpiryInTheStoredProperties) {
  Session& session = sessions.create("will");
  session.expirySeconds = 60;
  session.will = std::make_unique<WillMessage>();
  session.will->topic = "last/words";
  session.will->expirySeconds = 30;
  const store::SessionRecord record = SessionRegistry::recordOf(session);
  ASSERT_TRUE(record.will.has_value());
  codec::Properties properties;
  ASSERT_TRUE(codec::decodeWillPropertiesBody(
                  Bytes(record.will->properties.data(), record.will->properties.size()),
                  properties)
                  .ok());
  EXPECT_EQ(properties.messageExpiryInterval, std::optional<std::uint32_t>(30));
}

TEST_F(EngineSessionRegistry, OfflineSessionsExpireWhenTheirIntervalRunsOut) {
  Session& shortLived = sessions.create("short");
  shortLived.expirySeconds = 10;
  shortLived.disconnectedAtMs = 1000;
  Session& forever = sessions.create("forever");
  forever.expirySeconds = kSessionNeverExpires;
  Session& online = sessions.create("online");
  online.expirySeconds = 1;
  online.connection = 7;
  EXPECT_TRUE(sessions.expired(10'999).empty());
  EXPECT_EQ(sessions.expired(11'000), std::vector<Session*>{&shortLived});
}

TEST_F(EngineSessionRegistry, ExpiryFollowsTheProtocolAndTheOperatorsBound) {
  using codec::ProtocolVersion;
  EXPECT_EQ(sessions.effectiveExpiry(ProtocolVersion::V5, false, 120), 120u);
  EXPECT_EQ(sessions.effectiveExpiry(ProtocolVersion::V5, false, std::nullopt), 0u);
  EXPECT_EQ(sessions.effectiveExpiry(ProtocolVersion::V311, true, std::nullopt), 0u);
  EXPECT_EQ(sessions.effectiveExpiry(ProtocolVersion::V311, false, std::nullopt),
            config.defaultV3SessionExpiry);
  config.persistentClientExpiration = 60;
  EXPECT_EQ(sessions.effectiveExpiry(ProtocolVersion::V5, false, 120), 60u);
  EXPECT_EQ(sessions.effectiveExpiry(ProtocolVersion::V311, false, std::nullopt), 60u);
  config.persistentClientExpiration = 0;  // "never": no bound at all
  EXPECT_EQ(sessions.effectiveExpiry(ProtocolVersion::V311, false, std::nullopt),
            kSessionNeverExpires);
}

}  // namespace
}  // namespace midge
