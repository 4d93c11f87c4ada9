// Keywords that act while the broker starts: socket_domain and bind_interface reach the
// port (a listener that cannot honour them stops the start), and `user` gives up root.
#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <string>

#include "tests/integration/broker_process.hpp"
#include "tests/integration/raw_client.hpp"

namespace midge::test {
namespace {

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
  RawClient client(broker.port());
  wire::ConnectSpec spec;
  spec.clientId = "on-lo";
  handshake(client, spec);
  client.send(wire::pingreq());
  client.expect(kPingresp);
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
  RawClient client(broker.port());
  wire::ConnectSpec spec;
  spec.clientId = "after-drop";
  handshake(client, spec);
  client.send(wire::pingreq());
  client.expect(kPingresp);
  EXPECT_EQ(broker.stop(), 0);
}

}  // namespace
}  // namespace midge::test
