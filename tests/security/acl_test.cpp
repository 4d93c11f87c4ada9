// SPDX-License-Identifier: Apache-2.0
// ACL files with the real broker: refused publishes (v5 reason code, 3.1.1 silent drop),
// reads filtered on delivery (retained messages included), %c and %u patterns, and
// per-listener ACL files. No password file: user names are taken as given
// (allow_anonymous true), which keeps these tests about the ACL alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <iostream>

#include "tests/integration/broker_process.hpp"
#include "tests/security/security_support.hpp"

namespace midge::test::security {
namespace {

using namespace std::chrono_literals;
using Topics = std::vector<std::string>;

constexpr std::uint8_t kV311 = 4;
constexpr std::uint8_t kV5 = 5;
constexpr std::uint8_t kNotAuthorized = 0x87;
// v5 PUBACK for a message that was accepted but had nobody to go to (readers the ACL
// filters out do not count).
constexpr std::uint8_t kNoMatchingSubscribers = 0x10;
constexpr std::uint8_t kV311SubscribeFailure = 0x80;

constexpr const char* kAcl = R"(# plant ACL
user admin
topic readwrite #

user writer
topic write sensors/#

user reader
topic read sensors/#

pattern readwrite clients/%c/#
pattern read users/%u/inbox
)";

class SecurityAcl : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure()) std::cerr << "---- broker log ----\n" << broker_.log() << "----\n";
  }

  void startBroker(const std::string& acl = kAcl) {
    writeFile(broker_.dataDir() + "/acl", acl);
    broker_.addConfigLine("acl_file {DIR}/acl");
    broker_.start();
  }

  std::unique_ptr<RawClient> connected(std::uint8_t level, const std::string& clientId,
                                       const std::string& user, std::uint16_t port = 0) {
    auto client = std::make_unique<RawClient>(port == 0 ? broker_.port() : port);
    const int code = connectCode(*client, connectSpec(level, clientId, user));
    if (code != 0) throw std::runtime_error(clientId + ": CONNACK " + std::to_string(code));
    return client;
  }

  // QoS 1 publish; returns the PUBACK's reason code.
  std::uint8_t publishQos1(RawClient& client, const std::string& topic, bool v5,
                           bool retain = false) {
    const auto packetId = static_cast<std::uint16_t>(++packets_);
    client.send(wire::publish(topic, "payload", 1, packetId, retain, v5));
    const RawPacket puback = client.expect(kPuback);
    const ByteVector id{static_cast<std::uint8_t>(packetId >> 8),
                              static_cast<std::uint8_t>(packetId & 0xFF)};
    EXPECT_TRUE(std::equal(id.begin(), id.end(), puback.body.begin()));
    return ackReason(puback);
  }

  BrokerProcess broker_;
  int packets_ = 0;
};

TEST_F(SecurityAcl, PublishOutsideTheAclIsRefusedWith0x87ForV5) {
  startBroker();
  auto watcher = subscriber(broker_.port(), connectSpec(kV311, "watcher", "admin"), "#");
  auto writer = connected(kV5, "writer-v5", "writer");

  EXPECT_EQ(publishQos1(*writer, "control/reboot", true), kNotAuthorized);
  // QoS 2: the refusal is the PUBREC, and the flow ends there (no PUBREL expected).
  writer->send(wire::publish("control/reboot", "payload", 2, 900, false, true));
  const RawPacket pubrec = writer->expect(kPubrec);
  EXPECT_EQ(ackReason(pubrec), kNotAuthorized);
  EXPECT_EQ(publishQos1(*writer, "sensors/t1", true), 0);
  EXPECT_EQ(topicsUntil(*watcher, "sensors/t1"), Topics{"sensors/t1"});
  EXPECT_TRUE(broker_.waitForLog("not authorized to publish to control/reboot", 3s));
  // The refusal does not end the session.
  writer->send(wire::pingreq());
  EXPECT_EQ(writer->expect(kPingresp).type(), kPingresp);
}

