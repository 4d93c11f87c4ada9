// SPDX-License-Identifier: Apache-2.0
// Eclipse Paho MQTT C++ as an MQTT 3.1.1 client: what an application written against Paho
// sees from midge.
#include <thread>

#include "tests/integration/paho_support.hpp"

namespace midge::test {
namespace {

class PahoV311 : public PahoTest {};

TEST_F(PahoV311, ConnectsWithoutSessionAndDisconnectsCleanly) {
  mqtt::async_client& client = makeClient("paho311", MQTTVERSION_3_1_1);
  const mqtt::connect_response response = connect(client, optionsFor(MQTTVERSION_3_1_1));
  EXPECT_EQ(response.get_mqtt_version(), MQTTVERSION_3_1_1);
  EXPECT_FALSE(response.is_session_present());
  EXPECT_TRUE(client.is_connected());
  ASSERT_TRUE(client.disconnect()->wait_for(5s));
  EXPECT_TRUE(broker_.waitForLog("client paho311 disconnected", 3s));
}

class PahoV311Qos : public PahoTest, public ::testing::WithParamInterface<int> {};

TEST_P(PahoV311Qos, PublishAndSubscribeAtEachQos) {
  const int qos = GetParam();
  auto clients = connectedTogether({"sub-q" + std::to_string(qos), "pub-q" + std::to_string(qos)},
                                   MQTTVERSION_3_1_1);
  mqtt::async_client& subscriber = *clients[0];
  mqtt::async_client& publisher = *clients[1];
  subscribe(subscriber, "qos/+/data", qos);
  for (int i = 0; i < 20; ++i) {
    publish(publisher, "qos/" + std::to_string(i) + "/data", "m" + std::to_string(i), qos);
  }
  for (int i = 0; i < 20; ++i) {
    mqtt::const_message_ptr message = receive(subscriber);
    ASSERT_TRUE(message) << "message " << i << " missing";
    // One publisher, one subscriber: order is kept (MQTT 3.1.1 section 4.6).
    EXPECT_EQ(message->get_topic(), "qos/" + std::to_string(i) + "/data");
    EXPECT_EQ(message->to_string(), "m" + std::to_string(i));
    EXPECT_EQ(message->get_qos(), qos);
    EXPECT_FALSE(message->is_retained());
  }
}

INSTANTIATE_TEST_SUITE_P(Qos, PahoV311Qos, ::testing::Values(0, 1, 2));

TEST_F(PahoV311, RetainedMessageIsSetReplacedAndDeleted) {
  auto clients = connectedTogether({"retainer", "late1", "late2"}, MQTTVERSION_3_1_1);
  mqtt::async_client& publisher = *clients[0];
  publish(publisher, "device/7/state", "on", 1, true);
  publish(publisher, "device/7/state", "off", 1, true);

  mqtt::async_client& first = *clients[1];
  subscribe(first, "device/+/state", 1);
  mqtt::const_message_ptr stored = receive(first);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->to_string(), "off") << "the second retained message replaces the first";
  EXPECT_TRUE(stored->is_retained());
  EXPECT_EQ(drainUntilMarker(publisher, first, "device/7/state"),
            std::vector<std::string>{"marker"});

