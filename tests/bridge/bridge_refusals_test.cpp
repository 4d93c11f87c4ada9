// SPDX-License-Identifier: Apache-2.0
// What the bridge runtime refuses at start, each with the bridge's name and a reason.
#include <gtest/gtest.h>

#include "broker/bridge/bridges.hpp"

namespace midge::bridge {
namespace {

config::Config withListener() {
  config::Config config;
  config::Listener listener;
  listener.port = 1883;
  config.listeners.push_back(listener);
  return config;
}

config::Bridge plainBridge() {
  config::Bridge bridge;
  bridge.name = "up";
  bridge.definedAt = "midge.conf:3";
  bridge.addresses.push_back({"127.0.0.1", 1884});
  config::BridgeTopic topic;
  topic.pattern = "#";
  bridge.topics.push_back(topic);
  return bridge;
}

bool mentions(const std::vector<std::string>& reasons, const std::string& word) {
  for (const auto& reason : reasons) {
    if (reason.find(word) != std::string::npos && reason.find("bridge up") == 0) return true;
  }
  return false;
}

TEST(BridgeRefusals, APlainBridgeRuns) {
  EXPECT_TRUE(refusalsFor(plainBridge(), withListener()).empty());
}

TEST(BridgeRefusals, NoPlainListenerForTheLocalSide) {
  config::Config config;
  config::Listener tls;
  tls.port = 8883;
  tls.tls = config::TlsSettings{};
  config.listeners.push_back(tls);
  EXPECT_TRUE(mentions(refusalsFor(plainBridge(), config), "plain TCP MQTT listener"));
}

TEST(BridgeRefusals, WhatTheRuntimeCannotDoIsNamed) {
  config::Bridge bridge = plainBridge();
  bridge.startType = config::BridgeStartType::Lazy;
  bridge.maxQueuedMessages = 10;
  bridge.queueFull = config::BridgeQueueFull::RefuseNew;
  const auto reasons = refusalsFor(bridge, withListener());
  EXPECT_TRUE(mentions(reasons, "start_type")) << reasons.size();
  EXPECT_TRUE(mentions(reasons, "queue limit"));
  EXPECT_TRUE(mentions(reasons, "refuse_new"));
}

TEST(BridgeRefusals, NoTopicNoAddress) {
  config::Bridge bridge = plainBridge();
  bridge.topics.clear();
  bridge.addresses.clear();
  const auto reasons = refusalsFor(bridge, withListener());
  EXPECT_TRUE(mentions(reasons, "no topic"));
  EXPECT_TRUE(mentions(reasons, "no address"));
}

}  // namespace
}  // namespace midge::bridge
