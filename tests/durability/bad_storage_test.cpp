// SPDX-License-Identifier: Apache-2.0
// Bad storage with the real binary: a store file the broker must refuse makes it exit at
// start with a message that names the file and the problem, and leaves the file exactly as
// it was; a full disk at run time withholds the acknowledgement of the turn that could not
// be committed, while the broker goes on serving everyone else and recovers by itself once
// space is freed.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "tests/durability/durability_support.hpp"
#include "tests/integration/http_client.hpp"
#include "tests/integration/subprocess.hpp"

namespace midge::test::durability {
namespace {

// Prints the broker's log when the test fails or throws, whichever way it leaves.
struct LogOnFailure {
  const BrokerProcess& broker;
  ~LogOnFailure() {
    if (::testing::Test::HasFailure() || std::uncaught_exceptions() > 0) {
      std::cerr << "---- broker log ----\n" << broker.log() << "----\n";
    }
  }
};

using namespace std::chrono_literals;

std::uint16_t packetIdOf(const RawPacket& packet) {
  return static_cast<std::uint16_t>(packet.body.at(0) << 8 | packet.body.at(1));
}

struct StartAttempt {
  int status = -1;
  std::string output;
};

// Runs midge on a configuration whose store is `location`/midge.db and returns how it
// ended. It must end by itself: a refused store is a start-up failure, not a hang.
StartAttempt startWithStore(const std::string& workDir, const std::string& location) {
  const std::string config = workDir + "/refuse.conf";
  writeFile(config, "listener " + std::to_string(pickFreeLoopbackPort()) +
                        " 127.0.0.1\nallow_anonymous true\npersistence true\n"
                        "persistence_location " + location + "\npersistence_file midge.db\n");
  StartAttempt attempt;
  attempt.status = runToCompletion({midgeBinaryPath(), "-c", config}, 10s, &attempt.output);
  return attempt;
}

class BadStoreTest : public ::testing::Test {
 protected:
  // A real store with a durable session, a queued message and a retained message, written
  // by the broker and closed cleanly (the WAL is checkpointed into the file).
  void writeRealStore() {
    enablePersistence(broker_);
    broker_.start();
    SessionSpec sub;
    sub.clientId = "stored-sub";
    Connected subscriber = connectSession(broker_.port(), sub);
    subscribe(*subscriber.client, sub, 1, "stored/#", 1);
    subscriber.client->close();
    SessionSpec pub;
    pub.clientId = "stored-pub";
    pub.cleanStart = true;
    Connected publisher = connectSession(broker_.port(), pub);
    publisher.client->send(wire::publish("stored/t", std::string(3000, 'x'), 1, 1, true));
    publisher.client->expect(kPuback);
    publisher.client->close();
    ASSERT_EQ(broker_.stop(), 0);
    ASSERT_FALSE(std::filesystem::exists(storePath(broker_) + "-wal"));
  }

  // Starts midge on the store, expects a refusal naming the file and `problem`, and checks
  // that the file was not touched.
  void expectRefused(const std::string& problem) {
    const std::string path = storePath(broker_);
    const std::string before = readFile(path);
    const StartAttempt attempt = startWithStore(broker_.dataDir(), broker_.dataDir());
    EXPECT_NE(attempt.status, 0) << attempt.output;
    EXPECT_NE(attempt.status, -2) << "midge did not exit by itself:\n" << attempt.output;
    EXPECT_NE(attempt.output.find(path), std::string::npos)
        << "the message names the file:\n" << attempt.output;
    EXPECT_NE(attempt.output.find(problem), std::string::npos)
        << "expected \"" << problem << "\" in:\n" << attempt.output;
    EXPECT_EQ(readFile(path), before) << "a refused store must not be modified";
    std::cout << "midge said: " << attempt.output;
  }

