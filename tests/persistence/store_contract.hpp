// SPDX-License-Identifier: Apache-2.0
// The contract every Store keeps (core/store/store.hpp), as one type-parameterised suite.
// A store's test file instantiates it with a factory:
//
//   struct Factory {
//     std::unique_ptr<Store> open();      // a fresh, empty store
//     void breakTurn(Store& store);       // make the current turn's commit() fail
//   };
//   INSTANTIATE_TYPED_TEST_SUITE_P(Name, StoreContract, Factory);
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/store/store.hpp"
#include "tests/persistence/store_test_support.hpp"

namespace midge::store::testing {

template <typename Factory>
class StoreContract : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = factory_.open();
    ASSERT_NE(store_, nullptr);
  }

  Snapshot load() {
    Snapshot snapshot;
    Status status = store_->load(snapshot);
    EXPECT_TRUE(status.ok()) << store_->lastError();
    return snapshot;
  }

  void commit() {
    Status status = store_->commit();
    ASSERT_TRUE(status.ok()) << store_->lastError();
  }

  Factory factory_;
  std::unique_ptr<Store> store_;
};

TYPED_TEST_SUITE_P(StoreContract);

TYPED_TEST_P(StoreContract, EmptyStoreLoadsNothingAndHasNothingPending) {
  Snapshot snapshot = this->load();
  EXPECT_TRUE(snapshot.sessions.empty());
  EXPECT_TRUE(snapshot.subscriptions.empty());
  EXPECT_TRUE(snapshot.messages.empty());
  EXPECT_TRUE(snapshot.deliveries.empty());
  EXPECT_TRUE(snapshot.inboundQos2.empty());
  EXPECT_TRUE(snapshot.retained.empty());
  EXPECT_FALSE(this->store_->hasPendingWrites());
  EXPECT_TRUE(this->store_->commit().ok());  // a turn without writes is not an error
}

TYPED_TEST_P(StoreContract, WritesArePendingUntilCommit) {
  this->store_->saveSession(session("a"));
  EXPECT_TRUE(this->store_->hasPendingWrites());
  this->commit();
  EXPECT_FALSE(this->store_->hasPendingWrites());
  EXPECT_EQ(this->load().sessions.size(), 1u);
}

TYPED_TEST_P(StoreContract, SessionRoundTripsWithAndWithoutWill) {
  SessionRecord plain = session("plain");
  plain.protocolVersion = 3;
  plain.expirySeconds = 0xFFFFFFFF;
  plain.disconnectedAt = 0;

  SessionRecord withWill = session("with-will");
  withWill.protocolVersion = 4;
  withWill.disconnectedAt = -5;  // wall clocks before 1970 are odd but representable
  WillRecord will;
  will.topic = "devices/7/status";
  will.payload = bytes({0, 1, 0xFF, 0, 'x'});  // binary, with NUL bytes
  will.properties = bytes({0x01, 0x01});
  will.qos = 2;
  will.retain = true;
  will.delaySeconds = 0xFFFFFFFF;
  withWill.will = will;

  SessionRecord emptyWill = session("empty-will");
  emptyWill.will = WillRecord{};  // a will with empty topic and payload is still a will

  this->store_->saveSession(withWill);
  this->store_->saveSession(plain);
  this->store_->saveSession(emptyWill);
  this->commit();

  Snapshot snapshot = this->load();
  ASSERT_EQ(snapshot.sessions.size(), 3u);
  EXPECT_EQ(snapshot.sessions[0], emptyWill);
  EXPECT_EQ(snapshot.sessions[1], plain);
  EXPECT_EQ(snapshot.sessions[2], withWill);
  ASSERT_TRUE(snapshot.sessions[0].will.has_value());
}

TYPED_TEST_P(StoreContract, SessionIdentityRoundTrips) {
  SessionRecord alice = session("alice-phone");
  alice.username = "alice";
  alice.certIdentity = "CN=alice-phone,O=Fleet";
  alice.listenerIndex = 2;
  SessionRecord anonymous = session("anonymous");
  anonymous.username.reset();
  SessionRecord emptyName = session("empty-name");
  emptyName.username = "";  // an empty user name is not the same as none
  SessionRecord unknown = session("unknown");
  unknown.identityKnown = false;
  for (const SessionRecord* record : {&alice, &anonymous, &emptyName, &unknown}) {
    this->store_->saveSession(*record);
  }
  this->commit();

  Snapshot snapshot = this->load();
  ASSERT_EQ(snapshot.sessions.size(), 4u);
  EXPECT_EQ(snapshot.sessions[0], alice);
  EXPECT_EQ(snapshot.sessions[1], anonymous);
  EXPECT_EQ(snapshot.sessions[2], emptyName);
  EXPECT_EQ(snapshot.sessions[3], unknown);
  EXPECT_FALSE(snapshot.sessions[1].username.has_value());
  ASSERT_TRUE(snapshot.sessions[2].username.has_value());
}

