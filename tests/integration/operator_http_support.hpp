// SPDX-License-Identifier: Apache-2.0
// A broker with a `protocol http` listener on a second free loopback port, for the
// operator endpoint's tests.
#pragma once

#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "tests/integration/broker_process.hpp"
#include "tests/integration/http_client.hpp"
#include "tests/integration/raw_client.hpp"

namespace midge::test {

using namespace std::chrono_literals;

class OperatorHttpTest : public ::testing::Test {
 protected:
  // `httpLines` follow "listener HTTP_PORT 127.0.0.1" and "protocol http"; `lines` come
  // before them and so configure the MQTT listener and the broker.
  void startBroker(const std::vector<std::string>& httpLines = {},
                   const std::vector<std::string>& lines = {}) {
    for (const std::string& line : lines) broker_.addConfigLine(line);
    httpPort_ = pickFreeLoopbackPort();
    broker_.addConfigLine("listener " + std::to_string(httpPort_) + " 127.0.0.1");
    broker_.addConfigLine("protocol http");
    for (const std::string& line : httpLines) broker_.addConfigLine(line);
    broker_.start();
    ASSERT_TRUE(waitForTcpPort(httpPort_, 5s)) << broker_.log();
  }

  std::map<std::string, double> scrape(const std::string& headers = "") {
    const HttpReply reply = httpGet(httpPort_, "/metrics", headers);
    EXPECT_EQ(reply.status, 200) << reply.head << reply.body;
    return parseSamples(reply.body);
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << "---- broker log ----\n" << broker_.log() << "----\n";
  }

  BrokerProcess broker_;
  std::uint16_t httpPort_ = 0;
};

}  // namespace midge::test