  BrokerProcess broker_;
};

TEST_F(BadStoreTest, TruncatedStoreIsRefusedAndLeftUntouched) {
  writeRealStore();
  const std::string path = storePath(broker_);
  const std::string whole = readFile(path);
  ASSERT_GT(whole.size(), 4u * 4096) << "the store should span several pages";
  // Cut in the middle of a page, as a disk that filled up during a copy would.
  writeFile(path, whole.substr(0, whole.size() / 2 + 100));
  expectRefused("truncated or damaged");
}

TEST_F(BadStoreTest, GarbageHeaderIsRefusedAndLeftUntouched) {
  const std::string path = storePath(broker_);
  std::string garbage;
  for (int i = 0; i < 8192; ++i) garbage.push_back(static_cast<char>((i * 131 + 7) & 0xFF));
  writeFile(path, garbage);
  expectRefused("is not a database");
}

TEST_F(BadStoreTest, StoreFromANewerSchemaIsRefusedAndLeftUntouched) {
  writeRealStore();
  executeSql(storePath(broker_), "PRAGMA user_version = 999");
  ASSERT_EQ(queryInteger(storePath(broker_), "PRAGMA user_version"), 999);
  expectRefused("newer Midge (schema 999");
}

TEST_F(BadStoreTest, LocationUnderARegularFileIsRefused) {
  const std::string plain = broker_.dataDir() + "/plain-file";
  writeFile(plain, "an ordinary file, not a directory\n");
  const StartAttempt attempt = startWithStore(broker_.dataDir(), plain + "/store");
  EXPECT_NE(attempt.status, 0) << attempt.output;
  EXPECT_NE(attempt.status, -2) << attempt.output;
  EXPECT_NE(attempt.output.find("cannot create persistence_location " + plain),
            std::string::npos)
      << attempt.output;
  EXPECT_NE(attempt.output.find(std::strerror(ENOTDIR)), std::string::npos) << attempt.output;
  EXPECT_EQ(readFile(plain), "an ordinary file, not a directory\n");
}

// ---- a full disk ----------------------------------------------------------------------

// A small tmpfs mounted for one test and detached afterwards, even when the test fails.
class TmpfsMount {
 public:
  TmpfsMount(const std::string& path, const std::string& size) : path_(path) {
    std::filesystem::create_directories(path_);
    const std::string options = "size=" + size + ",mode=0700";
    if (::mount("tmpfs", path_.c_str(), "tmpfs", 0, options.c_str()) == 0) {
      mounted_ = true;
    } else {
      error_ = std::strerror(errno);
    }
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::string path_;
  bool mounted_ = false;
  std::string error_;
};

// Writes to `path` until the file system refuses; returns the bytes written.
std::size_t fillUntilFull(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + path);
  std::size_t total = 0;
  const std::vector<char> chunk(64 * 1024, 'f');
  for (std::size_t size = chunk.size(); size >= 512; size /= 2) {
    for (;;) {
      const ssize_t n = ::write(fd, chunk.data(), size);
      if (n <= 0) break;
      total += static_cast<std::size_t>(n);
    }
  }
  ::close(fd);
  return total;
}

TEST(DurabilityDiskFull, FailedCommitWithholdsThePubackAndTheBrokerRecovers) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  BrokerProcess broker;
  const std::string disk = broker.dataDir() + "/disk";
  TmpfsMount mount(disk, "2m");
  if (!mount.mounted()) {
    GTEST_SKIP() << "cannot mount a tmpfs at " << disk << " (" << mount.error()
                 << "): the disk-full test needs CAP_SYS_ADMIN";
  }
  broker.addConfigLine("persistence true");
  broker.addConfigLine("persistence_location " + disk);
  broker.addConfigLine("persistence_file midge.db");
#ifdef MIDGE_TEST_WITH_HTTP
  // /readyz reports the store: 503 while commits fail, 200 once one succeeds again.
  const std::uint16_t httpPort = pickFreeLoopbackPort();
  broker.addConfigLine("listener " + std::to_string(httpPort) + " 127.0.0.1");
  broker.addConfigLine("protocol http");
#endif
  broker.start();
  const LogOnFailure logOnFailure{broker};

  SessionSpec durable;
  durable.clientId = "full-sub";
  {
    Connected sub = connectSession(broker.port(), durable);
    subscribe(*sub.client, durable, 1, "full/#", 1);
    sub.client->send(wire::disconnect());
  }
  SessionSpec watcher;
  watcher.clientId = "watcher";
  watcher.cleanStart = true;
  Connected bystander = connectSession(broker.port(), watcher);
  subscribe(*bystander.client, watcher, 1, "other/#", 1);

  SessionSpec pub;
  pub.clientId = "full-pub";
  pub.cleanStart = true;
  {
    Connected warmUp = connectSession(broker.port(), pub);
    warmUp.client->send(wire::publish("full/t", "before-full", 1, 1));
    EXPECT_EQ(packetIdOf(warmUp.client->expect(kPuback)), 1) << "the store works";
  }

  const std::string filler = disk + "/filler";
  ASSERT_GT(fillUntilFull(filler), 0u);
  const std::string big(256 * 1024, 'B');  // far more than any free block or WAL slack
  const std::size_t mark = broker.logMark();
  for (std::uint8_t level : {std::uint8_t{4}, std::uint8_t{5}}) {
    SessionSpec spec = pub;
    spec.level = level;
    spec.sessionExpiry = 0;  // not durable: its CONNECT writes nothing
    Connected publisher = connectSession(broker.port(), spec);
    ASSERT_TRUE(publisher.client->send(wire::publish("full/t", big, 1, 2, false, level == 5)));
    // The turn's commit fails: no PUBACK, the connection is closed so the client resends.
    EXPECT_TRUE(publisher.client->waitClosed(10s)) << "MQTT " << static_cast<int>(level);
    for (const RawPacket& packet : publisher.client->received()) {
      EXPECT_NE(packet.type(), kPuback) << "a PUBACK for a message that was not committed";
      if (packet.type() == kDisconnect) {
        EXPECT_GE(wire::reasonOf(packet), 0x80);
      }
    }
  }
  EXPECT_TRUE(broker.waitForLog("store commit failed", 5s, mark));
#ifdef MIDGE_TEST_WITH_HTTP
  const HttpReply notReady = httpGet(httpPort, "/readyz");
  EXPECT_EQ(notReady.status, 503);
  EXPECT_NE(notReady.body.find("store not writable"), std::string::npos) << notReady.body;
  EXPECT_EQ(httpGet(httpPort, "/healthz").status, 200) << "serving, though not ready";
#endif

