// SPDX-License-Identifier: Apache-2.0
// Password files with the real broker: files written by mosquitto_passwd and by
// midge-passwd, refusals with the right code for each protocol version, and SIGHUP reloads
// that admit new users or keep the previous file when the new one is broken.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <csignal>
#include <iostream>

#include "tests/integration/broker_process.hpp"
#include "tests/security/security_support.hpp"

namespace midge::test::security {
namespace {

using namespace std::chrono_literals;

constexpr std::uint8_t kV311 = 4;
constexpr std::uint8_t kV5 = 5;
// MQTT 5 reason codes and MQTT 3.1.1 CONNACK return codes.
constexpr int kBadUserNameOrPassword = 0x86;
constexpr int kNotAuthorized = 0x87;
constexpr int kV311BadUserNameOrPassword = 4;
constexpr int kV311NotAuthorized = 5;

class SecurityPasswords : public ::testing::Test {
 protected:
  void SetUp() override {
    if (*mosquittoPasswd() == '\0') GTEST_SKIP() << "mosquitto_passwd not installed";
    passwordFile_ = broker_.dataDir() + "/passwd";
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << "---- broker log ----\n" << broker_.log() << "----\n";
  }

  void tool(const std::vector<std::string>& argv) {
    const ProcessResult result = run(argv);
    ASSERT_EQ(result.status, 0) << argv[0] << " failed: " << result.output;
  }

  void startBroker() {
    broker_.setAllowAnonymous(false);
    broker_.addConfigLine("allow_anonymous false");
    broker_.addConfigLine("password_file " + passwordFile_);
    broker_.addConfigLine("sys_interval 1");
    broker_.start();
  }

  int connectAs(std::uint8_t level, const std::string& user, const std::string& password) {
    RawClient client(broker_.port());
    return connectCode(client, connectSpec(level, "pw-" + std::to_string(++clients_), user, password));
  }

  // SIGHUP, then waits for the broker's verdict on the password and ACL files.
  void reload(const std::string& expectedLog) {
    const std::size_t mark = broker_.logMark();
    broker_.signal(SIGHUP);
    ASSERT_TRUE(broker_.waitForLog(expectedLog, 5s, mark)) << "no '" << expectedLog << "' in log";
  }

