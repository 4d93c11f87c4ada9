// SPDX-License-Identifier: Apache-2.0
// Restart tests against the real broker with persistence on: what a durable session held
// when the broker stopped (SIGTERM) or crashed (SIGKILL) is there after the next start,
// exactly as the MQTT spec and the durability contract in docs/persistence.md require.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/durability/durability_support.hpp"

namespace midge::test::durability {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Mode {
  std::uint8_t level;  // of the subscriber (and publisher where the test says so)
  bool crash;          // SIGKILL instead of SIGTERM
};

std::string modeName(const ::testing::TestParamInfo<Mode>& info) {
  return std::string(info.param.level == 5 ? "V5" : "V311") +
         (info.param.crash ? "Sigkill" : "Sigterm");
}

std::uint16_t packetIdOf(const RawPacket& packet) {
  if (packet.body.size() < 2) throw std::runtime_error("packet without a packet identifier");
  return static_cast<std::uint16_t>(packet.body[0] << 8 | packet.body[1]);
}

// Receives PUBLISH packets and acknowledges them as a correct receiver does (QoS 1: PUBACK;
// QoS 2: PUBREC, then PUBCOMP when PUBREL comes) until one carries `lastPayload`. Returns
// every PUBLISH seen, in order, the last one included.
std::vector<wire::PublishView> receiveUntil(RawClient& client, bool v5,
                                            const std::string& lastPayload,
                                            std::chrono::milliseconds timeout = 5s) {
  std::vector<wire::PublishView> seen;
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) throw std::runtime_error("timed out waiting for " + lastPayload);
    const ReadResult result = client.read(left);
    if (result.status != ReadStatus::Packet) {
      throw std::runtime_error("connection closed or silent while waiting for " + lastPayload);
    }
    const RawPacket& packet = result.packet;
    if (packet.type() == kPubrel) {
      client.send(wire::ack(kPubcomp, packetIdOf(packet)));
      continue;
    }
    if (packet.type() != kPublish) {
      throw std::runtime_error("unexpected packet type " + std::to_string(packet.type()));
    }
    wire::PublishView view = wire::parsePublish(packet, v5);
    if (view.qos == 1) client.send(wire::ack(kPuback, view.packetId));
    if (view.qos == 2) client.send(wire::ack(kPubrec, view.packetId));
    seen.push_back(view);
    if (view.payload == lastPayload) return seen;
  }
}

std::vector<std::string> payloadsOf(const std::vector<wire::PublishView>& views) {
  std::vector<std::string> payloads;
  for (const wire::PublishView& view : views) payloads.push_back(view.payload);
  return payloads;
}

class DurableBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    enablePersistence(broker_);
    broker_.start();
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << "---- broker log ----\n" << broker_.log() << "----\n";
  }

  void restart(bool crash) {
    if (crash) {
      EXPECT_EQ(broker_.kill(), 128 + SIGKILL);
    } else {
      EXPECT_EQ(broker_.stop(), 0) << "a SIGTERM shutdown exits cleanly";
    }
    broker_.start();
  }

  void publishQos1(RawClient& client, bool v5, const std::string& topic,
                   const std::string& payload, std::uint16_t id, bool retain = false) {
    ASSERT_TRUE(client.send(wire::publish(topic, payload, 1, id, retain, v5)));
    EXPECT_EQ(packetIdOf(client.expect(kPuback)), id);
  }

  void publishQos2(RawClient& client, bool v5, const std::string& topic,
                   const std::string& payload, std::uint16_t id, bool retain = false) {
    ASSERT_TRUE(client.send(wire::publish(topic, payload, 2, id, retain, v5)));
    EXPECT_EQ(packetIdOf(client.expect(kPubrec)), id);
    ASSERT_TRUE(client.send(wire::ack(kPubrel, id)));
    EXPECT_EQ(packetIdOf(client.expect(kPubcomp)), id);
  }

  Connected connectPublisher(const std::string& clientId = "publisher") {
    SessionSpec spec;
    spec.clientId = clientId;
    spec.cleanStart = true;
    return connectSession(broker_.port(), spec);
  }

  BrokerProcess broker_;
};