  // A new durable session cannot be committed either: its CONNECT is not accepted.
  {
    RawClient client(broker.port());
    wire::ConnectSpec connect;
    connect.level = 5;
    connect.clientId = "durable-newcomer";
    connect.cleanStart = false;
    connect.properties = {0x11, 0x00, 0x00, 0x0E, 0x10};  // Session Expiry Interval 3600
    ASSERT_TRUE(client.send(wire::connect(connect)));
    EXPECT_TRUE(client.waitClosed(10s));
    for (const RawPacket& packet : client.received()) {
      if (packet.type() == kConnack) {
        EXPECT_GE(wire::reasonOf(packet), 0x80) << "a session that is not on disk was accepted";
      }
    }
  }

  // Everyone else is still served: a turn without store writes commits nothing.
  {
    Connected other = connectSession(broker.port(), pub);
    other.client->send(wire::publish("other/t", "still-serving", 1, 3));
    EXPECT_EQ(packetIdOf(other.client->expect(kPuback)), 3);
    const wire::PublishView seen = wire::parsePublish(bystander.client->expect(kPublish));
    EXPECT_EQ(seen.payload, "still-serving");
  }

  std::filesystem::remove(filler);
  {
    Connected retry = connectSession(broker.port(), pub);
    retry.client->send(withDup(wire::publish("full/t", big, 1, 2)));
    EXPECT_EQ(packetIdOf(retry.client->expect(kPuback)), 2) << "space was freed: committed";
  }
#ifdef MIDGE_TEST_WITH_HTTP
  EXPECT_EQ(httpGet(httpPort, "/readyz").status, 200);
#endif
  Connected sub = connectSession(broker.port(), durable);
  EXPECT_TRUE(sub.sessionPresent);
  const wire::PublishView first = wire::parsePublish(sub.client->expect(kPublish));
  EXPECT_EQ(first.payload, "before-full");
  sub.client->send(wire::ack(kPuback, first.packetId));
  const wire::PublishView second = wire::parsePublish(sub.client->expect(kPublish));
  EXPECT_EQ(second.payload, big);
  sub.client->send(wire::ack(kPuback, second.packetId));
  sub.client->close();
  bystander.client->close();
  EXPECT_EQ(broker.stop(), 0);
}

// A store that keeps failing would otherwise have the broker refuse every durable client
// for as long as it runs. After persistence_failure_timeout it stops with a non-zero
// status instead, so that systemd (Restart=on-failure) or procd starts it again.
TEST(DurabilityDiskFull, CommitsFailingLongerThanTheTimeoutStopTheBroker) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  BrokerProcess broker;
  const std::string disk = broker.dataDir() + "/disk";
  TmpfsMount mount(disk, "2m");
  if (!mount.mounted()) {
    GTEST_SKIP() << "cannot mount a tmpfs at " << disk << " (" << mount.error()
                 << "): the disk-full test needs CAP_SYS_ADMIN";
  }
  broker.addConfigLine("persistence true");
  broker.addConfigLine("persistence_location " + disk);
  broker.addConfigLine("persistence_file midge.db");
  broker.addConfigLine("persistence_failure_timeout 1");
  broker.start();
  const LogOnFailure logOnFailure{broker};

  SessionSpec durable;
  durable.clientId = "stuck-sub";
  {
    Connected sub = connectSession(broker.port(), durable);
    subscribe(*sub.client, durable, 1, "stuck/#", 1);
    sub.client->send(wire::disconnect());
  }
  ASSERT_GT(fillUntilFull(disk + "/filler"), 0u);

  // Each attempt is a turn that must commit, and fails; once they have failed for longer
  // than the timeout, the next failure stops the broker.
  const std::string big(256 * 1024, 'B');
  SessionSpec pub;
  pub.clientId = "stuck-pub";
  pub.cleanStart = true;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  int attempts = 0;
  while (broker.running() && std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RawClient> connection;
    try {
      connection = std::make_unique<RawClient>(broker.port());
    } catch (const std::runtime_error&) {
      continue;  // the listener is closed: the broker is stopping
    }
    RawClient& client = *connection;
    wire::ConnectSpec connect;
    connect.clientId = pub.clientId;
    if (!client.send(wire::connect(connect))) continue;
    client.send(wire::publish("stuck/t", big, 1, 1));
    client.waitClosed(5s);
    for (const RawPacket& packet : client.received()) {
      EXPECT_NE(packet.type(), kPuback) << "a PUBACK for a message that was not committed";
    }
    ++attempts;
  }
  ASSERT_FALSE(broker.running()) << "still running after " << attempts << " failed commits";
  EXPECT_EQ(broker.stop(), 1);
  EXPECT_GE(broker.countInLog("without one success (persistence_failure_timeout 1)"), 1u);
  EXPECT_GE(broker.countInLog("midge stopped: the store kept failing"), 1u);
}

}  // namespace
}  // namespace midge::test::durability