  BrokerProcess broker_;
  std::string passwordFile_;
  int clients_ = 0;
};

TEST_F(SecurityPasswords, FileWrittenByMosquittoPasswdWorksUnchanged) {
  tool({mosquittoPasswd(), "-c", "-b", passwordFile_, "alice", "s3cret"});
  tool({mosquittoPasswd(), "-b", passwordFile_, "bob", "hunter2"});
  ASSERT_NE(readFile(passwordFile_).find("alice:$7$"), std::string::npos);
  startBroker();

  EXPECT_EQ(connectAs(kV5, "alice", "s3cret"), 0);
  EXPECT_EQ(connectAs(kV311, "bob", "hunter2"), 0);
  // MQTT 3.1 ("MQIsdp") clients authenticate the same way.
  EXPECT_EQ(connectAs(3, "alice", "s3cret"), 0);
}

TEST_F(SecurityPasswords, WrongPasswordIsRefusedWithBadUserNameOrPassword) {
  tool({mosquittoPasswd(), "-c", "-b", passwordFile_, "alice", "s3cret"});
  startBroker();

  EXPECT_EQ(connectAs(kV5, "alice", "wrong"), kBadUserNameOrPassword);
  EXPECT_EQ(connectAs(kV311, "alice", "wrong"), kV311BadUserNameOrPassword);
  EXPECT_EQ(connectAs(kV5, "mallory", "s3cret"), kBadUserNameOrPassword);
  // A user name without a password is a wrong password, not an anonymous client.
  EXPECT_EQ(connectAs(kV5, "alice", ""), kBadUserNameOrPassword);
  EXPECT_TRUE(broker_.waitForLog("refused connection from 127.0.0.1", 3s));

  // The refused client is disconnected after its CONNACK.
  RawClient refused(broker_.port());
  ASSERT_EQ(connectCode(refused, connectSpec(kV5, "refused", "alice", "nope")),
            kBadUserNameOrPassword);
  EXPECT_TRUE(refused.waitClosed(3s));

  // Every refusal is counted in $SYS, which a user with the right password can read.
  auto monitor =
      subscriber(broker_.port(), connectSpec(kV311, "monitor", "alice", "s3cret"),
                 "$SYS/broker/midge/clients/refused");
  bool counted = false;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!counted && std::chrono::steady_clock::now() < deadline) {
    const ReadResult result = monitor->read(1500ms);
    if (result.status != ReadStatus::Packet || result.packet.type() != kPublish) continue;
    const wire::PublishView view = wire::parsePublish(result.packet);
    if (view.qos == 1) monitor->send(wire::ack(kPuback, view.packetId));
    counted = view.payload == "5";
  }
  EXPECT_TRUE(counted) << "$SYS/broker/midge/clients/refused never reached 5";
}

// Real clients with user names and passwords: Mosquitto's own command-line clients.
TEST_F(SecurityPasswords, MosquittoClientsLogInWithTheirPasswords) {
  if (*mosquittoPub() == '\0' || *mosquittoSub() == '\0') {
    GTEST_SKIP() << "mosquitto-clients not installed";
  }
  tool({mosquittoPasswd(), "-c", "-b", passwordFile_, "alice", "s3cret"});
  startBroker();
  const std::string port = std::to_string(broker_.port());
  const auto publishAs = [&](const std::string& password, const std::string& message) {
    return run({mosquittoPub(), "-h", "127.0.0.1", "-p", port, "-u", "alice", "-P", password,
                "-t", "login/t", "-m", message, "-q", "1", "-r", "-i", "pub-" + message});
  };
  const ProcessResult refused = publishAs("wrong", "refused");
  EXPECT_NE(refused.status, 0) << refused.output;
  const ProcessResult accepted = publishAs("s3cret", "accepted");
  ASSERT_EQ(accepted.status, 0) << accepted.output;
  // The retained message shows which login got through.
  const ProcessResult received =
      run({mosquittoSub(), "-h", "127.0.0.1", "-p", port, "-u", "alice", "-P", "s3cret", "-t",
           "login/t", "-C", "1", "-W", "10", "-i", "sub-login"});
  EXPECT_EQ(received.status, 0) << received.output;
  EXPECT_EQ(received.output, "accepted\n");
}

TEST_F(SecurityPasswords, AnonymousClientIsRefusedWhenNotAllowed) {
  tool({mosquittoPasswd(), "-c", "-b", passwordFile_, "alice", "s3cret"});
  startBroker();

  EXPECT_EQ(connectAs(kV5, "", ""), kNotAuthorized);
  EXPECT_EQ(connectAs(kV311, "", ""), kV311NotAuthorized);
  EXPECT_EQ(connectAs(kV311, "alice", "s3cret"), 0);
}

TEST_F(SecurityPasswords, FileEditedWithMidgePasswdWorks) {
  if (*midgePasswd() == '\0') GTEST_SKIP() << "midge-passwd not built";
  tool({mosquittoPasswd(), "-c", "-b", passwordFile_, "alice", "s3cret"});
  writeFile(passwordFile_, "# plant users\n" + readFile(passwordFile_));
  tool({midgePasswd(), "-b", passwordFile_, "bob", "hunter2"});
  tool({midgePasswd(), "-b", passwordFile_, "alice", "changed"});
  const std::string edited = readFile(passwordFile_);
  EXPECT_EQ(edited.rfind("# plant users\nalice:$7$", 0), 0u) << edited;
  startBroker();

  EXPECT_EQ(connectAs(kV5, "bob", "hunter2"), 0);
  EXPECT_EQ(connectAs(kV5, "alice", "changed"), 0);
  EXPECT_EQ(connectAs(kV5, "alice", "s3cret"), kBadUserNameOrPassword);
}

TEST_F(SecurityPasswords, ReloadAdmitsNewUsersAndDropsDeletedOnes) {
  tool({mosquittoPasswd(), "-c", "-b", passwordFile_, "alice", "s3cret"});
  startBroker();
  ASSERT_EQ(connectAs(kV5, "carol", "pa55"), kBadUserNameOrPassword);

  // A client connected before the reload keeps its session.
  RawClient connected(broker_.port());
  ASSERT_EQ(connectCode(connected, connectSpec(kV311, "alice-before", "alice", "s3cret")), 0);

  tool({mosquittoPasswd(), "-b", passwordFile_, "carol", "pa55"});
  reload("reloaded password and ACL files");
  EXPECT_EQ(connectAs(kV5, "carol", "pa55"), 0);

  if (*midgePasswd() != '\0') {
    tool({midgePasswd(), "-D", passwordFile_, "alice"});
    reload("reloaded password and ACL files");
    EXPECT_EQ(connectAs(kV5, "alice", "s3cret"), kBadUserNameOrPassword);
  }
  ASSERT_TRUE(connected.send(wire::pingreq()));
  EXPECT_EQ(connected.expect(kPingresp).type(), kPingresp);
}

TEST_F(SecurityPasswords, BrokenFileOnReloadKeepsThePreviousOne) {
  tool({mosquittoPasswd(), "-c", "-b", passwordFile_, "alice", "s3cret"});
  startBroker();

  // A plain-text password pasted in by hand.
  writeFile(passwordFile_, readFile(passwordFile_) + "carol:pa55\n");
  reload("reload failed, keeping the previous files");
  EXPECT_GE(broker_.countInLog(passwordFile_ + ":2: user 'carol': unknown hash type"), 1u);
  EXPECT_EQ(connectAs(kV5, "alice", "s3cret"), 0);
  EXPECT_EQ(connectAs(kV5, "carol", "pa55"), kBadUserNameOrPassword);

  // A missing file is a failed reload too, not an empty user list.
  std::remove(passwordFile_.c_str());
  reload("reload failed, keeping the previous files");
  EXPECT_EQ(connectAs(kV311, "alice", "s3cret"), 0);
  EXPECT_TRUE(broker_.running());
}

// Mosquitto 2.0 warns about these too: the hashes can be brute-forced offline, and the ACL
// is a map of who may read what. A warning, not a refusal, so an upgrade does not stop a
// broker whose files were always like that.
TEST_F(SecurityPasswords, FilesReadableByEveryUserAreWarnedAboutAtLoadAndReload) {
  tool({mosquittoPasswd(), "-c", "-b", passwordFile_, "alice", "s3cret"});
  const std::string aclFile = broker_.dataDir() + "/acl";
  writeFile(aclFile, "user alice\ntopic readwrite alice/#\n");
  ASSERT_EQ(::chmod(passwordFile_.c_str(), 0644), 0);
  ASSERT_EQ(::chmod(aclFile.c_str(), 0640), 0);
  broker_.addConfigLine("acl_file " + aclFile);
  startBroker();
  EXPECT_TRUE(broker_.waitForLog(
      "password_file " + passwordFile_ + " has world readable permissions (mode 0644)", 3s));
  EXPECT_EQ(broker_.countInLog("acl_file " + aclFile + " has world readable"), 0u);
  EXPECT_EQ(connectAs(kV5, "alice", "s3cret"), 0);

  ASSERT_EQ(::chmod(passwordFile_.c_str(), 0600), 0);
  ASSERT_EQ(::chmod(aclFile.c_str(), 0604), 0);
  const std::size_t mark = broker_.logMark();
  reload("reloaded password and ACL files");
  EXPECT_TRUE(broker_.waitForLog("acl_file " + aclFile + " has world readable permissions", 3s,
                                 mark));
  EXPECT_EQ(broker_.countInLog("password_file " + passwordFile_ + " has world", mark), 0u);
  EXPECT_EQ(connectAs(kV311, "alice", "s3cret"), 0);
}

}  // namespace
}  // namespace midge::test::security
