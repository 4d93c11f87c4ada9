// Listener keywords that decide which sockets the broker opens: socket_domain and
// bind_interface reach the port, and a listener that cannot honour them stops the start.
#include <gtest/gtest.h>
#include <unistd.h>

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

TEST(ListenerOptions, SocketDomainIsApplied) {
  BrokerProcess broker;
  broker.setWriteListener(false);
  broker.addConfigLine("listener {PORT} 127.0.0.1");
  broker.addConfigLine("socket_domain ipv6");
  // 127.0.0.1 has no IPv6 address: nothing to listen on, which must not pass silently.
  expectStartFailsNaming(broker, "127.0.0.1");
}

TEST(ListenerOptions, BindInterfaceIsApplied) {
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

}  // namespace
}  // namespace midge::test