TYPED_TEST_P(StoreContract, SavingASessionAgainReplacesIt) {
  SessionRecord first = session("a");
  first.will = WillRecord{"t", bytes({1}), {}, 1, false, 10};
  this->store_->saveSession(first);
  this->commit();

  SessionRecord second = session("a");
  second.expirySeconds = 60;
  second.disconnectedAt = 0;
  this->store_->saveSession(second);  // reconnected, will gone
  this->commit();

  Snapshot snapshot = this->load();
  ASSERT_EQ(snapshot.sessions.size(), 1u);
  EXPECT_EQ(snapshot.sessions[0], second);
  EXPECT_FALSE(snapshot.sessions[0].will.has_value());
}

TYPED_TEST_P(StoreContract, SubscriptionsRoundTripReplaceAndDelete) {
  this->store_->saveSubscription(SubscriptionRecord{"a", "sensors/+/t", 0x2E, 7});
  this->store_->saveSubscription(SubscriptionRecord{"a", "$share/g/jobs/#", 1, 0xFFFFFFF});
  this->store_->saveSubscription(SubscriptionRecord{"b", "sensors/+/t", 0, 0});
  this->commit();

  Snapshot snapshot = this->load();
  ASSERT_EQ(snapshot.subscriptions.size(), 3u);
  EXPECT_EQ(snapshot.subscriptions[0], (SubscriptionRecord{"a", "$share/g/jobs/#", 1, 0xFFFFFFF}));
  EXPECT_EQ(snapshot.subscriptions[1], (SubscriptionRecord{"a", "sensors/+/t", 0x2E, 7}));
  EXPECT_EQ(snapshot.subscriptions[2], (SubscriptionRecord{"b", "sensors/+/t", 0, 0}));

  this->store_->saveSubscription(SubscriptionRecord{"a", "sensors/+/t", 2, 0});
  this->store_->deleteSubscription("a", "$share/g/jobs/#");
  this->store_->deleteSubscription("a", "never/subscribed");
  this->commit();

  snapshot = this->load();
  ASSERT_EQ(snapshot.subscriptions.size(), 2u);
  EXPECT_EQ(snapshot.subscriptions[0], (SubscriptionRecord{"a", "sensors/+/t", 2, 0}));
  EXPECT_EQ(snapshot.subscriptions[1], (SubscriptionRecord{"b", "sensors/+/t", 0, 0}));
}

TYPED_TEST_P(StoreContract, MessagesAndDeliveriesRoundTripEveryField) {
  MessageRecord full = message(0xFFFFFFFFFFFFFFF0ull, "a/b");
  full.payload.assign(70000, 0xA5);
  full.payload[0] = 0;
  full.properties = bytes({0x01, 0x01, 0x02, 0x00, 0x00, 0x0E, 0x10});
  full.qos = 2;
  full.retain = true;
  full.expiresAt = 1900000000;
  MessageRecord empty = message(1, "");
  empty.payload.clear();  // a zero-length payload must come back empty, not missing
  empty.qos = 0;

  DeliveryRecord sent = delivery("c", 1, full.id);
  sent.packetId = 65535;
  sent.qos = 2;
  sent.retain = true;
  sent.state = DeliveryState::PublishSent;
  sent.subscriptionIds = {1, 268435455, 0x80000001};
  DeliveryRecord released = delivery("c", 2, full.id);
  released.packetId = 1;
  released.qos = 2;
  released.state = DeliveryState::PubrelSent;
  DeliveryRecord queued = delivery("c", 3, empty.id);
  queued.qos = 0;

  this->store_->saveMessage(full);
  this->store_->saveMessage(empty);
  this->store_->saveDelivery(sent);
  this->store_->saveDelivery(released);
  this->store_->saveDelivery(queued);
  this->commit();

  Snapshot snapshot = this->load();
  ASSERT_EQ(snapshot.messages.size(), 2u);
  EXPECT_EQ(snapshot.messages[0], empty);
  EXPECT_EQ(snapshot.messages[1], full);
  ASSERT_EQ(snapshot.deliveries.size(), 3u);
  EXPECT_EQ(snapshot.deliveries[0], sent);
  EXPECT_EQ(snapshot.deliveries[1], released);
  EXPECT_EQ(snapshot.deliveries[2], queued);
}

