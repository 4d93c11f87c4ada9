// SPDX-License-Identifier: Apache-2.0
// QoS 0/1/2 in both directions, packet identifiers, the window, and resends on reconnect.
#include <gtest/gtest.h>

#include <set>

#include "tests/core/client/client_test_util.hpp"

namespace midge::client::test {
namespace {

using codec::PacketType;
using codec::ProtocolVersion;

class ClientPublish : public ::testing::TestWithParam<ProtocolVersion> {};

TEST_P(ClientPublish, Qos0LeavesNoState) {
  MemoryJournal journal;
  Connected c(optionsFor(GetParam()), &journal);
  const auto ticket = c.client.publish(message("up/t", "hello", 0, true), 7, 1);
  ASSERT_TRUE(ticket);
  EXPECT_EQ(ticket->packetId, 0);
  const Sent publishSent = parse(c.client.takeBytes(), GetParam());
  const auto& publish = publishSent.at<codec::Publish>(0);
  EXPECT_EQ(publish.topic, "up/t");
  EXPECT_EQ(asStringView(publish.payload), "hello");
  EXPECT_TRUE(publish.retain);
  journal.commit();
  EXPECT_EQ(journal.size(), 0u);
  EXPECT_EQ(c.client.inflight(), 0u);
}

TEST_P(ClientPublish, Qos1CompletesOnPuback) {
  MemoryJournal journal;
  Connected c(optionsFor(GetParam()), &journal);
  const auto ticket = c.client.publish(message("up/t", "m", 1), 99, 1);
  ASSERT_TRUE(ticket);
  journal.commit();
  EXPECT_EQ(journal.size(), 1u);
  const Sent sent = parse(c.client.takeBytes(), GetParam());
  EXPECT_EQ(sent.at<codec::Publish>(0).packetId, ticket->packetId);
  EXPECT_FALSE(sent.at<codec::Publish>(0).dup);
  c.client.onBytes(view(ack(PacketType::Puback, ticket->packetId, GetParam())), 2);
  const auto done = eventsOf(c.client.takeEvents(), ClientEventKind::PublishDone);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].tag, 99u);
  journal.commit();
  EXPECT_EQ(journal.size(), 0u);
}

TEST_P(ClientPublish, Qos2RunsPubrecPubrelPubcomp) {
  MemoryJournal journal;
  Connected c(optionsFor(GetParam()), &journal);
  const auto ticket = c.client.publish(message("up/t", "m", 2), 5, 1);
  ASSERT_TRUE(ticket);
  c.client.takeBytes();
  c.client.onBytes(view(ack(PacketType::Pubrec, ticket->packetId, GetParam())), 2);
  const Sent rel = parse(c.client.takeBytes(), GetParam());
  ASSERT_TRUE(rel.is<codec::Ack>(0));
  EXPECT_EQ(rel.at<codec::Ack>(0).type, PacketType::Pubrel);
  journal.commit();
  ASSERT_EQ(journal.records().size(), 1u);
  EXPECT_EQ(journal.records()[0].state, JournalState::ReleaseSent);
  EXPECT_TRUE(c.client.takeEvents().empty());
  c.client.onBytes(view(ack(PacketType::Pubcomp, ticket->packetId, GetParam())), 3);
  EXPECT_EQ(eventsOf(c.client.takeEvents(), ClientEventKind::PublishDone).size(), 1u);
  journal.commit();
  EXPECT_EQ(journal.size(), 0u);
}

TEST_P(ClientPublish, Qos1InboundIsDeliveredAndAcked) {
  Connected c(optionsFor(GetParam()));
  c.client.onBytes(view(serverPublish(GetParam(), "down/cmd", "go", 1, 12)), 1);
  const auto messages = eventsOf(c.client.takeEvents(), ClientEventKind::Message);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].message.topic, "down/cmd");
  EXPECT_EQ(messages[0].message.qos, 1);
  const Sent pubackSent = parse(c.client.takeBytes(), GetParam());
  const auto& puback = pubackSent.at<codec::Ack>(0);
  EXPECT_EQ(puback.type, PacketType::Puback);
  EXPECT_EQ(puback.packetId, 12);
}

