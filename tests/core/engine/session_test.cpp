// SPDX-License-Identifier: Apache-2.0
// Sessions across connections and restarts: resume, resend with DUP, wills, expiry, and the
// group-commit rule that nothing is acknowledged before the store commits.
#include "tests/core/engine/harness.hpp"

namespace midge::testing {
namespace {

using codec::ProtocolVersion;

codec::Will willOn(std::string_view topic, std::string_view payload, std::uint32_t delay = 0) {
  codec::Will will;
  will.topic = topic;
  will.payload = asBytes(payload);
  will.qos = 1;
  if (delay != 0) will.properties.willDelayInterval = delay;
  return will;
}

// A publisher's QoS 2 PUBLISH sent again after a reconnect: DUP set, the same packet id.
codec::Publish qos2Resend(std::string_view topic, std::string_view payload,
                          std::uint16_t packetId) {
  codec::Publish resend;
  resend.topic = topic;
  resend.payload = asBytes(payload);
  resend.qos = 2;
  resend.dup = true;
  resend.packetId = packetId;
  return resend;
}

TEST(EngineSession, CleanSessionZeroResumesWithQueuedMessages) {
  Harness harness;
  auto subscriber = harness.open(ProtocolVersion::V311);
  EXPECT_FALSE(subscriber->connect("durable", false).sessionPresent);
  subscriber->subscribe("t", 1);
  subscriber->send(codec::Disconnect{});
  subscriber->dropConnection();
  auto publisher = harness.open();
  publisher->connect("pub");
  publisher->publish("t", "while away", 1);
  auto back = harness.open(ProtocolVersion::V311);
  EXPECT_TRUE(back->connect("durable", false).sessionPresent);
  EXPECT_EQ(payloadOf(back->nextAs<codec::Publish>()), "while away");
}

TEST(EngineSession, CleanStartDiscardsTheSession) {
  Harness harness;
  auto subscriber = harness.open();
  subscriber->connect("s", false, 3600);
  subscriber->subscribe("t", 1);
  subscriber->send(codec::Disconnect{});
  subscriber->dropConnection();
  auto back = harness.open();
  EXPECT_FALSE(back->connect("s", true, 3600).sessionPresent);
  auto publisher = harness.open();
  publisher->connect("pub");
  publisher->publish("t", "x", 0);
  EXPECT_FALSE(back->hasPacket());
}

TEST(EngineSession, UnacknowledgedMessagesAreResentWithDupOnResume) {
  Harness harness;
  auto subscriber = harness.open();
  subscriber->connect("s", false, 3600);
  subscriber->subscribe("q1", 1);
  subscriber->subscribe("q2", 2);
  auto publisher = harness.open();
  publisher->connect("pub");
  publisher->publish("q1", "one", 1);
  publisher->publish("q2", "two", 2);
  auto first = subscriber->nextAs<codec::Publish>();
  auto second = subscriber->nextAs<codec::Publish>();
  // Acknowledge the QoS 2 message halfway (PUBREC), then lose the connection.
  subscriber->send(codec::Ack{codec::PacketType::Pubrec, second.packetId, ReasonCode::Success, {}});
  subscriber->nextAs<codec::Ack>();  // PUBREL
  subscriber->dropConnection();

  auto back = harness.open();
  EXPECT_TRUE(back->connect("s", false, 3600).sessionPresent);
  auto resent = back->nextAs<codec::Publish>();
  EXPECT_TRUE(resent.dup);
  EXPECT_EQ(resent.packetId, first.packetId);
  EXPECT_EQ(payloadOf(resent), "one");
  auto pubrel = back->nextAs<codec::Ack>();
  EXPECT_EQ(pubrel.type, codec::PacketType::Pubrel);
  EXPECT_EQ(pubrel.packetId, second.packetId);
  EXPECT_FALSE(back->hasPacket());
}

TEST(EngineSession, WillOnAbnormalCloseNotOnNormalDisconnect) {
  Harness harness;
  auto watcher = harness.open();
  watcher->connect("watcher");
  watcher->subscribe("wills/#", 1);

  auto crashing = harness.open();
  crashing->connect("crashing", true, std::nullopt, willOn("wills/crashing", "gone"));
  crashing->dropConnection();
  auto will = watcher->nextAs<codec::Publish>();
  EXPECT_EQ(will.topic, "wills/crashing");
  EXPECT_EQ(payloadOf(will), "gone");

  auto polite = harness.open();
  polite->connect("polite", true, std::nullopt, willOn("wills/polite", "gone"));
  polite->send(codec::Disconnect{});
  polite->dropConnection();
  EXPECT_FALSE(watcher->hasPacket());

  auto explicitWill = harness.open();
  explicitWill->connect("explicit", true, std::nullopt, willOn("wills/explicit", "asked"));
  codec::Disconnect withWill;
  withWill.reason = ReasonCode::DisconnectWithWill;
  explicitWill->send(withWill);
  explicitWill->dropConnection();
  EXPECT_EQ(watcher->nextAs<codec::Publish>().topic, "wills/explicit");
}

TEST(EngineSession, WillDelayAndReconnectCancelsIt) {
  Harness harness;
  auto watcher = harness.open();
  watcher->connect("watcher");
  watcher->subscribe("wills/#", 1);

  auto flaky = harness.open();
  flaky->connect("flaky", false, 3600, willOn("wills/flaky", "gone", 10));
  flaky->dropConnection();
  harness.tick(5);
  auto back = harness.open();
  back->connect("flaky", false, 3600);
  harness.tick(10);
  EXPECT_FALSE(watcher->hasPacket()) << "will published although the client came back";

  back->dropConnection();  // no will in the second CONNECT
  auto delayed = harness.open();
  delayed->connect("delayed", false, 3600, willOn("wills/delayed", "late", 10));
  delayed->dropConnection();
  harness.tick(8);
  EXPECT_FALSE(watcher->hasPacket());
  harness.tick(3);
  EXPECT_EQ(watcher->nextAs<codec::Publish>().topic, "wills/delayed");
}

TEST(EngineSession, SessionExpiresAfterItsInterval) {
  Harness harness;
  auto client = harness.open();
  client->connect("short", false, 5);
  client->subscribe("t", 1);
  client->send(codec::Disconnect{});
  client->dropConnection();
  EXPECT_EQ(harness.broker().sessionCount(), 1u);
  harness.tick(7);
  EXPECT_EQ(harness.broker().sessionCount(), 0u);
  auto back = harness.open();
  EXPECT_FALSE(back->connect("short", false, 5).sessionPresent);
}

TEST(EngineSession, DisconnectMaySetExpiryOnlyIfConnectHadOne) {
  Harness harness;
  auto client = harness.open();
  client->connect("zero", true, 0);
  codec::Disconnect disconnect;
  disconnect.properties.sessionExpiryInterval = 60;
  client->send(disconnect);
  EXPECT_EQ(client->nextAs<codec::Disconnect>().reason, ReasonCode::ProtocolError);
}

TEST(EngineSession, StateSurvivesARestartThroughTheStore) {
  Harness harness;
  auto subscriber = harness.open();
  subscriber->connect("durable", false, 3600);
  subscriber->subscribe("t", 2);
  subscriber->send(codec::Disconnect{});
  subscriber->dropConnection();
  auto publisher = harness.open();
  publisher->connect("pub");
  publisher->publish("t", "kept", 2, false, 3);
  publisher->nextAs<codec::Ack>();  // PUBREC: committed
  publisher->publish("retained/x", "r", 1, true);
  publisher->nextAs<codec::Ack>();

  harness.rebuild();  // a new engine over the same store: a restart

  auto back = harness.open();
  EXPECT_TRUE(back->connect("durable", false, 3600).sessionPresent);
  auto delivered = back->nextAs<codec::Publish>();
  EXPECT_EQ(payloadOf(delivered), "kept");
  EXPECT_EQ(delivered.qos, 2);
  EXPECT_EQ(harness.broker().retainedCount(), 1u);
  // The publisher's QoS 2 id survived: a resend after the restart is not delivered again.
  auto publisherAgain = harness.open();
  publisherAgain->connect("pub");  // clean start: its inbound state is discarded
  auto late = harness.open();
  late->connect("late");
  late->subscribe("retained/#", 1);
  EXPECT_EQ(payloadOf(late->nextAs<codec::Publish>()), "r");
}

TEST(EngineSession, InboundQos2IdSurvivesARestart) {
  Harness harness;
  auto subscriber = harness.open();
  subscriber->connect("sub", false, 3600);
  subscriber->subscribe("t", 2);
  subscriber->send(codec::Disconnect{});
  subscriber->dropConnection();
  auto publisher = harness.open();
  publisher->connect("pub", false, 3600);
  publisher->publish("t", "once", 2, false, 9);
  publisher->nextAs<codec::Ack>();  // PUBREC
  harness.rebuild();
  auto again = harness.open();
  EXPECT_TRUE(again->connect("pub", false, 3600).sessionPresent);
  again->send(qos2Resend("t", "once", 9));
  EXPECT_EQ(again->nextAs<codec::Ack>().type, codec::PacketType::Pubrec);
  auto back = harness.open();
  back->connect("sub", false, 3600);
  back->nextAs<codec::Publish>();
  EXPECT_FALSE(back->hasPacket()) << "QoS 2 message delivered twice across a restart";
}

TEST(EngineSession, NothingIsAcknowledgedWhenTheCommitFails) {
  Harness harness;
  auto subscriber = harness.open();
  subscriber->connect("sub", false, 3600);
  subscriber->subscribe("t", 1);
  subscriber->send(codec::Disconnect{});
  subscriber->dropConnection();
  auto publisher = harness.open();
  publisher->connect("pub");
  auto bystander = harness.open();
  bystander->connect("bystander");

  harness.store.failNextCommit();
  publisher->publish("t", "unsafe", 1);
  EXPECT_FALSE(publisher->hasPacket()) << "PUBACK sent for an uncommitted message";
  EXPECT_TRUE(publisher->closeRequested());
  EXPECT_EQ(harness.broker().stats().storeFailures, 1u);
  EXPECT_TRUE(harness.output.logged("store commit failed"));
  // The broker keeps serving others.
  bystander->send(codec::Pingreq{});
  bystander->nextAs<codec::Pingresp>();
}

}  // namespace
}  // namespace midge::testing

