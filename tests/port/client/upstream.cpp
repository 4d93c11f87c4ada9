// SPDX-License-Identifier: Apache-2.0
#include "tests/port/client/upstream.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <thread>

namespace midge::test {

std::uint16_t freeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

bool portAcceptsConnections(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

bool Upstream::start(std::uint16_t port) {
  port_ = port != 0 ? port : freeLoopbackPort();
  const std::string conf = dir_ + "/mosquitto-" + std::to_string(port_) + ".conf";
  {
    std::ofstream out(conf);
    out << "listener " << port_ << " 127.0.0.1\n"
        << "allow_anonymous true\npersistence false\nlog_dest stderr\nlog_type all\n";
    if (!tls_.caFile.empty()) {
      out << "cafile " << tls_.caFile << "\ncertfile " << tls_.certFile << "\nkeyfile "
          << tls_.keyFile << "\n";
      if (tls_.requireCertificate) out << "require_certificate true\n";
    }
  }
  process_ = std::make_unique<Subprocess>(std::vector<std::string>{MIDGE_TEST_MOSQUITTO, "-c", conf});
  // Mosquitto has no readiness signal but its log; a connectable port is the real test.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (portAcceptsConnections(port_)) return true;
    if (process_->wait(std::chrono::milliseconds(20)) >= 0) break;  // it exited
  }
  std::fprintf(stderr, "mosquitto did not start:\n%s\n", process_->output().c_str());
  return false;
}

void Upstream::stop(bool crash) {
  if (!process_) return;
  process_->terminate(crash);
  process_.reset();
}

const std::string& Upstream::output() {
  static const std::string none;
  return process_ ? process_->output() : none;
}

}  // namespace midge::test