TYPED_TEST_P(StoreContract, SavingAnExistingMessageIdChangesNothing) {
  MessageRecord original = message(5, "first");
  this->store_->saveMessage(original);
  this->store_->saveDelivery(delivery("a", 1, 5));
  this->commit();

  this->store_->saveMessage(message(5, "second"));
  this->commit();

  Snapshot snapshot = this->load();
  ASSERT_EQ(snapshot.messages.size(), 1u);
  EXPECT_EQ(snapshot.messages[0], original);
}

TYPED_TEST_P(StoreContract, DeliveryStateIsUpdatedInPlace) {
  this->store_->saveMessage(message(9));
  DeliveryRecord record = delivery("a", 4, 9);
  this->store_->saveDelivery(record);
  this->commit();

  record.state = DeliveryState::PublishSent;
  record.packetId = 12;
  this->store_->saveDelivery(record);
  this->commit();
  record.state = DeliveryState::PubrelSent;
  this->store_->saveDelivery(record);
  this->commit();

  Snapshot snapshot = this->load();
  ASSERT_EQ(snapshot.deliveries.size(), 1u);
  EXPECT_EQ(snapshot.deliveries[0], record);
  EXPECT_EQ(snapshot.messages.size(), 1u);
}

TYPED_TEST_P(StoreContract, DeliveriesLoadByClientThenSequence) {
  this->store_->saveMessage(message(1));
  const std::uint64_t sequences[] = {7, 2, 1000, 3, 1};
  for (std::uint64_t sequence : sequences) {
    this->store_->saveDelivery(delivery("zeta", sequence, 1));
    this->store_->saveDelivery(delivery("alpha", sequence * 2, 1));
  }
  this->commit();

  Snapshot snapshot = this->load();
  ASSERT_EQ(snapshot.deliveries.size(), 10u);
  for (std::size_t i = 1; i < snapshot.deliveries.size(); ++i) {
    const DeliveryRecord& before = snapshot.deliveries[i - 1];
    const DeliveryRecord& after = snapshot.deliveries[i];
    EXPECT_TRUE(before.clientId < after.clientId ||
                (before.clientId == after.clientId && before.sequence < after.sequence))
        << "position " << i;
  }
  EXPECT_EQ(snapshot.deliveries.front().clientId, "alpha");
  EXPECT_EQ(snapshot.deliveries.front().sequence, 2u);
  EXPECT_EQ(snapshot.deliveries.back().clientId, "zeta");
  EXPECT_EQ(snapshot.deliveries.back().sequence, 1000u);
}

TYPED_TEST_P(StoreContract, InboundQos2IdsAreSetSemantics) {
  this->store_->saveInboundQos2("a", 10);
  this->store_->saveInboundQos2("a", 10);  // a resent PUBLISH: still one record
  this->store_->saveInboundQos2("a", 65535);
  this->store_->saveInboundQos2("b", 10);
  this->commit();

  Snapshot snapshot = this->load();
  ASSERT_EQ(snapshot.inboundQos2.size(), 3u);
  EXPECT_EQ(snapshot.inboundQos2[0], (InboundQos2Record{"a", 10}));
  EXPECT_EQ(snapshot.inboundQos2[1], (InboundQos2Record{"a", 65535}));
  EXPECT_EQ(snapshot.inboundQos2[2], (InboundQos2Record{"b", 10}));

  this->store_->deleteInboundQos2("a", 10);
  this->store_->deleteInboundQos2("a", 11);  // unknown: harmless
  this->commit();
  snapshot = this->load();
  ASSERT_EQ(snapshot.inboundQos2.size(), 2u);
  EXPECT_EQ(snapshot.inboundQos2[0], (InboundQos2Record{"a", 65535}));
}

TYPED_TEST_P(StoreContract, RetainedIsReplacedByTopicAndOldMessageDropped) {
  this->store_->saveMessage(message(1, "home/temp"));
  this->store_->saveRetained(RetainedRecord{"home/temp", 1});
  this->store_->saveMessage(message(2, "home/door"));
  this->store_->saveRetained(RetainedRecord{"home/door", 2});
  this->commit();

  this->store_->saveMessage(message(3, "home/temp"));
  this->store_->saveRetained(RetainedRecord{"home/temp", 3});
  this->commit();

  Snapshot snapshot = this->load();
  ASSERT_EQ(snapshot.retained.size(), 2u);
  EXPECT_EQ(snapshot.retained[0], (RetainedRecord{"home/door", 2}));
  EXPECT_EQ(snapshot.retained[1], (RetainedRecord{"home/temp", 3}));
  ASSERT_EQ(snapshot.messages.size(), 2u);
  EXPECT_EQ(snapshot.messages[0].id, 2u);
  EXPECT_EQ(snapshot.messages[1].id, 3u);

  this->store_->deleteRetained("home/door");
  this->store_->deleteRetained("never/retained");
  this->commit();
  snapshot = this->load();
  ASSERT_EQ(snapshot.retained.size(), 1u);
  ASSERT_EQ(snapshot.messages.size(), 1u);
  EXPECT_EQ(snapshot.messages[0].id, 3u);
}