namespace midge::testing {
namespace {

TEST(EngineSession, InflightMessagesAreResentEvenAfterTheirExpiry) {
  Harness harness;
  auto subscriber = harness.open();
  subscriber->connect("s", false, 3600);
  subscriber->subscribe("t", 1);
  auto publisher = harness.open();
  publisher->connect("pub");
  codec::Publish publish;
  publish.topic = "t";
  publish.qos = 1;
  publish.packetId = 1;
  publish.payload = asBytes("short-lived");
  publish.properties.messageExpiryInterval = 2;
  publisher->send(publish);
  const std::uint16_t packetId = subscriber->nextAs<codec::Publish>().packetId;
  subscriber->dropConnection();  // the PUBLISH was sent but never acknowledged
  harness.tick(5);
  auto back = harness.open();
  EXPECT_TRUE(back->connect("s", false, 3600).sessionPresent);
  // MQTT 5 4.3.3-7 / 4.4.0-1: once sent, the flow completes; expiry no longer applies.
  auto resent = back->nextAs<codec::Publish>();
  EXPECT_TRUE(resent.dup);
  EXPECT_EQ(resent.packetId, packetId);
  EXPECT_EQ(payloadOf(resent), "short-lived");
}

// A failed commit rolls the store back. A delivery of that turn to another client must not
// leave either: after a restart the publisher resends its QoS 2 message (same packet id) and
// the subscriber would otherwise receive it twice.
TEST(EngineSession, FailedCommitWithholdsDeliveriesAndTheStoreCatchesUp) {
  Harness harness;
  auto subscriber = harness.open();
  subscriber->connect("sub", false, 3600);
  subscriber->subscribe("t", 2);
  auto publisher = harness.open();
  publisher->connect("pub", false, 3600);

  harness.store.failNextCommit();
  publisher->publish("t", "once", 2, false, 7);
  EXPECT_FALSE(publisher->hasPacket()) << "PUBREC sent for an uncommitted message";
  EXPECT_FALSE(subscriber->hasPacket()) << "delivered a message whose record was rolled back";
  EXPECT_TRUE(subscriber->closeRequested());
  subscriber->dropConnection();  // this turn commits what memory holds
  publisher->dropConnection();

  harness.rebuild();
  auto publisherBack = harness.open();
  EXPECT_TRUE(publisherBack->connect("pub", false, 3600).sessionPresent);
  publisherBack->send(qos2Resend("t", "once", 7));
  auto pubrec = publisherBack->nextAs<codec::Ack>();
  EXPECT_EQ(pubrec.type, codec::PacketType::Pubrec);
  EXPECT_EQ(pubrec.packetId, 7);

  auto subscriberBack = harness.open();
  EXPECT_TRUE(subscriberBack->connect("sub", false, 3600).sessionPresent);
  EXPECT_EQ(payloadOf(subscriberBack->nextAs<codec::Publish>()), "once");
  EXPECT_FALSE(subscriberBack->hasPacket()) << "the QoS 2 message arrived twice";
}

TEST(EngineSession, ResumeRespectsASmallerReceiveMaximum) {
  Harness harness;
  auto subscriber = harness.open();
  subscriber->connect("s", false, 3600);
  subscriber->subscribe("t", 1);
  auto publisher = harness.open();
  publisher->connect("pub");
  for (const char* payload : {"1", "2", "3"}) publisher->publish("t", payload, 1);
  for (int i = 0; i < 3; ++i) subscriber->nextAs<codec::Publish>();
  subscriber->dropConnection();

  auto back = harness.open();
  codec::Connect connect;
  connect.version = ProtocolVersion::V5;
  connect.cleanStart = false;
  connect.clientId = "s";
  connect.properties.sessionExpiryInterval = 3600;
  connect.properties.receiveMaximum = 1;
  back->send(connect);
  EXPECT_TRUE(back->nextAs<codec::Connack>().sessionPresent);
  publisher->publish("t", "4", 1);
  // One unacknowledged PUBLISH at a time, the resends in order before the newer message.
  for (const char* expected : {"1", "2", "3", "4"}) {
    auto publish = back->nextAs<codec::Publish>();
    EXPECT_EQ(payloadOf(publish), expected);
    EXPECT_EQ(publish.dup, std::string_view(expected) != "4");
    EXPECT_FALSE(back->hasPacket()) << "more than Receive Maximum in flight";
    back->send(codec::Ack{codec::PacketType::Puback, publish.packetId, ReasonCode::Success, {}});
  }
}

// The broker stops while a client with a delayed will is connected: after the restart the
// will is still due (its connection ended without DISCONNECT) and keeps its properties,
// Message Expiry Interval included.
TEST(EngineSession, WillKeepsItsPropertiesAcrossARestart) {
  Harness harness;
  auto client = harness.open();
  codec::Will will = willOn("status/dev", "offline", 10);
  will.properties.messageExpiryInterval = 30;
  will.properties.contentType = "text/plain";
  client->connect("dev", false, 3600, will);

  harness.rebuild();
  auto watcher = harness.open();
  watcher->connect("watcher");
  watcher->subscribe("status/#", 1);
  harness.tick(9);
  EXPECT_FALSE(watcher->hasPacket()) << "the will delay restarted short";
  harness.tick(2);
  auto published = watcher->nextAs<codec::Publish>();
  EXPECT_EQ(payloadOf(published), "offline");
  EXPECT_EQ(published.properties.contentType.value_or(""), "text/plain");
  ASSERT_TRUE(published.properties.messageExpiryInterval.has_value());
  EXPECT_GT(*published.properties.messageExpiryInterval, 0u);
  EXPECT_LE(*published.properties.messageExpiryInterval, 30u);
}

TEST(EngineSession, RetainedMessagesThatExpiredWhileDownArePurgedAtRestart) {
  Harness harness;
  auto publisher = harness.open();
  publisher->connect("pub");
  for (const auto& [topic, expiry] : {std::pair<const char*, std::uint32_t>{"short", 5},
                                      std::pair<const char*, std::uint32_t>{"long", 3600}}) {
    codec::Publish publish;
    publish.topic = topic;
    publish.payload = asBytes("kept?");
    publish.retain = true;
    publish.properties.messageExpiryInterval = expiry;
    publisher->send(publish);
  }
  harness.clock.wall += 60;  // the broker is down for a minute
  harness.rebuild();
  store::Snapshot snapshot;
  ASSERT_TRUE(harness.store.load(snapshot).ok());
  ASSERT_EQ(snapshot.retained.size(), 1u);
  EXPECT_EQ(snapshot.retained.front().topic, "long");
}

}  // namespace
}  // namespace midge::testing