class RestartTest : public DurableBrokerTest, public ::testing::WithParamInterface<Mode> {
 protected:
  SessionSpec subscriberSpec(const std::string& clientId) const {
    SessionSpec spec;
    spec.clientId = clientId;
    spec.level = GetParam().level;
    return spec;
  }
  bool v5() const { return GetParam().level == 5; }
};

TEST_P(RestartTest, OfflineSubscriberGetsEveryQueuedMessageOnceAfterRestart) {
  const SessionSpec sub = subscriberSpec("offline-sub");
  {
    Connected first = connectSession(broker_.port(), sub);
    EXPECT_FALSE(first.sessionPresent);
    subscribe(*first.client, sub, 1, "queued/#", 2);
    first.client->send(wire::disconnect(v5()));
  }
  Connected publisher = connectPublisher();
  std::vector<std::string> qos1;
  std::vector<std::string> qos2;
  for (std::uint16_t i = 1; i <= 5; ++i) {
    qos1.push_back("q1-" + std::to_string(i));
    publishQos1(*publisher.client, false, "queued/t", qos1.back(), i);
    qos2.push_back("q2-" + std::to_string(i));
    publishQos2(*publisher.client, false, "queued/t", qos2.back(),
                static_cast<std::uint16_t>(i + 100));
  }
  publisher.client->close();

  restart(GetParam().crash);

  Connected again = connectSession(broker_.port(), sub);
  EXPECT_TRUE(again.sessionPresent) << "the durable session must survive the restart";
  // The subscription survived too: a message published now reaches the session without a
  // new SUBSCRIBE, and arrives after everything queued before the restart.
  Connected after = connectPublisher();
  publishQos1(*after.client, false, "queued/t", "after-restart", 1);
  const std::vector<wire::PublishView> seen = receiveUntil(*again.client, v5(), "after-restart");

  std::vector<std::string> seenQos1;
  std::vector<std::string> seenQos2;
  for (const wire::PublishView& view : seen) {
    if (view.payload == "after-restart") continue;
    (view.qos == 2 ? seenQos2 : seenQos1).push_back(view.payload);
    EXPECT_EQ(view.qos, view.payload.rfind("q2-", 0) == 0 ? 2 : 1) << view.payload;
  }
  // Order within one QoS on one topic is preserved (MQTT 3.1.1 section 4.6); QoS 2 exactly once.
  EXPECT_EQ(seenQos1, qos1);
  EXPECT_EQ(seenQos2, qos2);
}

TEST_P(RestartTest, RetainedMessagesSurviveAndDeletedOnesStayDeleted) {
  {
    Connected publisher = connectPublisher();
    publishQos1(*publisher.client, false, "kept/a", "A", 1, true);
    publishQos2(*publisher.client, false, "kept/b", "B", 2, true);
    ASSERT_TRUE(publisher.client->send(wire::publish("kept/c", "C", 0, 0, true)));
    publishQos1(*publisher.client, false, "kept/d", "D", 3, true);
    publishQos1(*publisher.client, false, "kept/d", "", 4, true);  // clears kept/d
  }

  restart(GetParam().crash);

  SessionSpec reader = subscriberSpec("retained-reader");
  reader.cleanStart = true;
  Connected client = connectSession(broker_.port(), reader);
  subscribe(*client.client, reader, 1, "kept/#", 2);
  Connected publisher = connectPublisher();
  publishQos1(*publisher.client, false, "kept/zz-marker", "marker", 9);
  const std::vector<wire::PublishView> seen = receiveUntil(*client.client, v5(), "marker");
  std::set<std::string> retained;
  for (const wire::PublishView& view : seen) {
    if (view.payload == "marker") continue;
    EXPECT_TRUE(view.retain) << view.topic << " is delivered as a retained message";
    EXPECT_TRUE(retained.insert(view.topic + "=" + view.payload).second) << "twice: " << view.topic;
  }
  EXPECT_EQ(retained, (std::set<std::string>{"kept/a=A", "kept/b=B", "kept/c=C"}));
}

