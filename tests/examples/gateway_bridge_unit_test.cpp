// SPDX-License-Identifier: Apache-2.0
// The gateway bridge's pieces that need no broker: the device line protocol, the bounded
// reading buffer, the reconnect back-off and the command line.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "examples/gateway-bridge/backoff.hpp"
#include "examples/gateway-bridge/bounded_queue.hpp"
#include "examples/gateway-bridge/line_protocol.hpp"
#include "examples/gateway-bridge/options.hpp"

namespace midge::bridge {
namespace {

struct ReadingCase {
  const char* line;
  const char* key;
  const char* value;
};

class ParseReadingTest : public ::testing::TestWithParam<ReadingCase> {};

TEST_P(ParseReadingTest, YieldsKeyAndValue) {
  const ParsedLine parsed = parseLine(GetParam().line);
  ASSERT_EQ(parsed.kind, LineKind::Reading) << (parsed.error ? parsed.error : "");
  EXPECT_EQ(parsed.key, GetParam().key);
  EXPECT_EQ(parsed.value, GetParam().value);
}

INSTANTIATE_TEST_SUITE_P(
    Lines, ParseReadingTest,
    ::testing::Values(ReadingCase{"T 21.5", "T", "21.5"},
                      ReadingCase{"H=40", "H", "40"},
                      ReadingCase{"  humidity =  40 % ", "humidity", "40 %"},
                      ReadingCase{"door\topen", "door", "open"},
                      ReadingCase{"battery_mV=3012", "battery_mV", "3012"},
                      ReadingCase{"gps-fix 48.1,11.5", "gps-fix", "48.1,11.5"},
                      ReadingCase{"label=caf\xc3\xa9", "label", "caf\xc3\xa9"},
                      ReadingCase{"k==v", "k", "=v"},
                      ReadingCase{"k = =v", "k", "=v"}));

struct InvalidCase {
  std::string line;
  const char* error;
};

class ParseInvalidTest : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(ParseInvalidTest, IsRefusedWithAReason) {
  const ParsedLine parsed = parseLine(GetParam().line);
  ASSERT_EQ(parsed.kind, LineKind::Invalid);
  ASSERT_NE(parsed.error, nullptr);
  EXPECT_NE(std::string(parsed.error).find(GetParam().error), std::string::npos) << parsed.error;
}

INSTANTIATE_TEST_SUITE_P(
    Lines, ParseInvalidTest,
    ::testing::Values(InvalidCase{"=5", "must start with a key"},
                      InvalidCase{"T", "without a value"},
                      InvalidCase{"T   ", "without a value"},
                      InvalidCase{"T=", "without a value"},
                      InvalidCase{"T = ", "without a value"},
                      InvalidCase{"T:5", "followed by '=' or a blank"},
                      InvalidCase{"temp/room 5", "followed by '=' or a blank"},
                      InvalidCase{"sensor+ 5", "followed by '=' or a blank"},
                      InvalidCase{std::string(33, 'k') + " 1", "longer than 32"},
                      InvalidCase{"T " + std::string(201, '9'), "longer than 200"},
                      InvalidCase{"T 2\x01" "1", "control character"},
                      InvalidCase{"status online", "reserved"},
                      InvalidCase{"cmd reboot", "reserved"},
                      InvalidCase{"bridge=x", "reserved"}));

TEST(ParseLine, BlankLinesAndCommentsAreNotReadings) {
  EXPECT_EQ(parseLine("").kind, LineKind::Blank);
  EXPECT_EQ(parseLine(" \t ").kind, LineKind::Blank);
  EXPECT_EQ(parseLine("# booted").kind, LineKind::Comment);
  EXPECT_EQ(parseLine("   # indented").kind, LineKind::Comment);
}

TEST(ParseLine, LongestAcceptedKeyAndValue) {
  const std::string key(kMaxKeyLength, 'k');
  const std::string value(kMaxValueLength, 'v');
  const ParsedLine parsed = parseLine(key + "=" + value);
  ASSERT_EQ(parsed.kind, LineKind::Reading);
  EXPECT_EQ(parsed.key.size(), kMaxKeyLength);
  EXPECT_EQ(parsed.value.size(), kMaxValueLength);
}

TEST(Command, OnlySingleLinesOfBoundedLengthPass) {
  const char* error = nullptr;
  EXPECT_TRUE(isValidCommand("LED ON", &error));
  EXPECT_EQ(error, nullptr);
  EXPECT_TRUE(isValidCommand(std::string(kMaxCommandLength, 'x'), &error));
  EXPECT_FALSE(isValidCommand("", &error));
  EXPECT_STREQ(error, "empty command");
  EXPECT_FALSE(isValidCommand(std::string(kMaxCommandLength + 1, 'x'), &error));
  EXPECT_FALSE(isValidCommand("a\nb", &error));
  EXPECT_FALSE(isValidCommand("a\rb", &error));
  EXPECT_FALSE(isValidCommand(std::string("a\0b", 3), &error));
  EXPECT_STREQ(error, "command contains CR, LF or NUL");
}

std::vector<std::string> split(LineSplitter& splitter, const std::vector<std::string>& chunks) {
  std::vector<std::string> lines;
  for (const std::string& chunk : chunks) {
    splitter.feed(chunk, [&](std::string_view line) { lines.emplace_back(line); });
  }
  return lines;
}

TEST(LineSplitter, JoinsChunksAndStripsCarriageReturns) {
  LineSplitter splitter;
  EXPECT_EQ(split(splitter, {"T 2", "1.5\r", "\nH=4", "0\n\n", "partial"}),
            (std::vector<std::string>{"T 21.5", "H=40", ""}));
  EXPECT_EQ(split(splitter, {" end\n"}), (std::vector<std::string>{"partial end"}));
  EXPECT_EQ(splitter.overlongLines(), 0u);
}

TEST(LineSplitter, DropsOverlongLinesWholeAndCountsThem) {
  LineSplitter splitter(8);
  EXPECT_EQ(split(splitter, {"12345678\n", "12345678\r\n", "123456789\n", "1234567890123",
                             "456\nok\n"}),
            (std::vector<std::string>{"12345678", "12345678", "ok"}));
  EXPECT_EQ(splitter.overlongLines(), 2u);
}

TEST(BoundedQueue, DropsTheOldestWhenFullAndCounts) {
  BoundedQueue<int> queue(3);
  for (int i = 1; i <= 3; ++i) EXPECT_FALSE(queue.push(i));
  EXPECT_TRUE(queue.push(4));
  EXPECT_TRUE(queue.push(5));
  EXPECT_EQ(queue.dropped(), 2u);
  std::vector<int> left;
  while (!queue.empty()) {
    left.push_back(queue.front());
    queue.pop();
  }
  EXPECT_EQ(left, (std::vector<int>{3, 4, 5}));
}

TEST(BoundedQueue, ZeroCapacityKeepsNothing) {
  BoundedQueue<int> queue(0);
  EXPECT_TRUE(queue.push(1));
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.dropped(), 1u);
}

TEST(Backoff, DoublesWithJitterUpToTheCeilingAndResets) {
  Backoff backoff(100, 1000, 42);
  const std::uint32_t bases[] = {100, 200, 400, 800, 1000, 1000};
  for (const std::uint32_t base : bases) {
    const std::uint32_t delay = backoff.next();
    EXPECT_GE(delay, base - base / 5) << "base " << base;
    EXPECT_LE(delay, std::min<std::uint32_t>(1000, base + base / 5)) << "base " << base;
  }
  backoff.reset();
  const std::uint32_t first = backoff.next();
  EXPECT_GE(first, 80u);
  EXPECT_LE(first, 120u);
}

TEST(Backoff, JitterSpreadsAFleet) {
  // Neighbouring seeds (gateways that differ in one character of their name, or in PID)
  // must still spread.
  std::set<std::uint32_t> firstDelays;
  for (std::uint32_t seed = 1; seed <= 20; ++seed) firstDelays.insert(Backoff(1000, 8000, seed).next());
  EXPECT_GT(firstDelays.size(), 5u);
}

TEST(Options, DefaultsAndDerivedNames) {
  BridgeOptions options;
  std::string message;
  ASSERT_EQ(parseOptions({"--device", "boiler", "--prefix", "site/1"}, options, message),
            ParseOutcome::Run)
      << message;
  EXPECT_EQ(options.clientId, "bridge-boiler");
  EXPECT_EQ(options.topicFor("T"), "site/1/boiler/T");
  EXPECT_EQ(options.port, 1883);
  EXPECT_TRUE(options.serialPath.empty());

  BridgeOptions bare;
  ASSERT_EQ(parseOptions({"--device", "d", "--prefix", ""}, bare, message), ParseOutcome::Run);
  EXPECT_EQ(bare.topicFor("cmd"), "d/cmd");
}

TEST(Options, RefusesWhatWouldBreakTopicsOrTimers) {
  const std::vector<std::vector<std::string>> bad = {
      {},
      {"--device"},
      {"--device", ""},
      {"--device", "a+"},
      {"--device", "d", "--prefix", "a/#"},
      {"--device", "d", "--prefix", "/abs"},
      {"--device", "d", "--prefix", "a//b"},
      {"--device", "d", "--port", "0"},
      {"--device", "d", "--port", "x"},
      {"--device", "d", "--keepalive", "-1"},
      {"--device", "d", "--backoff-min", "5000", "--backoff-max", "1000"},
      {"--device", "d", "--password-file", "/nonexistent/secret"},
      {"--device", "d", "--baud", "fast"},
  };
  for (const auto& arguments : bad) {
    BridgeOptions options;
    std::string message;
    EXPECT_EQ(parseOptions(arguments, options, message), ParseOutcome::Error)
        << ::testing::PrintToString(arguments);
    EXPECT_FALSE(message.empty());
  }
}

}  // namespace
}  // namespace midge::bridge
