// SPDX-License-Identifier: Apache-2.0
// Eclipse Paho MQTT C++ clients against the real broker: a fixture with one broker per test
// and small helpers that wait for messages with a deadline.
#pragma once

#include <gtest/gtest.h>
#include <mqtt/async_client.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/broker_process.hpp"

namespace midge::test {

using namespace std::chrono_literals;

class PahoTest : public ::testing::Test {
 protected:
  virtual void configure(BrokerProcess&) {}

  void SetUp() override {
    configure(broker_);
    broker_.start();
  }

  void TearDown() override {
    for (auto& client : clients_) {
      try {
        if (client->is_connected()) client->disconnect()->wait_for(2s);
      } catch (const mqtt::exception&) {
        // Already closed by the broker: nothing to tidy.
      }
    }
    clients_.clear();
    if (HasFailure()) std::cerr << "---- broker log ----\n" << broker_.log() << "----\n";
  }

  // A client whose incoming messages queue up for receive(); not yet connected.
  mqtt::async_client& makeClient(const std::string& clientId, int version) {
    mqtt::create_options options(version);
    clients_.push_back(
        std::make_unique<mqtt::async_client>(broker_.uri(), clientId, options, nullptr));
    clients_.back()->start_consuming();
    return *clients_.back();
  }

  static mqtt::connect_options optionsFor(int version, bool clean = true) {
    mqtt::connect_options options;
    options.set_mqtt_version(version);
    options.set_keep_alive_interval(60);
    if (version == MQTTVERSION_5) {
      options.set_clean_start(clean);
    } else {
      options.set_clean_session(clean);
    }
    return options;
  }

  static mqtt::connect_response connect(mqtt::async_client& client,
                                        const mqtt::connect_options& options) {
    mqtt::token_ptr token = client.connect(options);
    if (!token->wait_for(5s)) throw std::runtime_error("CONNECT timed out");
    return token->get_connect_response();
  }

  // Paho C notices a new connection only when its network thread wakes, which can take two
  // seconds once another client is connected: clients that a test needs from the start
  // connect together.
  std::vector<mqtt::async_client*> connectedTogether(const std::vector<std::string>& clientIds,
                                                     int version) {
    std::vector<mqtt::async_client*> result;
    std::vector<mqtt::token_ptr> tokens;
    for (const std::string& clientId : clientIds) {
      result.push_back(&makeClient(clientId, version));
      tokens.push_back(result.back()->connect(optionsFor(version)));
    }
    for (mqtt::token_ptr& token : tokens) {
      if (!token->wait_for(5s)) throw std::runtime_error("CONNECT timed out");
    }
    return result;
  }

  mqtt::async_client& connected(const std::string& clientId, int version, bool clean = true) {
    mqtt::async_client& client = makeClient(clientId, version);
    connect(client, optionsFor(version, clean));
    return client;
  }

  static void subscribe(mqtt::async_client& client, const std::string& filter, int qos,
                        const mqtt::subscribe_options& options = mqtt::subscribe_options(),
                        const mqtt::properties& properties = mqtt::properties()) {
    if (!client.subscribe(filter, qos, options, properties)->wait_for(5s)) {
      throw std::runtime_error("SUBSCRIBE timed out");
    }
  }

  static void publish(mqtt::async_client& client, mqtt::message_ptr message) {
    if (!client.publish(std::move(message))->wait_for(10s)) {
      throw std::runtime_error("PUBLISH timed out");
    }
  }

  static void publish(mqtt::async_client& client, const std::string& topic,
                      const std::string& payload, int qos = 1, bool retain = false) {
    publish(client, mqtt::make_message(topic, payload, qos, retain));
  }

  // The next message, or nullptr when none arrives within the timeout.
  static mqtt::const_message_ptr receive(mqtt::async_client& client,
                                         std::chrono::milliseconds timeout = 5s) {
    mqtt::const_message_ptr message;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      // A null message is a connection event, not a message: keep waiting.
      if (client.try_consume_message_for(&message, left) && message) return message;
    }
    return nullptr;
  }

  // Publishes a marker on `topic` and returns the payloads received up to and including
  // it: proof that nothing else was pending, without sleeping.
  static std::vector<std::string> drainUntilMarker(mqtt::async_client& publisher,
                                                   mqtt::async_client& subscriber,
                                                   const std::string& topic) {
    publish(publisher, topic, "marker", 1);
    std::vector<std::string> payloads;
    for (;;) {
      mqtt::const_message_ptr message = receive(subscriber);
      if (!message) throw std::runtime_error("marker never arrived");
      payloads.push_back(message->to_string());
      if (payloads.back() == "marker") return payloads;
    }
  }

  BrokerProcess broker_;
  std::vector<std::unique_ptr<mqtt::async_client>> clients_;
};

}  // namespace midge::test