TYPED_TEST_P(StoreContract, FannedOutMessageIsStoredOnceAndDroppedWithLastReference) {
  constexpr int kSessions = 50;
  this->store_->saveMessage(message(77, "alerts/fire"));
  for (int i = 0; i < kSessions; ++i) {
    this->store_->saveDelivery(delivery("client-" + std::to_string(i), 1, 77));
  }
  this->commit();

  Snapshot snapshot = this->load();
  EXPECT_EQ(snapshot.messages.size(), 1u);
  EXPECT_EQ(snapshot.deliveries.size(), static_cast<std::size_t>(kSessions));

  for (int i = 0; i < kSessions - 1; ++i) {
    this->store_->deleteDelivery("client-" + std::to_string(i), 1);
  }
  this->commit();
  snapshot = this->load();
  ASSERT_EQ(snapshot.messages.size(), 1u) << "one delivery still refers to it";
  EXPECT_EQ(snapshot.deliveries.size(), 1u);

  this->store_->deleteDelivery("client-" + std::to_string(kSessions - 1), 1);
  this->commit();
  snapshot = this->load();
  EXPECT_TRUE(snapshot.messages.empty());
  EXPECT_TRUE(snapshot.deliveries.empty());
}

TYPED_TEST_P(StoreContract, RetainedReferenceKeepsMessageAfterLastDelivery) {
  this->store_->saveMessage(message(4, "status"));
  this->store_->saveDelivery(delivery("a", 1, 4));
  this->store_->saveRetained(RetainedRecord{"status", 4});
  this->commit();

  this->store_->deleteDelivery("a", 1);
  this->commit();
  EXPECT_EQ(this->load().messages.size(), 1u);

  this->store_->deleteRetained("status");
  this->commit();
  EXPECT_TRUE(this->load().messages.empty());
}

TYPED_TEST_P(StoreContract, MessageNobodyRefersToIsDroppedAtCommit) {
  this->store_->saveMessage(message(1));
  this->commit();
  EXPECT_TRUE(this->load().messages.empty());
}

TYPED_TEST_P(StoreContract, RepointingADeliveryDropsTheMessageItLeft) {
  this->store_->saveMessage(message(1));
  this->store_->saveDelivery(delivery("a", 1, 1));
  this->commit();

  this->store_->saveMessage(message(2));
  this->store_->saveDelivery(delivery("a", 1, 2));
  this->commit();

  Snapshot snapshot = this->load();
  ASSERT_EQ(snapshot.messages.size(), 1u);
  EXPECT_EQ(snapshot.messages[0].id, 2u);
}

TYPED_TEST_P(StoreContract, DeleteSessionCascadesAndLeavesOthersAlone) {
  for (const char* client : {"gone", "stays"}) {
    this->store_->saveSession(session(client));
    this->store_->saveSubscription(subscription(client, "a/#"));
    this->store_->saveInboundQos2(client, 3);
  }
  this->store_->saveMessage(message(1));  // only "gone" has it
  this->store_->saveMessage(message(2));  // both have it
  this->store_->saveDelivery(delivery("gone", 1, 1));
  this->store_->saveDelivery(delivery("gone", 2, 2));
  this->store_->saveDelivery(delivery("stays", 1, 2));
  this->store_->saveMessage(message(3));
  this->store_->saveRetained(RetainedRecord{"a/b", 3});
  this->commit();

  this->store_->deleteSession("gone");
  this->store_->deleteSession("never-existed");
  this->commit();

  Snapshot snapshot = this->load();
  ASSERT_EQ(snapshot.sessions.size(), 1u);
  EXPECT_EQ(snapshot.sessions[0].clientId, "stays");
  ASSERT_EQ(snapshot.subscriptions.size(), 1u);
  EXPECT_EQ(snapshot.subscriptions[0].clientId, "stays");
  ASSERT_EQ(snapshot.inboundQos2.size(), 1u);
  EXPECT_EQ(snapshot.inboundQos2[0].clientId, "stays");
  ASSERT_EQ(snapshot.deliveries.size(), 1u);
  EXPECT_EQ(snapshot.deliveries[0], delivery("stays", 1, 2));
  ASSERT_EQ(snapshot.messages.size(), 2u);
  EXPECT_EQ(snapshot.messages[0].id, 2u);
  EXPECT_EQ(snapshot.messages[1].id, 3u);
  EXPECT_EQ(snapshot.retained.size(), 1u);
}

