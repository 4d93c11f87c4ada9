// SPDX-License-Identifier: Apache-2.0
// What acts while the broker starts: local-only mode without a listener, socket_domain and
// bind_interface (a listener that cannot honour them stops the start), `user` (gives up root).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/integration/broker_process.hpp"
#include "tests/integration/raw_client.hpp"
#include "tests/integration/subprocess.hpp"

namespace midge::test {
namespace {

using namespace std::chrono_literals;

// IPv4 addresses of this machine's interfaces other than loopback.
std::vector<std::string> nonLoopbackAddresses() {
  std::vector<std::string> addresses;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return addresses;
  for (ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr || entry->ifa_addr->sa_family != AF_INET) continue;
    if ((entry->ifa_flags & IFF_LOOPBACK) != 0) continue;
    char text[INET_ADDRSTRLEN] = {};
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(entry->ifa_addr);
    if (::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text) != nullptr) {
      addresses.emplace_back(text);
    }
  }
  ::freeifaddrs(list);
  return addresses;
}

bool tcpConnects(const std::string& address, std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in target{};
  target.sin_family = AF_INET;
  target.sin_port = htons(port);
  const bool connected = ::inet_pton(AF_INET, address.c_str(), &target.sin_addr) == 1 &&
                         ::connect(fd, reinterpret_cast<sockaddr*>(&target), sizeof target) == 0;
  ::close(fd);
  return connected;
}

// A client connects and gets its PINGRESP.
void expectServes(const BrokerProcess& broker, const std::string& clientId) {
  RawClient client(broker.port());
  wire::ConnectSpec spec;
  spec.clientId = clientId;
  handshake(client, spec);
  client.send(wire::pingreq());
  client.expect(kPingresp);
}

void expectStartFailsNaming(BrokerProcess& broker, const std::string& text) {
  try {
    broker.start();
    FAIL() << "the broker started";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(text), std::string::npos) << error.what();
  }
  EXPECT_FALSE(broker.running());
}

TEST(StartupOptions, SocketDomainIsApplied) {
  BrokerProcess broker;
  broker.setWriteListener(false);
  broker.addConfigLine("listener {PORT} 127.0.0.1");
  broker.addConfigLine("socket_domain ipv6");
  // 127.0.0.1 has no IPv6 address: nothing to listen on, which must not pass silently.
  expectStartFailsNaming(broker, "127.0.0.1");
}

TEST(StartupOptions, BindInterfaceIsApplied) {
  BrokerProcess unknown;
  unknown.setWriteListener(false);
  unknown.addConfigLine("listener {PORT} 127.0.0.1");
  unknown.addConfigLine("bind_interface no-such-if0");
  expectStartFailsNaming(unknown, "no-such-if0");

  if (::geteuid() != 0) GTEST_SKIP() << "SO_BINDTODEVICE needs CAP_NET_RAW";
  BrokerProcess broker;
  broker.setWriteListener(false);
  broker.addConfigLine("listener {PORT} 127.0.0.1");
  broker.addConfigLine("bind_interface lo");
  broker.start();
  expectServes(broker, "on-lo");
  EXPECT_EQ(broker.stop(), 0);
}

// The real user id of a running process, from /proc.
long uidOf(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (status >> key) {
    if (key == "Uid:") {
      long real = -1;
      status >> real;
      return real;
    }
  }
  return -1;
}

TEST(StartupOptions, UserGivesUpRootBeforeServing) {
  if (::geteuid() != 0) GTEST_SKIP() << "only a broker started as root switches user";
  const passwd* nobody = ::getpwnam("nobody");
  if (nobody == nullptr) GTEST_SKIP() << "no user 'nobody' on this machine";
  const auto nobodyUid = static_cast<long>(nobody->pw_uid);

  BrokerProcess unknown;
  unknown.addConfigLine("user no-such-user-midge");
  expectStartFailsNaming(unknown, "no-such-user-midge");

  BrokerProcess broker;
  broker.addConfigLine("user nobody");
  broker.start();
  EXPECT_TRUE(broker.waitForLog("running as user nobody", std::chrono::seconds(2)))
      << broker.log();
  EXPECT_EQ(uidOf(broker.pid()), nobodyUid);
  expectServes(broker, "after-drop");
  EXPECT_EQ(broker.stop(), 0);
}

// No listener configured (Mosquitto 2's local-only mode, also what `midge` without -c
// does): the broker listens on the loopback addresses only, never on the machine's others.
TEST(StartupOptions, WithoutAListenerOnlyLoopbackIsServed) {
  BrokerProcess broker;
  broker.setWriteListener(false);
  broker.addArgument("-p");
  broker.addArgument("{PORT}");
  broker.start();
  EXPECT_TRUE(broker.waitForLog("127.0.0.1:" + std::to_string(broker.port()), 2s)) << broker.log();
  expectServes(broker, "local");
  for (const std::string& address : nonLoopbackAddresses()) {
    EXPECT_FALSE(tcpConnects(address, broker.port())) << "reachable on " << address;
  }
  EXPECT_EQ(broker.stop(), 0);
}

// The version a user sees comes from the one in CMake's project(): --version prints it alone,
// -h names it first, and the broker announces it at start.
TEST(StartupOptions, VersionIsTheProjectVersion) {
  const std::string expected = std::string("midge version ") + MIDGE_PROJECT_VERSION + "\n";
  std::string output;
  ASSERT_EQ(runToCompletion({midgeBinaryPath(), "--version"}, 30s, &output), 0) << output;
  EXPECT_EQ(output, expected);

  ASSERT_EQ(runToCompletion({midgeBinaryPath(), "-h"}, 30s, &output), 0) << output;
  EXPECT_EQ(output.rfind(std::string("midge ") + MIDGE_PROJECT_VERSION + " ", 0), 0u) << output;
  EXPECT_NE(output.find("--version"), std::string::npos) << output;

  BrokerProcess broker;
  broker.start();
  EXPECT_TRUE(broker.waitForLog(std::string("midge version ") + MIDGE_PROJECT_VERSION + " starting",
                                2s))
      << broker.log();
  EXPECT_EQ(broker.stop(), 0);
}

}  // namespace
}  // namespace midge::test
