// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the security tests: client tools run as subprocesses (mosquitto_pub,
// mosquitto_sub, mosquitto_passwd, midge-passwd, openssl), certificates generated with the
// openssl tool at run time (no key is ever committed), files, and the broker's RSS.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/raw_client.hpp"

namespace midge::test::security {

// Tool paths found at configure time (empty when missing).
const char* mosquittoPub();
const char* mosquittoSub();
const char* mosquittoPasswd();
const char* opensslTool();
const char* midgePasswd();

struct ProcessResult {
  int status = -1;  // exit status, 128 + signal when killed, -1 when it did not finish
  std::string output;  // stdout and stderr together
};

// A program started with fork/exec, its output in a file, ended by PID only.
class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv, std::string workDirectory);
  ~ChildProcess();  // SIGKILLs the child if it still runs
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Polls until the child exits; -1 if it is still running at the deadline.
  int wait(std::chrono::milliseconds timeout);
  // SIGTERM, then SIGKILL if it has not exited within a second.
  int stop();
  bool waitForOutput(const std::string& needle, std::chrono::milliseconds timeout) const;
  std::string output() const;
  pid_t pid() const { return pid_; }

 private:
  std::string outputPath_;
  pid_t pid_ = -1;
  int status_ = -1;
};

// Runs a program to completion (killed after `timeout`).
ProcessResult run(const std::vector<std::string>& argv,
                  std::chrono::milliseconds timeout = std::chrono::seconds(20));

// A private temporary directory, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void writeFile(const std::string& path, const std::string& contents);
std::string readFile(const std::string& path);
void copyFile(const std::string& from, const std::string& to);

// Certificates made by the openssl tool, all EC P-256:
//   ca.crt/.key           "Security Test CA", signs everything below unless noted
//   other-ca.crt/.key     an unrelated CA
//   server.crt/.key       O=Server One, SAN 127.0.0.1 and localhost
//   other-server.crt/.key O=Server Two, same SAN, signed by other-ca (for reloads)
//   expired-server.crt    server.key's subject and key, valid only on 2020-01-01
//   device-42.crt/.key    client certificate, CN=device-42
//   device-7.crt/.key     client certificate, CN=device-7
//   broken.key            PEM armour around garbage
class TestPki {
 public:
  TestPki();  // generates everything; throws std::runtime_error with openssl's output
  std::string path(const std::string& name) const { return dir_.file(name); }

 private:
  void openssl(const std::string& arguments) const;
  TempDir dir_;
};

// VmRSS of a process in KiB from /proc/PID/status; 0 if unreadable.
std::size_t residentKiB(pid_t pid);

// ---- raw MQTT helpers on top of tests/integration/raw_client.hpp ----

// Reason code of a v5 PUBACK/PUBREC (0 when the short form without a reason is used).
std::uint8_t ackReason(const RawPacket& packet);
// CONNECT and read the CONNACK; returns its return/reason code, or -1 if the broker closed
// the connection without one.
int connectCode(RawClient& client, const wire::ConnectSpec& spec);
wire::ConnectSpec connectSpec(std::uint8_t level, const std::string& clientId,
                              const std::string& username = "", const std::string& password = "");
// Connects, checks CONNACK 0, subscribes and checks that the SUBACK grants `qos`. Throws.
std::unique_ptr<RawClient> subscriber(std::uint16_t port, const wire::ConnectSpec& spec,
                                      const std::string& filter, std::uint8_t qos = 1);
// Reads PUBLISH packets until one on `marker` arrives; acknowledges QoS 1. Returns the
// topics in arrival order, marker included. Messages from one publisher keep their order,
// so a message that should not have been delivered shows up before the marker, and no
// test has to wait for a quiet period. Throws on timeout or close.
std::vector<std::string> topicsUntil(RawClient& client, const std::string& marker,
                                     bool v5 = false,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace midge::test::security
