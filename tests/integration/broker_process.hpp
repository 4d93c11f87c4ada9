// SPDX-License-Identifier: Apache-2.0
// Runs the real `midge` binary for integration, durability and security tests: writes a
// configuration into a private temporary directory, starts the broker on a free loopback
// port, waits until it accepts TCP connections, captures everything it writes to stdout
// and stderr in a log file, and stops it by PID (SIGTERM, or SIGKILL for crash tests).
// The directory, the port and the configuration survive restart(), so a test can stop
// the broker and start it again on the same persistence file.
//
// @code
//   midge::test::BrokerProcess broker;
//   broker.addConfigLine("max_packet_size 1000");
//   broker.start();                        // throws std::runtime_error with the log on failure
//   RawClient client(broker.port());
//   ...
//   EXPECT_TRUE(broker.waitForLog("exceeds", std::chrono::seconds(2)));
//   EXPECT_EQ(broker.stop(), 0);           // exit status of a clean SIGTERM shutdown
// @endcode
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace midge::test {

// The midge executable under test (set by CMake; overridable with MIDGE_BINARY).
std::string midgeBinaryPath();

// Binds port 0 on 127.0.0.1 and returns the port the kernel chose. Another process may
// take it before it is used; BrokerProcess::start() retries with a new port when so.
std::uint16_t pickFreeLoopbackPort();

// Polls connect() to 127.0.0.1:port until it succeeds or the deadline passes.
bool waitForTcpPort(std::uint16_t port, std::chrono::milliseconds timeout);

class BrokerProcess {
 public:
  // Creates the temporary directory at once, so dataDir() can go into config lines before
  // start().
  BrokerProcess();
  ~BrokerProcess();  // SIGKILLs a broker still running, removes the directory
  BrokerProcess(const BrokerProcess&) = delete;
  BrokerProcess& operator=(const BrokerProcess&) = delete;

  // Lines written after "listener PORT 127.0.0.1" and "allow_anonymous true". In every
  // line "{PORT}" becomes port() and "{DIR}" becomes dataDir() when the file is written.
  void addConfigLine(const std::string& line);
  void setAllowAnonymous(bool allow) { allowAnonymous_ = allow; }
  // false: no "listener" line is written; the test writes its own (e.g. a TLS listener
  // "listener {PORT} 127.0.0.1" followed by certfile/keyfile). start() still waits until
  // port() accepts TCP connections.
  void setWriteListener(bool write) { writeListener_ = write; }
  void addArgument(const std::string& argument);  // "{PORT}" becomes port(), as in lines
  // Replaces an earlier value of the same variable. MIDGE_DEFAULT_USER is "root" unless set.
  void setEnvironment(const std::string& name, const std::string& value);
  void setStartTimeout(std::chrono::milliseconds timeout) { startTimeout_ = timeout; }

  // Starts the broker and returns once it accepts TCP connections. Throws
  // std::runtime_error (with the broker's log) if it exits or does not listen in time.
  void start();
  // SIGTERM, then waits up to `timeout` for the exit; SIGKILL if it does not exit.
  // Returns the exit status (0..255), or 128 + signal number when killed by a signal.
  int stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // SIGKILL at once: a crash, for durability tests. Returns 128 + SIGKILL.
  int kill();
  // stop() (or kill() when crash is true) then start() with the same port, configuration
  // and directory.
  void restart(bool crash = false);
  // Sends any signal (SIGHUP to reload). No effect when not running.
  void signal(int signalNumber);

  bool running();
  pid_t pid() const { return pid_; }
  std::uint16_t port() const { return port_; }
  std::string host() const { return "127.0.0.1"; }
  std::string uri() const;  // tcp://127.0.0.1:PORT, for Paho
  const std::string& dataDir() const { return dir_; }
  std::string configPath() const { return dir_ + "/midge.conf"; }
  std::string logPath() const { return dir_ + "/broker.log"; }

  // The whole log so far (all starts of this object, appended).
  std::string log() const;
  // Offset to pass to waitForLog so that only lines written after this point count.
  std::size_t logMark() const;
  // Polls the log until it contains `needle` after `from`, or the timeout passes.
  bool waitForLog(const std::string& needle, std::chrono::milliseconds timeout,
                  std::size_t from = 0) const;
  std::size_t countInLog(const std::string& needle, std::size_t from = 0) const;

 private:
  void writeConfig() const;
  bool launch(std::string& failure);
  int reap(std::chrono::milliseconds timeout);

  std::string dir_;
  std::uint16_t port_ = 0;
  bool writeListener_ = true;
  bool allowAnonymous_ = true;
  std::vector<std::string> configLines_;
  std::vector<std::string> arguments_;
  std::vector<std::pair<std::string, std::string>> environment_;
  std::chrono::milliseconds startTimeout_{10000};
  pid_t pid_ = -1;
  int lastStatus_ = -1;
};

}  // namespace midge::test
