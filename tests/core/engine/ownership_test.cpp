// SPDX-License-Identifier: Apache-2.0
// Who a session belongs to: the identity it keeps across a restart, who may resume it, and
// ACL checks that follow the owner (queued messages, wills).
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "tests/core/engine/harness.hpp"

namespace midge::testing {
namespace {

using codec::ProtocolVersion;

// A user may read and write below "<user>/"; "ops" may read everything. Anonymous
// clients may only publish to "public/". Rules can change at run time, like a reload.
class PrefixAcl final : public Authenticator {
 public:
  AuthDecision authenticate(const AuthRequest&) override { return {}; }
  bool allowPublish(const ClientIdentity& who, std::string_view topic) override {
    if (!who.username) return topic.substr(0, 7) == "public/";
    return owns(who, topic) || *who.username == "ops";
  }
  bool allowSubscribe(const ClientIdentity&, std::string_view) override { return true; }
  bool allowReceive(const ClientIdentity& who, std::string_view topic) override {
    if (!who.username || revoked.count(std::string(*who.username)) != 0) return false;
    return owns(who, topic) || *who.username == "ops";
  }
  std::map<std::string, bool> revoked;

 private:
  static bool owns(const ClientIdentity& who, std::string_view topic) {
    const std::string prefix = std::string(*who.username) + "/";
    return topic.substr(0, prefix.size()) == prefix;
  }
};

// alice (3.1.1, clean session 0) subscribes to alice/# at QoS 1 and goes offline.
void leaveAliceOfflineSubscribed(Harness& harness) {
  auto alice = harness.open(ProtocolVersion::V311);
  alice->connect("alice-phone", false, std::nullopt, std::nullopt, "alice");
  alice->subscribe("alice/#", 1);
  alice->dropConnection();
}

EngineConfig ownerChecked() {
  EngineConfig config;
  config.checkSessionOwner = true;
  return config;
}

TEST(EngineOwnership, RestoredSessionKeepsItsOwnerForAclChecks) {
  PrefixAcl acl;
  Harness harness(EngineConfig{}, &acl);
  leaveAliceOfflineSubscribed(harness);
  harness.rebuild();  // the broker restarts; the session comes back from the store

  auto ops = harness.open();
  ops->connect("ops-console", true, std::nullopt, std::nullopt, "ops");
  ops->publish("alice/inbox", "hello", 1);
  auto puback = ops->nextAs<codec::Ack>();
  EXPECT_EQ(puback.reason, ReasonCode::Success) << "alice's session matched";

  auto alice = harness.open(ProtocolVersion::V311);
  auto connack = alice->connect("alice-phone", false, std::nullopt, std::nullopt, "alice");
  EXPECT_TRUE(connack.sessionPresent);
  auto delivered = alice->nextAs<codec::Publish>();
  EXPECT_EQ(delivered.topic, "alice/inbox");
  EXPECT_EQ(payloadOf(delivered), "hello");
}

TEST(EngineOwnership, RestoredWillIsPublishedUnderItsOwnersIdentity) {
  PrefixAcl acl;
  Harness harness(EngineConfig{}, &acl);
  auto watcher = harness.open();
  watcher->connect("watcher", false, 3600, std::nullopt, "ops");
  watcher->subscribe("alice/status", 0);
  {
    codec::Will will;
    will.topic = "alice/status";
    will.payload = asBytes("gone");
    will.properties.willDelayInterval = 30;
    auto alice = harness.open();
    alice->connect("alice-phone", false, 3600, will, "alice");
    alice->dropConnection();  // no DISCONNECT: the will is due in 30 s
  }
  watcher->dropConnection();
  harness.rebuild();
  auto again = harness.open();
  again->connect("watcher", false, 3600, std::nullopt, "ops");
  harness.tick(31);
  ASSERT_TRUE(again->hasPacket()) << "only alice may publish alice/status, and it is hers";
  auto published = again->nextAs<codec::Publish>();
  EXPECT_EQ(payloadOf(published), "gone");
}

TEST(EngineOwnership, AnotherUserCannotResumeTakeOverOrWipeASession) {
  Harness harness(ownerChecked());
  auto alice = harness.open(ProtocolVersion::V311);
  alice->connect("device-42", false, std::nullopt, std::nullopt, "alice");
  alice->subscribe("d/42/#", 1);

  for (bool cleanStart : {false, true}) {
    auto mallory = harness.open();
    auto refused = mallory->connect("device-42", cleanStart, 3600, std::nullopt, "mallory");
    EXPECT_EQ(refused.reasonCode, static_cast<std::uint8_t>(ReasonCode::NotAuthorized));
    EXPECT_TRUE(mallory->closeRequested());
    auto v3 = harness.open(ProtocolVersion::V311);
    auto legacy = v3->connect("device-42", cleanStart, std::nullopt, std::nullopt);
    EXPECT_EQ(legacy.reasonCode, 5) << "3.x: not authorized";
  }
  EXPECT_FALSE(alice->closeRequested()) << "the owner's connection was not taken over";

  auto publisher = harness.open();
  publisher->connect("pub", true, std::nullopt, std::nullopt, "alice");
  alice->dropConnection();
  publisher->publish("d/42/cmd", "reboot", 1);
  auto back = harness.open(ProtocolVersion::V311);
  auto connack = back->connect("device-42", false, std::nullopt, std::nullopt, "alice");
  EXPECT_EQ(connack.reasonCode, 0);
  EXPECT_TRUE(connack.sessionPresent) << "the refused clean start left the session alone";
  EXPECT_EQ(payloadOf(back->nextAs<codec::Publish>()), "reboot");
}

TEST(EngineOwnership, CertificateIdentityIsPartOfTheOwner) {
  Harness harness(ownerChecked());
  PeerInfo device;
  device.certIdentity = "CN=device-42";
  auto first = harness.open(ProtocolVersion::V5, device);
  first->connect("device-42", false, 3600);
  first->dropConnection();
  PeerInfo other;
  other.certIdentity = "CN=device-43";
  auto impostor = harness.open(ProtocolVersion::V5, other);
  EXPECT_EQ(impostor->connect("device-42", false, 3600).reasonCode,
            static_cast<std::uint8_t>(ReasonCode::NotAuthorized));
  auto same = harness.open(ProtocolVersion::V5, device);
  EXPECT_TRUE(same->connect("device-42", false, 3600).sessionPresent);
}

TEST(EngineOwnership, WithoutTheCheckAnyoneMayResume) {
  Harness harness;  // no authentication configured: user names prove nothing
  auto alice = harness.open();
  alice->connect("shared-id", false, 3600, std::nullopt, "alice");
  alice->dropConnection();
  auto bob = harness.open();
  auto connack = bob->connect("shared-id", false, 3600, std::nullopt, "bob");
  EXPECT_EQ(connack.reasonCode, 0);
  EXPECT_TRUE(connack.sessionPresent);
}

TEST(EngineOwnership, SessionFromAStoreWithoutIdentitiesTakesItsFirstResumer) {
  PrefixAcl acl;
  Harness harness(ownerChecked(), &acl);
  store::SessionRecord legacy;
  legacy.clientId = "old-device";
  legacy.protocolVersion = 4;
  legacy.expirySeconds = kSessionNeverExpires;
  legacy.identityKnown = false;
  harness.store.saveSession(legacy);
  harness.store.saveSubscription({"old-device", "alice/#", 1, 0});
  ASSERT_TRUE(harness.store.commit().ok());
  harness.rebuild();

  auto ops = harness.open();
  ops->connect("ops-console", true, std::nullopt, std::nullopt, "ops");
  ops->publish("alice/queued", "kept", 1);
  EXPECT_EQ(ops->nextAs<codec::Ack>().reason, ReasonCode::Success)
      << "queued although anonymous could not read it: the owner is not known yet";

  auto alice = harness.open(ProtocolVersion::V311);
  auto connack = alice->connect("old-device", false, std::nullopt, std::nullopt, "alice");
  EXPECT_TRUE(connack.sessionPresent);
  EXPECT_EQ(payloadOf(alice->nextAs<codec::Publish>()), "kept");
  alice->dropConnection();
  auto bob = harness.open(ProtocolVersion::V311);
  EXPECT_EQ(bob->connect("old-device", false, std::nullopt, std::nullopt, "bob").reasonCode, 5)
      << "it is alice's now";
}

TEST(EngineOwnership, QueuedMessagesAreCheckedAgainstTheAclWhenSent) {
  PrefixAcl acl;
  Harness harness(EngineConfig{}, &acl);
  leaveAliceOfflineSubscribed(harness);
  auto ops = harness.open();
  ops->connect("ops-console", true, std::nullopt, std::nullopt, "ops");
  ops->publish("alice/a", "1", 1);
  acl.revoked["alice"] = true;  // the ACL file changed and was reloaded
  auto back = harness.open(ProtocolVersion::V311);
  back->connect("alice-phone", false, std::nullopt, std::nullopt, "alice");
  EXPECT_FALSE(back->hasPacket()) << "queued before the change, refused when sent";
  EXPECT_TRUE(harness.output.logged("no longer authorized"));
}

TEST(EngineOwnership, UseUsernameAsClientId) {
  EngineConfig config;
  EngineConfig::ListenerLimits listener;
  listener.useUsernameAsClientId = true;
  config.listeners.push_back(listener);
  Harness harness(config);
  auto alice = harness.open();
  EXPECT_EQ(alice->connect("whatever", false, 3600, std::nullopt, "alice").reasonCode, 0);
  alice->subscribe("x", 1);
  alice->dropConnection();
  auto again = harness.open();
  EXPECT_TRUE(again->connect("something-else", false, 3600, std::nullopt, "alice").sessionPresent)
      << "the session is named after the user, not the id sent";
  auto anonymous = harness.open(ProtocolVersion::V311);
  EXPECT_EQ(anonymous->connect("anon", true).reasonCode, 5);
}

}  // namespace
}  // namespace midge::testing
