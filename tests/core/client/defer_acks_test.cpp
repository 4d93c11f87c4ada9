// SPDX-License-Identifier: Apache-2.0
// deferAcks: inbound QoS 1/2 acknowledgements wait for acknowledge(), resends of a held
// message are not delivered twice, and a QoS 2 acknowledgement survives in the journal.
#include <gtest/gtest.h>

#include "tests/core/client/client_test_util.hpp"

namespace midge::client::test {
namespace {

using codec::PacketType;
using codec::ProtocolVersion;

class ClientDeferAcks : public ::testing::TestWithParam<ProtocolVersion> {
 protected:
  ClientOptions deferred() {
    ClientOptions options = optionsFor(GetParam());
    options.deferAcks = true;
    return options;
  }
};

TEST_P(ClientDeferAcks, Qos1IsAckedOnlyWhenTheCallerSaysSo) {
  Connected c(deferred());
  c.client.onBytes(view(serverPublish(GetParam(), "t", "m", 1, 7)), 1);
  const auto messages = eventsOf(c.client.takeEvents(), ClientEventKind::Message);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].packetId, 7);
  EXPECT_TRUE(c.client.takeBytes().empty());
  EXPECT_EQ(c.client.heldAcks(), 1u);
  ASSERT_TRUE(c.client.acknowledge(7));
  const Sent sent = parse(c.client.takeBytes(), GetParam());
  ASSERT_TRUE(sent.is<codec::Ack>(0));
  EXPECT_EQ(sent.at<codec::Ack>(0).type, PacketType::Puback);
  EXPECT_EQ(sent.at<codec::Ack>(0).packetId, 7);
  EXPECT_FALSE(c.client.acknowledge(7)) << "a second acknowledge names nothing held";
}

TEST_P(ClientDeferAcks, Qos2ResendWhileHeldIsNotDeliveredAgain) {
  MemoryJournal journal;
  Connected c(deferred(), &journal);
  c.client.onBytes(view(serverPublish(GetParam(), "t", "m", 2, 9)), 1);
  EXPECT_EQ(eventsOf(c.client.takeEvents(), ClientEventKind::Message).size(), 1u);
  c.client.onBytes(view(serverPublish(GetParam(), "t", "m", 2, 9, true)), 2);
  EXPECT_TRUE(eventsOf(c.client.takeEvents(), ClientEventKind::Message).empty());
  EXPECT_TRUE(c.client.takeBytes().empty());
  journal.commit();
  EXPECT_EQ(journal.size(), 0u) << "nothing journalled before the acknowledgement";
  ASSERT_TRUE(c.client.acknowledge(9));
  journal.commit();
  EXPECT_EQ(journal.size(), 1u) << "the PUBREC's packet id is journalled with it";
  const Sent sent = parse(c.client.takeBytes(), GetParam());
  EXPECT_EQ(sent.at<codec::Ack>(0).type, PacketType::Pubrec);
  // After the acknowledgement a resend is a known duplicate: PUBREC again, no delivery.
  c.client.onBytes(view(serverPublish(GetParam(), "t", "m", 2, 9, true)), 3);
  EXPECT_TRUE(eventsOf(c.client.takeEvents(), ClientEventKind::Message).empty());
  EXPECT_EQ(parse(c.client.takeBytes(), GetParam()).at<codec::Ack>(0).type, PacketType::Pubrec);
}

TEST_P(ClientDeferAcks, Qos2AckedWhileDisconnectedAnswersTheResend) {
  if (GetParam() == ProtocolVersion::V31) GTEST_SKIP() << "3.1 has no Session Present flag";
  MemoryJournal journal;
  Connected c(deferred(), &journal);
  c.client.onBytes(view(serverPublish(GetParam(), "t", "m", 2, 3)), 1);
  c.client.takeEvents();
  c.client.onTransportClosed();
  ASSERT_TRUE(c.client.acknowledge(3));
  EXPECT_TRUE(c.client.takeBytes().empty());
  ASSERT_TRUE(c.client.connect(4));
  c.client.takeBytes();
  c.client.onBytes(view(connack(GetParam(), 0, GetParam() != ProtocolVersion::V31)), 5);
  c.client.takeEvents();
  c.client.takeBytes();
  c.client.onBytes(view(serverPublish(GetParam(), "t", "m", 2, 3, true)), 6);
  EXPECT_TRUE(eventsOf(c.client.takeEvents(), ClientEventKind::Message).empty());
  EXPECT_EQ(parse(c.client.takeBytes(), GetParam()).at<codec::Ack>(0).type, PacketType::Pubrec);
}

INSTANTIATE_TEST_SUITE_P(Versions, ClientDeferAcks, allVersions(), versionName);

}  // namespace
}  // namespace midge::client::test
