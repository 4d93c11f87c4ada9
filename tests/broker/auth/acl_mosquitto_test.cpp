// SPDX-License-Identifier: Apache-2.0
// Feeds the fixture ACL to a real mosquitto broker and checks that it decides a selection of
// rows the way AclFile does. Rows where Midge is deliberately stricter (identities with '/')
// or which need $SYS or empty client ids are left out.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "broker/auth/acl_file.hpp"
#include "tests/broker/auth/acl_fixture.hpp"
#include "tests/broker/auth/test_support.hpp"

namespace midge::auth {
namespace {

using test::AclRow;
using test::ProcessResult;
using test::runProcess;

const std::set<std::string> kCrossChecked = {
    "AnonReadsPublic",           "AnonCannotWritePublic",       "AnonDenyWinsOverGrant",
    "UserDoesNotGetAnonLines",   "AliceWritesOwn",              "AliceDenyWinsWherever",
    "AliceReadOnlyShared",       "BobCannotRead",               "PlusIsOneLevel",
    "SectionGrantBeforePatternDeny", "PatternClientId",         "PatternClientIdOtherClient",
    "PatternDeny",               "PatternUsername",             "PatternUsernameOtherUser",
    "UserWithoutSectionGetsPatterns", "ClientIdWithPlus",       "WildcardIdentityKeepsSection",
    "SubscribeAlwaysGranted",
};

std::vector<AclRow> crossCheckedRows() {
  std::vector<AclRow> selected;
  for (const AclRow& row : test::aclRows()) {
    if (kCrossChecked.count(row.name) != 0) selected.push_back(row);
  }
  return selected;
}

std::string passwordOf(const std::string& user) { return user + "-pw"; }

// One broker for all rows: starting mosquitto per row would only add time.
class MosquittoAcl : public ::testing::TestWithParam<AclRow> {
 protected:
  static void SetUpTestSuite() {
    if (test::findProgram("mosquitto").empty() || test::findProgram("mosquitto_pub").empty() ||
        test::findProgram("mosquitto_sub").empty()) {
      missingTools_ = true;
      return;
    }
    dir_ = new test::TempDir();
    std::string passwords = dir_->file("passwd");
    bool create = true;
    for (const char* user : {"alice", "bob", "admin", "carol"}) {
      std::vector<std::string> argv = {MIDGE_PASSWD_PATH};
      if (create) argv.push_back("-c");
      create = false;
      argv.insert(argv.end(), {"-b", passwords, user, passwordOf(user)});
      ProcessResult result = runProcess(argv);
      if (result.exitCode != 0) {
        setupError_ = "midge-passwd failed: " + result.err;
        return;
      }
    }
    test::writeFile(dir_->file("acl"), test::kAclFixture);
    try {
      broker_ = new test::MosquittoBroker(
          *dir_, "allow_anonymous true\npassword_file " + passwords + "\nacl_file " +
                     dir_->file("acl") + "\n");
    } catch (const std::exception& failure) {
      setupError_ = failure.what();
    }
  }
  static void TearDownTestSuite() {
    delete broker_;
    broker_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }

  static std::vector<std::string> client(const std::string& program, const AclRow& row) {
    std::vector<std::string> argv = {test::findProgram(program), "-h", "127.0.0.1", "-p",
                                     std::to_string(broker_->port()), "-V", "5", "-i",
                                     row.clientId};
    if (row.user) argv.insert(argv.end(), {"-u", *row.user, "-P", passwordOf(*row.user)});
    return argv;
  }

  // MQTT 5 QoS 1: mosquitto answers a refused PUBLISH with PUBACK 0x87.
  static bool mosquittoAllowsWrite(const AclRow& row, const std::string& topic) {
    std::vector<std::string> argv = client("mosquitto_pub", row);
    argv.insert(argv.end(), {"-q", "1", "-t", topic, "-m", "payload"});
    ProcessResult result = runProcess(argv);
    EXPECT_EQ(result.exitCode, 0) << result.err << broker_->log();
    return result.err.find("Not authorized") == std::string::npos;
  }

  // A retained message is put on the topic by admin; the row's client subscribes to exactly
  // that topic and receives it only if mosquitto lets it read.
  static bool mosquittoAllowsRead(const AclRow& row) {
    AclRow admin{"admin", std::string("admin"), "retainer", row.topic, test::Access::Write, true};
    std::vector<std::string> publish = client("mosquitto_pub", admin);
    publish.insert(publish.end(), {"-q", "1", "-r", "-t", row.topic, "-m", "retained-payload"});
    ProcessResult published = runProcess(publish);
    EXPECT_EQ(published.exitCode, 0) << published.err;
    EXPECT_EQ(published.err.find("Not authorized"), std::string::npos) << published.err;

    std::vector<std::string> subscribe = client("mosquitto_sub", row);
    subscribe.insert(subscribe.end(), {"-t", row.topic, "-C", "1", "-W", "2"});
    ProcessResult received = runProcess(subscribe);
    return received.out.find("retained-payload") != std::string::npos;
  }

  static bool mosquittoGrantsSubscribe(const AclRow& row) {
    std::vector<std::string> argv = client("mosquitto_sub", row);
    argv.insert(argv.end(), {"-d", "-t", row.topic, "-C", "1", "-W", "1"});
    ProcessResult result = runProcess(argv);
    // -d prints the granted QoS, or 135 (0x87) when refused.
    return result.out.find("Subscribed (mid: 1): 0") != std::string::npos;
  }

  static test::TempDir* dir_;
  static test::MosquittoBroker* broker_;
  static bool missingTools_;
  static std::string setupError_;
};

test::TempDir* MosquittoAcl::dir_ = nullptr;
test::MosquittoBroker* MosquittoAcl::broker_ = nullptr;
bool MosquittoAcl::missingTools_ = false;
std::string MosquittoAcl::setupError_;

TEST_P(MosquittoAcl, AgreesWithMidge) {
  if (missingTools_) GTEST_SKIP() << "mosquitto, mosquitto_pub or mosquitto_sub missing";
  ASSERT_NE(broker_, nullptr) << setupError_;
  const AclRow& row = GetParam();
  AclFile file;
  std::string error;
  ASSERT_TRUE(AclFile::parse(test::kAclFixture, "acl", file, error)) << error;
  std::optional<std::string_view> user;
  if (row.user) user = *row.user;
  bool midge = file.allowed(row.clientId, user, row.topic, row.access);
  ASSERT_EQ(midge, row.allowed);

  bool mosquitto = false;
  switch (row.access) {
    case test::Access::Write:
      mosquitto = mosquittoAllowsWrite(row, row.topic);
      break;
    case test::Access::Read:
      mosquitto = mosquittoAllowsRead(row);
      break;
    case test::Access::Subscribe:
      mosquitto = mosquittoGrantsSubscribe(row);
      break;
  }
  EXPECT_EQ(mosquitto, midge) << broker_->log();
}

INSTANTIATE_TEST_SUITE_P(Rows, MosquittoAcl, ::testing::ValuesIn(crossCheckedRows()),
                         [](const ::testing::TestParamInfo<AclRow>& row) {
                           return std::string(row.param.name);
                         });

}  // namespace
}  // namespace midge::auth