TEST_F(SecurityAcl, PublishOutsideTheAclIsDroppedSilentlyForV311) {
  startBroker();
  auto watcher = subscriber(broker_.port(), connectSpec(kV5, "watcher", "admin"), "#");
  auto writer = connected(kV311, "writer-v311", "writer");

  // 3.1.1 has no way to say no in a PUBACK: the ack comes, the message goes nowhere.
  EXPECT_EQ(publishQos1(*writer, "control/reboot", false), 0);
  writer->send(wire::publish("control/qos0", "x", 0, 0, false, false));
  EXPECT_EQ(publishQos1(*writer, "sensors/t2", false), 0);
  EXPECT_EQ(topicsUntil(*watcher, "sensors/t2", true), Topics{"sensors/t2"});
}

TEST_F(SecurityAcl, MessagesTheSubscriberMayNotReadAreNotDelivered) {
  startBroker();
  // Wildcard subscriptions are granted; each message is checked on delivery.
  auto reader = subscriber(broker_.port(), connectSpec(kV5, "reader-1", "reader"), "#");
  // A subscription to one exact topic the client may never read is refused outright.
  reader->send(wire::subscribe(2, "control/reboot", 1, true));
  const RawPacket suback = reader->expect(kSuback);
  ASSERT_EQ(suback.body.size(), 4u);
  EXPECT_EQ(suback.body[3], kNotAuthorized);

  auto admin = connected(kV5, "admin-1", "admin");
  EXPECT_EQ(publishQos1(*admin, "control/reboot", true), kNoMatchingSubscribers);
  EXPECT_EQ(publishQos1(*admin, "sensors/t3", true), 0);
  EXPECT_EQ(topicsUntil(*reader, "sensors/t3", true), Topics{"sensors/t3"});

  auto legacy = connected(kV311, "reader-2", "reader");
  legacy->send(wire::subscribe(3, "control/reboot", 1));
  EXPECT_EQ(legacy->expect(kSuback).body.back(), kV311SubscribeFailure);
}

TEST_F(SecurityAcl, RetainedMessagesTheSubscriberMayNotReadAreNotDelivered) {
  startBroker();
  auto admin = connected(kV5, "admin-2", "admin");
  EXPECT_EQ(publishQos1(*admin, "control/config", true, true), kNoMatchingSubscribers);
  EXPECT_EQ(publishQos1(*admin, "sensors/config", true, true), kNoMatchingSubscribers);

  auto reader = subscriber(broker_.port(), connectSpec(kV311, "reader-3", "reader"), "#");
  // Retained messages go out with the subscription, before anything published later.
  EXPECT_EQ(publishQos1(*admin, "sensors/marker", true), 0);
  EXPECT_EQ(topicsUntil(*reader, "sensors/marker"), (Topics{"sensors/config", "sensors/marker"}));

  // The administrator still gets both retained messages.
  auto other = subscriber(broker_.port(), connectSpec(kV311, "admin-3", "admin"), "+/config");
  EXPECT_EQ(publishQos1(*admin, "marker/config", true), 0);
  Topics seen = topicsUntil(*other, "marker/config");
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (Topics{"control/config", "marker/config", "sensors/config"}));
}

TEST_F(SecurityAcl, ClientIdPatternGivesEachClientItsOwnTree) {
  startBroker();
  auto watcher = subscriber(broker_.port(), connectSpec(kV311, "watcher", "admin"), "clients/#");
  // No user name: only the patterns apply.
  auto device = connected(kV5, "dev1", "");

  EXPECT_EQ(publishQos1(*device, "clients/dev2/state", true), kNotAuthorized);
  EXPECT_EQ(publishQos1(*device, "clients/dev1/state", true), 0);
  EXPECT_EQ(topicsUntil(*watcher, "clients/dev1/state"), Topics{"clients/dev1/state"});

  // A client id that could reach into another client's tree through %c is refused at
  // CONNECT: 0x85 Client Identifier not valid (3.1.1: return code 2).
  RawClient sneaky(broker_.port());
  EXPECT_EQ(connectCode(sneaky, connectSpec(kV5, "dev2/../dev1")), 0x85);
  RawClient wildcard(broker_.port());
  EXPECT_EQ(connectCode(wildcard, connectSpec(kV311, "dev+")), 2);
}

