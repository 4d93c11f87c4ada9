// SPDX-License-Identifier: Apache-2.0
#include "tests/port/tls/loopback_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>
#include <stdexcept>

#include "tests/port/tls/test_pki.hpp"

namespace midge::port::testing {
namespace {

// Generous: the handshake takes milliseconds, but sanitizer builds on a busy CI machine
// are slow. Only a hung test ever waits this long.
constexpr std::chrono::seconds kConnectionDeadline{30};

constexpr const char* kPythonClient = R"(
import socket, ssl, sys
port, cafile, certfile, keyfile, size = sys.argv[1:6]
def main():
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile)
    if certfile:
        context.load_cert_chain(certfile, keyfile)
    payload = bytes((i * 7 + 3) % 256 for i in range(int(size)))
    with socket.create_connection(("127.0.0.1", int(port)), timeout=30) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            subject = dict(entry[0] for entry in tls.getpeercert()["subject"])
            print("organisation=" + subject.get("organizationName", ""))
            print("version=" + str(tls.version()))
            tls.sendall(payload)
            received = bytearray()
            while len(received) < len(payload):
                chunk = tls.recv(65536)
                if not chunk:
                    break
                received += chunk
            print("echo=" + ("ok" if bytes(received) == payload else "mismatch"))
            try:
                tls.unwrap()
            except (ssl.SSLError, OSError):
                pass
    print("result=ok")
try:
    main()
except Exception as error:
    print("result=error " + type(error).__name__ + ": " + str(error).replace("\n", " "))
)";

void sendAll(int socket, const std::vector<std::uint8_t>& bytes) {
  std::size_t offset = 0;
  while (offset < bytes.size()) {
    const ssize_t sent = ::send(socket, bytes.data() + offset, bytes.size() - offset, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return;  // the client went away; the report says what happened before
    offset += static_cast<std::size_t>(sent);
  }
}

std::string shellQuoted(const std::string& text) { return "'" + text + "'"; }

}  // namespace

LoopbackTlsServer::LoopbackTlsServer(TlsServerContext& context) : context_(context) {
  listenSocket_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listenSocket_ < 0) throw std::runtime_error("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (::bind(listenSocket_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listenSocket_, 8) != 0) {
    ::close(listenSocket_);
    throw std::runtime_error("cannot listen on 127.0.0.1");
  }
  socklen_t length = sizeof address;
  ::getsockname(listenSocket_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  if (::pipe(wakePipe_) != 0) throw std::runtime_error("pipe() failed");
  thread_ = std::thread([this] { acceptLoop(); });
}

LoopbackTlsServer::~LoopbackTlsServer() {
  const char stop = 's';
  (void)!::write(wakePipe_[1], &stop, 1);
  thread_.join();
  ::close(listenSocket_);
  ::close(wakePipe_[0]);
  ::close(wakePipe_[1]);
}

bool LoopbackTlsServer::reload(std::string& error) {
  std::lock_guard<std::mutex> lock(mutex_);
  return context_.reload(error);
}

bool LoopbackTlsServer::waitForConnections(std::size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return connectionEnded_.wait_for(lock, timeout, [&] { return reports_.size() >= count; });
}

std::vector<ConnectionReport> LoopbackTlsServer::reports() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return reports_;
}

bool LoopbackTlsServer::waitReadable(int socket, std::chrono::steady_clock::time_point deadline,
                                     bool& stop) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd fds[2] = {{socket, POLLIN, 0}, {wakePipe_[0], POLLIN, 0}};
    const int ready = ::poll(fds, 2, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    if (fds[1].revents != 0) {
      stop = true;
      return false;
    }
    return true;
  }
}

void LoopbackTlsServer::acceptLoop() {
  for (;;) {
    bool stop = false;
    const auto farAway = std::chrono::steady_clock::now() + std::chrono::hours(1);
    if (!waitReadable(listenSocket_, farAway, stop) && stop) return;
    const int connection = ::accept(listenSocket_, nullptr, nullptr);
    if (connection >= 0) serve(connection);
  }
}

void LoopbackTlsServer::serve(int socket) {
  std::unique_ptr<TlsSession> session;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    session = context_.createSession();
  }
  ConnectionReport report;
  const auto deadline = std::chrono::steady_clock::now() + kConnectionDeadline;
  std::vector<std::uint8_t> input(16384);
  std::vector<std::uint8_t> plain;
  std::vector<std::uint8_t> wire;
  for (;;) {
    bool stop = false;
    if (!waitReadable(socket, deadline, stop)) {
      if (!stop) report.error = "test server: no data before the deadline";
      break;
    }
    const ssize_t received = ::recv(socket, input.data(), input.size(), 0);
    if (received < 0 && errno == EINTR) continue;
    if (received <= 0) break;
    plain.clear();
    wire.clear();
    const bool ok =
        session->onReceive(Bytes(input.data(), static_cast<std::size_t>(received)), plain, wire);
    sendAll(socket, wire);  // also after a failure: it may carry the alert
    if (!ok) break;
    if (!plain.empty()) {
      wire.clear();
      if (!session->onSend(Bytes(plain), wire)) break;
      sendAll(socket, wire);
      report.echoedBytes += plain.size();
    }
  }
  report.handshakeDone = session->handshakeDone();
  report.peerClosed = session->peerClosed();
  report.peerIdentity = session->peerIdentity();
  report.cipherSuite = session->cipherSuite();
  if (report.error.empty()) report.error = session->error();
  ::close(socket);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    reports_.push_back(report);
  }
  connectionEnded_.notify_all();
}

std::map<std::string, std::string> runPythonClient(std::uint16_t port, const std::string& caFile,
                                                   const std::string& certFile,
                                                   const std::string& keyFile,
                                                   std::size_t payloadBytes) {
  const std::string script = TestPki::instance().path("tls_client.py");
  writeFile(script, kPythonClient);
  int status = 0;
  const std::string output = runCommandAnyStatus(
      shellQuoted(python3Executable()) + " " + shellQuoted(script) + " " + std::to_string(port) +
          " " + shellQuoted(caFile) + " " + shellQuoted(certFile) + " " + shellQuoted(keyFile) +
          " " + std::to_string(payloadBytes),
      status);
  std::map<std::string, std::string> fields;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    const std::size_t equals = line.find('=');
    if (equals != std::string::npos) fields[line.substr(0, equals)] = line.substr(equals + 1);
  }
  if (fields.count("result") == 0) fields["result"] = "error: no result line in: " + output;
  return fields;
}

}  // namespace midge::port::testing
