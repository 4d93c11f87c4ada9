// SPDX-License-Identifier: Apache-2.0
// Running out of descriptors: accept fails with EMFILE, the listener pauses instead of
// spinning, and accepting resumes once descriptors are free again.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include "port/net/event_loop.hpp"
#include "tests/port/net/net_test_support.hpp"

namespace midge::port::testing {
namespace {

// Takes every free descriptor below a lowered soft limit; release() gives them back.
class DescriptorSqueeze {
 public:
  bool squeeze() {
    if (::getrlimit(RLIMIT_NOFILE, &saved_) != 0) return false;
    int probe = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (probe < 0) return false;
    ::close(probe);
    rlimit lowered = saved_;
    lowered.rlim_cur = static_cast<rlim_t>(probe) + 16;
    if (::setrlimit(RLIMIT_NOFILE, &lowered) != 0) return false;
    lowered_ = true;
    while (true) {
      int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) break;
      held_.push_back(fd);
    }
    return errno == EMFILE;
  }
  // Frees one descriptor, for the client socket.
  void freeOne() {
    ::close(held_.back());
    held_.pop_back();
  }
  void release() {
    for (int fd : held_) ::close(fd);
    held_.clear();
    if (lowered_) ::setrlimit(RLIMIT_NOFILE, &saved_);
    lowered_ = false;
  }
  ~DescriptorSqueeze() { release(); }

 private:
  rlimit saved_{};
  bool lowered_ = false;
  std::vector<int> held_;
};

TEST(AcceptErrors, EmfilePausesTheListenerAndAcceptingResumes) {
  FakeEngine engine;
  LoopOptions options = fastOptions();
  options.acceptRetryMs = 50;
  std::vector<std::string> logs;
  auto loop = makeLoop(options, engine, &logs);
  std::string error;
  ASSERT_TRUE(loop->addListener({"127.0.0.1", 0, 0}, error)) << error;
  const std::uint16_t port = loop->boundPort(0);

  DescriptorSqueeze squeeze;
  ASSERT_TRUE(squeeze.squeeze());
  squeeze.freeOne();
  Client client;
  ASSERT_TRUE(client.connect("127.0.0.1", port));  // takes the last descriptor
  ASSERT_TRUE(client.send("x"));

  std::size_t ticksWhilePaused = 0;
  engine.tickHook = [&] {
    if (loop->counters().acceptErrors > 0 && engine.opened().empty()) {
      // Descriptors come back; the paused listener must pick the connection up by itself.
      if (++ticksWhilePaused == 1) squeeze.release();
    }
  };
  ASSERT_TRUE(runUntil(*loop, engine, [&] { return engine.received(1) == "x"; }));
  squeeze.release();
  EXPECT_GE(loop->counters().acceptErrors, 1u);
  EXPECT_TRUE(anyLogContains(logs, "Too many open files"));
  EXPECT_TRUE(anyLogContains(logs, "pausing for 50 ms"));
  EXPECT_EQ(engine.opened().size(), 1u);
  EXPECT_EQ(client.readToEof(), "x");
  expectWellFormed(engine);
}

}  // namespace
}  // namespace midge::port::testing
