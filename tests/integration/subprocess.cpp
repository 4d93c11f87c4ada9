// SPDX-License-Identifier: Apache-2.0
#include "tests/integration/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace midge::test {

namespace {

using Clock = std::chrono::steady_clock;

int decode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

Subprocess::Subprocess(std::vector<std::string> argv) {
  std::vector<char*> args;
  for (std::string& argument : argv) args.push_back(argument.data());
  args.push_back(nullptr);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    ::execv(args[0], args.data());
    static const char message[] = "subprocess: exec failed\n";
    (void)!::write(STDERR_FILENO, message, sizeof message - 1);
    ::_exit(127);
  }
  ::close(fds[1]);
  outFd_ = fds[0];
  ::fcntl(outFd_, F_SETFL, ::fcntl(outFd_, F_GETFL) | O_NONBLOCK);
}

Subprocess::~Subprocess() {
  if (pid_ > 0) terminate(true);
  if (outFd_ >= 0) ::close(outFd_);
}

void Subprocess::drain(int timeoutMs) {
  if (outFd_ < 0) return;
  pollfd entry{outFd_, POLLIN, 0};
  if (::poll(&entry, 1, timeoutMs) <= 0) return;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(outFd_, buffer, sizeof buffer);
    if (n > 0) {
      output_.append(buffer, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) {  // every writer closed: the child has exited
      ::close(outFd_);
      outFd_ = -1;
    }
    return;
  }
}

const std::string& Subprocess::output() {
  drain(0);
  return output_;
}

bool Subprocess::waitForOutput(const std::string& needle, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (output().find(needle) != std::string::npos) return true;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0 || outFd_ < 0) return output().find(needle) != std::string::npos;
    drain(static_cast<int>(std::min<long long>(left, 50)));
  }
}

int Subprocess::wait(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (pid_ > 0) {
    int status = 0;
    const pid_t result = ::waitpid(pid_, &status, WNOHANG);
    if (result == pid_) {
      pid_ = -1;
      status_ = decode(status);
      break;
    }
    if (result < 0 && errno != EINTR) {
      pid_ = -1;
      break;
    }
    if (Clock::now() >= deadline) return -1;
    drain(10);  // keeps the pipe from filling while waiting
  }
  drain(0);
  return status_;
}

int Subprocess::terminate(bool crash) {
  if (pid_ <= 0) return status_;
  ::kill(pid_, crash ? SIGKILL : SIGTERM);
  const int status = wait(std::chrono::seconds(10));
  if (status != -1 || pid_ <= 0) return status;
  ::kill(pid_, SIGKILL);
  return wait(std::chrono::seconds(10));
}

int runToCompletion(std::vector<std::string> argv, std::chrono::milliseconds timeout,
                    std::string* output) {
  Subprocess process(std::move(argv));
  int status = process.wait(timeout);
  if (status == -1) status = process.terminate(true) == -1 ? -1 : -2;
  if (output != nullptr) *output = process.output();
  return status;
}

}  // namespace midge::test
