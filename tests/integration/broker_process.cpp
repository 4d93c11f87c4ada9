// SPDX-License-Identifier: Apache-2.0
#include "tests/integration/broker_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
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

extern char** environ;

namespace midge::test {

namespace {

using Clock = std::chrono::steady_clock;

// How often the readiness and exit polls look again: short enough to keep tests fast,
// long enough not to burn a core that the broker needs.
constexpr std::chrono::milliseconds kPollInterval{5};
constexpr int kPortAttempts = 5;

std::string replaceAll(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

bool tcpConnects(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const sockaddr_in address = loopback(port);
  const bool ok =
      ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

int decodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string midgeBinaryPath() {
  if (const char* overridden = std::getenv("MIDGE_BINARY")) return overridden;
#ifdef MIDGE_BINARY_PATH
  return MIDGE_BINARY_PATH;
#else
  return "midge";
#endif
}

std::uint16_t pickFreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
  sockaddr_in address = loopback(0);
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const std::string error = std::strerror(errno);
    ::close(fd);
    throw std::runtime_error("cannot find a free loopback port: " + error);
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

bool waitForTcpPort(std::uint16_t port, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (tcpConnects(port)) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
}

BrokerProcess::BrokerProcess() {
  std::string base = "/tmp";
  if (const char* tmp = std::getenv("TMPDIR")) base = tmp;
  std::string pattern = base + "/midge-it-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp: " + std::string(std::strerror(errno)));
  }
  dir_ = pattern;
  // Started as root without a `user` line, midge gives root up for the system user `midge`
  // when the machine has one. Tests write their files into this root-only directory and
  // expect the broker to use them as it did at start, whichever machine they run on;
  // process tests set another value.
  setEnvironment("MIDGE_DEFAULT_USER", "root");
}

BrokerProcess::~BrokerProcess() {
  if (pid_ > 0) kill();
  if (std::getenv("MIDGE_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

void BrokerProcess::addConfigLine(const std::string& line) { configLines_.push_back(line); }

void BrokerProcess::addArgument(const std::string& argument) { arguments_.push_back(argument); }

void BrokerProcess::setEnvironment(const std::string& name, const std::string& value) {
  for (auto& pair : environment_) {
    if (pair.first == name) {
      pair.second = value;
      return;
    }
  }
  environment_.emplace_back(name, value);
}

std::string BrokerProcess::uri() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

void BrokerProcess::writeConfig() const {
  std::ofstream out(configPath(), std::ios::trunc);
  out << "# written by tests/integration/broker_process.cpp\n";
  if (writeListener_) out << "listener " << port_ << " 127.0.0.1\n";
  if (allowAnonymous_) out << "allow_anonymous true\n";
  for (const std::string& line : configLines_) {
    out << replaceAll(replaceAll(line, "{PORT}", std::to_string(port_)), "{DIR}", dir_)
        << "\n";
  }
  if (!out) throw std::runtime_error("cannot write " + configPath());
}

bool BrokerProcess::launch(std::string& failure) {
  // Everything the child needs is built before fork(): a test process has threads (Paho),
  // and after fork() only async-signal-safe calls are allowed until exec.
  const std::string binary = midgeBinaryPath();
  std::vector<std::string> argvStrings{binary, "-c", configPath()};
  for (const std::string& argument : arguments_) {
    argvStrings.push_back(replaceAll(argument, "{PORT}", std::to_string(port_)));
  }
  std::vector<char*> argv;
  for (std::string& argument : argvStrings) argv.push_back(argument.data());
  argv.push_back(nullptr);

  std::vector<std::string> envStrings;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text = *entry;
    bool overridden = false;
    for (const auto& pair : environment_) {
      if (text.compare(0, pair.first.size() + 1, pair.first + "=") == 0) overridden = true;
    }
    if (!overridden) envStrings.push_back(text);
  }
  for (const auto& pair : environment_) envStrings.push_back(pair.first + "=" + pair.second);
  std::vector<char*> envp;
  for (std::string& entry : envStrings) envp.push_back(entry.data());
  envp.push_back(nullptr);

  const int logFd = ::open(logPath().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (logFd < 0) {
    failure = "cannot open " + logPath() + ": " + std::strerror(errno);
    return false;
  }
  const pid_t parent = ::getpid();
  const pid_t child = ::fork();
  if (child < 0) {
    failure = std::string("fork: ") + std::strerror(errno);
    ::close(logFd);
    return false;
  }
  if (child == 0) {
    // A test that crashes must not leave a broker running.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    ::dup2(logFd, STDOUT_FILENO);
    ::dup2(logFd, STDERR_FILENO);
    ::execve(binary.c_str(), argv.data(), envp.data());
    static const char message[] = "broker_process: exec of the midge binary failed\n";
    (void)!::write(STDERR_FILENO, message, sizeof message - 1);
    ::_exit(127);
  }
  ::close(logFd);
  pid_ = child;
  return true;
}

void BrokerProcess::start() {
  if (pid_ > 0) throw std::runtime_error("broker already running");
  const bool keepPort = port_ != 0;  // a restart must come back on the same port
  if (!keepPort) port_ = pickFreeLoopbackPort();
  const auto deadline = Clock::now() + startTimeout_;
  for (int attempt = 1;; ++attempt) {
    writeConfig();
    const std::size_t mark = logMark();
    std::string failure;
    if (!launch(failure)) throw std::runtime_error(failure);
    bool exited = false;
    while (Clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        lastStatus_ = decodeStatus(status);
        pid_ = -1;
        exited = true;
        break;
      }
      if (tcpConnects(port_)) return;
      std::this_thread::sleep_for(kPollInterval);
    }
    if (!exited) {
      kill();
      throw std::runtime_error("midge did not accept connections on port " +
                               std::to_string(port_) + " in time; log:\n" + log());
    }
    const bool portTaken = log().find("in use", mark) != std::string::npos;
    if (!portTaken || attempt >= kPortAttempts || Clock::now() >= deadline) {
      throw std::runtime_error("midge exited with status " + std::to_string(lastStatus_) +
                               " during start; log:\n" + log());
    }
    // Someone took the port between pickFreeLoopbackPort() and the broker's bind. On a
    // restart the old sockets may still hold it: try the same port again.
    if (!keepPort) port_ = pickFreeLoopbackPort();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

int BrokerProcess::reap(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t result = ::waitpid(pid_, &status, WNOHANG);
    if (result == pid_) {
      pid_ = -1;
      lastStatus_ = decodeStatus(status);
      return lastStatus_;
    }
    if (result < 0 && errno != EINTR) {
      pid_ = -1;
      return -1;
    }
    if (Clock::now() >= deadline) return -2;
    std::this_thread::sleep_for(kPollInterval);
  }
}

int BrokerProcess::stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return lastStatus_;
  ::kill(pid_, SIGTERM);
  const int status = reap(timeout);
  if (status != -2) return status;
  return kill();
}

int BrokerProcess::kill() {
  if (pid_ <= 0) return lastStatus_;
  ::kill(pid_, SIGKILL);
  return reap(std::chrono::seconds(30));
}

void BrokerProcess::restart(bool crash) {
  if (crash) {
    kill();
  } else {
    stop();
  }
  start();
}

void BrokerProcess::signal(int signalNumber) {
  if (pid_ > 0) ::kill(pid_, signalNumber);
}

bool BrokerProcess::running() {
  if (pid_ <= 0) return false;
  return reap(std::chrono::milliseconds(0)) == -2;
}

std::string BrokerProcess::log() const {
  std::ifstream in(logPath(), std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::size_t BrokerProcess::logMark() const {
  std::error_code error;
  const auto size = std::filesystem::file_size(logPath(), error);
  return error ? 0 : static_cast<std::size_t>(size);
}

bool BrokerProcess::waitForLog(const std::string& needle, std::chrono::milliseconds timeout,
                               std::size_t from) const {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (log().find(needle, from) != std::string::npos) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
}

std::size_t BrokerProcess::countInLog(const std::string& needle, std::size_t from) const {
  const std::string text = log();
  std::size_t count = 0;
  for (std::size_t at = text.find(needle, from); at != std::string::npos;
       at = text.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

}  // namespace midge::test
