// SPDX-License-Identifier: Apache-2.0
// A child process (mosquitto_sub, mosquitto_pub, python) whose combined stdout and stderr a
// test reads while it runs. Ended by PID only; reaped in the destructor at the latest.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace midge::test {

class Subprocess {
 public:
  // Starts argv[0] (a path) with the arguments; throws std::runtime_error if fork fails.
  explicit Subprocess(std::vector<std::string> argv);
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  // Reads what is available, then polls until `needle` appears or the timeout passes.
  bool waitForOutput(const std::string& needle, std::chrono::milliseconds timeout);
  // Exit status (0..255, 128 + signal), or -1 if it did not exit within the timeout.
  int wait(std::chrono::milliseconds timeout);
  // SIGTERM (or SIGKILL when crash is true), then reaps. Returns the status as wait().
  int terminate(bool crash = false);
  pid_t pid() const { return pid_; }
  const std::string& output();

 private:
  void drain(int timeoutMs);
  pid_t pid_ = -1;
  int outFd_ = -1;
  int status_ = -1;
  std::string output_;
};

// Runs to completion and returns the exit status, or -2 when it had to be killed after the
// timeout; the combined output goes to *output when given.
int runToCompletion(std::vector<std::string> argv, std::chrono::milliseconds timeout,
                    std::string* output = nullptr);

}  // namespace midge::test