TEST_P(ClientPublish, Qos2InboundIsDeliveredOnceAcrossResends) {
  MemoryJournal journal;
  Connected c(optionsFor(GetParam()), &journal);
  c.client.onBytes(view(serverPublish(GetParam(), "down/cmd", "go", 2, 3)), 1);
  c.client.onBytes(view(serverPublish(GetParam(), "down/cmd", "go", 2, 3, true)), 2);
  EXPECT_EQ(eventsOf(c.client.takeEvents(), ClientEventKind::Message).size(), 1u);
  const Sent recs = parse(c.client.takeBytes(), GetParam());
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs.at<codec::Ack>(1).type, PacketType::Pubrec);
  journal.commit();
  EXPECT_EQ(journal.size(), 1u);
  c.client.onBytes(view(ack(PacketType::Pubrel, 3, GetParam())), 3);
  EXPECT_EQ(parse(c.client.takeBytes(), GetParam()).at<codec::Ack>(0).type, PacketType::Pubcomp);
  journal.commit();
  EXPECT_EQ(journal.size(), 0u);
  // After the exchange the identifier is free again: a new message with it is new.
  c.client.onBytes(view(serverPublish(GetParam(), "down/cmd", "again", 2, 3)), 4);
  EXPECT_EQ(eventsOf(c.client.takeEvents(), ClientEventKind::Message).size(), 1u);
}

TEST_P(ClientPublish, UnknownPubrelIsAnsweredWithPubcomp) {
  Connected c(optionsFor(GetParam()));
  c.client.onBytes(view(ack(PacketType::Pubrel, 44, GetParam())), 1);
  const Sent compSent = parse(c.client.takeBytes(), GetParam());
  const auto& comp = compSent.at<codec::Ack>(0);
  EXPECT_EQ(comp.type, PacketType::Pubcomp);
  EXPECT_EQ(comp.packetId, 44);
  EXPECT_EQ(c.client.state(), ClientState::Connected);
}

TEST_P(ClientPublish, PacketIdentifiersAreUniqueWhileInFlight) {
  ClientOptions options = optionsFor(GetParam());
  options.maxInflight = 1000;
  Connected c(options);
  std::set<std::uint16_t> ids;
  for (int i = 0; i < 1000; ++i) {
    const auto ticket = c.client.publish(message("t", "x", 1), 0, 1);
    ASSERT_TRUE(ticket);
    EXPECT_TRUE(ids.insert(ticket->packetId).second);
  }
  EXPECT_FALSE(c.client.canPublish());
  EXPECT_EQ(ids.count(0), 0u);
}

TEST_P(ClientPublish, ReconnectResendsWithDupAndPubrel) {
  MemoryJournal journal;
  Connected c(optionsFor(GetParam()), &journal);
  const auto q1 = c.client.publish(message("t", "one", 1), 1, 1);
  const auto q2 = c.client.publish(message("t", "two", 2), 2, 1);
  const auto q2b = c.client.publish(message("t", "three", 2), 3, 1);
  ASSERT_TRUE(q1 && q2 && q2b);
  c.client.onBytes(view(ack(PacketType::Pubrec, q2b->packetId, GetParam())), 2);
  c.client.takeBytes();
  c.client.onTransportClosed();
  EXPECT_EQ(eventsOf(c.client.takeEvents(), ClientEventKind::Closed).size(), 1u);
  ASSERT_TRUE(c.client.connect(3));
  c.client.takeBytes();
  c.client.onBytes(view(connack(GetParam(), 0, true)), 4);
  const Sent sent = parse(c.client.takeBytes(), GetParam());
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent.at<codec::Publish>(0).packetId, q1->packetId);
  EXPECT_TRUE(sent.at<codec::Publish>(0).dup);
  EXPECT_EQ(sent.at<codec::Publish>(1).packetId, q2->packetId);
  EXPECT_TRUE(sent.at<codec::Publish>(1).dup);
  EXPECT_EQ(sent.at<codec::Ack>(2).type, PacketType::Pubrel);
  EXPECT_EQ(sent.at<codec::Ack>(2).packetId, q2b->packetId);
}