TEST_F(SecurityAcl, UserNamePatternLimitsReadsToTheUsersInbox) {
  startBroker();
  auto alice = subscriber(broker_.port(), connectSpec(kV5, "alice-phone", "alice"), "users/+/inbox");
  auto admin = connected(kV311, "admin-4", "admin");
  EXPECT_EQ(publishQos1(*admin, "users/bob/inbox", false), 0);
  EXPECT_EQ(publishQos1(*admin, "users/alice/inbox", false), 0);
  EXPECT_EQ(topicsUntil(*alice, "users/alice/inbox", true), Topics{"users/alice/inbox"});

  // %u never matches a client without a user name.
  auto anonymous = subscriber(broker_.port(), connectSpec(kV311, "anon", ""), "#");
  EXPECT_EQ(publishQos1(*admin, "users/alice/inbox", false), 0);
  EXPECT_EQ(publishQos1(*admin, "clients/anon/marker", false), 0);
  EXPECT_EQ(topicsUntil(*anonymous, "clients/anon/marker"), Topics{"clients/anon/marker"});
}

TEST_F(SecurityAcl, EachListenerUsesItsOwnAclFile) {
  const std::uint16_t second = pickFreeLoopbackPort();
  writeFile(broker_.dataDir() + "/acl-a", "pattern readwrite a/%c/#\n");
  writeFile(broker_.dataDir() + "/acl-b", "pattern readwrite b/%c/#\n");
  broker_.setWriteListener(false);
  broker_.setAllowAnonymous(false);
  broker_.addConfigLine("per_listener_settings true");
  broker_.addConfigLine("listener {PORT} 127.0.0.1");
  broker_.addConfigLine("allow_anonymous true");
  broker_.addConfigLine("acl_file {DIR}/acl-a");
  broker_.addConfigLine("listener " + std::to_string(second) + " 127.0.0.1");
  broker_.addConfigLine("allow_anonymous true");
  broker_.addConfigLine("acl_file {DIR}/acl-b");
  broker_.start();
  ASSERT_TRUE(waitForTcpPort(second, 5s));

  auto onA = connected(kV5, "c1", "");
  auto onB = connected(kV5, "c2", "", second);
  EXPECT_EQ(publishQos1(*onA, "a/c1/x", true), kNoMatchingSubscribers);
  EXPECT_EQ(publishQos1(*onA, "b/c1/x", true), kNotAuthorized);
  EXPECT_EQ(publishQos1(*onB, "b/c2/x", true), kNoMatchingSubscribers);
  EXPECT_EQ(publishQos1(*onB, "a/c2/x", true), kNotAuthorized);
}

TEST_F(SecurityAcl, ReloadAppliesANewAclAndKeepsTheOldOneWhenBroken) {
  startBroker();
  auto writer = connected(kV5, "writer-r", "writer");
  ASSERT_EQ(publishQos1(*writer, "control/reboot", true), kNotAuthorized);

  writeFile(broker_.dataDir() + "/acl", std::string(kAcl) + "user writer\ntopic write control/#\n");
  std::size_t mark = broker_.logMark();
  broker_.signal(SIGHUP);
  ASSERT_TRUE(broker_.waitForLog("reloaded password and ACL files", 5s, mark));
  EXPECT_EQ(publishQos1(*writer, "control/reboot", true), kNoMatchingSubscribers);

  writeFile(broker_.dataDir() + "/acl", "user writer\ntopic readonly #\n");
  mark = broker_.logMark();
  broker_.signal(SIGHUP);
  ASSERT_TRUE(broker_.waitForLog("reload failed, keeping the previous files", 5s, mark));
  EXPECT_TRUE(broker_.waitForLog("acl:2: unknown access 'readonly'", 1s, mark));
  EXPECT_EQ(publishQos1(*writer, "control/reboot", true), kNoMatchingSubscribers);
  EXPECT_EQ(publishQos1(*writer, "other/topic", true), kNotAuthorized);
}

}  // namespace
}  // namespace midge::test::security