TEST_P(RestartTest, UnacknowledgedPublishIsResentWithDupAndTheSamePacketId) {
  const SessionSpec sub = subscriberSpec("inflight-sub");
  Connected online = connectSession(broker_.port(), sub);
  subscribe(*online.client, sub, 1, "inflight/#", 2);
  Connected publisher = connectPublisher();
  publishQos1(*publisher.client, false, "inflight/t", "first-qos1", 1);
  publishQos2(*publisher.client, false, "inflight/t", "second-qos2", 2);
  publisher.client->close();

  const wire::PublishView first = wire::parsePublish(online.client->expect(kPublish), v5());
  const wire::PublishView second = wire::parsePublish(online.client->expect(kPublish), v5());
  ASSERT_EQ(first.payload, "first-qos1");
  ASSERT_EQ(second.payload, "second-qos2");
  EXPECT_FALSE(first.dup);
  EXPECT_FALSE(second.dup);
  // Neither is acknowledged: both stay in flight across the restart.

  restart(GetParam().crash);

  Connected again = connectSession(broker_.port(), sub);
  EXPECT_TRUE(again.sessionPresent);
  const wire::PublishView resentFirst = wire::parsePublish(again.client->expect(kPublish), v5());
  const wire::PublishView resentSecond = wire::parsePublish(again.client->expect(kPublish), v5());
  EXPECT_EQ(resentFirst.payload, "first-qos1");
  EXPECT_TRUE(resentFirst.dup);
  EXPECT_EQ(resentFirst.packetId, first.packetId);
  EXPECT_EQ(resentFirst.qos, 1);
  EXPECT_EQ(resentSecond.payload, "second-qos2");
  EXPECT_TRUE(resentSecond.dup);
  EXPECT_EQ(resentSecond.packetId, second.packetId);
  EXPECT_EQ(resentSecond.qos, 2);

  again.client->send(wire::ack(kPuback, resentFirst.packetId));
  again.client->send(wire::ack(kPubrec, resentSecond.packetId));
  EXPECT_EQ(packetIdOf(again.client->expect(kPubrel)), resentSecond.packetId);
  again.client->send(wire::ack(kPubcomp, resentSecond.packetId));

  Connected marker = connectPublisher();
  publishQos1(*marker.client, false, "inflight/t", "marker", 3);
  EXPECT_EQ(payloadsOf(receiveUntil(*again.client, v5(), "marker")),
            std::vector<std::string>{"marker"})
      << "acknowledged messages are not sent again";
}

TEST_P(RestartTest, PubrecReceivedBeforeRestartGetsPubrelNotPublish) {
  const SessionSpec sub = subscriberSpec("pubrel-sub");
  Connected online = connectSession(broker_.port(), sub);
  subscribe(*online.client, sub, 1, "rel/#", 2);
  Connected publisher = connectPublisher();
  publishQos2(*publisher.client, false, "rel/t", "exactly-once", 1);
  publisher.client->close();

  const wire::PublishView view = wire::parsePublish(online.client->expect(kPublish), v5());
  ASSERT_EQ(view.payload, "exactly-once");
  online.client->send(wire::ack(kPubrec, view.packetId));
  // PUBREL leaves only after the PUBREC state is committed; no PUBCOMP is sent.
  EXPECT_EQ(packetIdOf(online.client->expect(kPubrel)), view.packetId);
  // Gone before the restart: a graceful stop would otherwise wait up to 3 s for this
  // connection to close (UnacknowledgedPublish... covers a client online during the stop).
  online.client->close();

  restart(GetParam().crash);

  Connected again = connectSession(broker_.port(), sub);
  EXPECT_TRUE(again.sessionPresent);
  const RawPacket first = again.client->expect(kPubrel);
  EXPECT_EQ(packetIdOf(first), view.packetId);
  EXPECT_EQ(first.flags(), 0x02);
  again.client->send(wire::ack(kPubcomp, view.packetId));

  Connected marker = connectPublisher();
  publishQos1(*marker.client, false, "rel/t", "marker", 2);
  EXPECT_EQ(payloadsOf(receiveUntil(*again.client, v5(), "marker")),
            std::vector<std::string>{"marker"})
      << "the released message must not be delivered again";
}

