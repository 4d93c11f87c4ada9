// SPDX-License-Identifier: Apache-2.0
// Bind rules: wildcard dual stack, names, port 0, busy ports, bad names.
#include "port/net/listen_socket.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <unistd.h>

#include "tests/port/net/net_test_support.hpp"

namespace midge::port::testing {
namespace {

struct Sockets {
  ListenSockets s;
  ~Sockets() {
    for (int fd : s.fds) ::close(fd);
  }
};

TEST(ListenSockets, WildcardBindsIpv4AndIpv6OnTheSamePort) {
  Sockets sockets;
  std::string error, notice;
  ASSERT_TRUE(openListenSockets("", 0, sockets.s, error, notice)) << error;
  ASSERT_NE(sockets.s.port, 0);
  ASSERT_FALSE(sockets.s.fds.empty());
  EXPECT_EQ(sockets.s.addresses[0], "0.0.0.0:" + std::to_string(sockets.s.port));
  // Connecting completes in the kernel backlog; nothing needs to accept.
  Client v4;
  EXPECT_TRUE(v4.connect("127.0.0.1", sockets.s.port));
  if (ipv6Loopback()) {
    ASSERT_EQ(sockets.s.fds.size(), 2u) << notice;
    EXPECT_EQ(sockets.s.addresses[1], "[::]:" + std::to_string(sockets.s.port));
    Client v6;
    EXPECT_TRUE(v6.connect("::1", sockets.s.port));
  }
}

TEST(ListenSockets, BusyPortIsReportedWithTheAddress) {
  Sockets first, second;
  std::string error, notice;
  ASSERT_TRUE(openListenSockets("127.0.0.1", 0, first.s, error, notice)) << error;
  EXPECT_FALSE(openListenSockets("127.0.0.1", first.s.port, second.s, error, notice));
  EXPECT_TRUE(second.s.fds.empty());
  EXPECT_NE(error.find("127.0.0.1:" + std::to_string(first.s.port)), std::string::npos) << error;
  EXPECT_NE(error.find("in use"), std::string::npos) << error;
}

TEST(ListenSockets, WildcardFailsWhenTheIpv4PortIsTaken) {
  Sockets taken, wildcard;
  std::string error, notice;
  ASSERT_TRUE(openListenSockets("127.0.0.1", 0, taken.s, error, notice)) << error;
  EXPECT_FALSE(openListenSockets("", taken.s.port, wildcard.s, error, notice));
  EXPECT_NE(error.find("in use"), std::string::npos) << error;
}

TEST(ListenSockets, NamesAreResolved) {
  Sockets sockets;
  std::string error, notice;
  ASSERT_TRUE(openListenSockets("localhost", 0, sockets.s, error, notice)) << error;
  ASSERT_FALSE(sockets.s.fds.empty());
  bool hasV4 = false;
  for (const std::string& a : sockets.s.addresses) {
    hasV4 = hasV4 || a == "127.0.0.1:" + std::to_string(sockets.s.port);
  }
  EXPECT_TRUE(hasV4);
  Client c;
  EXPECT_TRUE(c.connect("127.0.0.1", sockets.s.port));
}

TEST(ListenSockets, UnknownNamesAndForeignAddressesFail) {
  Sockets sockets;
  std::string error, notice;
  EXPECT_FALSE(openListenSockets("no-such-host.invalid", 0, sockets.s, error, notice));
  EXPECT_NE(error.find("cannot resolve"), std::string::npos) << error;
  // TEST-NET-1 is never a local address.
  EXPECT_FALSE(openListenSockets("192.0.2.1", 0, sockets.s, error, notice));
  EXPECT_NE(error.find("192.0.2.1"), std::string::npos) << error;
  EXPECT_TRUE(sockets.s.fds.empty());
}

TEST(ListenSockets, SocketDomainKeepsOneAddressFamily) {
  Sockets v4Only, wrongFamily;
  std::string error, notice;
  ListenRestrictions ipv4;
  ipv4.family = AddressFamily::IPv4;
  ListenRestrictions ipv6;
  ipv6.family = AddressFamily::IPv6;
  ASSERT_TRUE(openListenSockets("127.0.0.1", 0, v4Only.s, error, notice, ipv4)) << error;
  EXPECT_EQ(v4Only.s.addresses.size(), 1u);
  EXPECT_FALSE(openListenSockets("127.0.0.1", 0, wrongFamily.s, error, notice, ipv6));
  EXPECT_NE(error.find("127.0.0.1"), std::string::npos) << error;
  EXPECT_TRUE(wrongFamily.s.fds.empty());
  if (ipv6Loopback()) {
    Sockets v6Only;
    ASSERT_TRUE(openListenSockets("::1", 0, v6Only.s, error, notice, ipv6)) << error;
    EXPECT_EQ(v6Only.s.addresses[0], "[::1]:" + std::to_string(v6Only.s.port));
    EXPECT_FALSE(openListenSockets("::1", 0, wrongFamily.s, error, notice, ipv4));
  }
}

TEST(ListenSockets, BindInterfaceTiesTheSocketToOneInterface) {
  Sockets sockets;
  std::string error, notice;
  ListenRestrictions unknown;
  unknown.interfaceName = "no-such-if0";
  EXPECT_FALSE(openListenSockets("127.0.0.1", 0, sockets.s, error, notice, unknown));
  EXPECT_NE(error.find("interface no-such-if0"), std::string::npos) << error;
  EXPECT_TRUE(sockets.s.fds.empty());
  if (::geteuid() != 0) GTEST_SKIP() << "SO_BINDTODEVICE needs CAP_NET_RAW";
  ListenRestrictions loopback;
  loopback.interfaceName = "lo";
  ASSERT_TRUE(openListenSockets("127.0.0.1", 0, sockets.s, error, notice, loopback)) << error;
  Client c;
  EXPECT_TRUE(c.connect("127.0.0.1", sockets.s.port));
}

TEST(ListenSockets, FormatsAddresses) {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  v4.sin_port = htons(5000);
  ASSERT_EQ(::inet_pton(AF_INET, "192.0.2.7", &v4.sin_addr), 1);
  EXPECT_EQ(formatSocketAddress(reinterpret_cast<sockaddr*>(&v4), sizeof(v4)),
            "192.0.2.7:5000");
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  v6.sin6_port = htons(1883);
  ASSERT_EQ(::inet_pton(AF_INET6, "2001:db8::1", &v6.sin6_addr), 1);
  EXPECT_EQ(formatSocketAddress(reinterpret_cast<sockaddr*>(&v6), sizeof(v6)),
            "[2001:db8::1]:1883");
  EXPECT_EQ(formatSocketAddress(reinterpret_cast<sockaddr*>(&v6), 4), "unknown");
}

TEST(EventLoopListeners, AddListenerReportsABusyPort) {
  FakeEngine engine;
  auto loop = makeLoop({}, engine);
  std::string error;
  ASSERT_TRUE(loop->addListener({"127.0.0.1", 0, 0}, error)) << error;
  EXPECT_FALSE(loop->addListener({"127.0.0.1", loop->boundPort(0), 1}, error));
  EXPECT_NE(error.find("in use"), std::string::npos) << error;
  EXPECT_EQ(loop->boundPort(1), 0);
  EXPECT_EQ(loop->boundPort(7), 0);
}

}  // namespace
}  // namespace midge::port::testing
