// SPDX-License-Identifier: Apache-2.0
#include "persistence/memory/memory_store.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "tests/persistence/store_contract.hpp"
#include "tests/persistence/store_test_support.hpp"

namespace midge::store::testing {
namespace {

struct MemoryStoreFactory {
  std::unique_ptr<Store> open() { return std::make_unique<MemoryStore>(); }
  void breakTurn(Store& store) { static_cast<MemoryStore&>(store).failNextCommit(); }
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Memory, StoreContract, MemoryStoreFactory);

namespace {

TEST(MemoryStore, LoadSeesOnlyCommittedState) {
  MemoryStore store;
  store.saveSession(session("a"));
  Snapshot snapshot;
  ASSERT_TRUE(store.load(snapshot).ok());
  EXPECT_TRUE(snapshot.sessions.empty());
  ASSERT_TRUE(store.commit().ok());
  ASSERT_TRUE(store.load(snapshot).ok());
  EXPECT_EQ(snapshot.sessions.size(), 1u);
}

TEST(MemoryStore, InjectedFailureHitsOnlyTheNextCommit) {
  MemoryStore store;
  store.failNextCommit();
  store.saveSession(session("a"));
  Status failed = store.commit();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().kind, ErrorKind::StorageFailure);
  EXPECT_NE(store.lastError().find("failNextCommit"), std::string::npos);

  store.saveSession(session("b"));
  ASSERT_TRUE(store.commit().ok());
  EXPECT_TRUE(store.lastError().empty());
  Snapshot snapshot;
  ASSERT_TRUE(store.load(snapshot).ok());
  ASSERT_EQ(snapshot.sessions.size(), 1u);
  EXPECT_EQ(snapshot.sessions[0].clientId, "b");
}

// An embedding application restarts its engine from the same store object.
TEST(MemoryStore, SnapshotSurvivesForARestartedEngine) {
  MemoryStore store;
  store.saveSession(session("durable"));
  store.saveSubscription(subscription("durable", "cmd/#", 2));
  store.saveMessage(message(1, "cmd/reboot"));
  DeliveryRecord inFlight = delivery("durable", 1, 1);
  inFlight.state = DeliveryState::PublishSent;
  inFlight.packetId = 42;
  store.saveDelivery(inFlight);
  ASSERT_TRUE(store.commit().ok());

  Snapshot first;
  Snapshot second;
  ASSERT_TRUE(store.load(first).ok());
  ASSERT_TRUE(store.load(second).ok());  // loading does not consume anything
  EXPECT_EQ(first.deliveries, second.deliveries);
  ASSERT_EQ(second.deliveries.size(), 1u);
  EXPECT_EQ(second.deliveries[0], inFlight);
  EXPECT_EQ(second.messages.size(), 1u);
}

}  // namespace
}  // namespace midge::store::testing