TEST_P(ClientPublish, LostServerSessionCompletesReleasedAndResendsTheRest) {
  if (GetParam() == ProtocolVersion::V31) GTEST_SKIP() << "3.1 has no Session Present flag";
  Connected c(optionsFor(GetParam()));
  const auto q1 = c.client.publish(message("t", "one", 1), 1, 1);
  const auto q2 = c.client.publish(message("t", "two", 2), 2, 1);
  ASSERT_TRUE(q1 && q2);
  c.client.onBytes(view(ack(PacketType::Pubrec, q2->packetId, GetParam())), 2);
  c.client.takeBytes();
  c.client.takeEvents();
  c.client.onTransportClosed();
  ASSERT_TRUE(c.client.connect(3));
  c.client.takeBytes();
  c.client.onBytes(view(connack(GetParam(), 0, false)), 4);
  const auto done = eventsOf(c.client.takeEvents(), ClientEventKind::PublishDone);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].tag, 2u);
  const Sent sent = parse(c.client.takeBytes(), GetParam());
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent.at<codec::Publish>(0).packetId, q1->packetId);
}

TEST_P(ClientPublish, ResendsRespectASmallerReceiveMaximum) {
  if (GetParam() != ProtocolVersion::V5) GTEST_SKIP() << "Receive Maximum is MQTT 5";
  Connected c(optionsFor(GetParam()));
  std::vector<std::uint16_t> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(c.client.publish(message("t", "x", 1), 0, 1)->packetId);
  c.client.takeBytes();
  c.client.onTransportClosed();
  ASSERT_TRUE(c.client.connect(2));
  c.client.takeBytes();
  codec::Properties properties;
  properties.receiveMaximum = 1;
  c.client.onBytes(view(connack(GetParam(), 0, true, properties)), 3);
  Sent sent = parse(c.client.takeBytes(), GetParam());
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent.at<codec::Publish>(0).packetId, ids[0]);
  c.client.onBytes(view(ack(PacketType::Puback, ids[0], GetParam())), 4);
  sent = parse(c.client.takeBytes(), GetParam());
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent.at<codec::Publish>(0).packetId, ids[1]);
}

TEST_P(ClientPublish, V5RefusedPubrecEndsTheExchange) {
  if (GetParam() != ProtocolVersion::V5) GTEST_SKIP() << "reason codes are MQTT 5";
  Connected c(optionsFor(GetParam()));
  const auto ticket = c.client.publish(message("t", "x", 2), 8, 1);
  c.client.takeBytes();
  c.client.onBytes(view(ack(PacketType::Pubrec, ticket->packetId, GetParam(),
                            ReasonCode::NotAuthorized)), 2);
  const auto done = eventsOf(c.client.takeEvents(), ClientEventKind::PublishDone);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].reason, ReasonCode::NotAuthorized);
  EXPECT_TRUE(c.client.takeBytes().empty());
}

TEST_P(ClientPublish, InvalidTopicsAreRefused) {
  Connected c(optionsFor(GetParam()));
  EXPECT_EQ(c.client.publish(message("a/+", "x", 0), 0, 1).error().kind, ErrorKind::TopicNameInvalid);
  EXPECT_EQ(c.client.publish(message("", "x", 1), 0, 1).error().kind, ErrorKind::TopicNameInvalid);
  EXPECT_EQ(c.client.inflight(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Versions, ClientPublish, allVersions(), versionName);

}  // namespace
}  // namespace midge::client::test
