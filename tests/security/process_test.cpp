// SPDX-License-Identifier: Apache-2.0
// The broker started as root: it gives root up for the configured `user`, or for the
// default system user when there is none (MIDGE_DEFAULT_USER stands in for `midge` here,
// so that no test creates or removes system users), keeps running as root with a warning
// when that user does not exist, and hands the store and the pid file to the user it runs
// as. The tests use `nobody`, which every Debian system has.
#include <gtest/gtest.h>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "tests/integration/broker_process.hpp"
#include "tests/security/security_support.hpp"

namespace midge::test::security {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kMissingUser = "midge-test-no-such-user";

// The effective user id from /proc/PID/status ("Uid: real effective saved fs").
long effectiveUid(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Uid:", 0) == 0) {
      long real = -1;
      long effective = -1;
      std::sscanf(line.c_str(), "Uid: %ld %ld", &real, &effective);
      return effective;
    }
  }
  return -1;
}

long ownerOf(const std::string& path) {
  struct stat status {};
  if (::lstat(path.c_str(), &status) != 0) return -1;
  return static_cast<long>(status.st_uid);
}

class SecurityProcess : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "giving root up needs root";
    const passwd* nobody = ::getpwnam("nobody");
    if (nobody == nullptr) GTEST_SKIP() << "no user 'nobody'";
    nobodyUid_ = static_cast<long>(nobody->pw_uid);
    // The dropped user must reach its files below the private test directory.
    ASSERT_EQ(::chmod(broker_.dataDir().c_str(), 0711), 0);
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << "---- broker log ----\n" << broker_.log() << "----\n";
  }

  BrokerProcess broker_;
  long nobodyUid_ = -1;
};

TEST_F(SecurityProcess, ConfiguredUserGetsTheStoreAndThePidFile) {
  const std::string store = broker_.dataDir() + "/store";
  const std::string pidFile = broker_.dataDir() + "/midge.pid";
  broker_.addConfigLine("user nobody");
  broker_.addConfigLine("persistence true");
  broker_.addConfigLine("persistence_location " + store);
  broker_.addConfigLine("pid_file " + pidFile);
  broker_.start();
  ASSERT_TRUE(broker_.waitForLog("running as user nobody", 5s));
  EXPECT_EQ(effectiveUid(broker_.pid()), nobodyUid_);

  // The store still takes writes after the switch: a durable session, and a QoS 1 message
  // for it that is acknowledged only once committed.
  {
    RawClient subscriber(broker_.port());
    wire::ConnectSpec spec = connectSpec(4, "durable-after-drop");
    spec.cleanStart = false;
    ASSERT_EQ(connectCode(subscriber, spec), 0);
    subscriber.send(wire::subscribe(1, "drop/#", 1));
    subscriber.expect(kSuback);
  }
  {
    RawClient publisher(broker_.port());
    ASSERT_EQ(connectCode(publisher, connectSpec(4, "publisher")), 0);
    publisher.send(wire::publish("drop/t", "kept", 1, 2));
    publisher.expect(kPuback);
  }
  for (const std::string& path : {store, store + "/midge.db", store + "/midge.db-wal",
                                  store + "/midge.db-shm", pidFile}) {
    EXPECT_EQ(ownerOf(path), nobodyUid_) << path;
  }
  EXPECT_EQ(readFile(pidFile), std::to_string(broker_.pid()) + "\n");

  EXPECT_EQ(broker_.stop(), 0);
  // Its directory is root's: the pid file cannot be removed, but no stale pid is left.
  EXPECT_TRUE(!std::filesystem::exists(pidFile) || readFile(pidFile).empty());

  broker_.start();  // root again, on the store the other user wrote
  RawClient client(broker_.port());
  wire::ConnectSpec spec = connectSpec(4, "durable-after-drop");
  spec.cleanStart = false;
  ASSERT_EQ(connectCode(client, spec), 0);
  const RawPacket message = client.expect(kPublish);
  EXPECT_NE(std::string(message.body.begin(), message.body.end()).find("kept"), std::string::npos);
}

TEST_F(SecurityProcess, WithoutAUserLineRootDropsToTheDefaultUser) {
  broker_.setEnvironment("MIDGE_DEFAULT_USER", "nobody");
  broker_.start();
  ASSERT_TRUE(broker_.waitForLog("running as user nobody", 5s));
  EXPECT_EQ(effectiveUid(broker_.pid()), nobodyUid_);
  EXPECT_EQ(broker_.countInLog("running as root"), 0u);
}

TEST_F(SecurityProcess, WithoutTheDefaultUserRootKeepsRunningAndWarns) {
  broker_.setEnvironment("MIDGE_DEFAULT_USER", kMissingUser);
  broker_.start();
  EXPECT_TRUE(broker_.waitForLog(std::string("running as root: the configuration has no `user` "
                                             "and there is no system user '") +
                                     kMissingUser + "'",
                                 5s));
  EXPECT_EQ(effectiveUid(broker_.pid()), 0);
  RawClient client(broker_.port());
  EXPECT_EQ(connectCode(client, connectSpec(5, "served-as-root")), 0);
}

TEST_F(SecurityProcess, UserRootKeepsRootWithoutAWarning) {
  broker_.setEnvironment("MIDGE_DEFAULT_USER", kMissingUser);
  broker_.addConfigLine("user root");
  broker_.start();
  ASSERT_TRUE(broker_.waitForLog("running as user root", 5s));
  EXPECT_EQ(effectiveUid(broker_.pid()), 0);
  EXPECT_EQ(broker_.countInLog("running as root"), 0u);
}

// A directory the broker's user may write must not let that user make root truncate
// another file through a link planted where the pid file goes.
TEST_F(SecurityProcess, PidFileThatIsASymbolicLinkIsNotFollowed) {
  const std::string precious = broker_.dataDir() + "/precious";
  const std::string pidFile = broker_.dataDir() + "/midge.pid";
  writeFile(precious, "do not truncate\n");
  ASSERT_EQ(::symlink(precious.c_str(), pidFile.c_str()), 0);
  broker_.addConfigLine("user nobody");
  broker_.addConfigLine("pid_file " + pidFile);
  try {
    broker_.start();  // may return before the broker reaches the pid file
  } catch (const std::runtime_error&) {
    // It exited during start, as expected.
  }
  const auto deadline = Clock::now() + 10s;
  while (broker_.running() && Clock::now() < deadline) {
    broker_.waitForLog("pid_file", 100ms);
  }
  EXPECT_FALSE(broker_.running());
  EXPECT_NE(broker_.stop(), 0);
  EXPECT_GE(broker_.countInLog("cannot write pid_file " + pidFile + ": it is a symbolic link"), 1u);
  EXPECT_EQ(readFile(precious), "do not truncate\n");
}

}  // namespace
}  // namespace midge::test::security
