// SPDX-License-Identifier: Apache-2.0
// Well-formed protocol flows checked byte for byte: QoS handshakes in both directions,
// resends on a resumed session, wills, MQTT 3.1, retained flags and $-topics. Numbered by
// feature: 10 QoS flows, 11 sessions, 12 wills, 13 versions, 14 retained and $SYS.
#include <gtest/gtest.h>

#include <thread>

#include "tests/integration/raw_fixture.hpp"

namespace midge::test {
namespace {

class RawProtocol : public RawBrokerTest {};

// ---- 10: QoS flows -----------------------------------------------------------------------

TEST_F(RawProtocol, C10_01_Qos0PublishIsDeliveredWithoutAck) {
  auto publisher = connectV311("pub0");
  publisher->send(wire::publish("bystander/q0", "zero"));
  const RawPacket packet = bystander_->expect(kPublish);
  EXPECT_EQ(packet.wire(), wire::publish("bystander/q0", "zero"));
  EXPECT_TRUE(publisher->nothingWithin(100ms)) << "QoS 0 is not acknowledged";
}

TEST_F(RawProtocol, C10_02_Qos1FlowIsPublishPuback) {
  auto publisher = connectV311("pub1");
  publisher->send(wire::publish("bystander/q1", "one", 1, 0x1234));
  EXPECT_EQ(publisher->expect(kPuback).wire(), wire::ack(kPuback, 0x1234));
  const wire::PublishView view = wire::parsePublish(bystander_->expect(kPublish));
  EXPECT_EQ(view.qos, 1);
  EXPECT_NE(view.packetId, 0);
  EXPECT_FALSE(view.dup);
  EXPECT_FALSE(view.retain);
  bystander_->send(wire::ack(kPuback, view.packetId));
}

TEST_F(RawProtocol, C10_03_Qos2InboundResendIsNotDeliveredTwice) {
  auto subscriber = connectV311("sub2");
  subscriber->send(wire::subscribe(1, "q2/topic", 2));
  subscriber->expect(kSuback);
  auto publisher = connectV311("pub2");
  publisher->send(wire::publish("q2/topic", "two", 2, 77));
  EXPECT_EQ(publisher->expect(kPubrec).wire(), wire::ack(kPubrec, 77));
  // The PUBREC was lost, so the client resends with DUP (MQTT 3.1.1 section 4.3.3).
  ByteVector again = wire::publish("q2/topic", "two", 2, 77);
  again[0] |= 0x08;
  publisher->send(again);
  EXPECT_EQ(publisher->expect(kPubrec).wire(), wire::ack(kPubrec, 77));
  publisher->send(wire::ack(kPubrel, 77));
  EXPECT_EQ(publisher->expect(kPubcomp).wire(), wire::ack(kPubcomp, 77));

  const wire::PublishView view = wire::parsePublish(subscriber->expect(kPublish));
  EXPECT_EQ(view.payload, "two");
  EXPECT_EQ(view.qos, 2);
  subscriber->send(wire::ack(kPubrec, view.packetId));
  EXPECT_EQ(subscriber->expect(kPubrel).wire(), wire::ack(kPubrel, view.packetId));
  subscriber->send(wire::ack(kPubcomp, view.packetId));
  // A marker proves nothing else was queued before it: the resend was not delivered.
  publisher->send(wire::publish("q2/topic", "marker"));
  EXPECT_EQ(wire::parsePublish(subscriber->expect(kPublish)).payload, "marker");
}

TEST_F(RawProtocol, C10_04_DeliveryQosIsTheMinimumOfPublishAndSubscription) {
  auto subscriber = connectV311("min-qos");
  subscriber->send(wire::subscribe(1, "min/#", 1));
  EXPECT_EQ(subscriber->expect(kSuback).wire(), (ByteVector{0x90, 0x03, 0x00, 0x01, 0x01}));
  auto publisher = connectV311("min-pub");
  publisher->send(wire::publish("min/a", "x", 2, 1));
  publisher->expect(kPubrec);
  publisher->send(wire::ack(kPubrel, 1));
  publisher->expect(kPubcomp);
  const wire::PublishView first = wire::parsePublish(subscriber->expect(kPublish));
  EXPECT_EQ(first.qos, 1);
  subscriber->send(wire::ack(kPuback, first.packetId));
  publisher->send(wire::publish("min/b", "y", 0));
  EXPECT_EQ(wire::parsePublish(subscriber->expect(kPublish)).qos, 0);
}

TEST_F(RawProtocol, C10_05_OverlappingSubscriptionsDeliverOneCopy) {
  auto subscriber = connectV311("overlap");
  subscriber->send(wire::subscribe(1, "ov/#", 0));
  subscriber->expect(kSuback);
  subscriber->send(wire::subscribe(2, "ov/+", 1));
  subscriber->expect(kSuback);
  auto publisher = connectV311("ov-pub");
  publisher->send(wire::publish("ov/x", "once", 1, 1));
  publisher->expect(kPuback);
  const wire::PublishView view = wire::parsePublish(subscriber->expect(kPublish));
  EXPECT_EQ(view.qos, 1);  // the highest granted QoS of the matches
  subscriber->send(wire::ack(kPuback, view.packetId));
  publisher->send(wire::publish("ov/x", "marker"));
  EXPECT_EQ(wire::parsePublish(subscriber->expect(kPublish)).payload, "marker");
}

TEST_F(RawProtocol, C10_06_UnsubscribeStopsDelivery) {
  auto subscriber = connectV311("unsub");
  subscriber->send(wire::subscribe(1, "un/a", 0));
  subscriber->expect(kSuback);
  subscriber->send(wire::unsubscribe(2, "un/a"));
  EXPECT_EQ(subscriber->expect(kUnsuback).wire(), (ByteVector{0xB0, 0x02, 0x00, 0x02}));
  subscriber->send(wire::subscribe(3, "un/b", 0));
  subscriber->expect(kSuback);
  auto publisher = connectV311("unsub-pub");
  publisher->send(wire::publish("un/a", "gone"));
  publisher->send(wire::publish("un/b", "marker"));
  EXPECT_EQ(wire::parsePublish(subscriber->expect(kPublish)).payload, "marker");
}

// ---- 11: sessions ------------------------------------------------------------------------

TEST_F(RawProtocol, C11_01_UnackedQos1IsResentWithDupOnResume) {
  wire::ConnectSpec spec;
  spec.clientId = "resume1";
  spec.cleanStart = false;
  {
    RawClient first(broker_.port());
    handshake(first, spec);
    first.send(wire::subscribe(1, "resume/a", 1));
    first.expect(kSuback);
    auto publisher = connectV311("resume-pub");
    publisher->send(wire::publish("resume/a", "keep me", 1, 1));
    publisher->expect(kPuback);
    const wire::PublishView view = wire::parsePublish(first.expect(kPublish));
    EXPECT_FALSE(view.dup);
    first.abort();  // no PUBACK
  }
  RawClient second(broker_.port());
  second.send(wire::connect(spec));
  const RawPacket connack = second.expect(kConnack);
  EXPECT_EQ(connack.wire(), (ByteVector{0x20, 0x02, 0x01, 0x00})) << "session present";
  const wire::PublishView resent = wire::parsePublish(second.expect(kPublish));
  EXPECT_TRUE(resent.dup);
  EXPECT_EQ(resent.payload, "keep me");
  second.send(wire::ack(kPuback, resent.packetId));
}

TEST_F(RawProtocol, C11_02_PubrelIsResentAfterPubrecOnResume) {
  wire::ConnectSpec spec;
  spec.clientId = "resume2";
  spec.cleanStart = false;
  std::uint16_t packetId = 0;
  {
    RawClient first(broker_.port());
    handshake(first, spec);
    first.send(wire::subscribe(1, "resume/b", 2));
    first.expect(kSuback);
    auto publisher = connectV311("resume-pub2");
    publisher->send(wire::publish("resume/b", "exactly once", 2, 1));
    publisher->expect(kPubrec);
    publisher->send(wire::ack(kPubrel, 1));
    publisher->expect(kPubcomp);
    packetId = wire::parsePublish(first.expect(kPublish)).packetId;
    first.send(wire::ack(kPubrec, packetId));
    first.expect(kPubrel);
    first.abort();  // no PUBCOMP
  }
  RawClient second(broker_.port());
  second.send(wire::connect(spec));
  EXPECT_EQ(wire::reasonOf(second.expect(kConnack)), 0);
  // MQTT 3.1.1 section 4.4: PUBREL again, not the PUBLISH.
  EXPECT_EQ(second.expect(kPubrel).wire(), wire::ack(kPubrel, packetId));
  second.send(wire::ack(kPubcomp, packetId));
  EXPECT_TRUE(second.nothingWithin(200ms));
}

TEST_F(RawProtocol, C11_03_OfflineQos1MessagesAreQueuedAndQos0Dropped) {
  wire::ConnectSpec spec;
  spec.clientId = "offline";
  spec.cleanStart = false;
  {
    RawClient first(broker_.port());
    handshake(first, spec);
    first.send(wire::subscribe(1, "off/#", 1));
    first.expect(kSuback);
    first.send(wire::disconnect());
    ASSERT_TRUE(first.waitClosed(5s));
  }
  ASSERT_TRUE(logSays("client offline disconnected"));
  auto publisher = connectV311("off-pub");
  publisher->send(wire::publish("off/a", "q0 dropped"));
  publisher->send(wire::publish("off/b", "q1 kept", 1, 1));
  publisher->expect(kPuback);
  RawClient second(broker_.port());
  second.send(wire::connect(spec));
  EXPECT_EQ(second.expect(kConnack).wire(), (ByteVector{0x20, 0x02, 0x01, 0x00}));
  const wire::PublishView view = wire::parsePublish(second.expect(kPublish));
  EXPECT_EQ(view.payload, "q1 kept");
  EXPECT_FALSE(view.dup) << "never sent before, so not a duplicate";
  second.send(wire::ack(kPuback, view.packetId));
}

TEST_F(RawProtocol, C11_04_CleanSessionDiscardsTheOldSession) {
  wire::ConnectSpec spec;
  spec.clientId = "cleaned";
  spec.cleanStart = false;
  {
    RawClient first(broker_.port());
    handshake(first, spec);
    first.send(wire::subscribe(1, "clean/#", 1));
    first.expect(kSuback);
    first.send(wire::disconnect());
    ASSERT_TRUE(first.waitClosed(5s));
  }
  spec.cleanStart = true;
  RawClient second(broker_.port());
  second.send(wire::connect(spec));
  EXPECT_EQ(second.expect(kConnack).wire(), (ByteVector{0x20, 0x02, 0x00, 0x00}));
  auto publisher = connectV311("clean-pub");
  publisher->send(wire::publish("clean/a", "not for the new session", 1, 1));
  publisher->expect(kPuback);
  EXPECT_TRUE(second.nothingWithin(200ms)) << "the old subscription survived clean session";
}

TEST_F(RawProtocol, C11_05_SameClientIdTakesOverTheOldConnection) {
  auto first = connectV311("taken");
  auto second = connectV311("taken");
  ASSERT_TRUE(first->waitClosed(5s)) << "the old connection was not closed";
  second->send(wire::pingreq());
  second->expect(kPingresp);
}

// ---- 12: wills ---------------------------------------------------------------------------

wire::ConnectSpec willSpec(const std::string& clientId, std::uint8_t level = 4) {
  wire::ConnectSpec spec;
  spec.level = level;
  spec.clientId = clientId;
  spec.will = wire::Will{"bystander/will/" + clientId, "gone: " + clientId, 1, false, {}};
  return spec;
}

TEST_F(RawProtocol, C12_01_WillIsPublishedWhenTheSocketDies) {
  RawClient client(broker_.port());
  handshake(client, willSpec("dies"));
  client.abort();
  const wire::PublishView view = wire::parsePublish(bystander_->expect(kPublish));
  EXPECT_EQ(view.topic, "bystander/will/dies");
  EXPECT_EQ(view.payload, "gone: dies");
  EXPECT_EQ(view.qos, 1);
  bystander_->send(wire::ack(kPuback, view.packetId));
}

TEST_F(RawProtocol, C12_02_WillIsPublishedOnAProtocolError) {
  RawClient client(broker_.port());
  handshake(client, willSpec("violates"));
  client.send({0xC0, 0x01, 0x00});  // malformed PINGREQ
  ASSERT_TRUE(client.waitClosed(5s));
  const wire::PublishView view = wire::parsePublish(bystander_->expect(kPublish));
  EXPECT_EQ(view.payload, "gone: violates");
  bystander_->send(wire::ack(kPuback, view.packetId));
}

TEST_F(RawProtocol, C12_03_WillIsNotPublishedAfterDisconnect) {
  RawClient client(broker_.port());
  handshake(client, willSpec("polite"));
  client.send(wire::disconnect());
  ASSERT_TRUE(client.waitClosed(5s));
  ASSERT_TRUE(logSays("client polite disconnected"));
  expectBrokerStillServing();  // the bystander's next message is the check, not a will
}

TEST_F(RawProtocol, C12_04_WillIsPublishedOnKeepAliveTimeout) {
  RawClient client(broker_.port());
  wire::ConnectSpec spec = willSpec("sleepy");
  spec.keepAlive = 1;
  handshake(client, spec);
  const wire::PublishView view = wire::parsePublish(bystander_->expect(kPublish, 5s));
  EXPECT_EQ(view.payload, "gone: sleepy");
  bystander_->send(wire::ack(kPuback, view.packetId));
  EXPECT_TRUE(client.waitClosed(2s));
}

TEST_F(RawProtocol, C12_05_RetainedWillIsKeptForLaterSubscribers) {
  RawClient client(broker_.port());
  wire::ConnectSpec spec = willSpec("retainer");
  spec.will->topic = "status/retainer";
  spec.will->retain = true;
  handshake(client, spec);
  client.abort();
  ASSERT_TRUE(logSays("client retainer disconnected"));
  auto late = connectV311("late");
  late->send(wire::subscribe(1, "status/#", 1));
  late->expect(kSuback);
  const wire::PublishView view = wire::parsePublish(late->expect(kPublish));
  EXPECT_EQ(view.topic, "status/retainer");
  EXPECT_TRUE(view.retain);
  late->send(wire::ack(kPuback, view.packetId));
}

TEST_F(RawProtocol, C12_06_V5WillDelayIsCancelledByReconnect) {
  wire::ConnectSpec spec = willSpec("delayed", 5);
  // Session expiry 60 s, will delay 1 s (MQTT 5 section 3.1.3.2.2).
  spec.properties = {0x11, 0x00, 0x00, 0x00, 0x3C};
  spec.will->properties = {0x18, 0x00, 0x00, 0x00, 0x01};
  spec.cleanStart = false;
  {
    RawClient first(broker_.port());
    handshake(first, spec);
    first.abort();
  }
  ASSERT_TRUE(logSays("client delayed disconnected"));
  RawClient second(broker_.port());
  handshake(second, spec);
  second.send(wire::disconnect(true));
  ASSERT_TRUE(second.waitClosed(5s));
  // Wait past the delay; the bystander must then get the check, not the will.
  ASSERT_TRUE(bystander_->nothingWithin(1500ms));
  expectBrokerStillServing();
}

TEST_F(RawProtocol, C12_07_V5WillDelayPublishesAfterTheDelay) {
  wire::ConnectSpec spec = willSpec("delayed2", 5);
  spec.properties = {0x11, 0x00, 0x00, 0x00, 0x3C};
  spec.will->properties = {0x18, 0x00, 0x00, 0x00, 0x01};
  RawClient client(broker_.port());
  handshake(client, spec);
  const auto closed = std::chrono::steady_clock::now();
  client.abort();
  const wire::PublishView view = wire::parsePublish(bystander_->expect(kPublish, 5s));
  EXPECT_GE(std::chrono::steady_clock::now() - closed, 900ms);
  EXPECT_EQ(view.payload, "gone: delayed2");
  bystander_->send(wire::ack(kPuback, view.packetId));
}

// ---- 13: versions ------------------------------------------------------------------------

TEST_F(RawProtocol, C13_01_Mqtt31ClientConnectsPublishesAndSubscribes) {
  RawClient client(broker_.port());
  wire::ConnectSpec spec;
  spec.level = 3;
  spec.clientId = "old-device";
  client.send(wire::connect(spec));
  EXPECT_EQ(client.expect(kConnack).wire(), (ByteVector{0x20, 0x02, 0x00, 0x00}));
  client.send(wire::subscribe(1, "v31/#", 1));
  EXPECT_EQ(client.expect(kSuback).wire(), (ByteVector{0x90, 0x03, 0x00, 0x01, 0x01}));
  client.send(wire::publish("v31/t", "from 3.1", 1, 2));
  // The PUBACK and the delivery to itself are separate flows: either may come first.
  const ReadResult one = client.read();
  const ReadResult two = client.read();
  ASSERT_EQ(one.status, ReadStatus::Packet);
  ASSERT_EQ(two.status, ReadStatus::Packet);
  const RawPacket& puback = one.packet.type() == kPuback ? one.packet : two.packet;
  const RawPacket& delivered = one.packet.type() == kPuback ? two.packet : one.packet;
  EXPECT_EQ(puback.wire(), wire::ack(kPuback, 2));
  const wire::PublishView view = wire::parsePublish(delivered);
  EXPECT_EQ(view.payload, "from 3.1");
  client.send(wire::ack(kPuback, view.packetId));
  client.send(wire::publish("bystander/from31", "to 3.1.1"));
  EXPECT_EQ(wire::parsePublish(bystander_->expect(kPublish)).payload, "to 3.1.1");
}

// Mosquitto's bridge flag (`try_private`, 0x80 in the level byte) is accepted as
// Mosquitto accepts it, and the bridge is not sent its own messages back.
TEST_F(RawProtocol, C13_04_BridgeFlagIsAcceptedAndItsOwnMessagesAreNotEchoed) {
  RawClient bridge(broker_.port());
  wire::ConnectSpec spec;
  spec.level = 0x84;
  spec.protocolName = "MQTT";
  spec.clientId = "edge-bridge";
  bridge.send(wire::connect(spec));
  EXPECT_EQ(bridge.expect(kConnack).wire(), (ByteVector{0x20, 0x02, 0x00, 0x00}));
  bridge.send(wire::subscribe(1, "loop/#", 0));
  EXPECT_EQ(bridge.expect(kSuback).wire(), (ByteVector{0x90, 0x03, 0x00, 0x01, 0x00}));
  bridge.send(wire::publish("loop/ours", "not back"));
  RawClient other(broker_.port());
  wire::ConnectSpec otherSpec;
  otherSpec.clientId = "other";
  other.send(wire::connect(otherSpec));
  other.expect(kConnack);
  other.send(wire::publish("loop/theirs", "to the bridge"));
  // Deliveries keep the order of publishing: had our own come back, it would be first.
  const wire::PublishView first = wire::parsePublish(bridge.expect(kPublish));
  EXPECT_EQ(first.topic, "loop/theirs");
  EXPECT_EQ(first.payload, "to the bridge");
}

TEST_F(RawProtocol, C13_02_V5ClientAndV311ClientInteroperate) {
  auto v5 = connectV5("modern");
  v5->send(wire::subscribe(1, "mix/#", 1, true));
  EXPECT_EQ(v5->expect(kSuback).wire(), (ByteVector{0x90, 0x04, 0x00, 0x01, 0x00, 0x01}));
  auto v311 = connectV311("classic");
  v311->send(wire::publish("mix/a", "hello v5", 1, 3));
  v311->expect(kPuback);
  const wire::PublishView view = wire::parsePublish(v5->expect(kPublish), true);
  EXPECT_EQ(view.payload, "hello v5");
  v5->send(wire::ack(kPuback, view.packetId));
  v5->send(wire::publish("bystander/v5", "hello 3.1.1", 0, 0, false, true));
  EXPECT_EQ(wire::parsePublish(bystander_->expect(kPublish)).payload, "hello 3.1.1");
}

TEST_F(RawProtocol, C13_03_V311ClientsCanShareASubscription) {
  auto first = connectV311("share-a");
  auto second = connectV311("share-b");
  first->send(wire::subscribe(1, "$share/grp/jobs/#", 0));
  first->expect(kSuback);
  second->send(wire::subscribe(1, "$share/grp/jobs/#", 0));
  second->expect(kSuback);
  auto publisher = connectV311("share-pub");
  publisher->send(wire::publish("jobs/1", "one"));
  publisher->send(wire::publish("jobs/2", "two"));
  // Round-robin: each member gets one of the two, not both.
  const wire::PublishView a = wire::parsePublish(first->expect(kPublish));
  const wire::PublishView b = wire::parsePublish(second->expect(kPublish));
  EXPECT_NE(a.payload, b.payload);
  EXPECT_TRUE(first->nothingWithin(200ms));
}

// ---- 14: retained messages and $-topics ---------------------------------------------------

TEST_F(RawProtocol, C14_01_RetainedFlagOnlyOnMessagesSentBecauseOfASubscription) {
  auto publisher = connectV311("ret-pub");
  publisher->send(wire::publish("ret/a", "stored", 1, 1, true));
  publisher->expect(kPuback);
  auto subscriber = connectV311("ret-sub");
  subscriber->send(wire::subscribe(1, "ret/#", 0));
  subscriber->expect(kSuback);
  const wire::PublishView stored = wire::parsePublish(subscriber->expect(kPublish));
  EXPECT_TRUE(stored.retain);
  EXPECT_EQ(stored.payload, "stored");
  // MQTT 3.1.1 section 3.3.1.3: a live message to an existing subscriber has RETAIN 0.
  publisher->send(wire::publish("ret/a", "live", 0, 0, true));
  const wire::PublishView live = wire::parsePublish(subscriber->expect(kPublish));
  EXPECT_FALSE(live.retain);
  EXPECT_EQ(live.payload, "live");
}

TEST_F(RawProtocol, C14_02_EmptyRetainedPayloadDeletesAndIsForwarded) {
  auto publisher = connectV311("del-pub");
  publisher->send(wire::publish("del/a", "stored", 1, 1, true));
  publisher->expect(kPuback);
  publisher->send(wire::publish("del/a", "", 1, 2, true));
  publisher->expect(kPuback);
  auto subscriber = connectV311("del-sub");
  subscriber->send(wire::subscribe(1, "del/#", 0));
  subscriber->expect(kSuback);
  publisher->send(wire::publish("del/b", "marker"));
  EXPECT_EQ(wire::parsePublish(subscriber->expect(kPublish)).payload, "marker")
      << "a deleted retained message was sent";
}

TEST_F(RawProtocol, C14_03_LeadingWildcardsDoNotMatchDollarTopics) {
  auto all = connectV311("all");
  all->send(wire::subscribe(1, "#", 0));
  all->expect(kSuback);
  auto sys = connectV311("sys");
  sys->send(wire::subscribe(1, "$SYS/broker/version", 0));
  sys->expect(kSuback);
  // The retained $SYS value arrives for the explicit subscription (MQTT 3.1.1 section 4.7.2).
  const wire::PublishView version = wire::parsePublish(sys->expect(kPublish, 12s));
  EXPECT_EQ(version.topic, "$SYS/broker/version");
  EXPECT_NE(version.payload.find("midge"), std::string::npos);
  auto publisher = connectV311("dollar-pub");
  publisher->send(wire::publish("plain/marker", "marker"));
  // '#' received no $SYS message: the first thing it sees is the marker.
  for (;;) {
    const wire::PublishView view = wire::parsePublish(all->expect(kPublish));
    ASSERT_NE(view.topic.rfind("$", 0), 0u) << "'#' matched " << view.topic;
    if (view.payload == "marker") break;
  }
}

TEST_F(RawProtocol, C14_04_ExpiredRetainedMessageIsNotSent) {
  auto publisher = connectV5("expiring");
  // Message Expiry Interval 1 s.
  publisher->send(wire::publish("exp/r", "short-lived", 1, 1, true, true,
                                {0x02, 0x00, 0x00, 0x00, 0x01}));
  publisher->expect(kPuback);
  // Expiry counts whole seconds of wall time: wait until it has certainly passed.
  std::this_thread::sleep_for(2100ms);
  auto subscriber = connectV311("after-expiry");
  subscriber->send(wire::subscribe(1, "exp/#", 0));
  subscriber->expect(kSuback);
  publisher->send(wire::publish("exp/marker", "marker", 0, 0, false, true));
  EXPECT_EQ(wire::parsePublish(subscriber->expect(kPublish)).payload, "marker")
      << "an expired retained message was sent";
}

TEST_F(RawProtocol, C14_05_RepeatedSubscribeReplacesAndResendsRetained) {
  auto publisher = connectV311("resub-pub");
  publisher->send(wire::publish("resub/t", "stored", 1, 1, true));
  publisher->expect(kPuback);
  auto subscriber = connectV311("resub");
  subscriber->send(wire::subscribe(1, "resub/t", 0));
  subscriber->expect(kSuback);
  EXPECT_EQ(wire::parsePublish(subscriber->expect(kPublish)).qos, 0);
  // MQTT 3.1.1 section 3.8.4: the new subscription replaces the old one and the retained
  // message is sent again.
  subscriber->send(wire::subscribe(2, "resub/t", 1));
  EXPECT_EQ(subscriber->expect(kSuback).wire(), (ByteVector{0x90, 0x03, 0x00, 0x02, 0x01}));
  const wire::PublishView again = wire::parsePublish(subscriber->expect(kPublish));
  EXPECT_EQ(again.payload, "stored");
  EXPECT_EQ(again.qos, 1);
  subscriber->send(wire::ack(kPuback, again.packetId));
  publisher->send(wire::publish("resub/t", "live", 1, 2));
  publisher->expect(kPuback);
  const wire::PublishView live = wire::parsePublish(subscriber->expect(kPublish));
  EXPECT_EQ(live.payload, "live");
  subscriber->send(wire::ack(kPuback, live.packetId));
  publisher->send(wire::publish("resub/t", "marker"));
  EXPECT_EQ(wire::parsePublish(subscriber->expect(kPublish)).payload, "marker")
      << "one subscription, one copy";
}

TEST_F(RawProtocol, C14_06_PlusWildcardDoesNotMatchDollarTopics) {
  auto plus = connectV311("plus");
  plus->send(wire::subscribe(1, "+/broker/version", 0));
  plus->expect(kSuback);
  plus->send(wire::subscribe(2, "+/marker", 0));
  plus->expect(kSuback);
  auto publisher = connectV311("plus-pub");
  publisher->send(wire::publish("x/marker", "marker"));
  EXPECT_EQ(wire::parsePublish(plus->expect(kPublish)).topic, "x/marker")
      << "'+' matched a $SYS topic";
}

}  // namespace
}  // namespace midge::test
