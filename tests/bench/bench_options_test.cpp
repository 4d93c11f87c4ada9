// SPDX-License-Identifier: Apache-2.0
// midge-bench's command line: every option a user can pass, and clear refusals.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/bench/bench_options.hpp"

namespace midge::bench {
namespace {

bool parse(std::vector<const char*> args, BenchOptions& options, std::string& error) {
  args.insert(args.begin(), "midge-bench");
  return parseBenchOptions(static_cast<int>(args.size()), args.data(), options, error);
}

TEST(BenchOptions, DefaultsWithoutArguments) {
  BenchOptions options;
  std::string error;
  ASSERT_TRUE(parse({}, options, error)) << error;
  EXPECT_EQ(options.host, "127.0.0.1");
  EXPECT_EQ(options.port, 1883);
  EXPECT_EQ(options.mode, BenchMode::PubSub);
  EXPECT_TRUE(options.cleanSession);
  EXPECT_EQ(options.topicPrefix.rfind("midge-bench/", 0), 0u);
  EXPECT_FALSE(options.clientIdPrefix.empty());
}

TEST(BenchOptions, EveryOptionIsApplied) {
  BenchOptions options;
  std::string error;
  ASSERT_TRUE(parse({"--host", "localhost", "--port", "18830", "--subscriber-port", "18831",
                     "--publishers", "100",
                     "--subscribers", "1", "--topic-mode", "shared", "--wildcard", "--qos", "2",
                     "--inflight", "32", "--qos0-window", "500", "--payload", "256", "--rate", "1000.5", "--duration",
                     "3", "--warmup", "0", "--drain", "4", "--durable", "--version", "5",
                     "--connect-concurrency", "7", "--keepalive", "30", "--broker-pid", "123",
                     "--topic-prefix", "t/x", "--client-id-prefix", "cid"},
                    options, error))
      << error;
  EXPECT_EQ(options.host, "localhost");
  EXPECT_EQ(options.port, 18830);
  EXPECT_EQ(options.subscriberPort, 18831);
  EXPECT_EQ(options.publishers, 100u);
  EXPECT_EQ(options.subscribers, 1u);
  EXPECT_EQ(options.topicMode, TopicMode::Shared);
  EXPECT_TRUE(options.wildcard);
  EXPECT_EQ(options.qos, 2);
  EXPECT_EQ(options.inflight, 32u);
  EXPECT_EQ(options.qos0Window, 500u);
  EXPECT_EQ(options.payload, 256u);
  EXPECT_DOUBLE_EQ(options.rate, 1000.5);
  EXPECT_DOUBLE_EQ(options.duration, 3);
  EXPECT_DOUBLE_EQ(options.warmup, 0);
  EXPECT_DOUBLE_EQ(options.drain, 4);
  EXPECT_FALSE(options.cleanSession);
  EXPECT_EQ(options.version, 5);
  EXPECT_EQ(options.connectConcurrency, 7u);
  EXPECT_EQ(options.keepAlive, 30);
  EXPECT_EQ(options.brokerPid, 123);
  EXPECT_EQ(options.topicPrefix, "t/x");
  EXPECT_EQ(options.clientIdPrefix, "cid");
}

TEST(BenchOptions, ConnectionsModeNeedsNoPublisher) {
  BenchOptions options;
  std::string error;
  ASSERT_TRUE(parse({"--mode", "connections", "--connections", "10000", "--publishers", "0"},
                    options, error))
      << error;
  EXPECT_EQ(options.mode, BenchMode::Connections);
  EXPECT_EQ(options.connections, 10000u);
}

TEST(BenchOptions, HelpIsNotAnError) {
  BenchOptions options;
  std::string error = "stale";
  EXPECT_FALSE(parse({"--help"}, options, error));
  EXPECT_TRUE(error.empty());
  EXPECT_NE(std::string(usageText()).find("--broker-pid"), std::string::npos);
}

struct BadCase {
  std::vector<const char*> args;
  const char* mentions;
};

class BenchOptionsRejects : public ::testing::TestWithParam<BadCase> {};

TEST_P(BenchOptionsRejects, WithAMessageNamingTheProblem) {
  BenchOptions options;
  std::string error;
  EXPECT_FALSE(parse(GetParam().args, options, error));
  EXPECT_NE(error.find(GetParam().mentions), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(
    Table, BenchOptionsRejects,
    ::testing::Values(BadCase{{"--qos", "3"}, "--qos"}, BadCase{{"--qos", "-1"}, "--qos"},
                      BadCase{{"--qos"}, "got nothing"},
                      BadCase{{"--payload", "19"}, "--payload"},
                      BadCase{{"--port", "0"}, "--port"}, BadCase{{"--port", "65536"}, "--port"},
                      BadCase{{"--port", "12ab"}, "12ab"},
                      BadCase{{"--subscriber-port", "0"}, "--subscriber-port"},
                      BadCase{{"--rate", "-5"}, "--rate"},
                      BadCase{{"--duration", "abc"}, "--duration"},
                      BadCase{{"--duration", "0"}, "--duration"},
                      BadCase{{"--inflight", "0"}, "--inflight"},
                      BadCase{{"--qos0-window", "x"}, "--qos0-window"},
                      BadCase{{"--version", "3"}, "--version"},
                      BadCase{{"--mode", "flood"}, "pubsub or connections"},
                      BadCase{{"--topic-mode", "both"}, "per-publisher or shared"},
                      BadCase{{"--topic-prefix", "a/#"}, "without wildcards"},
                      BadCase{{"--host", ""}, "--host"},
                      BadCase{{"--publishers", "0"}, "at least one publisher"},
                      BadCase{{"--frobnicate"}, "unknown option '--frobnicate'"}));

}  // namespace
}  // namespace midge::bench
