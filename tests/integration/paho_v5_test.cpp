// SPDX-License-Identifier: Apache-2.0
// Eclipse Paho MQTT C++ as an MQTT 5 client: properties, session features and
// subscription options as an application sees them.
#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "tests/integration/paho_support.hpp"

namespace midge::test {
namespace {

using mqtt::property;

class PahoV5 : public PahoTest {
 protected:
  static mqtt::connect_options expiryOptions(bool clean, int sessionExpiry) {
    mqtt::connect_options options = optionsFor(MQTTVERSION_5, clean);
    options.set_properties(mqtt::properties{{property::SESSION_EXPIRY_INTERVAL, sessionExpiry}});
    return options;
  }

  mqtt::async_client& connectedWithExpiry(const std::string& clientId, bool clean,
                                          int sessionExpiry) {
    mqtt::async_client& client = makeClient(clientId, MQTTVERSION_5);
    sessionPresent_ = connect(client, expiryOptions(clean, sessionExpiry)).is_session_present();
    return client;
  }

  // A new durable session (expiry 60 s) and a publisher, connected together (see
  // connectedTogether).
  std::pair<mqtt::async_client*, mqtt::async_client*> durableAndPublisher(
      const std::string& durableId, const std::string& publisherId) {
    mqtt::async_client& durable = makeClient(durableId, MQTTVERSION_5);
    mqtt::async_client& publisher = makeClient(publisherId, MQTTVERSION_5);
    mqtt::token_ptr durableToken = durable.connect(expiryOptions(true, 60));
    mqtt::token_ptr publisherToken = publisher.connect(optionsFor(MQTTVERSION_5));
    if (!durableToken->wait_for(5s) || !publisherToken->wait_for(5s)) {
      throw std::runtime_error("CONNECT timed out");
    }
    sessionPresent_ = durableToken->get_connect_response().is_session_present();
    return {&durable, &publisher};
  }

