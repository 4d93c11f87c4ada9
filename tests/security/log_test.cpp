// SPDX-License-Identifier: Apache-2.0
// What a hostile client can put into the broker's log: client ids, user names and topic
// filters come from the network, and a newline in one would forge a log line while an
// ESC sequence would drive the terminal of the operator who reads the log. Every log
// destination (a file, stderr) must show them escaped.
#include <gtest/gtest.h>

#include <iostream>

#include "tests/integration/broker_process.hpp"
#include "tests/security/security_support.hpp"

namespace midge::test::security {
namespace {

using namespace std::chrono_literals;

constexpr std::uint8_t kV311 = 4;
constexpr std::uint8_t kV5 = 5;

// The first byte that no log line may hold (a line's own '\n' end aside), or -1.
int firstControlByte(const std::string& log) {
  for (char c : log) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && byte != '\n') || byte == 0x7f) return byte;
  }
  return -1;
}

bool hasLineStartingWith(const std::string& log, const std::string& prefix) {
  std::size_t start = 0;
  while (start < log.size()) {
    std::size_t end = log.find('\n', start);
    if (end == std::string::npos) end = log.size();
    const std::string line = log.substr(start, end - start);
    // Skip an optional "1700000000: " timestamp.
    const std::size_t colon = line.find(": ");
    if (line.rfind(prefix, 0) == 0 ||
        (colon != std::string::npos && line.compare(colon + 2, prefix.size(), prefix) == 0)) {
      return true;
    }
    start = end + 1;
  }
  return false;
}

class SecurityLog : public ::testing::Test {
 protected:
  void SetUp() override {
    if (*mosquittoPasswd() == '\0') GTEST_SKIP() << "mosquitto_passwd not installed";
    logFile_ = broker_.dataDir() + "/midge.log";
    const ProcessResult made = run({mosquittoPasswd(), "-c", "-b", broker_.dataDir() + "/passwd",
                                    "alice", "s3cret"});
    ASSERT_EQ(made.status, 0) << made.output;
    broker_.setAllowAnonymous(false);
    broker_.addConfigLine("allow_anonymous false");
    broker_.addConfigLine("password_file {DIR}/passwd");
    broker_.addConfigLine("log_dest file " + logFile_);
    broker_.addConfigLine("log_dest stderr");
    broker_.addConfigLine("log_type all");
    broker_.start();
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << "---- broker log ----\n" << broker_.log() << "----\n";
  }

  BrokerProcess broker_;
  std::string logFile_;
};

TEST_F(SecurityLog, ClientIdsUserNamesAndTopicsAreEscaped) {
  const std::string forgedLine = "fake: new client connected from 10.0.0.1 as admin";
  const std::size_t mark = broker_.logMark();
  {
    // Refused: the refusal names the client id and the user name.
    RawClient client(broker_.port());
    const int code = connectCode(client, connectSpec(kV311, "dev\n" + forgedLine + "\x1b[2J",
                                                     "mal\r\x1b]0;owned\x07", "wrong"));
    EXPECT_EQ(code, 4);  // bad user name or password
  }
  ASSERT_TRUE(broker_.waitForLog("authentication failed", 5s, mark));
  {
    // Admitted: the connection line names the client id; the subscription line its filter.
    RawClient client(broker_.port());
    ASSERT_EQ(connectCode(client, connectSpec(kV5, "ok\n" + forgedLine + "\x1b[31m", "alice",
                                              "s3cret")),
              0);
    client.send(wire::subscribe(1, "alerts/\x1b[5m\x7f/#", 1, true));
    client.expect(kSuback);
  }
  ASSERT_TRUE(broker_.waitForLog("alerts/", 5s, mark));

  for (const std::string& log : {readFile(logFile_), broker_.log()}) {
    EXPECT_EQ(firstControlByte(log), -1) << "a control byte reached the log";
    EXPECT_FALSE(hasLineStartingWith(log, "fake:")) << "a client forged a log line";
    EXPECT_NE(log.find("client id 'dev\\x0afake: new client"), std::string::npos);
    EXPECT_NE(log.find("admin\\x1b[2J'"), std::string::npos);
    EXPECT_NE(log.find("user 'mal\\x0d\\x1b]0;owned\\x07'"), std::string::npos);
    EXPECT_NE(log.find("as ok\\x0afake: new client"), std::string::npos);
    EXPECT_NE(log.find("alerts/\\x1b[5m\\x7f/#"), std::string::npos);
  }
}

}  // namespace
}  // namespace midge::test::security