TEST_P(RestartTest, InboundQos2PacketIdSurvivesSoTheResendIsNotDeliveredTwice) {
  const SessionSpec sub = subscriberSpec("inbound-sub");
  Connected receiver = connectSession(broker_.port(), sub);
  subscribe(*receiver.client, sub, 1, "in/#", 2);

  SessionSpec pub = subscriberSpec("inbound-pub");  // durable publisher, same protocol
  Connected publisher = connectSession(broker_.port(), pub);
  ASSERT_TRUE(publisher.client->send(wire::publish("in/t", "only-once", 2, 7, false, v5())));
  EXPECT_EQ(packetIdOf(publisher.client->expect(kPubrec)), 7);
  // The publisher never sends PUBREL before the restart: the broker holds id 7 as received.
  const std::vector<wire::PublishView> before = receiveUntil(*receiver.client, v5(), "only-once");
  EXPECT_EQ(payloadsOf(before), std::vector<std::string>{"only-once"});
  // The subscriber's own flow completes before the restart, so a second "only-once" after
  // it could only come from the publisher's resend, not from the broker's outbound resend.
  EXPECT_EQ(packetIdOf(receiver.client->expect(kPubrel)), before.front().packetId);
  receiver.client->send(wire::ack(kPubcomp, before.front().packetId));
  receiver.client->send(wire::pingreq());
  receiver.client->expect(kPingresp);  // sent after the turn with the PUBCOMP was committed
  receiver.client->close();
  publisher.client->close();

  restart(GetParam().crash);

  Connected resumed = connectSession(broker_.port(), pub);
  EXPECT_TRUE(resumed.sessionPresent);
  // A publisher that lost the PUBREC would resend the PUBLISH with DUP and the same id.
  ASSERT_TRUE(resumed.client->send(
      withDup(wire::publish("in/t", "only-once", 2, 7, false, v5()))));
  EXPECT_EQ(packetIdOf(resumed.client->expect(kPubrec)), 7);
  ASSERT_TRUE(resumed.client->send(wire::ack(kPubrel, 7)));
  const RawPacket pubcomp = resumed.client->expect(kPubcomp);
  EXPECT_EQ(packetIdOf(pubcomp), 7);
  if (v5() && pubcomp.body.size() > 2) {
    EXPECT_EQ(pubcomp.body[2], 0) << "id 7 was still known";
  }
  publishQos1(*resumed.client, v5(), "in/t", "marker", 8);

  Connected again = connectSession(broker_.port(), sub);
  EXPECT_TRUE(again.sessionPresent);
  EXPECT_EQ(payloadsOf(receiveUntil(*again.client, v5(), "marker")),
            std::vector<std::string>{"marker"})
      << "the resent QoS 2 PUBLISH was delivered a second time";
}

TEST_P(RestartTest, QueuedMessageOutlivesItsClearedRetainedCopy) {
  // One stored message row is shared by the retained entry and the queued delivery; clearing
  // the retained entry must not take the row from the delivery.
  const SessionSpec sub = subscriberSpec("shared-row-sub");
  {
    Connected first = connectSession(broker_.port(), sub);
    subscribe(*first.client, sub, 1, "row/#", 1);
    first.client->send(wire::disconnect(v5()));
  }
  {
    Connected publisher = connectPublisher();
    publishQos1(*publisher.client, false, "row/t", "kept-for-the-session", 1, true);
    publishQos1(*publisher.client, false, "row/t", "", 2, true);  // clears the retained copy
  }

  restart(GetParam().crash);

  Connected again = connectSession(broker_.port(), sub);
  EXPECT_TRUE(again.sessionPresent);
  Connected marker = connectPublisher();
  publishQos1(*marker.client, false, "row/t", "marker", 3);
  const std::vector<wire::PublishView> seen = receiveUntil(*again.client, v5(), "marker");
  // The empty retained PUBLISH is an ordinary message to a session already subscribed.
  EXPECT_EQ(payloadsOf(seen), (std::vector<std::string>{"kept-for-the-session", "", "marker"}));
}