TYPED_TEST_P(StoreContract, SessionRecreatedInTheTurnItWasDeletedKeepsOnlyNewRecords) {
  this->store_->saveSession(session("a"));
  this->store_->saveSubscription(subscription("a", "old/#"));
  this->commit();

  // A clean-start reconnect: the old session goes, a new one begins, in one turn.
  this->store_->deleteSession("a");
  this->store_->saveSession(session("a"));
  this->store_->saveSubscription(subscription("a", "new/#"));
  this->commit();

  Snapshot snapshot = this->load();
  ASSERT_EQ(snapshot.sessions.size(), 1u);
  ASSERT_EQ(snapshot.subscriptions.size(), 1u);
  EXPECT_EQ(snapshot.subscriptions[0].filter, "new/#");
}

TYPED_TEST_P(StoreContract, FailedTurnIsRolledBackAndTheNextTurnCommits) {
  this->store_->saveSession(session("a"));
  this->store_->saveMessage(message(1));
  this->store_->saveDelivery(delivery("a", 1, 1));
  this->store_->saveInboundQos2("a", 5);
  this->commit();
  Snapshot before = this->load();

  this->store_->deleteSession("a");
  this->store_->saveSession(session("b"));
  this->store_->saveMessage(message(2));
  this->store_->saveDelivery(delivery("b", 1, 2));
  this->store_->saveRetained(RetainedRecord{"x", 2});
  this->factory_.breakTurn(*this->store_);
  EXPECT_TRUE(this->store_->hasPendingWrites());
  Status failed = this->store_->commit();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().kind, ErrorKind::StorageFailure);
  EXPECT_FALSE(this->store_->lastError().empty());
  EXPECT_FALSE(this->store_->hasPendingWrites());

  Snapshot after = this->load();
  EXPECT_EQ(after.sessions, before.sessions);
  EXPECT_EQ(after.messages, before.messages);
  EXPECT_EQ(after.deliveries, before.deliveries);
  EXPECT_EQ(after.inboundQos2, before.inboundQos2);
  EXPECT_TRUE(after.retained.empty());

  this->store_->deleteInboundQos2("a", 5);
  this->commit();
  EXPECT_TRUE(this->store_->lastError().empty());
  EXPECT_TRUE(this->load().inboundQos2.empty());
  EXPECT_EQ(this->load().sessions.size(), 1u);
}

TYPED_TEST_P(StoreContract, ManyDeliveriesCommitTogether) {
  constexpr std::uint64_t kDeliveries = 1000;
  this->store_->saveMessage(message(1));
  for (std::uint64_t sequence = 1; sequence <= kDeliveries; ++sequence) {
    this->store_->saveDelivery(delivery("bulk", sequence, 1));
  }
  this->commit();
  Snapshot snapshot = this->load();
  ASSERT_EQ(snapshot.deliveries.size(), kDeliveries);
  EXPECT_EQ(snapshot.deliveries.back().sequence, kDeliveries);
  EXPECT_EQ(snapshot.messages.size(), 1u);
}

REGISTER_TYPED_TEST_SUITE_P(StoreContract, EmptyStoreLoadsNothingAndHasNothingPending,
                            WritesArePendingUntilCommit, SessionRoundTripsWithAndWithoutWill, SessionIdentityRoundTrips,
                            SavingASessionAgainReplacesIt, SubscriptionsRoundTripReplaceAndDelete,
                            MessagesAndDeliveriesRoundTripEveryField,
                            SavingAnExistingMessageIdChangesNothing,
                            DeliveryStateIsUpdatedInPlace, DeliveriesLoadByClientThenSequence,
                            InboundQos2IdsAreSetSemantics,
                            RetainedIsReplacedByTopicAndOldMessageDropped,
                            FannedOutMessageIsStoredOnceAndDroppedWithLastReference,
                            RetainedReferenceKeepsMessageAfterLastDelivery,
                            MessageNobodyRefersToIsDroppedAtCommit,
                            RepointingADeliveryDropsTheMessageItLeft,
                            DeleteSessionCascadesAndLeavesOthersAlone,
                            SessionRecreatedInTheTurnItWasDeletedKeepsOnlyNewRecords,
                            FailedTurnIsRolledBackAndTheNextTurnCommits,
                            ManyDeliveriesCommitTogether);

}  // namespace midge::store::testing
