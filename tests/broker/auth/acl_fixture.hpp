// SPDX-License-Identifier: Apache-2.0
// The ACL used by the table test and by the cross-check against a real mosquitto broker.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "broker/auth/acl_file.hpp"

namespace midge::auth::test {

using Access = AclFile::Access;

// One file exercising every rule kind; the rows below and the mosquitto cross-check use it.
inline const char* const kAclFixture =
    "# Lines before the first 'user' apply to clients without a username.\n"
    "topic read public/#\n"
    "topic deny public/secret\n"
    "topic read $SYS/#\n"
    "\n"
    "user alice\n"
    "topic readwrite alice/#\n"
    "topic read shared/#\n"
    "topic deny alice/private/#\n"
    "user bob\n"
    "topic write bob/out\n"
    "topic sensors/+/temperature\n"
    "user admin\n"
    "topic readwrite #\n"
    "# Patterns apply to every client, wherever they are written.\n"
    "pattern readwrite clients/%c/#\n"
    "pattern read users/%u/inbox\n"
    "pattern deny clients/%c/locked\n";

struct AclRow {
  const char* name;
  std::optional<std::string> user;
  std::string clientId;
  std::string topic;
  AclFile::Access access;
  bool allowed;
};

inline std::vector<AclRow> aclRows() {
  const std::optional<std::string> anonymous;
  return {
      // The anonymous section.
      {"AnonReadsPublic", anonymous, "c1", "public/news", Access::Read, true},
      {"AnonReadsPublicParent", anonymous, "c1", "public", Access::Read, true},  // "a/#" ~ "a"
      {"AnonCannotWritePublic", anonymous, "c1", "public/news", Access::Write, false},
      {"AnonDenyWinsOverGrant", anonymous, "c1", "public/secret", Access::Read, false},
      {"AnonDenyIsExactHere", anonymous, "c1", "public/secret/more", Access::Read, true},
      {"AnonReadsSys", anonymous, "c1", "$SYS/broker/uptime", Access::Read, true},
      {"AnonNoRuleNoAccess", anonymous, "c1", "alice/x", Access::Read, false},
      // Sections are per client: a user does not get the anonymous lines.
      {"UserDoesNotGetAnonLines", std::string("alice"), "a1", "public/news", Access::Read, false},
      {"AliceWritesOwn", std::string("alice"), "a1", "alice/notes", Access::Write, true},
      {"AliceReadsOwn", std::string("alice"), "a1", "alice/notes", Access::Read, true},
      {"AliceDenyWinsWherever", std::string("alice"), "a1", "alice/private/diary", Access::Read,
       false},
      {"AliceReadOnlyShared", std::string("alice"), "a1", "shared/doc", Access::Write, false},
      {"AliceReadsShared", std::string("alice"), "a1", "shared/doc", Access::Read, true},
      {"BobWriteOnly", std::string("bob"), "b1", "bob/out", Access::Write, true},
      {"BobCannotRead", std::string("bob"), "b1", "bob/out", Access::Read, false},
      {"NoAccessWordIsReadwrite", std::string("bob"), "b1", "sensors/t1/temperature",
       Access::Read, true},
      {"PlusIsOneLevel", std::string("bob"), "b1", "sensors/a/b/temperature", Access::Write,
       false},
      {"PlusMatchesEmptyLevel", std::string("bob"), "b1", "sensors//temperature", Access::Write,
       true},
      // A leading wildcard never matches a $ topic (MQTT 4.7.2).
      {"HashSkipsDollarTopics", std::string("admin"), "adm", "$SYS/broker/uptime", Access::Read,
       false},
      {"AdminReadsAll", std::string("admin"), "adm", "a/b/c", Access::Read, true},
      // The user's own section is decided before patterns, also against a pattern deny.
      {"SectionGrantBeforePatternDeny", std::string("admin"), "x", "clients/x/locked",
       Access::Write, true},
      // Patterns.
      {"PatternClientId", anonymous, "c1", "clients/c1/status", Access::Write, true},
      {"PatternClientIdOtherClient", anonymous, "c1", "clients/c2/status", Access::Write, false},
      {"PatternDeny", std::string("alice"), "a1", "clients/a1/locked", Access::Read, false},
      {"PatternUsername", std::string("alice"), "a1", "users/alice/inbox", Access::Read, true},
      {"PatternUsernameReadOnly", std::string("alice"), "a1", "users/alice/inbox", Access::Write,
       false},
      {"PatternUsernameOtherUser", std::string("alice"), "a1", "users/bob/inbox", Access::Read,
       false},
      {"PatternUsernameNeedsUsername", anonymous, "c1", "users//inbox", Access::Read, false},
      {"UserWithoutSectionGetsPatterns", std::string("carol"), "c3", "clients/c3/x",
       Access::Read, true},
      {"UserWithoutSectionGetsNothingElse", std::string("carol"), "c3", "public/news",
       Access::Read, false},
      // Identities that would widen a pattern get no pattern access at all (as Mosquitto).
      {"ClientIdWithPlus", anonymous, "evil+", "clients/anything/x", Access::Write, false},
      {"ClientIdWithHash", anonymous, "#", "clients/x", Access::Write, false},
      {"UsernameWithHash", std::string("#"), "c9", "clients/c9/x", Access::Write, false},
      {"WildcardIdentityKeepsSection", std::string("alice"), "a+", "alice/x", Access::Write,
       true},
      // ... and one with '/' may not step into another client's tree through a grant.
      {"ClientIdWithSlash", anonymous, "c2/sub", "clients/c2/sub/x", Access::Write, false},
      {"UsernameWithSlash", std::string("bob/x"), "c1", "users/bob/x/inbox", Access::Read,
       false},
      {"EmptyClientIdGetsNoPattern", anonymous, "", "clients//x", Access::Write, false},
      // Topic names with wildcards or empty are never allowed.
      {"WildcardTopicWrite", std::string("admin"), "adm", "a/+", Access::Write, false},
      {"WildcardTopicRead", std::string("admin"), "adm", "#", Access::Read, false},
      {"EmptyTopic", std::string("admin"), "adm", "", Access::Write, false},
      // Subscriptions are granted; delivery is filtered by Read (Mosquitto 2.0 behaviour).
      {"SubscribeAlwaysGranted", std::string("bob"), "b1", "#", Access::Subscribe, true},
      {"SubscribeAnonAnything", anonymous, "c1", "alice/private/#", Access::Subscribe, true},
  };
}

}  // namespace midge::auth::test