TEST_P(RestartTest, SharedSubscriptionOfADurableSessionSurvives) {
  const SessionSpec sub = subscriberSpec("shared-sub");
  {
    Connected first = connectSession(broker_.port(), sub);
    subscribe(*first.client, sub, 1, "$share/group/shared/#", 1);
    first.client->send(wire::disconnect(v5()));
  }
  {
    Connected publisher = connectPublisher();
    publishQos1(*publisher.client, false, "shared/t", "queued-for-the-group", 1);
  }

  restart(GetParam().crash);

  Connected again = connectSession(broker_.port(), sub);
  EXPECT_TRUE(again.sessionPresent);
  Connected publisher = connectPublisher();
  publishQos1(*publisher.client, false, "shared/t", "after-restart", 2);
  EXPECT_EQ(payloadsOf(receiveUntil(*again.client, v5(), "after-restart")),
            (std::vector<std::string>{"queued-for-the-group", "after-restart"}));
}

TEST_P(RestartTest, CleanStartDiscardsTheStoredSessionForGood) {
  SessionSpec sub = subscriberSpec("discarded-sub");
  {
    Connected first = connectSession(broker_.port(), sub);
    subscribe(*first.client, sub, 1, "gone/#", 1);
    first.client->send(wire::disconnect(v5()));
  }
  {
    Connected publisher = connectPublisher();
    publishQos1(*publisher.client, false, "gone/t", "for-the-old-session", 1);
  }
  SessionSpec clean = sub;
  clean.cleanStart = true;
  clean.sessionExpiry = 0;
  {
    Connected fresh = connectSession(broker_.port(), clean);
    EXPECT_FALSE(fresh.sessionPresent);
    fresh.client->send(wire::disconnect(v5()));
  }

  restart(GetParam().crash);

  Connected again = connectSession(broker_.port(), sub);
  EXPECT_FALSE(again.sessionPresent) << "clean start deleted the session before the restart";
  subscribe(*again.client, sub, 1, "gone/#", 1);
  Connected publisher = connectPublisher();
  publishQos1(*publisher.client, false, "gone/t", "marker", 2);
  EXPECT_EQ(payloadsOf(receiveUntil(*again.client, v5(), "marker")),
            std::vector<std::string>{"marker"});
}

INSTANTIATE_TEST_SUITE_P(Durability, RestartTest,
                         ::testing::Values(Mode{4, false}, Mode{4, true}, Mode{5, false},
                                           Mode{5, true}),
                         modeName);

// The subscription identifier (0x0B) 42 as it appears in a PUBLISH's properties.
bool carriesSubscriptionId42(const wire::PublishView& view) {
  const ByteVector wanted{0x0B, 0x2A};
  return std::search(view.properties.begin(), view.properties.end(), wanted.begin(),
                     wanted.end()) != view.properties.end();
}

TEST_F(DurableBrokerTest, SubscriptionIdentifierSurvivesOnQueuedAndNewMessages) {
  SessionSpec sub;
  sub.clientId = "sub-id";
  sub.level = 5;
  {
    Connected first = connectSession(broker_.port(), sub);
    ASSERT_TRUE(first.client->send(wire::subscribe(1, "ids/#", 1, true, {0x0B, 0x2A})));
    first.client->expect(kSuback);
    first.client->send(wire::disconnect(true));
  }
  {
    Connected publisher = connectPublisher();
    publishQos1(*publisher.client, false, "ids/t", "queued", 1);
  }

  restart(true);

  Connected again = connectSession(broker_.port(), sub);
  EXPECT_TRUE(again.sessionPresent);
  Connected publisher = connectPublisher();
  publishQos1(*publisher.client, false, "ids/t", "new", 2);
  const std::vector<wire::PublishView> seen = receiveUntil(*again.client, true, "new");
  ASSERT_EQ(payloadsOf(seen), (std::vector<std::string>{"queued", "new"}));
  EXPECT_TRUE(carriesSubscriptionId42(seen[0])) << "on the message queued before the crash";
  EXPECT_TRUE(carriesSubscriptionId42(seen[1])) << "on a message matched after the restart";
}