  publish(publisher, "device/7/state", "", 1, true);
  mqtt::async_client& second = *clients[2];
  subscribe(second, "device/#", 1);
  EXPECT_EQ(drainUntilMarker(publisher, second, "device/7/other"),
            std::vector<std::string>{"marker"})
      << "an empty retained payload must delete the retained message";
}

TEST_F(PahoV311, CleanSessionFalseResumesWithQueuedMessages) {
  mqtt::async_client& durable = makeClient("durable", MQTTVERSION_3_1_1);
  mqtt::async_client& publisher = makeClient("orders-pub", MQTTVERSION_3_1_1);
  mqtt::token_ptr durableConnected = durable.connect(optionsFor(MQTTVERSION_3_1_1, false));
  ASSERT_TRUE(publisher.connect(optionsFor(MQTTVERSION_3_1_1))->wait_for(5s));
  ASSERT_TRUE(durableConnected->wait_for(5s));
  subscribe(durable, "orders/#", 1);
  ASSERT_TRUE(durable.disconnect()->wait_for(5s));
  ASSERT_TRUE(broker_.waitForLog("client durable disconnected", 3s));
  for (int i = 0; i < 5; ++i) publish(publisher, "orders/new", "order " + std::to_string(i), 1);

  mqtt::async_client& again = makeClient("durable", MQTTVERSION_3_1_1);
  const mqtt::connect_response response = connect(again, optionsFor(MQTTVERSION_3_1_1, false));
  EXPECT_TRUE(response.is_session_present());
  for (int i = 0; i < 5; ++i) {
    mqtt::const_message_ptr message = receive(again);
    ASSERT_TRUE(message) << "queued message " << i << " lost";
    EXPECT_EQ(message->to_string(), "order " + std::to_string(i));
  }
}

TEST_F(PahoV311, UnsubscribeStopsDelivery) {
  auto clients = connectedTogether({"unsubscriber", "news-pub"}, MQTTVERSION_3_1_1);
  mqtt::async_client& client = *clients[0];
  mqtt::async_client& publisher = *clients[1];
  subscribe(client, "news/#", 1);
  subscribe(client, "control", 1);
  ASSERT_TRUE(client.unsubscribe("news/#")->wait_for(5s));
  publish(publisher, "news/today", "not wanted", 1);
  EXPECT_EQ(drainUntilMarker(publisher, client, "control"), std::vector<std::string>{"marker"});
}

TEST_F(PahoV311, KeepAlivePingsKeepAnIdleClientConnected) {
  mqtt::async_client& client = makeClient("idle", MQTTVERSION_3_1_1);
  mqtt::connect_options options = optionsFor(MQTTVERSION_3_1_1);
  options.set_keep_alive_interval(1);
  connect(client, options);
  // Idle for more than twice the 1.5 x keep-alive allowance: only PINGREQs keep it alive.
  const std::size_t mark = broker_.logMark();
  std::this_thread::sleep_for(3500ms);  // the passage of time is what is tested
  EXPECT_TRUE(client.is_connected());
  EXPECT_EQ(broker_.countInLog("keep alive timeout", mark), 0u);
  subscribe(client, "still/here", 0);
  publish(client, "still/here", "yes", 0);
  mqtt::const_message_ptr message = receive(client);
  ASSERT_TRUE(message);
  EXPECT_EQ(message->to_string(), "yes");
}

TEST_F(PahoV311, OneMegabytePayloadRoundTrips) {
  auto clients = connectedTogether({"big-sub", "big-pub"}, MQTTVERSION_3_1_1);
  mqtt::async_client& subscriber = *clients[0];
  mqtt::async_client& publisher = *clients[1];
  subscribe(subscriber, "big", 1);
  // A (decimal) megabyte fits the default max_packet_size of 1 MiB with its header.
  std::string payload(1000 * 1000, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) {
    payload[i] = static_cast<char>((i * 131) % 251);
  }
  publish(publisher, "big", payload, 1);
  mqtt::const_message_ptr message = receive(subscriber, 10s);
  ASSERT_TRUE(message);
  EXPECT_EQ(message->get_payload().size(), payload.size());
  EXPECT_TRUE(message->to_string() == payload) << "payload bytes changed in transit";
}

class PahoV311Sys : public PahoTest {
 protected:
  void configure(BrokerProcess& broker) override { broker.addConfigLine("sys_interval 1"); }
};

TEST_F(PahoV311Sys, SysTopicsReportTheBrokerAndUpdate) {
  mqtt::async_client& watcher = connected("watcher", MQTTVERSION_3_1_1);
  subscribe(watcher, "$SYS/broker/#", 0);
  bool sawVersion = false;
  int uptimeUpdates = 0;
  std::string connected;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline && !(sawVersion && uptimeUpdates >= 2)) {
    mqtt::const_message_ptr message = receive(watcher, 1500ms);
    if (!message) continue;
    if (message->get_topic() == "$SYS/broker/version") {
      sawVersion = message->to_string().find("midge") != std::string::npos;
    } else if (message->get_topic() == "$SYS/broker/uptime") {
      ++uptimeUpdates;
    } else if (message->get_topic() == "$SYS/broker/clients/connected") {
      connected = message->to_string();
    }
  }
  EXPECT_TRUE(sawVersion);
  EXPECT_GE(uptimeUpdates, 2) << "sys_interval 1 should refresh $SYS every second";
  EXPECT_FALSE(connected.empty());
}

TEST_F(PahoV311Sys, HashSubscriptionDoesNotReceiveSysTopics) {
  auto clients =
      connectedTogether({"everything", "sys-watcher", "plain-pub"}, MQTTVERSION_3_1_1);
  mqtt::async_client& everything = *clients[0];
  mqtt::async_client& watcher = *clients[1];
  mqtt::async_client& publisher = *clients[2];
  subscribe(everything, "#", 0);
  subscribe(watcher, "$SYS/broker/uptime", 0);
  // Two $SYS rounds pass for the watcher; '#' must have seen none of them.
  ASSERT_TRUE(receive(watcher));
  ASSERT_TRUE(receive(watcher, 3s));
  publish(publisher, "plain", "marker", 0);
  for (;;) {
    mqtt::const_message_ptr message = receive(everything);
    ASSERT_TRUE(message);
    ASSERT_NE(message->get_topic().rfind("$", 0), 0u) << "'#' matched " << message->get_topic();
    if (message->to_string() == "marker") break;
  }
}

}  // namespace
}  // namespace midge::test
