// SPDX-License-Identifier: Apache-2.0
#include "tests/security/security_support.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace midge::test::security {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kPoll{5};

constexpr const char* kOpenSslConfig = R"(
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused

[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash

[server_ext]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1

[client_ext]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth

[ca]
default_ca = test_ca
[test_ca]
database = index.txt
new_certs_dir = issued
serial = serial.txt
default_md = sha256
policy = any_policy
unique_subject = no
copy_extensions = none
[any_policy]
organizationName = optional
commonName = supplied
)";

int decodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

const char* mosquittoPub() { return MIDGE_TEST_MOSQUITTO_PUB; }
const char* mosquittoSub() { return MIDGE_TEST_MOSQUITTO_SUB; }
const char* mosquittoPasswd() { return MIDGE_TEST_MOSQUITTO_PASSWD; }
const char* opensslTool() { return MIDGE_TEST_OPENSSL; }
const char* midgePasswd() { return MIDGE_TEST_MIDGE_PASSWD; }

// ---- processes ----

ChildProcess::ChildProcess(std::vector<std::string> argv, std::string workDirectory) {
  static int counter = 0;
  outputPath_ = workDirectory + "/child-" + std::to_string(::getpid()) + "-" +
                std::to_string(++counter) + ".out";
  std::vector<char*> args;
  for (std::string& argument : argv) args.push_back(argument.data());
  args.push_back(nullptr);
  const int outFd = ::open(outputPath_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (outFd < 0) throw std::runtime_error("cannot create " + outputPath_);
  const int nullFd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t child = ::fork();
  if (child < 0) {
    ::close(outFd);
    ::close(nullFd);
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (child == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(nullFd, STDIN_FILENO);
    ::dup2(outFd, STDOUT_FILENO);
    ::dup2(outFd, STDERR_FILENO);
    ::execv(args[0], args.data());
    static const char message[] = "exec failed\n";
    (void)!::write(STDERR_FILENO, message, sizeof message - 1);
    ::_exit(127);
  }
  ::close(outFd);
  ::close(nullFd);
  pid_ = child;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  std::error_code ignored;
  std::filesystem::remove(outputPath_, ignored);
}

int ChildProcess::wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return status_;
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t result = ::waitpid(pid_, &status, WNOHANG);
    if (result == pid_) {
      pid_ = -1;
      status_ = decodeStatus(status);
      return status_;
    }
    if (result < 0 && errno != EINTR) {
      pid_ = -1;
      return status_;
    }
    if (Clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(kPoll);
  }
}

int ChildProcess::stop() {
  if (pid_ <= 0) return status_;
  ::kill(pid_, SIGTERM);
  const int status = wait(std::chrono::seconds(1));
  if (status != -1 || pid_ <= 0) return status;
  ::kill(pid_, SIGKILL);
  return wait(std::chrono::seconds(10));
}

std::string ChildProcess::output() const { return readFile(outputPath_); }

bool ChildProcess::waitForOutput(const std::string& needle,
                                 std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (output().find(needle) != std::string::npos) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPoll);
  }
}

ProcessResult run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  TempDir scratch;
  ChildProcess child(argv, scratch.path());
  ProcessResult result;
  result.status = child.wait(timeout);
  if (result.status == -1) child.stop();
  result.output = child.output();
  return result;
}

// ---- files ----

TempDir::TempDir() {
  std::string base = "/tmp";
  if (const char* tmp = std::getenv("TMPDIR")) base = tmp;
  std::string pattern = base + "/midge-sec-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void writeFile(const std::string& path, const std::string& contents) {
  // Written beside and renamed, as an operator's tools do, so a reload never sees half.
  const std::string temporary = path + ".writing";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << contents;
    if (!out) throw std::runtime_error("cannot write " + temporary);
  }
  std::filesystem::rename(temporary, path);
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void copyFile(const std::string& from, const std::string& to) { writeFile(to, readFile(from)); }

// ---- certificates ----

void TestPki::openssl(const std::string& arguments) const {
  // Through a shell that changes into the directory first: `openssl ca` resolves its
  // database and serial files relative to the working directory. Every argument the
  // generator passes is a single word without quotes.
  const ProcessResult result =
      run({"/bin/sh", "-c", "cd '" + dir_.path() + "' && '" + opensslTool() + "' " + arguments});
  if (result.status != 0) {
    throw std::runtime_error("openssl " + arguments + " failed:\n" + result.output);
  }
}

