// SPDX-License-Identifier: Apache-2.0
// A durable session keeps the identity its authorisation depends on across a restart and a
// crash: with a password file and an ACL file, what was acknowledged for it while it was
// offline is delivered, and its will is published under its owner's name.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "tests/durability/durability_support.hpp"

namespace midge::test::durability {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Written by Debian's mosquitto_passwd 2.0.11 (alice: secret, bob: hunter2).
const char* const kPasswords =
    "alice:$7$101$pyaR5MZ850EX2poR$FUU1U7FDilZxpBiPf6G9yQzxktoUWaJNo8b1NwgNsJK1Vh/"
    "sDuy6BvANobUgFBnxgFfNr7zSu3q27TyfFqek0A==\n"
    "bob:$6$rv52uVHAUIBEBmGN$VvxVMLnlhLrllNIhlepUEmNKWaINrK5lkfLd0hSTeIzMCD8jQnkFuhFmGoSW8PFu1FY9"
    "k9D18tOVjKab8FiI2Q==\n";
// Only alice reads her inbox and writes her status; bob may write to her inbox and read
// her status. Anonymous clients may do nothing.
const char* const kAcl =
    "user alice\n"
    "topic readwrite alice/#\n"
    "user bob\n"
    "topic write alice/inbox/#\n"
    "topic read alice/status\n";

struct Mode {
  std::uint8_t level;
  bool crash;
};

std::string modeName(const ::testing::TestParamInfo<Mode>& info) {
  return std::string(info.param.level == 5 ? "V5" : "V311") +
         (info.param.crash ? "Sigkill" : "Sigterm");
}

std::uint16_t packetIdOf(const RawPacket& packet) {
  return static_cast<std::uint16_t>(packet.body.at(0) << 8 | packet.body.at(1));
}

class IdentityRestartTest : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    writeFile(broker_.dataDir() + "/passwords", kPasswords);
    writeFile(broker_.dataDir() + "/acl", kAcl);
    broker_.setAllowAnonymous(false);
    broker_.addConfigLine("password_file {DIR}/passwords");
    broker_.addConfigLine("acl_file {DIR}/acl");
    enablePersistence(broker_);
    broker_.start();
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << "---- broker log ----\n" << broker_.log() << "----\n";
  }
  void restart() {
    if (GetParam().crash) {
      EXPECT_EQ(broker_.kill(), 128 + SIGKILL);
    } else {
      EXPECT_EQ(broker_.stop(), 0);
    }
    broker_.start();
  }
  bool v5() const { return GetParam().level == 5; }
  SessionSpec user(const std::string& clientId, const std::string& name,
                   const std::string& password) const {
    SessionSpec spec;
    spec.clientId = clientId;
    spec.level = GetParam().level;
    spec.username = name;
    spec.password = password;
    return spec;
  }

  BrokerProcess broker_;
};

