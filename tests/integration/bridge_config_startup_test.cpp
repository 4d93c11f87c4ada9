// SPDX-License-Identifier: Apache-2.0
// A bad bridge section stops the real broker before it serves anyone: the reason, with the
// file and line, is on stderr and the exit status is not 0.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "tests/integration/broker_process.hpp"
#include "tests/integration/subprocess.hpp"

namespace midge::test {
namespace {

using namespace std::chrono_literals;

// Runs midge -c FILE with stdout discarded, so `stderrOnly` holds what went to stderr.
int runWithConfig(const std::string& configPath, std::string& stderrOnly) {
  const std::string command =
      "exec '" + midgeBinaryPath() + "' -c '" + configPath + "' 2>&1 1>/dev/null";
  return runToCompletion({"/bin/sh", "-c", command}, 30s, &stderrOnly);
}

TEST(BridgeConfigStartup, BadBridgeSectionStopsTheStartWithFileAndLine) {
  BrokerProcess scratch;  // only for its temporary directory, never started
  const std::string path = scratch.dataDir() + "/bridge.conf";
  {
    std::ofstream file(path);
    file << "listener " << pickFreeLoopbackPort() << " 127.0.0.1\n"
         << "allow_anonymous true\n"
         << "connection cloud\n"
         << "address 127.0.0.1:1\n"
         << "topic sensors/# out 3\n"
         << "bridge_tls_version tlsv1.3\n";
  }
  std::string stderrOnly;
  const int status = runWithConfig(path, stderrOnly);
  EXPECT_NE(status, 0) << stderrOnly;
  EXPECT_NE(status, -2) << "midge did not exit: " << stderrOnly;
  EXPECT_NE(stderrOnly.find(path + ":5: error: topic: QoS '3' is not 0, 1 or 2"),
            std::string::npos)
      << stderrOnly;
  EXPECT_NE(stderrOnly.find(path + ":6: error: bridge_tls_version: tlsv1.3 is not supported"),
            std::string::npos)
      << stderrOnly;
  EXPECT_NE(stderrOnly.find("configuration errors, not starting"), std::string::npos)
      << stderrOnly;
}

}  // namespace
}  // namespace midge::test