  static std::vector<std::uint32_t> subscriptionIds(const mqtt::const_message_ptr& message) {
    std::vector<std::uint32_t> ids;
    const mqtt::properties& properties = message->get_properties();
    for (std::size_t i = 0; i < properties.count(property::SUBSCRIPTION_IDENTIFIER); ++i) {
      ids.push_back(mqtt::get<std::uint32_t>(properties, property::SUBSCRIPTION_IDENTIFIER, i));
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  bool sessionPresent_ = false;
};

TEST_F(PahoV5, ConnackTellsTheClientTheBrokersLimits) {
  mqtt::async_client& client = makeClient("limits", MQTTVERSION_5);
  const mqtt::connect_response response = connect(client, optionsFor(MQTTVERSION_5));
  EXPECT_EQ(response.get_mqtt_version(), MQTTVERSION_5);
  const mqtt::properties& properties = response.get_properties();
  // Defaults of max_inflight_messages and max_topic_alias (docs/configuration.md).
  ASSERT_TRUE(properties.contains(property::RECEIVE_MAXIMUM));
  EXPECT_EQ(mqtt::get<std::uint16_t>(properties, property::RECEIVE_MAXIMUM), 20);
  ASSERT_TRUE(properties.contains(property::TOPIC_ALIAS_MAXIMUM));
  EXPECT_EQ(mqtt::get<std::uint16_t>(properties, property::TOPIC_ALIAS_MAXIMUM), 10);
}

TEST_F(PahoV5, EmptyClientIdGetsAnAssignedIdentifier) {
  mqtt::async_client& client = makeClient("", MQTTVERSION_5);
  const mqtt::connect_response response = connect(client, optionsFor(MQTTVERSION_5));
  const mqtt::properties& properties = response.get_properties();
  ASSERT_TRUE(properties.contains(property::ASSIGNED_CLIENT_IDENTIFER));
  const std::string assigned =
      mqtt::get<std::string>(properties, property::ASSIGNED_CLIENT_IDENTIFER);
  EXPECT_EQ(assigned.rfind("auto-", 0), 0u) << assigned << ": auto_id_prefix defaults to auto-";
  EXPECT_TRUE(broker_.waitForLog("as " + assigned, 3s));
}

TEST_F(PahoV5, QosLevelsRoundTrip) {
  auto clients = connectedTogether({"v5-sub", "v5-pub"}, MQTTVERSION_5);
  mqtt::async_client& subscriber = *clients[0];
  mqtt::async_client& publisher = *clients[1];
  subscribe(subscriber, "v5/qos/#", 2);
  for (int qos = 0; qos <= 2; ++qos) {
    publish(publisher, "v5/qos/" + std::to_string(qos), "q" + std::to_string(qos), qos);
    mqtt::const_message_ptr message = receive(subscriber);
    ASSERT_TRUE(message);
    EXPECT_EQ(message->get_qos(), qos);
    EXPECT_EQ(message->to_string(), "q" + std::to_string(qos));
  }
}

TEST_F(PahoV5, SessionTakeoverTellsTheOldClientReason8E) {
  std::atomic<int> reason{-1};
  mqtt::async_client& old = makeClient("taken-over", MQTTVERSION_5);
  old.set_disconnected_handler([&reason](const mqtt::properties&, mqtt::ReasonCode code) {
    reason = static_cast<int>(code);
  });
  connect(old, optionsFor(MQTTVERSION_5));
  mqtt::async_client& fresh = connected("taken-over", MQTTVERSION_5);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (reason.load() < 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(reason.load(), 0x8E) << "MQTT 5 section 3.1.4: Session taken over";
  EXPECT_TRUE(fresh.is_connected());
  EXPECT_TRUE(broker_.waitForLog("took the session over", 3s));
}

TEST_F(PahoV5, SessionResumesWithQueuedMessagesAndExpires) {
  auto [durable, publisher] = durableAndPublisher("v5-durable", "jobs-pub");
  EXPECT_FALSE(sessionPresent_);
  subscribe(*durable, "jobs/#", 1);
  ASSERT_TRUE(durable->disconnect()->wait_for(5s));
  ASSERT_TRUE(broker_.waitForLog("client v5-durable disconnected", 3s));
  publish(*publisher, "jobs/1", "first", 1);
  publish(*publisher, "jobs/2", "second", 2);
  mqtt::async_client& again = connectedWithExpiry("v5-durable", false, 1);
  EXPECT_TRUE(sessionPresent_);
  mqtt::const_message_ptr first = receive(again);
  mqtt::const_message_ptr second = receive(again);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->to_string(), "first");
  EXPECT_EQ(second->to_string(), "second");
  ASSERT_TRUE(again.disconnect()->wait_for(5s));
  // Session expiry 1 s: the broker ends the session and says so.
  ASSERT_TRUE(broker_.waitForLog("session v5-durable expired", 5s));
  mqtt::async_client& third = connectedWithExpiry("v5-durable", false, 60);
  EXPECT_FALSE(sessionPresent_);
  (void)third;
}

TEST_F(PahoV5, SharedSubscriptionSplitsMessagesBetweenConsumers) {
  auto clients =
      connectedTogether({"worker1", "worker2", "auditor", "tasks-pub"}, MQTTVERSION_5);
  mqtt::async_client& worker1 = *clients[0];
  mqtt::async_client& worker2 = *clients[1];
  mqtt::async_client& auditor = *clients[2];
  mqtt::async_client& publisher = *clients[3];
  subscribe(worker1, "$share/workers/tasks/#", 1);
  subscribe(worker2, "$share/workers/tasks/#", 1);
  subscribe(auditor, "tasks/#", 1);
  constexpr int kTasks = 20;
  for (int i = 0; i < kTasks; ++i) publish(publisher, "tasks/t", std::to_string(i), 1);

  std::multiset<std::string> seen;
  int fromWorker1 = 0;
  int fromWorker2 = 0;
  while (static_cast<int>(seen.size()) < kTasks) {
    mqtt::const_message_ptr message = receive(worker1, 200ms);
    if (message) {
      seen.insert(message->to_string());
      ++fromWorker1;
      continue;
    }
    message = receive(worker2, 2s);
    ASSERT_TRUE(message) << "only " << seen.size() << " tasks arrived";
    seen.insert(message->to_string());
    ++fromWorker2;
  }
  for (int i = 0; i < kTasks; ++i) {
    EXPECT_EQ(seen.count(std::to_string(i)), 1u) << "task " << i;
  }
  EXPECT_GT(fromWorker1, 0) << "competing consumers: both members take work";
  EXPECT_GT(fromWorker2, 0) << "competing consumers: both members take work";
  for (int i = 0; i < kTasks; ++i) {
    mqtt::const_message_ptr message = receive(auditor);
    ASSERT_TRUE(message) << "an ordinary subscriber still gets every message";
    EXPECT_EQ(message->to_string(), std::to_string(i));
  }
}

TEST_F(PahoV5, RequestResponsePropertiesPassThrough) {
  auto clients = connectedTogether({"responder", "requester"}, MQTTVERSION_5);
  mqtt::async_client& responder = *clients[0];
  mqtt::async_client& requester = *clients[1];
  subscribe(responder, "service/time", 1);
  subscribe(requester, "replies/requester", 1);

  mqtt::properties request;
  request.add({property::RESPONSE_TOPIC, "replies/requester"});
  request.add({property::CORRELATION_DATA, std::string("\x01\x02id-42", 7)});
  request.add({property::CONTENT_TYPE, "application/json"});
  request.add({property::USER_PROPERTY, "trace", "abc"});
  request.add({property::USER_PROPERTY, "trace", "def"});  // repeated keys are kept
  request.add({property::PAYLOAD_FORMAT_INDICATOR, 1});
  publish(requester, mqtt::message_ptr_builder()
                         .topic("service/time")
                         .payload("{\"q\":\"now\"}")
                         .qos(1)
                         .properties(request)
                         .finalize());

  mqtt::const_message_ptr received = receive(responder);
  ASSERT_TRUE(received);
  const mqtt::properties& got = received->get_properties();
  ASSERT_TRUE(got.contains(property::RESPONSE_TOPIC));
  EXPECT_EQ(mqtt::get<std::string>(got, property::RESPONSE_TOPIC), "replies/requester");
  ASSERT_TRUE(got.contains(property::CORRELATION_DATA));
  const std::string correlation = mqtt::get<std::string>(got, property::CORRELATION_DATA);
  EXPECT_EQ(correlation, std::string("\x01\x02id-42", 7));
  ASSERT_TRUE(got.contains(property::CONTENT_TYPE));
  EXPECT_EQ(mqtt::get<std::string>(got, property::CONTENT_TYPE), "application/json");
  ASSERT_EQ(got.count(property::USER_PROPERTY), 2u);
  EXPECT_EQ(mqtt::get<mqtt::string_pair>(got, property::USER_PROPERTY, 0),
            mqtt::string_pair("trace", "abc"));
  EXPECT_EQ(mqtt::get<mqtt::string_pair>(got, property::USER_PROPERTY, 1),
            mqtt::string_pair("trace", "def"));
  ASSERT_TRUE(got.contains(property::PAYLOAD_FORMAT_INDICATOR));
  EXPECT_EQ(mqtt::get<std::uint8_t>(got, property::PAYLOAD_FORMAT_INDICATOR), 1);

  mqtt::properties reply;
  reply.add({property::CORRELATION_DATA, correlation});
  publish(responder, mqtt::message_ptr_builder()
                         .topic(mqtt::get<std::string>(got, property::RESPONSE_TOPIC))
                         .payload("12:00")
                         .qos(1)
                         .properties(reply)
                         .finalize());
  mqtt::const_message_ptr answer = receive(requester);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->to_string(), "12:00");
  ASSERT_TRUE(answer->get_properties().contains(property::CORRELATION_DATA));
  EXPECT_EQ(mqtt::get<std::string>(answer->get_properties(), property::CORRELATION_DATA),
            correlation);
}

TEST_F(PahoV5, SubscriptionIdentifiersComeWithEachMatchingMessage) {
  auto clients = connectedTogether({"ids", "ids-pub"}, MQTTVERSION_5);
  mqtt::async_client& client = *clients[0];
  mqtt::async_client& publisher = *clients[1];
  subscribe(client, "sensors/#", 1, mqtt::subscribe_options(),
            mqtt::properties{{property::SUBSCRIPTION_IDENTIFIER, 7}});
  subscribe(client, "sensors/+/temp", 1, mqtt::subscribe_options(),
            mqtt::properties{{property::SUBSCRIPTION_IDENTIFIER, 300}});
  publish(publisher, "sensors/a/temp", "21", 1);
  publish(publisher, "sensors/a/humidity", "40", 1);
  mqtt::const_message_ptr both = receive(client);
  ASSERT_TRUE(both);
  EXPECT_EQ(both->to_string(), "21");
  // One copy carrying both identifiers (MQTT 5 section 3.3.4).
  EXPECT_EQ(subscriptionIds(both), (std::vector<std::uint32_t>{7, 300}));
  mqtt::const_message_ptr one = receive(client);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->to_string(), "40");
  EXPECT_EQ(subscriptionIds(one), (std::vector<std::uint32_t>{7}));
}

TEST_F(PahoV5, NoLocalSuppressesOwnMessages) {
  auto clients = connectedTogether({"chatty", "other"}, MQTTVERSION_5);
  mqtt::async_client& chatty = *clients[0];
  mqtt::async_client& other = *clients[1];
  subscribe(chatty, "chat", 1, mqtt::subscribe_options(true));
  publish(chatty, "chat", "mine", 1);
  publish(other, "chat", "theirs", 1);
  mqtt::const_message_ptr message = receive(chatty);
  ASSERT_TRUE(message);
  EXPECT_EQ(message->to_string(), "theirs") << "no-local must drop the client's own message";
}

TEST_F(PahoV5, RetainHandlingAndRetainAsPublished) {
  auto clients = connectedTogether({"rh-pub", "rh-never", "rh-new", "rh-plain"}, MQTTVERSION_5);
  mqtt::async_client& publisher = *clients[0];
  publish(publisher, "rh/state", "kept", 1, true);

  mqtt::async_client& never = *clients[1];
  subscribe(never, "rh/#", 1,
            mqtt::subscribe_options(false, false, mqtt::subscribe_options::DONT_SEND_RETAINED));
  EXPECT_EQ(drainUntilMarker(publisher, never, "rh/marker"), std::vector<std::string>{"marker"});

  mqtt::async_client& onNew = *clients[2];
  const mqtt::subscribe_options newOnly(false, true, mqtt::subscribe_options::SEND_RETAINED_ON_NEW);
  subscribe(onNew, "rh/state", 1, newOnly);
  mqtt::const_message_ptr stored = receive(onNew);
  ASSERT_TRUE(stored);
  EXPECT_TRUE(stored->is_retained());
  subscribe(onNew, "rh/state", 1, newOnly);  // not new: nothing is sent again
  // Retain as published: a live retained message keeps its RETAIN flag.
  publish(publisher, "rh/state", "live", 1, true);
  mqtt::const_message_ptr live = receive(onNew);
  ASSERT_TRUE(live);
  EXPECT_EQ(live->to_string(), "live");
  EXPECT_TRUE(live->is_retained());

  // Retain handling 0 without retain-as-published: the stored copy has RETAIN 1, a live
  // one RETAIN 0.
  mqtt::async_client& plain = *clients[3];
  subscribe(plain, "rh/state", 1);
  mqtt::const_message_ptr again = receive(plain);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->to_string(), "live");
  EXPECT_TRUE(again->is_retained());
  publish(publisher, "rh/state", "newer", 1, true);
  mqtt::const_message_ptr newer = receive(plain);
  ASSERT_TRUE(newer);
  EXPECT_FALSE(newer->is_retained());
}

TEST_F(PahoV5, MessageExpiryDropsStaleQueuedMessagesAndCountsDown) {
  auto [durable, publisher] = durableAndPublisher("expiry-sub", "expiry-pub");
  subscribe(*durable, "telemetry/#", 1);
  ASSERT_TRUE(durable->disconnect()->wait_for(5s));
  ASSERT_TRUE(broker_.waitForLog("client expiry-sub disconnected", 3s));
  publish(*publisher, mqtt::message_ptr_builder()
                         .topic("telemetry/stale")
                         .payload("stale")
                         .qos(1)
                         .properties({{property::MESSAGE_EXPIRY_INTERVAL, 1}})
                         .finalize());
  publish(*publisher, mqtt::message_ptr_builder()
                         .topic("telemetry/fresh")
                         .payload("fresh")
                         .qos(1)
                         .properties({{property::MESSAGE_EXPIRY_INTERVAL, 3600}})
                         .finalize());
  // Expiry is measured in whole seconds of wall time: let the 1 s message go stale.
  std::this_thread::sleep_for(2100ms);
  mqtt::async_client& again = connectedWithExpiry("expiry-sub", false, 60);
  mqtt::const_message_ptr message = receive(again);
  ASSERT_TRUE(message);
  EXPECT_EQ(message->to_string(), "fresh") << "an expired message was delivered";
  const mqtt::properties& properties = message->get_properties();
  ASSERT_TRUE(properties.contains(property::MESSAGE_EXPIRY_INTERVAL));
  // MQTT 5 section 3.3.2.3.3: the interval sent on is the time left.
  const auto left = mqtt::get<std::uint32_t>(properties, property::MESSAGE_EXPIRY_INTERVAL);
  EXPECT_LT(left, 3600u);
  EXPECT_GE(left, 3590u);
}

TEST_F(PahoV5, SmallReceiveMaximumStillDeliversEverythingInOrder) {
  mqtt::async_client& subscriber = makeClient("rm-sub", MQTTVERSION_5);
  mqtt::connect_options options = optionsFor(MQTTVERSION_5);
  options.set_properties(mqtt::properties{{property::RECEIVE_MAXIMUM, 1}});
  connect(subscriber, options);
  subscribe(subscriber, "flow/#", 1);
  mqtt::async_client& publisher = connected("rm-pub", MQTTVERSION_5);
  for (int i = 0; i < 20; ++i) publish(publisher, "flow/t", std::to_string(i), 1);
  for (int i = 0; i < 20; ++i) {
    mqtt::const_message_ptr message = receive(subscriber);
    ASSERT_TRUE(message) << "message " << i << " did not arrive";
    EXPECT_EQ(message->to_string(), std::to_string(i));
  }
}

TEST_F(PahoV5, TopicAliasFromThePublisherIsResolved) {
  auto clients = connectedTogether({"alias-sub", "alias-pub"}, MQTTVERSION_5);
  mqtt::async_client& subscriber = *clients[0];
  mqtt::async_client& publisher = *clients[1];
  subscribe(subscriber, "sensors/#", 1);
  publish(publisher, mqtt::message_ptr_builder()
                         .topic("sensors/long/topic/name")
                         .payload("first")
                         .qos(1)
                         .properties({{property::TOPIC_ALIAS, 1}})
                         .finalize());
  publish(publisher, mqtt::message_ptr_builder()
                         .topic("")
                         .payload("second")
                         .qos(1)
                         .properties({{property::TOPIC_ALIAS, 1}})
                         .finalize());
  for (const char* expected : {"first", "second"}) {
    mqtt::const_message_ptr message = receive(subscriber);
    ASSERT_TRUE(message) << expected;
    EXPECT_EQ(message->get_topic(), "sensors/long/topic/name");
    EXPECT_EQ(message->to_string(), expected);
  }
}

TEST_F(PahoV5, OneMegabytePayloadRoundTrips) {
  auto clients = connectedTogether({"big5-sub", "big5-pub"}, MQTTVERSION_5);
  mqtt::async_client& subscriber = *clients[0];
  mqtt::async_client& publisher = *clients[1];
  subscribe(subscriber, "big5", 2);
  // A (decimal) megabyte fits the default max_packet_size of 1 MiB with its header.
  std::string payload(1000 * 1000, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) {
    payload[i] = static_cast<char>((i * 7 + 3) % 256);
  }
  publish(publisher, "big5", payload, 2);
  mqtt::const_message_ptr message = receive(subscriber, 10s);
  ASSERT_TRUE(message);
  EXPECT_TRUE(message->to_string() == payload) << "payload bytes changed in transit";
}

TEST_F(PahoV5, UnsubscribeReportsWhetherASubscriptionExisted) {
  mqtt::async_client& client = connected("unsub5", MQTTVERSION_5);
  subscribe(client, "a/b", 1);
  mqtt::token_ptr token = client.unsubscribe("a/b");
  ASSERT_TRUE(token->wait_for(5s));
  EXPECT_EQ(token->get_unsubscribe_response().get_reason_codes(),
            std::vector<mqtt::ReasonCode>{mqtt::ReasonCode::SUCCESS});
  // Paho reports UNSUBACK 0x11 (No subscription existed) as a failed token.
  try {
    client.unsubscribe("a/b")->wait_for(5s);
    ADD_FAILURE() << "a second UNSUBSCRIBE of the same filter reported success";
  } catch (const mqtt::exception& error) {
    EXPECT_EQ(error.get_reason_code(), mqtt::ReasonCode::NO_SUBSCRIPTION_FOUND);
  }
}

class PahoV5SmallPackets : public PahoTest {
 protected:
  void configure(BrokerProcess& broker) override { broker.addConfigLine("max_packet_size 4096"); }
};

TEST_F(PahoV5SmallPackets, PublishOverMaximumPacketSizeEndsTheConnectionWith95) {
  std::atomic<int> reason{-1};
  mqtt::async_client& client = makeClient("oversize", MQTTVERSION_5);
  client.set_disconnected_handler([&reason](const mqtt::properties&, mqtt::ReasonCode code) {
    reason = static_cast<int>(code);
  });
  const mqtt::connect_response response = connect(client, optionsFor(MQTTVERSION_5));
  ASSERT_TRUE(response.get_properties().contains(property::MAXIMUM_PACKET_SIZE));
  EXPECT_EQ(mqtt::get<std::uint32_t>(response.get_properties(), property::MAXIMUM_PACKET_SIZE),
            4096u);
  // Paho 1.2 sends it anyway; the broker must answer with DISCONNECT 0x95.
  client.publish("big", std::string(8192, 'x'), 0, false)->wait_for(5s);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (reason.load() < 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(reason.load(), 0x95);
  EXPECT_TRUE(broker_.waitForLog("disconnected by the broker (packet too large)", 3s));
  mqtt::async_client& other = connected("after-oversize", MQTTVERSION_5);
  EXPECT_TRUE(other.is_connected());
}

}  // namespace
}  // namespace midge::test