TEST_P(IdentityRestartTest, MessagesAcknowledgedWhileOfflineReachTheOwnerAfterRestarts) {
  const SessionSpec alice = user("alice-phone", "alice", "secret");
  {
    Connected first = connectSession(broker_.port(), alice);
    subscribe(*first.client, alice, 1, "alice/inbox/#", 2);
    first.client->send(wire::disconnect(v5()));
  }
  restart();  // the session now exists only as the store has it

  SessionSpec bob = user("bob-console", "bob", "hunter2");
  bob.cleanStart = true;
  {
    Connected publisher = connectSession(broker_.port(), bob);
    RawClient& client = *publisher.client;
    for (std::uint16_t id = 1; id <= 3; ++id) {
      ASSERT_TRUE(client.send(wire::publish("alice/inbox/q1", "q1-" + std::to_string(id), 1,
                                            id, false, v5())));
      const RawPacket puback = client.expect(kPuback);
      EXPECT_EQ(packetIdOf(puback), id);
      if (v5()) {
        EXPECT_EQ(wire::reasonOf(puback), 0) << "matched alice's session";
      }
      const std::uint16_t qos2Id = static_cast<std::uint16_t>(id + 100);
      ASSERT_TRUE(client.send(wire::publish("alice/inbox/q2", "q2-" + std::to_string(id), 2,
                                            qos2Id, false, v5())));
      EXPECT_EQ(packetIdOf(client.expect(kPubrec)), qos2Id);
      ASSERT_TRUE(client.send(wire::ack(kPubrel, qos2Id)));
      EXPECT_EQ(packetIdOf(client.expect(kPubcomp)), qos2Id);
    }
  }
  restart();  // and once more with the messages queued

  Connected back = connectSession(broker_.port(), alice);
  EXPECT_TRUE(back.sessionPresent);
  std::vector<std::string> qos1;
  std::vector<std::string> qos2;
  const auto deadline = Clock::now() + 5s;
  while (qos1.size() + qos2.size() < 6 && Clock::now() < deadline) {
    const ReadResult result = back.client->read(1s);
    if (result.status != ReadStatus::Packet) continue;
    const RawPacket& packet = result.packet;
    if (packet.type() == kPubrel) {
      back.client->send(wire::ack(kPubcomp, packetIdOf(packet)));
      continue;
    }
    ASSERT_EQ(packet.type(), kPublish);
    const wire::PublishView view = wire::parsePublish(packet, v5());
    (view.qos == 2 ? qos2 : qos1).push_back(view.payload);
    back.client->send(wire::ack(view.qos == 2 ? kPubrec : kPuback, view.packetId));
  }
  EXPECT_EQ(qos1, (std::vector<std::string>{"q1-1", "q1-2", "q1-3"}));
  EXPECT_EQ(qos2, (std::vector<std::string>{"q2-1", "q2-2", "q2-3"}));
  // What follows may only be the PUBRELs of the last QoS 2 messages: nothing twice.
  for (ReadResult more = back.client->read(300ms); more.status == ReadStatus::Packet;
       more = back.client->read(300ms)) {
    ASSERT_EQ(more.packet.type(), kPubrel) << "a message was delivered twice";
    back.client->send(wire::ack(kPubcomp, packetIdOf(more.packet)));
  }
}

// A graceful stop discards wills (the clients did nothing wrong), so only a crash leaves one
// for the restored session to publish.
class WillRestartTest : public IdentityRestartTest {};

TEST_P(WillRestartTest, WillOfARestoredSessionIsPublishedAsItsOwner) {
  SessionSpec watcher = user("bob-watch", "bob", "hunter2");
  {
    Connected first = connectSession(broker_.port(), watcher);
    subscribe(*first.client, watcher, 1, "alice/status", 1);
    first.client->send(wire::disconnect(v5()));
  }
  SessionSpec alice = user("alice-phone", "alice", "secret");
  alice.will = wire::Will{"alice/status", "alice went away", 1, false, {}};
  if (v5()) alice.will->properties = {0x18, 0, 0, 0, 1};  // Will Delay Interval 1 s
  Connected online = connectSession(broker_.port(), alice);
  // Down while alice is connected: her network connection ends without DISCONNECT, so her
  // will is due once the broker is back (after its delay).
  restart();
  Connected back = connectSession(broker_.port(), watcher);
  EXPECT_TRUE(back.sessionPresent);
  const RawPacket will = back.client->expect(kPublish, 5s);
  const wire::PublishView view = wire::parsePublish(will, v5());
  EXPECT_EQ(view.topic, "alice/status");
  EXPECT_EQ(view.payload, "alice went away");
}

INSTANTIATE_TEST_SUITE_P(Modes, IdentityRestartTest,
                         ::testing::Values(Mode{4, false}, Mode{4, true}, Mode{5, false},
                                           Mode{5, true}),
                         modeName);
INSTANTIATE_TEST_SUITE_P(Crashes, WillRestartTest,
                         ::testing::Values(Mode{4, true}, Mode{5, true}), modeName);

}  // namespace
}  // namespace midge::test::durability