TEST_F(DurableBrokerTest, ExpiredSessionAndExpiredMessagesDoNotComeBack) {
  SessionSpec shortLived;
  shortLived.clientId = "short-lived";
  shortLived.level = 5;
  shortLived.sessionExpiry = 2;
  SessionSpec longLived = shortLived;
  longLived.clientId = "long-lived";
  longLived.sessionExpiry = 3600;
  for (const SessionSpec& spec : {shortLived, longLived}) {
    Connected client = connectSession(broker_.port(), spec);
    subscribe(*client.client, spec, 1, "exp/#", 1);
    client.client->send(wire::disconnect(true));
  }
  {
    Connected publisher = connectPublisher();
    for (std::uint16_t i = 1; i <= 3; ++i) {
      publishQos1(*publisher.client, false, "exp/t", "m" + std::to_string(i), i);
    }
    // Message expiry runs through the downtime as well (MQTT 5 section 3.3.2.3.3).
    SessionSpec v5Publisher;
    v5Publisher.clientId = "expiring-publisher";
    v5Publisher.level = 5;
    v5Publisher.cleanStart = true;
    v5Publisher.sessionExpiry = 0;
    Connected expiring = connectSession(broker_.port(), v5Publisher);
    const ByteVector twoSeconds{0x02, 0x00, 0x00, 0x00, 0x02};
    const ByteVector oneHour{0x02, 0x00, 0x00, 0x0E, 0x10};
    ASSERT_TRUE(expiring.client->send(
        wire::publish("exp/t", "gone-by-then", 1, 1, false, true, twoSeconds)));
    expiring.client->expect(kPuback);
    ASSERT_TRUE(expiring.client->send(
        wire::publish("exp/t", "still-valid", 1, 2, false, true, oneHour)));
    expiring.client->expect(kPuback);
  }
  ASSERT_EQ(broker_.stop(), 0);
  const std::string store = storePath(broker_);
  // Both sessions hold their five messages on disk, so the purge below is observable.
  const std::string countOf = "SELECT count(*) FROM deliveries WHERE client_id=";
  ASSERT_EQ(queryInteger(store, countOf + "'short-lived'"), 5);
  ASSERT_EQ(queryInteger(store, countOf + "'long-lived'"), 5);

  // The broker stays down longer than the 2 s session expiry: time passing is the scenario.
  std::this_thread::sleep_for(3s);
  broker_.start();

  Connected expired = connectSession(broker_.port(), shortLived);
  EXPECT_FALSE(expired.sessionPresent) << "the session expired while the broker was down";
  subscribe(*expired.client, shortLived, 1, "exp/#", 1);
  Connected keptSession = connectSession(broker_.port(), longLived);
  EXPECT_TRUE(keptSession.sessionPresent);
  Connected publisher = connectPublisher();
  publishQos1(*publisher.client, false, "exp/t", "marker", 9);
  EXPECT_EQ(payloadsOf(receiveUntil(*expired.client, true, "marker")),
            std::vector<std::string>{"marker"})
      << "messages of the expired session must not be delivered to its successor";
  const std::vector<wire::PublishView> kept = receiveUntil(*keptSession.client, true, "marker");
  EXPECT_EQ(payloadsOf(kept),
            (std::vector<std::string>{"m1", "m2", "m3", "still-valid", "marker"}))
      << "a message whose expiry passed while the broker was down is not delivered";
  if (kept.size() == 5) {
    // The remaining lifetime is sent, and the downtime is taken off it.
    const ByteVector& properties = kept[3].properties;
    ASSERT_GE(properties.size(), 5u);
    ASSERT_EQ(properties[0], 0x02);
    const std::uint32_t remaining = static_cast<std::uint32_t>(
        properties[1] << 24 | properties[2] << 16 | properties[3] << 8 | properties[4]);
    EXPECT_LE(remaining, 3600u - 3u);
    EXPECT_GT(remaining, 3500u);
  }

  // A PINGRESP leaves after the turn that handled the PUBACKs before it was committed.
  publisher.client->close();
  for (Connected* client : {&expired, &keptSession}) {
    client->client->send(wire::pingreq());
    client->client->expect(kPingresp);
    client->client->close();
  }
  ASSERT_EQ(broker_.stop(), 0);
  EXPECT_EQ(queryInteger(store, "SELECT count(*) FROM deliveries"), 0);
  EXPECT_EQ(queryInteger(store, "SELECT count(*) FROM messages"), 0)
      << "no delivery refers to the old messages any more";
}

}  // namespace
}  // namespace midge::test::durability
