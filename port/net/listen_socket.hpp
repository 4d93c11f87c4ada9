// SPDX-License-Identifier: Apache-2.0
// Listening sockets and socket-address formatting, kept apart from the loop so the bind
// rules (dual stack, names, port 0) can be read and tested on their own.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

namespace midge::port {

struct ListenSockets {
  std::vector<int> fds;                // bound, listening, non-blocking, close-on-exec
  std::vector<std::string> addresses;  // "0.0.0.0:1883", "[::]:1883", one per fd
  std::uint16_t port = 0;              // the same on every fd, also when 0 was asked
};

enum class AddressFamily : std::uint8_t { Any, IPv4, IPv6 };

// Mosquitto's socket_domain and bind_interface.
struct ListenRestrictions {
  AddressFamily family = AddressFamily::Any;
  // SO_BINDTODEVICE: only packets that arrive on this interface reach the socket, whatever
  // addresses it later gains. Needs CAP_NET_RAW.
  std::string interfaceName;
};

// bindAddress "" opens 0.0.0.0 and :: (IPV6_V6ONLY, so the two never overlap); a host with
// no IPv6 keeps the IPv4 socket and says so in notice. A name binds every address it
// resolves to; with port 0 they all share the port the first one got. restrictions.family
// keeps the addresses of one family only. On failure every socket opened so far is closed
// and error says which address failed and why.
bool openListenSockets(const std::string& bindAddress, std::uint16_t port, ListenSockets& out,
                       std::string& error, std::string& notice,
                       const ListenRestrictions& restrictions = {});

// "192.0.2.1:5000" or "[2001:db8::1]:5000"; "unknown" for other families.
std::string formatSocketAddress(const sockaddr* address, socklen_t length);

}  // namespace midge::port