TestPki::TestPki() {
  if (*opensslTool() == '\0') throw std::runtime_error("openssl not found at configure time");
  writeFile(path("openssl.cnf"), kOpenSslConfig);
  writeFile(path("index.txt"), "");
  writeFile(path("serial.txt"), "1000\n");
  std::filesystem::create_directory(path("issued"));
  const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  const auto makeCa = [&](const std::string& name, const std::string& subject) {
    openssl("req -x509 -new -config openssl.cnf -extensions v3_ca" + ec + " -keyout " + name +
            ".key -out " + name + ".crt -days 30 -subj " + subject);
  };
  const auto issue = [&](const std::string& name, const std::string& keyName,
                         const std::string& subject, const std::string& ca,
                         const std::string& extensions) {
    if (keyName == name) {
      openssl("req -new -config openssl.cnf" + ec + " -keyout " + name + ".key -out " + name +
              ".csr -subj " + subject);
    } else {
      openssl("req -new -config openssl.cnf -key " + keyName + ".key -out " + name +
              ".csr -subj " + subject);
    }
    openssl("x509 -req -in " + name + ".csr -CA " + ca + ".crt -CAkey " + ca +
            ".key -CAcreateserial -days 30 -extfile openssl.cnf -extensions " + extensions +
            " -out " + name + ".crt");
  };
  makeCa("ca", "/CN=Security-Test-CA");
  makeCa("other-ca", "/CN=Unrelated-CA");
  issue("server", "server", "/O=Server-One/CN=localhost", "ca", "server_ext");
  issue("other-server", "other-server", "/O=Server-Two/CN=localhost", "other-ca", "server_ext");
  issue("device-42", "device-42", "/CN=device-42", "ca", "client_ext");
  issue("device-7", "device-7", "/CN=device-7", "ca", "client_ext");
  // OpenSSL 3.0's x509 cannot backdate; `openssl ca` takes explicit validity dates.
  openssl("req -new -config openssl.cnf -key server.key -out expired-server.csr "
          "-subj /O=Server-One/CN=localhost");
  openssl("ca -batch -config openssl.cnf -cert ca.crt -keyfile ca.key -notext "
          "-in expired-server.csr -out expired-server.crt -startdate 20200101000000Z "
          "-enddate 20200102000000Z -extensions server_ext -extfile openssl.cnf");
  writeFile(path("broken.key"),
            "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END PRIVATE KEY-----\n");
}

// ---- /proc ----

std::size_t residentKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return static_cast<std::size_t>(std::atoll(line.c_str() + 6));
  }
  return 0;
}

// ---- raw MQTT ----

std::uint8_t ackReason(const RawPacket& packet) {
  return packet.body.size() > 2 ? packet.body[2] : 0;
}

int connectCode(RawClient& client, const wire::ConnectSpec& spec) {
  if (!client.send(wire::connect(spec))) return -1;
  const ReadResult result = client.read();
  if (result.status != ReadStatus::Packet) return -1;
  if (result.packet.type() != kConnack) {
    throw std::runtime_error("expected CONNACK, got packet type " +
                             std::to_string(result.packet.type()));
  }
  return wire::reasonOf(result.packet);
}

wire::ConnectSpec connectSpec(std::uint8_t level, const std::string& clientId,
                              const std::string& username, const std::string& password) {
  wire::ConnectSpec spec;
  spec.level = level;
  spec.clientId = clientId;
  if (!username.empty()) spec.username = username;
  if (!password.empty()) spec.password = password;
  return spec;
}

std::unique_ptr<RawClient> subscriber(std::uint16_t port, const wire::ConnectSpec& spec,
                                      const std::string& filter, std::uint8_t qos) {
  auto client = std::make_unique<RawClient>(port);
  const int code = connectCode(*client, spec);
  if (code != 0) throw std::runtime_error(spec.clientId + ": CONNACK " + std::to_string(code));
  const bool v5 = spec.level == 5;
  client->send(wire::subscribe(1, filter, qos, v5));
  const RawPacket suback = client->expect(kSuback);
  // v5 SUBACK: packet id, property length (0 here), codes; 3.1.1: packet id, codes.
  const std::size_t at = v5 ? 3 : 2;
  if (suback.body.size() <= at || suback.body[at] != qos) {
    throw std::runtime_error(spec.clientId + ": unexpected SUBACK for " + filter);
  }
  return client;
}

std::vector<std::string> topicsUntil(RawClient& client, const std::string& marker, bool v5,
                                     std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::vector<std::string> topics;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) throw std::runtime_error("no message on " + marker + " in time");
    const RawPacket packet = client.expect(kPublish, left);
    const wire::PublishView view = wire::parsePublish(packet, v5);
    if (view.qos == 1) client.send(wire::ack(kPuback, view.packetId));
    topics.push_back(view.topic);
    if (view.topic == marker) return topics;
  }
}

}  // namespace midge::test::security
